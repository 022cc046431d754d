import { UsageError, problem } from '../../errors.js';
import type * as TF from '@tensorflow/tfjs-core';
import type { Batch } from '../../engine/batch.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { TransferCounter, type AdamStepOptions, type DeviceBuffer, type Engine, type EngineWorkspace, type EntryBuffers, type GramPlan, type OutputMetricBuffers } from '../engine.js';
import * as blocksKernels from './engine-blocks.js';
import { onCpu } from './cpu-fused.js';
import { fusedCombine } from './cpu-fused-update.js';
import { engineContext, tensorBuffer, tfjsWorkspace, TfjsWorkspace, type EngineContext } from './engine-context.js';
import * as gram from './engine-gram.js';
import { resolveNow, type Readback } from './engine-readback.js';
import { engineReaders, readAsync, type ReadingMethod } from './engine-readers.js';
import * as metric from './engine-metric.js';
import * as propagation from './engine-propagation.js';
import * as update from './engine-update.js';
import { WeightCache } from './engine-weights.js';
import { TensorBuffer } from './tensor-buffer.js';
import type { TfjsRuntime } from './tf.js';
import type { TfjsEngineOptions } from './tfjs-backend.js';

/**
 * An {@link Engine} whose buffers are tensors ({@link TensorBuffer}) that stay on the tfjs
 * backend's device between kernels and across iterations. Index tensors (per level: dense
 * weight-matrix positions or padded edge lists; parameter maps; block buckets) are built once
 * at open; weight matrices are built from the parameters once per parameter vector. Every kernel runs inside `tf.tidy`;
 * a kernel that writes a buffer replaces its tensors and disposes the old ones. Transfers
 * counted (4 bytes per number): {@link upload} and {@link setBatch} (the batch), {@link read},
 * the one number of {@link meanLoss}, {@link allFinite}, {@link solveUnitBlocks} and
 * {@link invertBlocks}, the Monte-Carlo draws (and {@link sampledBackward}'s), the refused units
 * of {@link onlineBlockStep}, and the index arrays of a {@link gramPlan} (once per plan).
 * NOTE: scalar kernel arguments (ε, the combine coefficients, γ) become scalar tensors inside
 * tfjs, as uniforms would on a GPU; they are arguments, not buffer transfers, and not counted.
 * Every entry point first makes the runtime's tfjs backend the active one (`activate`), so that
 * engines on different tfjs backends can be used side by side in one process.
 * Reads go through {@link Readback}s: the synchronous methods resolve them at once with
 * `dataSync`; {@link callAsync} awaits `tensor.data()` instead, for a runtime whose reads are
 * only asynchronous (tfjs-webgpu in Node: see `tfjs-webgpu-worker.ts`).
 */
export class TfjsEngine implements Engine {
  /** `tfjs-<tfjs backend>`: the registered backend name (see `useBackend`). */
  readonly backend: string;
  readonly precision = 'float32' as const;
  readonly transfers = new TransferCounter();
  private readonly ctx: EngineContext;
  private readonly owned: TF.Tensor[] = [];
  private readonly buffers = new Set<TensorBuffer>();
  private readonly metrics = new Map<EngineWorkspace, metric.MetricBuffers>();
  /** Index tensors of the Gram plans made by {@link gramPlan} (owned, freed by {@link dispose}). */
  private readonly grams = new gram.GramPlans();
  private readonly weightCache: WeightCache;
  /** The reading methods' kernels (see {@link engineReaders}). */
  private readonly readers: ReturnType<typeof engineReaders>;
  private disposed = false;
  private readonly tf: typeof TF;

