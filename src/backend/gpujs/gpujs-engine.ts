import { UsageError, problem } from '../../errors.js';
import type { Batch } from '../../engine/batch.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { allocWorkspace, workspaceBuffers, type AdamStepOptions, type DeviceBuffer, type Engine, type EngineWorkspace, type EntryBuffers, type GramPlan, type OutputMetricBuffers } from '../engine.js';
import { metricLayout, type MetricLayout } from '../kernels.js';
import { blocksTimesVector, diagonalSolve, invertBlocks, onlineBlockStep, quasiDiagonalSolve, solveUnitBlocks, unitBlocks } from './device-curvature.js';
import { accumulateWeighted, DeviceGramPlans, groupGram } from './device-gram.js';
import { fisherModulus, monteCarloModulus, outputMetric, sampledBackward, transferRateChunk, transferRates } from './device-metric.js';
import { checkDeviceSizes, deviceNetwork, deviceNetworkData, packNetwork, type DeviceNetwork, type PackedNetwork } from './device-network.js';
import { DeviceMemory, GpujsBuffer, dev } from './device-memory.js';
import { backwardSums, forwardLevel, setBatch, writeOutputLayer } from './device-propagation.js';
import type { DeviceRuntime } from './device-runtime.js';
import { EXACT_INDEX_LIMIT } from './gpujs-mode.js';

const INTERPRETATION_CODE = { square: 0, bernoulli: 1, softmax: 2, spherical: 3 } as const;

/**
 * Entries [nUnits × S] from which headlessgl propagation draws only the rows it writes (row
 * launches, `device-rows.ts`). Below, a whole-array draw is cheaper than the extra copies: ~2^16
 * texels of copy-through draw cost about as much on llvmpipe as a launch.
 */
export const ROWS_FROM = 1 << 16;

/**
 * The gpu.js {@link Engine}: every buffer stays on the device (textures in headlessgl mode,
 * Float32Arrays in webasm mode) between kernels and across iterations; only `upload`, `read`,
 * `setBatch`, the Monte-Carlo draws (and {@link sampledBackward}'s one draw) and O(1) status
 * numbers (mean loss, failed unit, refusal count, finiteness) cross, each counted in
 * {@link transfers} at 4 bytes per float32 value.
 * NOTE: a buffer is one whole-array texture. Propagation on arrays of at least {@link ROWS_FROM}
 * entries draws only the texture rows it writes and copies them into the arrays in place (row
 * launches, `device-propagation.ts`); other kernels that write some rows (metric, curvature)
 * output the whole array, copying the other rows from the old texture: O(nUnits × size) device
 * work per launch and no host traffic. Scratch inside one call is shaped to its work instead
 * (transfer-rate windows, packed block groups).
 * Kernels are compiled once per gpu.js mode and shared by engines (see `deviceRuntime`); the
 * network's index arrays are uploaded once, at open (counted then), and a Gram plan's pairs of
 * rows once, by {@link gramPlan}.
 * NOTE: in headlessgl mode a launch costs ~0.2–1 ms of llvmpipe draw time, so a forward level
 * (V, a, r), a backward level (b, b̃, m̃), the output layer (ℓ, b̃), a batch (inputs, targets) and
 * the gradient with its quasi-diagonal entries are one launch each (gpu.js kernel maps,
 * `device-fused-sources.ts`); in webasm mode launches are cheap and the separate kernels remain.
 */
export class GpujsEngine extends DeviceMemory implements Engine {
  readonly backend = 'gpujs';
  readonly precision = 'float32' as const;
  readonly layout: MetricLayout;
  readonly interpretation: number;
  /** The network's constants on the device (uploaded and counted at open). */
  readonly constants: DeviceNetwork;
  /** The constants of the fused kernels in one device array (headlessgl mode only). */
  readonly packed?: PackedNetwork;
  /** Whether propagation draws only the texture rows it writes (headlessgl, arrays of at least `rowsFrom` entries: `device-propagation.ts`). */
  readonly rowLaunches: boolean;
  /** The output units' ids span [first, last + 1) (the rows the output layer writes). */
  readonly outputSpan: readonly [number, number];
  private readonly metrics = new Map<EngineWorkspace, OutputMetricBuffers>();
  /** The device pairs of the Gram plans made by {@link gramPlan} (freed by {@link dispose}). */
  private readonly grams = new DeviceGramPlans(this);

