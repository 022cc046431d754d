import type { Batch } from '../engine/batch.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { Workspace } from '../engine/workspace.js';
import { UsageError, problem } from '../errors.js';
import { invertBlock, blockTimesVector } from '../linalg/sherman-morrison.js';
import { outputBackpropagatedModulus, outputMetric, targetsFromDraws } from '../metrics/output-metric.js';
import { buildTransferPlan, type TransferPlan } from '../metrics/transfer-plan.js';
import { TransferCounter, checkRateChunk, type Backend, type AdamStepOptions, type DeviceBuffer, type Engine, type EngineWorkspace, type EntryBuffers, type GramPlan, type OutputMetricBuffers, gramLayout } from './engine.js';
import { accumulateWeightedHost, groupGramHost } from './host-gram.js';
import { metricLayout, type Kernels, type MetricLayout } from './kernels.js';

/** A workspace of host arrays, usable by the host-array kernels (with the batch's targets). */
export type HostWorkspace = Workspace & { readonly targets: Float64Array };

const host = (b: DeviceBuffer) => b as Float64Array;
const hostWs = (ws: EngineWorkspace) => ws as HostWorkspace;

/**
 * An {@link Engine} over host-array kernels ({@link Kernels}): every buffer is a Float64Array in
 * host memory. For the CPU reference this is the engine itself: a buffer is the array, and
 * `read` returns a view, so nothing is copied. A float32 backend whose kernels still take host
 * arrays runs through it too; its kernels then copy what they read and write at every launch
 * (not counted here: only `upload` and `read` are).
 */
export class HostEngine implements Engine {
  readonly backend: string;
  readonly precision: 'float64' | 'float32';
  readonly transfers = new TransferCounter();
  readonly layout: MetricLayout;
  private planCache: TransferPlan | undefined;
  private readonly drawWorkspaces = new Map<number, HostWorkspace>();

  constructor(
    protected readonly kernels: Kernels,
    readonly net: CompiledNetwork,
    readonly size: number,
  ) {
    this.backend = kernels.name;
    this.precision = kernels.precision;
    this.layout = metricLayout(net);
  }

  /** The transfer-rate plan (built on first use: only the Fisher metrics need it). */
  get plan(): TransferPlan {
    return (this.planCache ??= buildTransferPlan(this.net));
  }

  alloc(length: number): DeviceBuffer {
    return this.array(length);
  }

  /** A zero-filled host array: every buffer of the engine (workspaces included) comes from here. */
  protected array(length: number): Float64Array {
    return new Float64Array(length);
  }

  workspace(size = this.size): EngineWorkspace {
    // NOTE: host arrays allow any size; the interface promises only the engine's.
    const n = this.net.nUnits * size;
    const deriv = this.array(n);
    deriv.fill(1, 0, this.net.nInputs * size);
    const ws: HostWorkspace = {
      size,
      pre: this.array(n),
      act: this.array(n),
      deriv,
      back: this.array(n),
      backReduced: this.array(n),
      targets: this.array(this.net.nOutputs * size),
      loss: this.array(size),
    };
    return ws;
  }

  upload(buffer: DeviceBuffer, values: ArrayLike<number>, offset = 0): void {
    if (this.precision !== 'float64') this.transfers.upload(values.length * 8);
    host(buffer).set(values, offset);
  }

  read(buffer: DeviceBuffer, offset = 0, length = buffer.length - offset): Float64Array {
    if (this.precision !== 'float64') this.transfers.read(length * 8);
    return host(buffer).subarray(offset, offset + length);
  }

  free(): void {
    // Host arrays are garbage collected.
  }

  dispose(): void {
    this.drawWorkspaces.clear();
  }

  copy(src: DeviceBuffer, dst: DeviceBuffer): void {
    host(dst).set(host(src));
  }

  fill(buffer: DeviceBuffer, value: number): void {
    host(buffer).fill(value);
  }

  combine(out: DeviceBuffer, alpha: number, x: DeviceBuffer, beta: number, y: DeviceBuffer): void {
    const [o, a, b] = [host(out), host(x), host(y)];
    for (let i = 0; i < o.length; i++) o[i] = alpha * a[i] + beta * b[i];
  }

  allFinite(buffer: DeviceBuffer): boolean {
    return host(buffer).every(Number.isFinite);
  }

  squaredNorm(buffer: DeviceBuffer): number {
    let sum = 0;
    for (const v of host(buffer)) sum += v * v;
    return sum;
  }