  constructor(
    private readonly runtime: TfjsRuntime,
    readonly net: CompiledNetwork,
    readonly size: number,
    options: TfjsEngineOptions = {},
  ) {
    const tf = (this.tf = runtime.tf);
    this.backend = `tfjs-${runtime.backend}`;
    runtime.activate();
    const chunkEntries = options.chunkEntries ?? 1 << 22;
    this.weightCache = new WeightCache(tf);
    this.ctx = engineContext(tf, net, size, chunkEntries, this.transfers, (t) => this.own(t), (params, key, build) => this.weightCache.get(params, key, build));
    this.readers = engineReaders(this.ctx);
  }

  alloc(length: number): DeviceBuffer {
    this.check();
    return this.track(new TensorBuffer(this.tf, length));
  }

  workspace(): EngineWorkspace {
    this.check();
    const ws = new TfjsWorkspace(this.tf, this.net, this.size);
    for (const b of ws.buffers()) this.buffers.add(b);
    return ws;
  }

  upload(buffer: DeviceBuffer, values: ArrayLike<number>, offset = 0): void {
    const target = tensorBuffer(buffer);
    this.transfers.upload(values.length * 4);
    this.run(() => target.write(offset, this.tf.tensor1d(Float32Array.from(values))));
  }

  read(buffer: DeviceBuffer, offset = 0, length = buffer.length - offset): Float64Array {
    return this.now(() => this.readers.read(buffer, offset, length));
  }

  free(buffer: DeviceBuffer | EngineWorkspace): void {
    const list = buffer instanceof TfjsWorkspace ? [...buffer.buffers(), ...Object.values(this.metrics.get(buffer) ?? {})] : [tensorBuffer(buffer as DeviceBuffer)];
    if (buffer instanceof TfjsWorkspace) this.metrics.delete(buffer);
    for (const b of list) {
      b.dispose();
      this.buffers.delete(b);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    for (const b of this.buffers) b.dispose();
    this.buffers.clear();
    this.metrics.clear();
    this.weightCache.dispose();
    this.tf.dispose(this.owned);
    this.owned.length = 0;
    this.disposed = true;
  }

  copy(src: DeviceBuffer, dst: DeviceBuffer): void {
    const [from, to] = [tensorBuffer(src), tensorBuffer(dst)];
    this.run(() => to.set(this.tf.clone(from.tensor), from));
  }

  fill(buffer: DeviceBuffer, value: number): void {
    const target = tensorBuffer(buffer);
    this.run(() => target.set(this.tf.fill([target.length], value)));
  }

  combine(out: DeviceBuffer, alpha: number, x: DeviceBuffer, beta: number, y: DeviceBuffer): void {
    const { tf } = this;
    const [o, a, b] = [tensorBuffer(out), tensorBuffer(x), tensorBuffer(y)];
    // tfjs's cpu backend: one fused kernel, into o's own array where it has one (see TensorBuffer.writable).
    if (onCpu(tf)) return this.run(() => o.writeWith(0, o.length, (dest) => fusedCombine(tf, alpha, a.tensor, beta, b.tensor, dest)));
    this.run(() => o.set(tf.add(alpha === 1 ? tf.clone(a.tensor) : tf.mul(a.tensor, alpha), beta === 1 ? b.tensor : tf.mul(b.tensor, beta))));
  }

  squaredNorm(buffer: DeviceBuffer): number {
    return this.now(() => this.readers.squaredNorm(buffer));
  }

  adamStep(moment1: DeviceBuffer, moment2: DeviceBuffer, gradient: DeviceBuffer, o: AdamStepOptions, out: DeviceBuffer): void {
    this.run(() => update.adamStep(this.ctx, tensorBuffer(moment1), tensorBuffer(moment2), tensorBuffer(gradient), o, tensorBuffer(out)));
  }

  allFinite(buffer: DeviceBuffer): boolean {
    return this.now(() => this.readers.allFinite(buffer));
  }

  setBatch(ws: EngineWorkspace, batch: Batch): void {
    if (batch.size !== this.size) throw new UsageError([problem('batch-size', `a batch of ${batch.size} samples given to an engine opened for ${this.size}`)]);
    const w = tfjsWorkspace(ws);
    this.upload(w.act, batch.inputs, 0);
    this.upload(w.targets, batch.targets, 0);
  }

  forwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number): void {
    this.run(() => propagation.forwardLevel(this.ctx, tensorBuffer(params), tfjsWorkspace(ws), level));
  }

