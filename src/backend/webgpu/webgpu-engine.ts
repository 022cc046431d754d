import { UsageError, problem } from '../../errors.js';
import type { Batch } from '../../engine/batch.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { DeviceBuffer, EngineWorkspace, EntryBuffers } from '../engine.js';
import { metricLayout, type MetricLayout } from '../kernels.js';
import type { WebgpuDevice } from './webgpu-device.js';
import { blocksTimesVector, invertBlocks, onlineBlockStep, solveUnitBlocks, unitBlocks } from './webgpu-curvature.js';
import { WebgpuBuffer, WebgpuMemory } from './webgpu-memory.js';
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
 *
 * NOTE: this branch implements the memory, elementwise, propagation, backpropagated-metric and
 * diagonal/quasi-diagonal kernels of the `Engine` interface; the remaining methods (see
 * STATUS.md beside this file) are still to be written, so the engine is not yet registered as a
 * backend.
 */
export class WebgpuEngine extends WebgpuMemory {
  readonly backend = 'webgpu';
  readonly precision = 'float32' as const;
  readonly layout: MetricLayout;
  readonly interpretation: number;
  /** The network's index table (`networkTable`) and per-unit [kind, gain, scale, shift]. */
  readonly table: WebgpuBuffer;
  private readonly units: WebgpuBuffer;
  /** Per-unit failure flags of the solves ([nUnits]) and the mask of every non-input unit (k + 1; 0 on inputs). */
  readonly flags: WebgpuBuffer;
  readonly allUnits: WebgpuBuffer;
  /** Per-sample output statistics [S × 3] (see `wgsl-output.ts`) and a stand-in for an unused loss. */
  private readonly stats: WebgpuBuffer;
  private readonly noLoss: WebgpuBuffer;

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
    return {
      size: this.size,
      pre: this.alloc(n),
      act: this.alloc(n),
      deriv,
      back: this.alloc(n),
      backReduced: this.alloc(n),
      targets: this.alloc(this.net.nOutputs * this.size),
      loss: this.alloc(this.size),
    };
  }

  free(buffer: DeviceBuffer | EngineWorkspace): void {
    if (buffer instanceof WebgpuBuffer) return this.freeBuffer(buffer);
    const ws = buffer as EngineWorkspace;
    for (const b of [ws.pre, ws.act, ws.deriv, ws.back, ws.backReduced, ws.targets, ws.loss]) this.freeBuffer(b);
  }

  dispose(): void {
    if (this.disposed) return;
    for (const b of [...this.live]) this.freeBuffer(b);
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
    this.outputStats(ws, ws.targets, ws.loss);
    const buffers = [ws.act, ws.deriv, ws.targets].map((b) => this.dev(b));
    this.launch(outputBackKernel, this.net.nOutputs * this.size, [...buffers, this.table, this.units, this.stats, this.dev(ws.backReduced)], [this.size, this.interpretation]);
  }

  /** The per-sample output statistics of `ws` into {@link stats}; with `loss`, ℓ from `targets` too. */
  private outputStats(ws: EngineWorkspace, targets: DeviceBuffer, loss?: DeviceBuffer): void {
    const buffers = [ws.act, ws.pre, targets].map((b) => this.dev(b));
    this.launch(outputStatsKernel, this.size, [...buffers, this.table, this.units, this.stats, loss ? this.dev(loss) : this.noLoss], [this.size, this.interpretation, loss ? 1 : 0]);
  }

  meanLoss(ws: EngineWorkspace): number {
    return this.reduce(ws.loss, 'sum') / this.size;
  }

  backwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number, modulus?: DeviceBuffer): void {
    const [start, end] = this.levelRange(level);
    const buffers = [this.dev(params), this.dev(ws.backReduced), this.dev(ws.back), this.dev(ws.deriv), this.table];
    if (modulus) buffers.push(this.dev(modulus));
    this.launch(backwardKernel(modulus !== undefined), (end - start) * this.size, buffers, [start, this.size]);
  }

  gradient(ws: EngineWorkspace, out: DeviceBuffer, entries?: EntryBuffers): void {
    const buffers = [this.dev(ws.act), this.dev(ws.backReduced), this.table, this.dev(out)];
    if (entries) buffers.push(this.dev(entries.modulus), this.dev(entries.diagonal));
    if (entries?.cross) buffers.push(this.dev(entries.cross));
    this.launch(gradientKernel(entries !== undefined, entries?.cross !== undefined), this.net.nParams, buffers, [this.size]);
  }

  // Metrics.

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

  /** Unit ids [start, end) of a level. */
  private levelRange(level: number): [number, number] {
    return [this.net.levelOffsets[level], this.net.levelOffsets[level + 1]];
  }
}
