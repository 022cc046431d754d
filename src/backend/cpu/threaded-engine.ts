import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { UsageError, problem } from '../../errors.js';
import { outputMetric } from '../../metrics/output-metric.js';
import type { Backend, DeviceBuffer, EngineWorkspace, EntryBuffers } from '../engine.js';
import { HostEngine, type HostWorkspace } from '../host-engine.js';
import { cpuBackend, cpuKernels } from './cpu-backend.js';
import { KernelThreads } from './kernel-threads.js';
import type { ThreadCommand, ThreadResult } from './thread-commands.js';
import { splitByWeight, splitEvenly, totalWeight } from './thread-split.js';

/** Networks with fewer edges run on the plain engine: a kernel call there is too short to share. */
export const THREADS_MIN_EDGES = 100_000;

/**
 * Multiply-adds below which a kernel call runs on the main thread alone (waking the workers and
 * waiting for them costs some 20-50 µs; a call of this size takes about as long).
 */
export const MIN_SHARED_WORK = 1 << 16;

/**
 * The engine calls a {@link ThreadedEngine} splits over its threads (when large enough; the Fisher
 * modulus only where {@link ThreadedEngine.sharesFisher}); every other call runs on the main thread.
 */
export const SHARED_CALLS = ['combine', 'forwardLevel', 'backwardLevel', 'gradient', 'fisherModulus', 'unitBlocks', 'solveUnitBlocks', 'quasiDiagonalSolve', 'diagonalSolve', 'invertBlocks', 'blocksTimesVector', 'onlineBlockStep'] as const;

/**
 * Chunks per thread of a kernel call: threads take chunks as they come, so a thread the system
 * holds back (or a slow chunk) leaves the rest to the others.
 */
const CHUNKS_PER_THREAD = 4;

/** Per-unit work of a kernel, for splitting units into shares of equal work. */
type Work = 'fan-in' | 'fan-out' | 'block' | 'block-square' | 'block-cube';

const host = (b: DeviceBuffer) => b as Float64Array;
const hostWs = (ws: EngineWorkspace) => ws as HostWorkspace;
const shared = (...arrays: Array<Float64Array | undefined>) => arrays.every((a) => a === undefined || a.buffer instanceof SharedArrayBuffer);

/**
 * The Float64 CPU engine on `threads` threads (the main thread and threads - 1 workers, see
 * {@link KernelThreads}). Every buffer lives in a SharedArrayBuffer. Per-level propagation
 * (forward, backward with the modulus) and every reduction over samples (gradient and
 * quasi-diagonal entries, unit blocks) and solve are split over units, in contiguous chunks of
 * about equal work that the threads take as they come: each entry is then summed by one thread
 * over every sample in sample order, as on one thread, so results are bit-identical for any
 * number of threads (and whichever thread runs a chunk). The Fisher modulus is split over samples
 * where that pays (each of its operations is elementwise in the sample).
 * `combine` (w ← w + η δw and the like) is split over entries. The rest (output layer, loss,
 * output metric, transfer rates, Kronecker factors, the other elementwise helpers) runs on the
 * main thread, as in {@link HostEngine}; the Monte-Carlo moduli reuse the threaded backward pass.
 */
export class ThreadedEngine extends HostEngine {
  /** Threads sharing each call, the main thread included. */
  readonly threads: number;
  private readonly pool: KernelThreads;
  private readonly cuts = new Map<string, Int32Array | undefined>();

  /** `minWork`: calls of fewer multiply-adds run on the main thread alone (default {@link MIN_SHARED_WORK}; 0, in tests: every call is shared). */
  constructor(
    net: CompiledNetwork,
    size: number,
    threads: number,
    private readonly minWork = MIN_SHARED_WORK,
  ) {
    super(cpuKernels, net, size);
    this.threads = threads;
    this.pool = new KernelThreads(net, threads);
  }

  /** Chunks of a kernel call split over units or entries. */
  private get chunkCount(): number {
    return CHUNKS_PER_THREAD * this.threads;
  }

