import { UsageError, problem } from '../../errors.js';
import type { Batch } from '../../engine/batch.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { allocWorkspace, gramLayout, workspaceBuffers, type DeviceBuffer, type Engine, type EngineWorkspace, type EntryBuffers, type GramPlan, type OutputMetricBuffers } from '../engine.js';
import { metricLayout, type MetricLayout } from '../kernels.js';
import type { WebgpuDevice } from './webgpu-device.js';
import { blocksTimesVector, invertBlocks, onlineBlockStep, solveUnitBlocks, unitBlocks } from './webgpu-curvature.js';
import { WebgpuKronecker } from './webgpu-kronecker.js';
import { WebgpuBuffer, WebgpuMemory } from './webgpu-memory.js';
import { accumulateWeighted, fisherModulus, gramPairs, groupGram, monteCarloModulus, outputMetric, sampledBackward, transferRateChunk, transferRates } from './webgpu-metric.js';
import { networkTable, unitTable } from './webgpu-network.js';
import { squaresKernel } from './wgsl-elementwise.js';
import { outputBackKernel, outputModulusKernel, outputStatsKernel } from './wgsl-output.js';
import { backwardKernel, forwardKernel, gradientKernel } from './wgsl-propagation.js';
import { diagonalKernel, quasiDiagonalKernel } from './wgsl-update.js';

const INTERPRETATION_CODE = { square: 0, bernoulli: 1, softmax: 2, spherical: 3 } as const;

/**
 * The WebGPU engine (float32 WGSL compute shaders on Dawn, through the worker of
 * `webgpu-device.ts`): every buffer stays on the device; only `upload`, `read`, `setBatch` and the
 * O(1) numbers of the reductions (mean loss, finiteness, squared norm) cross, each counted in
 * {@link transfers} at 4 bytes per float32 value. The network's index arrays (one i32 table) and
 * per-unit activations are uploaded once, at open.
 *
 * Kernels write only the rows they compute (a level, the output units): WebGPU buffers are
 * mutable, unlike gpu.js textures, so no kernel copies the rest of an array.
 */
export class WebgpuEngine extends WebgpuMemory implements Engine {
  readonly backend = 'webgpu';
  readonly precision = 'float32' as const;
  readonly layout: MetricLayout;
  readonly interpretation: number;
  /** The network's index table (`networkTable`) and per-unit [kind, gain, scale, shift]. */
  readonly table: WebgpuBuffer;
  readonly units: WebgpuBuffer;
  /** Per-unit failure flags of the solves ([nUnits]) and the mask of every non-input unit (k + 1; 0 on inputs). */
  readonly flags: WebgpuBuffer;
  readonly allUnits: WebgpuBuffer;
  /** Per-sample output statistics [S × 3] (see `wgsl-output.ts`) and a stand-in for an unused loss. */
  readonly stats: WebgpuBuffer;
  readonly noLoss: WebgpuBuffer;
  private readonly metrics = new Map<EngineWorkspace, OutputMetricBuffers>();
  /** Ancestry masks of the outputs whose transfer rates were asked for (uploaded once each). */
  private readonly ancestry = new Map<number, WebgpuBuffer>();
  /** The Kronecker curvatures' device route (factorisations and grid solves of complete groups). */
  readonly kronecker = new WebgpuKronecker(this);
  /** The device pairs of the Gram plans made by {@link gramPlan}. */
  private readonly grams = new Map<GramPlan, WebgpuBuffer>();

  constructor(
    device: WebgpuDevice,
    readonly net: CompiledNetwork,
    readonly size: number,
  ) {
    super(device);
    if (!(Number.isInteger(size) && size >= 1)) throw new UsageError([problem('batch-size', `an engine needs a positive integer batch size, not ${size}`)]);
    if ((net.nUnits + 1) * size >= 2 ** 31) throw new UsageError([problem('webgpu', `${net.nUnits} units × ${size} samples exceed 2^31 entries; use smaller batches (mini-batch mode)`)]);
    this.layout = metricLayout(net);
    this.interpretation = INTERPRETATION_CODE[net.interpretation];
    this.table = this.constant(networkTable(net, this.layout));
    this.units = this.constant(unitTable(net));
    this.stats = this.alloc(3 * size) as WebgpuBuffer;
    this.noLoss = this.alloc(1) as WebgpuBuffer;
    this.flags = this.alloc(net.nUnits) as WebgpuBuffer;
    this.allUnits = this.constant(Float32Array.from({ length: net.nUnits }, (_, k) => (k < net.nInputs ? 0 : k + 1)));
  }