  outputLayer(ws: EngineWorkspace): void {
    this.run(() => propagation.outputLayer(this.ctx, tfjsWorkspace(ws)));
  }

  meanLoss(ws: EngineWorkspace): number {
    return this.now(() => this.readers.meanLoss(ws));
  }

  backwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number, modulus?: DeviceBuffer): void {
    this.run(() => propagation.backwardLevel(this.ctx, tensorBuffer(params), tfjsWorkspace(ws), level, modulus && tensorBuffer(modulus)));
  }

  gradient(ws: EngineWorkspace, out: DeviceBuffer, entries?: EntryBuffers): void {
    const buffers = entries && { modulus: tensorBuffer(entries.modulus), diagonal: tensorBuffer(entries.diagonal), cross: entries.cross && tensorBuffer(entries.cross) };
    this.run(() => propagation.gradient(this.ctx, tfjsWorkspace(ws), tensorBuffer(out), buffers));
  }

  outputMetric(ws: EngineWorkspace): OutputMetricBuffers {
    this.check();
    const w = tfjsWorkspace(ws);
    const target = this.metrics.get(w) ?? metric.outputMetricBuffers(this.net, this.size, (length) => this.track(new TensorBuffer(this.tf, length)));
    this.metrics.set(w, target);
    this.run(() => metric.writeOutputMetric(this.ctx, w, target));
    return target;
  }

  outputModulus(ws: EngineWorkspace, modulus: DeviceBuffer): void {
    this.run(() => metric.outputModulus(this.ctx, tfjsWorkspace(ws), tensorBuffer(modulus)));
  }

  fisherModulus(params: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer): void {
    this.run(() => metric.fisherModulus(this.ctx, tensorBuffer(params), tfjsWorkspace(ws), tensorBuffer(modulus)));
  }

  transferRates(params: DeviceBuffer, ws: EngineWorkspace, output: number, rates: DeviceBuffer, raw?: DeviceBuffer): void {
    this.run(() => metric.transferRates(this.ctx, tensorBuffer(params), tfjsWorkspace(ws), output, tensorBuffer(rates), raw && tensorBuffer(raw)));
  }

  transferRateChunk(params: DeviceBuffer, ws: EngineWorkspace, first: number, count: number, rates: DeviceBuffer): void {
    this.run(() => metric.transferRateChunk(this.ctx, tensorBuffer(params), tfjsWorkspace(ws), first, count, tensorBuffer(rates)));
  }

  monteCarloModulus(params: DeviceBuffer, ws: EngineWorkspace, draws: Float64Array, modulus: DeviceBuffer): void {
    this.run(() => metric.monteCarloModulus(this.ctx, tensorBuffer(params), tfjsWorkspace(ws), draws, tensorBuffer(modulus)));
  }

  outerProductModulus(ws: EngineWorkspace, modulus: DeviceBuffer): void {
    this.run(() => metric.outerProductModulus(this.ctx, tfjsWorkspace(ws), tensorBuffer(modulus)));
  }

  unitBlocks(ws: EngineWorkspace, modulus: DeviceBuffer, blocks: DeviceBuffer): void {
    this.run(() => blocksKernels.unitBlocks(this.ctx, tfjsWorkspace(ws), tensorBuffer(modulus), tensorBuffer(blocks)));
  }

  /** NOTE: `work` is not written (see `engineReaders`). */
  solveUnitBlocks(blocks: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer, work: DeviceBuffer): number {
    return this.now(() => this.readers.solveUnitBlocks(blocks, gradient, epsilon, out, work));
  }

  quasiDiagonalSolve(diagonal: DeviceBuffer, cross: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer): void {
    this.run(() => update.quasiDiagonalSolve(this.ctx, tensorBuffer(diagonal), tensorBuffer(cross), tensorBuffer(gradient), epsilon, tensorBuffer(out)));
  }

  diagonalSolve(diagonal: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, root: boolean, out: DeviceBuffer): void {
    this.run(() => update.diagonalSolve(this.ctx, tensorBuffer(diagonal), tensorBuffer(gradient), epsilon, root, tensorBuffer(out)));
  }

  invertBlocks(blocks: DeviceBuffer, inverses: DeviceBuffer, units?: readonly number[]): number {
    return this.now(() => this.readers.invertBlocks(blocks, inverses, units));
  }

  blocksTimesVector(inverses: DeviceBuffer, gradient: DeviceBuffer, out: DeviceBuffer, units?: readonly number[]): void {
    this.run(() => blocksKernels.blocksTimesVector(this.ctx, tensorBuffer(inverses), tensorBuffer(gradient), tensorBuffer(out), units));
  }

  onlineBlockStep(blocks: DeviceBuffer, inverses: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer, sample: number, gradient: DeviceBuffer, decay: number, out: DeviceBuffer): number[] {
    return this.now(() => this.readers.onlineBlockStep(blocks, inverses, ws, modulus, sample, gradient, decay, out));
  }

  /** A reading method with asynchronous reads (see {@link readAsync}). */
  async callAsync<M extends ReadingMethod>(method: M, ...args: Parameters<Engine[M]>): Promise<ReturnType<Engine[M]>> {
    this.check();
    return readAsync(this.tf, this.readers, this.transfers, method, args);
  }

  gramPlan(rows: readonly Int32Array[]): GramPlan {
    this.check();
    return this.grams.make(this.ctx, rows, (t) => this.own(t));
  }

  groupGram(x: DeviceBuffer, plan: GramPlan, out: DeviceBuffer, scale: number, weights?: DeviceBuffer, weightRow = 0): void {
    const index = this.grams.index(plan);
    this.run(() => gram.groupGram(this.ctx, index, tensorBuffer(x), tensorBuffer(out), scale, weights && tensorBuffer(weights), weightRow));
  }

  accumulateWeighted(dst: DeviceBuffer, src: DeviceBuffer, weights: DeviceBuffer, weightRow: number): void {
    this.run(() => gram.accumulateWeighted(this.ctx, tensorBuffer(dst), tensorBuffer(src), tensorBuffer(weights), weightRow));
  }

  sampledBackward(params: DeviceBuffer, ws: EngineWorkspace, draw: Float64Array, out: DeviceBuffer): void {
    this.run(() => metric.sampledBackward(this.ctx, tensorBuffer(params), tfjsWorkspace(ws), draw, tensorBuffer(out)));
  }

  /** Runs a kernel inside `tf.tidy`; its results are plain numbers or arrays (tensors stay in buffers). */
  private run<T>(kernel: () => T): T {
    this.check();
    let result: T | undefined;
    this.tf.tidy(() => {
      result = kernel();
    });
    return result as T;
  }

  /** Runs a reading kernel inside `tf.tidy` and makes its reads at once (see {@link Readback}). */
  private now<T>(kernel: () => Readback<T>): T {
    return this.run(() => resolveNow(kernel(), this.transfers, this.runtime.syncReads !== false));
  }

  /** Keeps a tensor for the engine's lifetime (index tensors), disposed with it. */
  private own<T extends TF.Tensor>(t: T): T {
    this.owned.push(t);
    return t;
  }

  private track(b: TensorBuffer): TensorBuffer {
    this.check();
    this.buffers.add(b);
    return b;
  }

  /** Refuses a disposed engine, and makes the runtime's tfjs backend the active one. */
  private check(): void {
    if (this.disposed) throw new UsageError([problem('engine', 'the tfjs engine was used after dispose()')]);
    this.runtime.activate();
  }
}