  /** Resolves once every worker thread has exited (after {@link dispose}). */
  get exited(): Promise<void> {
    return this.pool.exited;
  }

  protected override array(length: number): Float64Array {
    return new Float64Array(new SharedArrayBuffer(8 * length));
  }

  override dispose(): void {
    super.dispose();
    this.pool.close();
  }

  override combine(out: DeviceBuffer, alpha: number, x: DeviceBuffer, beta: number, y: DeviceBuffer): void {
    const n = out.length;
    const arrays = { out: host(out), x: host(x), y: host(y) };
    if (!(shared(...Object.values(arrays)) && 2 * n >= this.minWork)) return super.combine(out, alpha, x, beta, y);
    this.pool.run({ op: 'combine', ...arrays, alpha, beta, start: 0, end: n }, splitEvenly(0, n, this.chunkCount));
  }

  override forwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number): void {
    const [start, end] = this.level(level);
    const h = hostWs(ws);
    if (!(this.sharedWs(h) && shared(host(params)) && this.units('fan-in', start, end, ws.size, (s, e) => ({ op: 'forward', params: host(params), ws: h, start: s, end: e })))) super.forwardLevel(params, ws, level);
  }

  override backwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number, modulus?: DeviceBuffer): void {
    const [start, end] = this.level(level);
    const h = hostWs(ws);
    const m = modulus && host(modulus);
    if (!(this.sharedWs(h) && shared(host(params), m) && this.units('fan-out', start, end, ws.size, (s, e) => ({ op: 'backward', params: host(params), ws: h, start: s, end: e, modulus: m })))) super.backwardLevel(params, ws, level, modulus);
  }

  override gradient(ws: EngineWorkspace, out: DeviceBuffer, entries?: EntryBuffers): void {
    const h = hostWs(ws);
    const e = entries && { modulus: host(entries.modulus), diagonal: host(entries.diagonal), cross: entries.cross && host(entries.cross) };
    const { nInputs, nUnits } = this.net;
    const run = () => this.units('fan-in', nInputs, nUnits, ws.size * (entries ? 3 : 1), (s, t) => ({ op: 'gradient', ws: h, out: host(out), ...e, start: s, end: t }));
    if (!(this.sharedWs(h) && shared(host(out), e?.modulus, e?.diagonal, e?.cross) && run())) super.gradient(ws, out, entries);
  }

  override fisherModulus(params: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer): void {
    const h = hostWs(ws);
    const S = ws.size;
    if (!(this.sharedWs(h) && shared(host(params), host(modulus)) && S >= 2 && this.sharesFisher)) return super.fisherModulus(params, ws, modulus);
    const metric = outputMetric(this.net, h);
    // One chunk per thread: each chunk copies r.
    this.pool.run({ op: 'fisher-modulus', params: host(params), ws: h, metric, modulus: host(modulus), s0: 0, s1: S }, splitEvenly(0, S, Math.min(this.threads, S)));
  }

  override unitBlocks(ws: EngineWorkspace, modulus: DeviceBuffer, blocks: DeviceBuffer): void {
    const h = hostWs(ws);
    const { nInputs, nUnits } = this.net;
    const run = () => this.units('block-square', nInputs, nUnits, ws.size, (s, e) => ({ op: 'unit-blocks', ws: h, modulus: host(modulus), blocks: host(blocks), start: s, end: e }));
    if (!(this.sharedWs(h) && shared(host(modulus), host(blocks)) && run())) super.unitBlocks(ws, modulus, blocks);
  }

  override solveUnitBlocks(blocks: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer, work: DeviceBuffer): number {
    const { nInputs, nUnits } = this.net;
    if (!shared(host(blocks), host(gradient), host(out), host(work))) return super.solveUnitBlocks(blocks, gradient, epsilon, out, work);
    host(work).set(host(blocks));
    const results = this.units('block-cube', nInputs, nUnits, 1, (s, e) => ({ op: 'solve-unit-blocks', blocks: host(work), gradient: host(gradient), epsilon, out: host(out), start: s, end: e }));
    if (!results) return this.kernels.solveUnitBlocks(this.net, this.layout, host(work), host(gradient), epsilon, host(out));
    return firstFailure(results);
  }

  override quasiDiagonalSolve(diagonal: DeviceBuffer, cross: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer): void {
    const { nInputs, nUnits } = this.net;
    const arrays = { diagonal: host(diagonal), cross: host(cross), gradient: host(gradient), out: host(out) };
    const run = () => this.units('block', nInputs, nUnits, 4, (s, e) => ({ op: 'quasi-diagonal-solve', ...arrays, epsilon, start: s, end: e }));
    if (!(shared(...Object.values(arrays)) && run())) super.quasiDiagonalSolve(diagonal, cross, gradient, epsilon, out);
  }

  override diagonalSolve(diagonal: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, root: boolean, out: DeviceBuffer): void {
    const n = gradient.length;
    const arrays = { diagonal: host(diagonal), gradient: host(gradient), out: host(out) };
    if (!(shared(...Object.values(arrays)) && 4 * n >= this.minWork)) return super.diagonalSolve(diagonal, gradient, epsilon, root, out);
    this.pool.run({ op: 'diagonal-solve', ...arrays, epsilon, root, start: 0, end: n }, splitEvenly(0, n, this.chunkCount));
  }

  override invertBlocks(blocks: DeviceBuffer, inverses: DeviceBuffer, units: readonly number[] = this.nonInputs()): number {
    if (!shared(host(blocks), host(inverses))) return super.invertBlocks(blocks, inverses, units);
    const results = this.unitList('block-cube', units, (list) => ({ op: 'invert-blocks', blocks: host(blocks), inverses: host(inverses), units: list }));
    return results ? firstFailure(results) : super.invertBlocks(blocks, inverses, units);
  }

  override blocksTimesVector(inverses: DeviceBuffer, gradient: DeviceBuffer, out: DeviceBuffer, units: readonly number[] = this.nonInputs()): void {
    const run = () => this.unitList('block-square', units, (list) => ({ op: 'blocks-times-vector', inverses: host(inverses), gradient: host(gradient), out: host(out), units: list }));
    if (!(shared(host(inverses), host(gradient), host(out)) && run())) super.blocksTimesVector(inverses, gradient, out, units);
  }

  override onlineBlockStep(blocks: DeviceBuffer, inverses: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer, sample: number, gradient: DeviceBuffer, decay: number, out: DeviceBuffer): number[] {
    const { nInputs, nUnits } = this.net;
    const arrays = { blocks: host(blocks), inverses: host(inverses), act: hostWs(ws).act, modulus: host(modulus), gradient: host(gradient), out: host(out) };
    const results = shared(...Object.values(arrays)) ? this.units('block-square', nInputs, nUnits, 3, (s, e) => ({ op: 'online-block-step', ...arrays, size: ws.size, sample, decay, start: s, end: e })) : undefined;
    // The refused units in increasing order, as one thread lists them.
    return results ? results.flatMap((r) => r as number[]) : super.onlineBlockStep(blocks, inverses, ws, modulus, sample, gradient, decay, out);
  }

  /**
   * Whether {@link fisherModulus} is split over samples. Each share copies r and its modulus rows
   * (about 2 nUnits·S numbers): worth it only when the transfer-rate passes (every output's
   * ancestry) are longer (minWork 0, in tests: always).
   */
  get sharesFisher(): boolean {
    const { plan } = this;
    const route = plan.gram ? plan.gram.reduced : plan;
    const work = route.edgeOffsets[route.edgeOffsets.length - 1] + (plan.gram ? plan.gram.termOffsets[plan.gram.termOffsets.length - 1] : 0);
    return this.minWork === 0 || (work >= 4 * this.net.nUnits && work * this.size >= this.minWork);
  }

  /** Unit ids of `level`: [start, end). */
  private level(level: number): [number, number] {
    return [this.net.levelOffsets[level], this.net.levelOffsets[level + 1]];
  }

  private nonInputs(): number[] {
    return Array.from({ length: this.net.nUnits - this.net.nInputs }, (_, i) => this.net.nInputs + i);
  }

  private sharedWs(ws: HostWorkspace): boolean {
    return shared(ws.pre, ws.act, ws.deriv, ws.back, ws.backReduced, ws.loss);
  }

  /** The work of unit k under `kind`. */
  private weight(kind: Work): (k: number) => number {
    const { inOffsets, outOffsets } = this.net;
    const n = (k: number) => 1 + inOffsets[k + 1] - inOffsets[k];
    switch (kind) {
      case 'fan-in':
      case 'block':
        return n;
      case 'fan-out':
        return (k) => 1 + outOffsets[k + 1] - outOffsets[k];
      case 'block-square':
        return (k) => n(k) ** 2;
      case 'block-cube':
        return (k) => n(k) ** 3;
    }
  }

  /**
   * Runs `command(start, end)` over the threads in {@link chunkCount} chunks of units of equal
   * work (`scale` multiply-adds per unit of work), and returns the chunks' results in unit
   * order; undefined (nothing ran) when the call is too small to share.
   */
  private units(kind: Work, start: number, end: number, scale: number, command: (start: number, end: number) => ThreadCommand): ThreadResult[] | undefined {
    const key = `${kind}:${start}:${end}:${scale}`;
    if (!this.cuts.has(key)) {
      const weight = this.weight(kind);
      this.cuts.set(key, totalWeight(start, end, weight) * scale < this.minWork ? undefined : splitByWeight(start, end, this.chunkCount, weight));
    }
    const cuts = this.cuts.get(key);
    return cuts && this.pool.run(command(start, end), cuts);
  }

  /** {@link units} over a list of units (split into contiguous sublists of equal work). */
  private unitList(kind: Work, units: readonly number[], command: (units: number[]) => ThreadCommand): ThreadResult[] | undefined {
    const weight = this.weight(kind);
    const at = (i: number) => weight(units[i]);
    if (totalWeight(0, units.length, at) < this.minWork) return undefined;
    return this.pool.run(command([...units]), splitByWeight(0, units.length, this.chunkCount, at));
  }
}