  // Memory.

  workspace(): EngineWorkspace {
    const n = this.net.nUnits * this.size;
    const deriv = this.alloc(n) as WebgpuBuffer;
    this.fillRange(deriv, 0, this.net.nInputs * this.size, 1);
    return allocWorkspace((length) => this.alloc(length), this.net, this.size, deriv);
  }

  free(buffer: DeviceBuffer | EngineWorkspace): void {
    if (buffer instanceof WebgpuBuffer) return this.freeBuffer(buffer);
    const ws = buffer as EngineWorkspace;
    for (const b of workspaceBuffers(ws)) this.freeBuffer(b);
    const metric = this.metrics.get(ws);
    if (metric) for (const b of Object.values(metric)) if (b) this.freeBuffer(b);
    this.metrics.delete(ws);
  }

  dispose(): void {
    if (this.disposed) return;
    for (const b of [...this.live]) this.freeBuffer(b);
    this.metrics.clear();
    this.ancestry.clear();
    this.grams.clear();
    this.disposed = true;
  }

  // Propagation.

  setBatch(ws: EngineWorkspace, batch: Batch): void {
    if (batch.size !== this.size) throw new UsageError([problem('batch-size', `a batch of ${batch.size} samples given to an engine opened for ${this.size}`)]);
    this.upload(ws.act, batch.inputs, 0);
    this.upload(ws.targets, batch.targets, 0);
  }

  forwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number): void {
    const [start, end] = this.levelRange(level);
    this.launch(forwardKernel, (end - start) * this.size, [this.dev(params), this.dev(ws.act), this.dev(ws.pre), this.dev(ws.deriv), this.table, this.units], [start, this.size]);
  }

  outputLayer(ws: EngineWorkspace): void {
    this.writeOutputLayer(ws, ws.targets, this.dev(ws.backReduced), ws.loss);
  }

  /** ℓ (when `loss` is given) and the output rows of b̃ into `backReduced`, from `targets`. */
  writeOutputLayer(ws: EngineWorkspace, targets: DeviceBuffer, backReduced: WebgpuBuffer, loss?: DeviceBuffer): void {
    this.outputStats(ws, targets, loss);
    const buffers = [ws.act, ws.deriv, targets].map((b) => this.dev(b));
    this.launch(outputBackKernel, this.net.nOutputs * this.size, [...buffers, this.table, this.units, this.stats, backReduced], [this.size, this.interpretation]);
  }

  /** The per-sample output statistics of `ws` into {@link stats}; with `loss`, ℓ from `targets` too. */
  outputStats(ws: EngineWorkspace, targets: DeviceBuffer, loss?: DeviceBuffer): void {
    const buffers = [ws.act, ws.pre, targets].map((b) => this.dev(b));
    this.launch(outputStatsKernel, this.size, [...buffers, this.table, this.units, this.stats, loss ? this.dev(loss) : this.noLoss], [this.size, this.interpretation, loss ? 1 : 0]);
  }

  meanLoss(ws: EngineWorkspace): number {
    return this.reduce(ws.loss, 'sum') / this.size;
  }

  backwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number, modulus?: DeviceBuffer): void {
    this.backwardSums(params, ws.deriv, level, this.dev(ws.backReduced), this.dev(ws.back), modulus);
  }

  /** b into `back`, b̃ into `backReduced` and, with `modulus`, m̃ of the hidden units of `level`. */
  backwardSums(params: DeviceBuffer, deriv: DeviceBuffer, level: number, backReduced: WebgpuBuffer, back: WebgpuBuffer, modulus?: DeviceBuffer): void {
    const [start, end] = this.levelRange(level);
    const buffers = [this.dev(params), backReduced, back, this.dev(deriv), this.table];
    if (modulus) buffers.push(this.dev(modulus));
    this.launch(backwardKernel(modulus !== undefined), (end - start) * this.size, buffers, [start, this.size]);
  }

  gradient(ws: EngineWorkspace, out: DeviceBuffer, entries?: EntryBuffers): void {
    const buffers = [this.dev(ws.act), this.dev(ws.backReduced), this.table, this.dev(out)];
    if (entries) buffers.push(this.dev(entries.modulus), this.dev(entries.diagonal));
    if (entries?.cross) buffers.push(this.dev(entries.cross));
    this.launch(gradientKernel(entries !== undefined, entries?.cross !== undefined), this.net.nParams, buffers, [this.size]);
  }

  // Metrics (see `webgpu-metric.ts`).

  /** The output metric on the device; the buffers are the workspace's, overwritten by the next call for it. */
  outputMetric(ws: EngineWorkspace): OutputMetricBuffers {
    const metric = outputMetric(this, ws, this.metrics.get(ws));
    this.metrics.set(ws, metric);
    return metric;
  }

  fisherModulus(params: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer): void {
    fisherModulus(this, params, ws, modulus);
  }

  transferRates(params: DeviceBuffer, ws: EngineWorkspace, output: number, rates: DeviceBuffer, raw?: DeviceBuffer): void {
    transferRates(this, params, ws, output, rates, raw, this.ancestry);
  }

  transferRateChunk(params: DeviceBuffer, ws: EngineWorkspace, first: number, count: number, rates: DeviceBuffer): void {
    transferRateChunk(this, params, ws, first, count, rates);
  }

  monteCarloModulus(params: DeviceBuffer, ws: EngineWorkspace, draws: Float64Array, modulus: DeviceBuffer): void {
    monteCarloModulus(this, params, ws, draws, modulus);
  }

  outputModulus(ws: EngineWorkspace, modulus: DeviceBuffer): void {
    this.outputStats(ws, ws.targets);
    this.launch(outputModulusKernel, this.net.nOutputs * this.size, [this.dev(ws.act), this.dev(ws.deriv), this.table, this.stats, this.dev(modulus)], [this.size, this.interpretation]);
  }

  outerProductModulus(ws: EngineWorkspace, modulus: DeviceBuffer): void {
    this.launch(squaresKernel, modulus.length, [this.dev(modulus), this.dev(ws.backReduced)], [this.net.nInputs * this.size]);
  }

  // Updates.

  quasiDiagonalSolve(diagonal: DeviceBuffer, cross: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer): void {
    this.launch(quasiDiagonalKernel, this.net.nParams, [this.dev(diagonal), this.dev(cross), this.dev(gradient), this.table, this.dev(out)], [epsilon]);
  }

  diagonalSolve(diagonal: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, root: boolean, out: DeviceBuffer): void {
    this.launch(diagonalKernel, gradient.length, [this.dev(diagonal), this.dev(gradient), this.dev(out)], [epsilon, root ? 1 : 0]);
  }

  // Curvature (see `webgpu-curvature.ts`).

  unitBlocks(ws: EngineWorkspace, modulus: DeviceBuffer, blocks: DeviceBuffer): void {
    unitBlocks(this, ws, modulus, blocks);
  }

  solveUnitBlocks(blocks: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer, work: DeviceBuffer): number {
    return solveUnitBlocks(this, blocks, gradient, epsilon, out, work);
  }

  invertBlocks(blocks: DeviceBuffer, inverses: DeviceBuffer, units?: readonly number[]): number {
    return invertBlocks(this, blocks, inverses, units);
  }

  blocksTimesVector(inverses: DeviceBuffer, gradient: DeviceBuffer, out: DeviceBuffer, units?: readonly number[]): void {
    blocksTimesVector(this, inverses, gradient, out, units);
  }

  onlineBlockStep(blocks: DeviceBuffer, inverses: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer, sample: number, gradient: DeviceBuffer, decay: number, out: DeviceBuffer): number[] {
    return onlineBlockStep(this, blocks, inverses, ws, modulus, sample, gradient, decay, out);
  }

  // Kronecker factors.

  gramPlan(rows: readonly Int32Array[]): GramPlan {
    this.checkOpen();
    const plan = gramLayout(rows);
    this.grams.set(plan, gramPairs(this, plan));
    return plan;
  }

  groupGram(x: DeviceBuffer, plan: GramPlan, out: DeviceBuffer, scale: number, weights?: DeviceBuffer, weightRow = 0): void {
    const pairs = this.grams.get(plan);
    if (!pairs) throw new UsageError([problem('engine', 'a Gram plan not made by this webgpu engine (use its gramPlan)')]);
    groupGram(this, plan, pairs, x, out, scale, weights, weightRow);
  }

  accumulateWeighted(dst: DeviceBuffer, src: DeviceBuffer, weights: DeviceBuffer, weightRow: number): void {
    accumulateWeighted(this, dst, src, weights, weightRow);
  }

  sampledBackward(params: DeviceBuffer, ws: EngineWorkspace, draw: Float64Array, out: DeviceBuffer): void {
    sampledBackward(this, params, ws, draw, out);
  }

  /** Unit ids [start, end) of a level. */
  private levelRange(level: number): [number, number] {
    return [this.net.levelOffsets[level], this.net.levelOffsets[level + 1]];
  }
}