  constructor(
    runtime: DeviceRuntime,
    readonly net: CompiledNetwork,
    readonly size: number,
    /** Entries of one transfer-rate chunk (tests lower it to exercise chunking). */
    readonly transferBudget = EXACT_INDEX_LIMIT,
    /** Entries [nUnits × S] from which headlessgl propagation uses row launches (tests lower it to 0). */
    readonly rowsFrom = ROWS_FROM,
  ) {
    super(runtime);
    checkDeviceSizes(net, size);
    this.layout = metricLayout(net);
    this.interpretation = INTERPRETATION_CODE[net.interpretation];
    this.constants = deviceNetwork(net, this.layout, (values) => this.toDevice(values), runtime.mode === 'headlessgl');
    this.rowLaunches = runtime.launchRows !== undefined && net.nUnits * size >= rowsFrom;
    this.outputSpan = net.nOutputs > 0 ? [net.outputUnits.reduce((a, k) => Math.min(a, k)), net.outputUnits.reduce((a, k) => Math.max(a, k)) + 1] : [0, 0];
    if (runtime.fused) this.packed = packNetwork(net, this.constants, (name, threads, ...args) => this.launch(name, threads, ...args), (data) => this.release(data));
  }

  // Memory (buffers, uploads and reads: see DeviceMemory).

  workspace(): EngineWorkspace {
    const n = this.net.nUnits * this.size;
    const deriv = this.wrap(this.launch('fillSplit', n, this.net.nInputs * this.size, 1, 0), n);
    return allocWorkspace((length) => this.alloc(length), this.net, this.size, deriv);
  }

  free(buffer: DeviceBuffer | EngineWorkspace): void {
    if (buffer instanceof GpujsBuffer) return this.freeBuffer(buffer);
    const ws = buffer as EngineWorkspace;
    for (const b of workspaceBuffers(ws)) this.free(b);
    const metric = this.metrics.get(ws);
    if (metric) for (const b of Object.values(metric)) if (b) this.free(b);
    this.metrics.delete(ws);
  }

  dispose(): void {
    if (this.disposed) return;
    for (const b of this.live) this.runtime.release(b.data);
    this.live.clear();
    this.metrics.clear();
    this.grams.dispose();
    this.release(...deviceNetworkData(this.constants));
    if (this.packed) this.release(this.packed.data);
    this.disposed = true;
  }

  // Propagation.

  setBatch(ws: EngineWorkspace, batch: Batch): void {
    setBatch(this, ws, batch);
  }

  forwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number): void {
    forwardLevel(this, params, ws, level);
  }

  outputLayer(ws: EngineWorkspace): void {
    writeOutputLayer(this, ws, ws.targets, ws.backReduced, ws.loss);
  }

  /** ℓ (when `loss` is given) and the output rows of b̃ into `backReduced`, from `targets`. */
  writeOutputLayer(ws: EngineWorkspace, targets: DeviceBuffer, backReduced: DeviceBuffer, loss?: DeviceBuffer): void {
    writeOutputLayer(this, ws, targets, backReduced, loss);
  }

  meanLoss(ws: EngineWorkspace): number {
    return this.reduce(dev(ws.loss), this.size, 'sum') / this.size;
  }

  backwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number, modulus?: DeviceBuffer): void {
    if (!this.constants.levelHasHidden[level]) return;
    backwardSums(this, params, ws.deriv, level, ws.backReduced, ws.back, modulus);
  }

  /** The backward kernels of one level: b (when `back` is given), b̃ in place, m̃ in place (when `modulus` is given). */
  backwardSums(params: DeviceBuffer, deriv: DeviceBuffer, level: number, backReduced: DeviceBuffer, back?: DeviceBuffer, modulus?: DeviceBuffer): void {
    backwardSums(this, params, deriv, level, backReduced, back, modulus);
  }

  gradient(ws: EngineWorkspace, out: DeviceBuffer, entries?: EntryBuffers): void {
    const c = this.constants;
    const moment = (target: DeviceBuffer, y: DeviceBuffer, power: number) =>
      this.update(target, 'moment', ws.act, dev(y), c.paramUnit, c.blockOffsets, c.inOffsets, c.inSources, this.size, power);
    const t = this.packed;
    if (entries && t) {
      const o = this.launchFused('momentsFused', this.net.nParams, entries.cross ? 2 : 1, ws.act, ws.backReduced, entries.modulus, t.data, t.paramUnit, t.inSources, t.U, this.size);
      this.assign(out, o.result);
      this.assign(entries.diagonal, o.first);
      if (entries.cross && o.second) this.assign(entries.cross, o.second);
      return;
    }
    moment(out, ws.backReduced, 1);
    if (entries) {
      moment(entries.diagonal, entries.modulus, 2);
      if (entries.cross) moment(entries.cross, entries.modulus, 1);
    }
  }

  // Metrics.

  /** The output metric on the device; the buffers are the workspace's, overwritten by the next call for it. */
  outputMetric(ws: EngineWorkspace): OutputMetricBuffers {
    const metric = outputMetric(this, ws, this.metrics.get(ws));
    this.metrics.set(ws, metric);
    return metric;
  }

  outputModulus(ws: EngineWorkspace, modulus: DeviceBuffer): void {
    const c = this.constants;
    this.update(modulus, 'outputModulus', modulus, ws.act, ws.deriv, c.outputIndex, c.outputUnits, this.interpretation, this.net.nOutputs, this.size);
  }

  fisherModulus(params: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer): void {
    fisherModulus(this, dev(params), ws, modulus);
  }

  transferRates(params: DeviceBuffer, ws: EngineWorkspace, output: number, rates: DeviceBuffer, raw?: DeviceBuffer): void {
    transferRates(this, dev(params), ws, output, rates, raw);
  }

  transferRateChunk(params: DeviceBuffer, ws: EngineWorkspace, first: number, count: number, rates: DeviceBuffer): void {
    transferRateChunk(this, dev(params), ws, first, count, rates);
  }

  monteCarloModulus(params: DeviceBuffer, ws: EngineWorkspace, draws: Float64Array, modulus: DeviceBuffer): void {
    monteCarloModulus(this, dev(params), ws, draws, modulus);
  }

  outerProductModulus(ws: EngineWorkspace, modulus: DeviceBuffer): void {
    this.update(modulus, 'squares', modulus, ws.backReduced, this.net.nInputs * this.size, 1, 0);
  }

  // Curvature.

  unitBlocks(ws: EngineWorkspace, modulus: DeviceBuffer, blocks: DeviceBuffer): void {
    unitBlocks(this, ws, dev(modulus), blocks);
  }

  solveUnitBlocks(blocks: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer, _work: DeviceBuffer): number {
    return solveUnitBlocks(this, dev(blocks), dev(gradient), epsilon, out);
  }

  quasiDiagonalSolve(diagonal: DeviceBuffer, cross: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer): void {
    quasiDiagonalSolve(this, dev(diagonal), dev(cross), dev(gradient), epsilon, out);
  }

  diagonalSolve(diagonal: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, root: boolean, out: DeviceBuffer): void {
    diagonalSolve(this, dev(diagonal), dev(gradient), epsilon, root, out);
  }

  adamStep(moment1: DeviceBuffer, moment2: DeviceBuffer, gradient: DeviceBuffer, o: AdamStepOptions, out: DeviceBuffer): void {
    this.combine(moment1, o.beta1, moment1, 1 - o.beta1, gradient);
    this.update(moment2, 'adamSecondMoment', dev(moment2), dev(gradient), o.beta2);
    this.update(out, 'adamDirection', dev(moment1), dev(moment2), 1 - o.beta1 ** o.step, 1 - o.beta2 ** o.step, o.epsilon);
  }

  invertBlocks(blocks: DeviceBuffer, inverses: DeviceBuffer, units?: readonly number[]): number {
    return invertBlocks(this, dev(blocks), inverses, units);
  }

  blocksTimesVector(inverses: DeviceBuffer, gradient: DeviceBuffer, out: DeviceBuffer, units?: readonly number[]): void {
    blocksTimesVector(this, dev(inverses), dev(gradient), out, units);
  }

  onlineBlockStep(blocks: DeviceBuffer, inverses: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer, sample: number, gradient: DeviceBuffer, decay: number, out: DeviceBuffer): number[] {
    return onlineBlockStep(this, blocks, inverses, ws, dev(modulus), sample, dev(gradient), decay, out);
  }

  // Kronecker factors (see `device-gram.ts`).

  gramPlan(rows: readonly Int32Array[]): GramPlan {
    if (this.disposed) throw new UsageError([problem('engine', 'gpujs engine used after dispose()')]);
    return this.grams.make(rows);
  }

  groupGram(x: DeviceBuffer, plan: GramPlan, out: DeviceBuffer, scale: number, weights?: DeviceBuffer, weightRow = 0): void {
    groupGram(this, this.grams.pairs(plan), dev(x), out, scale, weights && dev(weights), weightRow);
  }

  accumulateWeighted(dst: DeviceBuffer, src: DeviceBuffer, weights: DeviceBuffer, weightRow: number): void {
    accumulateWeighted(this, dst, dev(src), dev(weights), weightRow);
  }

  sampledBackward(params: DeviceBuffer, ws: EngineWorkspace, draw: Float64Array, out: DeviceBuffer): void {
    sampledBackward(this, dev(params), ws, draw, out);
  }

  /** Unit ids [start, end) of a level ≥ 1. */
  levelRange(level: number): [number, number] {
    if (!(level >= 1 && level < this.net.levelOffsets.length - 1)) throw new UsageError([problem('level', `level ${level} is not a level ≥ 1 of this network`)]);
    return [this.net.levelOffsets[level], this.net.levelOffsets[level + 1]];
  }
}