/** The first failing unit over shares in unit order (-1: none), as one thread would report it. */
function firstFailure(results: ThreadResult[]): number {
  for (const r of results) if ((r as number) >= 0) return r as number;
  return -1;
}

/** Options of {@link threadedCpuBackend}. */
export interface ThreadedCpuOptions {
  /** Threads per engine, the main thread included (1: the plain engine). */
  threads: number;
  /** Networks with fewer edges get the plain engine (default {@link THREADS_MIN_EDGES}). */
  minEdges?: number;
  /** Kernel calls of fewer multiply-adds run on the main thread alone (default {@link MIN_SHARED_WORK}; tests give 0, so that every call is shared). */
  minWork?: number;
}

/**
 * The Float64 CPU backend on `threads` threads: its engines are {@link ThreadedEngine}s for
 * networks of at least `minEdges` edges, the plain engine otherwise (and for one thread). Same
 * name (`cpu`), same results, bit for bit.
 */
export function threadedCpuBackend(options: ThreadedCpuOptions): Backend {
  const { threads } = options;
  const minEdges = options.minEdges ?? THREADS_MIN_EDGES;
  if (!(Number.isInteger(threads) && threads >= 1)) throw new UsageError([problem('threads', `--threads ${threads}: give a positive integer (1: one thread)`)]);
  if (threads === 1) return cpuBackend;
  const detail = `${cpuBackend.detail}, ${threads} threads on networks of ≥ ${minEdges} edges`;
  return { name: 'cpu', precision: 'float64', detail, open: (net, size) => (net.nEdges >= minEdges ? new ThreadedEngine(net, size, threads, options.minWork) : cpuBackend.open(net, size)) };
}