  adamStep(moment1: DeviceBuffer, moment2: DeviceBuffer, gradient: DeviceBuffer, o: AdamStepOptions, out: DeviceBuffer): void {
    const [m, v, g, d] = [host(moment1), host(moment2), host(gradient), host(out)];
    const c1 = 1 - o.beta1 ** o.step;
    const c2 = 1 - o.beta2 ** o.step;
    for (let i = 0; i < g.length; i++) {
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
      d[i] = m[i] / c1 / (Math.sqrt(v[i] / c2) + o.epsilon);
    }
  }

  setBatch(ws: EngineWorkspace, batch: Batch): void {
    if (batch.size !== ws.size) throw new UsageError([problem('batch-size', `a batch of ${batch.size} samples given to a workspace of ${ws.size}`)]);
    this.upload(ws.act, batch.inputs, 0);
    this.upload(ws.targets, batch.targets, 0);
  }

  forwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number): void {
    this.kernels.forwardLevel(this.net, host(params), hostWs(ws), this.net.levelOffsets[level], this.net.levelOffsets[level + 1]);
  }

  outputLayer(ws: EngineWorkspace): void {
    this.kernels.outputLayer(this.net, hostWs(ws), hostWs(ws).targets);
  }

  meanLoss(ws: EngineWorkspace): number {
    const loss = this.read(ws.loss);
    let sum = 0;
    for (let s = 0; s < loss.length; s++) sum += loss[s];
    return sum / loss.length;
  }

  backwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number, modulus?: DeviceBuffer): void {
    this.kernels.backwardLevel(this.net, host(params), hostWs(ws), this.net.levelOffsets[level], this.net.levelOffsets[level + 1], modulus && host(modulus));
  }

  gradient(ws: EngineWorkspace, out: DeviceBuffer, entries?: EntryBuffers): void {
    const hostEntries = entries && { modulus: host(entries.modulus), diagonal: host(entries.diagonal), cross: entries.cross && host(entries.cross) };
    this.kernels.gradient(this.net, hostWs(ws), host(out), hostEntries);
  }

  outputMetric(ws: EngineWorkspace): OutputMetricBuffers {
    return outputMetric(this.net, hostWs(ws));
  }

  outputModulus(ws: EngineWorkspace, modulus: DeviceBuffer): void {
    outputBackpropagatedModulus(this.net, hostWs(ws), host(modulus));
  }

  fisherModulus(params: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer): void {
    host(modulus).fill(0);
    this.kernels.fisherModulus(this.net, this.plan, host(params), hostWs(ws), outputMetric(this.net, hostWs(ws)), host(modulus));
  }

  transferRates(params: DeviceBuffer, ws: EngineWorkspace, output: number, rates: DeviceBuffer, raw?: DeviceBuffer): void {
    const { seeds } = outputMetric(this.net, hostWs(ws));
    this.kernels.transferRates(this.net, this.plan, host(params), hostWs(ws), output, seeds, host(rates), raw && host(raw));
  }

  transferRateChunk(params: DeviceBuffer, ws: EngineWorkspace, first: number, count: number, rates: DeviceBuffer): void {
    checkRateChunk(this.net, this.size, first, count, rates);
    const { seeds } = outputMetric(this.net, hostWs(ws));
    const S = this.size;
    const out = host(rates);
    const one = new Float64Array(this.net.nUnits * S);
    for (let c = 0; c < count; c++) {
      one.fill(0);
      this.kernels.transferRates(this.net, this.plan, host(params), hostWs(ws), first + c, seeds, one);
      for (let k = 0; k < this.net.nUnits; k++) out.set(one.subarray(k * S, (k + 1) * S), (k * count + c) * S);
    }
  }

  monteCarloModulus(params: DeviceBuffer, ws: EngineWorkspace, draws: Float64Array, modulus: DeviceBuffer): void {
    const S = ws.size;
    const { net } = this;
    const hws = hostWs(ws);
    const scratch = this.drawWorkspace(hws);
    const out = host(modulus);
    out.fill(0);
    const K = draws.length / (net.nOutputs * S);
    for (let d = 0; d < K; d++) {
      targetsFromDraws(net, hws, draws.subarray(d * net.nOutputs * S, (d + 1) * net.nOutputs * S), scratch.targets);
      this.outputLayer(scratch);
      for (let l = net.levelOffsets.length - 2; l >= 1; l--) this.backwardLevel(params, scratch, l);
      for (let i = net.nInputs * S; i < out.length; i++) out[i] += scratch.backReduced[i] ** 2 / K;
    }
  }

  outerProductModulus(ws: EngineWorkspace, modulus: DeviceBuffer): void {
    const b = hostWs(ws).backReduced;
    const out = host(modulus);
    const start = this.net.nInputs * ws.size;
    out.fill(0, 0, start);
    for (let i = start; i < out.length; i++) out[i] = b[i] * b[i];
  }

  unitBlocks(ws: EngineWorkspace, modulus: DeviceBuffer, blocks: DeviceBuffer): void {
    this.kernels.accumulateUnitBlocks(this.net, this.layout, hostWs(ws), host(modulus), host(blocks));
  }

  solveUnitBlocks(blocks: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer, work: DeviceBuffer): number {
    host(work).set(host(blocks));
    return this.kernels.solveUnitBlocks(this.net, this.layout, host(work), host(gradient), epsilon, host(out));
  }

  quasiDiagonalSolve(diagonal: DeviceBuffer, cross: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer): void {
    this.kernels.quasiDiagonalSolve(this.net, host(diagonal), host(cross), host(gradient), epsilon, host(out));
  }

  diagonalSolve(diagonal: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, root: boolean, out: DeviceBuffer): void {
    this.kernels.diagonalSolve(host(diagonal), host(gradient), epsilon, root, host(out));
  }

  invertBlocks(blocks: DeviceBuffer, inverses: DeviceBuffer, units: readonly number[] = this.nonInputUnits()): number {
    for (const k of units) {
      const n = this.net.blockOffsets[k + 1] - this.net.blockOffsets[k];
      if (!invertBlock(host(blocks), host(inverses), this.layout.matrixOffsets[k], n)) return k;
    }
    return -1;
  }

  blocksTimesVector(inverses: DeviceBuffer, gradient: DeviceBuffer, out: DeviceBuffer, units: readonly number[] = this.nonInputUnits()): void {
    for (const k of units) {
      const p0 = this.net.blockOffsets[k];
      blockTimesVector(host(inverses), this.layout.matrixOffsets[k], this.net.blockOffsets[k + 1] - p0, host(gradient), p0, host(out));
    }
  }

  onlineBlockStep(blocks: DeviceBuffer, inverses: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer, sample: number, gradient: DeviceBuffer, decay: number, out: DeviceBuffer): number[] {
    const hws = hostWs(ws);
    return this.kernels.onlineBlockStep(this.net, this.layout, host(blocks), host(inverses), hws.act, host(modulus), ws.size, sample, host(gradient), decay, host(out));
  }

  gramPlan(rows: readonly Int32Array[]): GramPlan {
    return gramLayout(rows);
  }

  groupGram(x: DeviceBuffer, plan: GramPlan, out: DeviceBuffer, scale: number, weights?: DeviceBuffer, weightRow = 0): void {
    groupGramHost(host(x), this.size, plan, host(out), scale, weights && host(weights).subarray(weightRow * this.size, (weightRow + 1) * this.size));
  }

  accumulateWeighted(dst: DeviceBuffer, src: DeviceBuffer, weights: DeviceBuffer, weightRow: number): void {
    accumulateWeightedHost(host(dst), host(src), host(weights).subarray(weightRow * this.size, (weightRow + 1) * this.size));
  }

  sampledBackward(params: DeviceBuffer, ws: EngineWorkspace, draw: Float64Array, out: DeviceBuffer): void {
    const S = ws.size;
    const hws = hostWs(ws);
    const scratch = this.drawWorkspace(hws);
    targetsFromDraws(this.net, hws, draw, scratch.targets);
    this.outputLayer(scratch);
    for (let l = this.net.levelOffsets.length - 2; l >= 1; l--) this.backwardLevel(params, scratch, l);
    const o = host(out);
    o.set(scratch.backReduced);
    o.fill(0, 0, this.net.nInputs * S);
  }

  /** The forward pass of `ws` with its own b, b̃, loss and targets (Monte-Carlo backward passes). */
  private drawWorkspace(hws: HostWorkspace): HostWorkspace {
    const S = hws.size;
    let draw = this.drawWorkspaces.get(S);
    if (!draw) this.drawWorkspaces.set(S, (draw = this.workspace(S) as HostWorkspace));
    return { ...hws, back: draw.back, backReduced: draw.backReduced, loss: draw.loss, targets: draw.targets };
  }

  private nonInputUnits(): number[] {
    return Array.from({ length: this.net.nUnits - this.net.nInputs }, (_, i) => this.net.nInputs + i);
  }
}

/** A backend whose engines run host-array kernels (see {@link HostEngine}). */
export function hostBackend(kernels: Kernels, detail: string): Backend {
  return { name: kernels.name, precision: kernels.precision, detail, open: (net: CompiledNetwork, size: number) => new HostEngine(kernels, net, size) };
}
