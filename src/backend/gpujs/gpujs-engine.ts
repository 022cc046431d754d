import { UsageError, problem } from '../../errors.js';
import type { Batch } from '../../engine/batch.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { allocWorkspace, workspaceBuffers, type AdamStepOptions, type DeviceBuffer, type Engine, type EngineWorkspace, type EntryBuffers, type GramPlan, type OutputMetricBuffers } from '../engine.js';
import { metricLayout, type MetricLayout } from '../kernels.js';
import { blocksTimesVector, diagonalSolve, invertBlocks, onlineBlockStep, quasiDiagonalSolve, solveUnitBlocks, unitBlocks } from './device-curvature.js';
import { accumulateWeighted, DeviceGramPlans, groupGram } from './device-gram.js';
import { fisherModulus, monteCarloModulus, outputMetric, sampledBackward, transferRates } from './device-metric.js';
import { checkDeviceSizes, deviceNetwork, deviceNetworkData, packNetwork, type DeviceNetwork, type PackedNetwork } from './device-network.js';
import { DeviceMemory, GpujsBuffer, dev, type LaunchArg } from './device-memory.js';
import type { DeviceRuntime } from './device-runtime.js';
import { EXACT_INDEX_LIMIT } from './gpujs-mode.js';

/** A stand-in for an argument a webasm launch does not read. */
const UNREAD = new Float32Array(1);

const INTERPRETATION_CODE = { square: 0, bernoulli: 1, softmax: 2, spherical: 3 } as const;

/**
 * The gpu.js {@link Engine}: every buffer stays on the device (textures in headlessgl mode,
 * Float32Arrays in webasm mode) between kernels and across iterations; only `upload`, `read`,
 * `setBatch`, the Monte-Carlo draws (and {@link sampledBackward}'s one draw) and O(1) status
 * numbers (mean loss, failed unit, refusal count, finiteness) cross, each counted in
 * {@link transfers} at 4 bytes per float32 value.
 * NOTE: a buffer is one whole-array texture, and a kernel that writes some rows (a level, the
 * output units, a group of blocks) outputs the whole array, copying the other rows from the old
 * texture: O(nUnits × size) device work per level and no host traffic, where per-level textures
 * would make every kernel that reads a unit-major array gather from several textures. Scratch
 * inside one call is shaped to its work instead (transfer-rate windows, packed block groups).
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
  private readonly packed?: PackedNetwork;
  private readonly metrics = new Map<EngineWorkspace, OutputMetricBuffers>();
  /** The device pairs of the Gram plans made by {@link gramPlan} (freed by {@link dispose}). */
  private readonly grams = new DeviceGramPlans(this);

  constructor(
    runtime: DeviceRuntime,
    readonly net: CompiledNetwork,
    readonly size: number,
    /** Entries of one transfer-rate chunk (tests lower it to exercise chunking). */
    readonly transferBudget = EXACT_INDEX_LIMIT,
  ) {
    super(runtime);
    checkDeviceSizes(net, size);
    this.layout = metricLayout(net);
    this.interpretation = INTERPRETATION_CODE[net.interpretation];
    this.constants = deviceNetwork(net, this.layout, (values) => this.toDevice(values), runtime.mode === 'headlessgl');
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
    if (batch.size !== this.size) throw new UsageError([problem('batch-size', `a batch of ${batch.size} samples given to an engine opened for ${this.size}`)]);
    if (this.runtime.fused && batch.inputs.length > 0 && batch.targets.length > 0) {
      // One launch for both: the counted uploads are the same two arrays as `upload`'s.
      const inputs = Float32Array.from(batch.inputs);
      const targets = Float32Array.from(batch.targets);
      this.transfers.upload(inputs.byteLength);
      this.transfers.upload(targets.byteLength);
      const out = this.launchFused('batchFused', ws.act.length, 1, ws.act, inputs, targets, inputs.length, targets.length);
      this.assign(ws.act, out.result);
      // NOTE: the targets keep the whole [nUnits × S] output texture; only their first rows are read.
      this.assign(ws.targets, out.first);
      return;
    }
    this.upload(ws.act, batch.inputs, 0);
    this.upload(ws.targets, batch.targets, 0);
  }

  forwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number): void {
    const c = this.constants;
    const [start, end] = this.levelRange(level);
    const S = this.size;
    const t = this.packed;
    if (t) {
      const n = this.net.nUnits * S;
      const out = this.launchFused('forwardLevelFused', n, 2, ws.pre, ws.act, ws.deriv, dev(params), t.data, t.inSources, t.U, start, end, S);
      this.assign(ws.pre, out.result);
      this.assign(ws.act, out.first);
      if (out.second) this.assign(ws.deriv, out.second);
      return;
    }
    this.updateRows(ws.pre, start, end, 'forwardSum', ws.pre, ws.act, dev(params), c.inOffsets, c.inSources, c.blockOffsets, c.gain, start, end, S);
    this.updateRows(ws.act, start, end, 'forwardActivation', ws.act, ws.pre, c.kind, c.scale, c.shift, c.gainScale, start, end, S, 0);
    this.updateRows(ws.deriv, start, end, 'forwardActivation', ws.deriv, ws.pre, c.kind, c.scale, c.shift, c.gainScale, start, end, S, 1);
  }

  outputLayer(ws: EngineWorkspace): void {
    this.writeOutputLayer(ws, ws.targets, ws.backReduced, ws.loss);
  }

  /** ℓ (when `loss` is given) and the output rows of b̃ into `backReduced`, from `targets`. */
  writeOutputLayer(ws: EngineWorkspace, targets: DeviceBuffer, backReduced: DeviceBuffer, loss?: DeviceBuffer): void {
    const c = this.constants;
    const { nOutputs } = this.net;
    const t = this.packed;
    if (loss && t) {
      const n = this.net.nUnits * this.size;
      const out = this.launchFused('outputLayerFused', n, 1, backReduced, ws.act, ws.pre, ws.deriv, targets, t.data, t.outputUnits, t.U, this.interpretation, nOutputs, this.size);
      this.assign(backReduced, out.result);
      // NOTE: the loss keeps the whole [nUnits × S] output texture; only its first S entries are read.
      this.assign(loss, out.first);
      return;
    }
    if (loss) this.update(loss, 'outputLoss', ws.act, ws.pre, targets, c.outputUnits, c.isTanh, this.interpretation, nOutputs, this.size);
    this.update(backReduced, 'outputBack', backReduced, ws.act, ws.deriv, targets, c.outputIndex, c.outputUnits, c.isTanh, this.interpretation, nOutputs, this.size);
  }

  meanLoss(ws: EngineWorkspace): number {
    return this.reduce(dev(ws.loss), this.size, 'sum') / this.size;
  }

  backwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number, modulus?: DeviceBuffer): void {
    if (!this.constants.levelHasHidden[level]) return;
    this.backwardSums(params, ws.deriv, level, ws.backReduced, ws.back, modulus);
  }

  /** The backward kernels of one level: b (when `back` is given), b̃ in place, m̃ in place (when `modulus` is given). */
  backwardSums(params: DeviceBuffer, deriv: DeviceBuffer, level: number, backReduced: DeviceBuffer, back?: DeviceBuffer, modulus?: DeviceBuffer): void {
    const c = this.constants;
    const [start, end] = this.levelRange(level);
    const t = this.packed;
    if (t && (back || modulus)) {
      // One launch for b, b̃ and m̃; an output not asked for is computed from a stand-in and dropped.
      const n = this.net.nUnits * this.size;
      const out = this.launchFused('backwardLevelFused', n, modulus ? 2 : 1, backReduced, back ?? backReduced, modulus ?? backReduced, dev(params), t.data, t.outTargets, t.outParams, t.U, dev(deriv), start, end, this.size, modulus ? 1 : 0);
      this.assign(backReduced, out.result);
      if (back) this.assign(back, out.first);
      else this.release(out.first);
      if (modulus && out.second) this.assign(modulus, out.second);
      return;
    }
    const edges = [dev(params), c.outOffsets, c.outTargets, c.outParams, c.outputIndex, dev(deriv), start, end, this.size] as const;
    if (back) this.updateRows(back, start, end, 'backwardSum', back, dev(backReduced), ...edges, 1, 0);
    this.updateRows(backReduced, start, end, 'backwardSum', backReduced, dev(backReduced), ...edges, 1, 1);
    if (modulus) this.updateRows(modulus, start, end, 'backwardSum', modulus, dev(modulus), ...edges, 2, 1);
  }

  /**
   * Runs a level kernel (`forwardSum`, `forwardActivation`, `backwardSum`: its last argument is
   * `base`, the first entry its thread 0 computes) that writes the rows start ≤ k < end of the
   * [nUnits × S] `buffer` and keeps the others. headlessgl: over the whole array (base 0), a new
   * texture. webasm: over the level's rows only (base start·S), written into the buffer's array in
   * place.
   * NOTE: a webasm launch costs every thread it runs (~60 ns each on a loaded 2-core VM, even for
   * threads that only copy an old value: the SIMD code runs the kernel body for retired lanes), and
   * gpu.js hands back a fresh output array each launch; over the whole array, every level paid for
   * every unit, and the garbage of [nUnits × S] arrays per launch kept the collector busy.
   */
  private updateRows(buffer: DeviceBuffer, start: number, end: number, name: 'forwardSum' | 'forwardActivation' | 'backwardSum', ...args: LaunchArg[]): void {
    if (this.runtime.mode !== 'webasm') return this.update(buffer, name, ...args, 0);
    if (end <= start) return;
    const data = dev(buffer).data;
    if (!(data instanceof Float32Array)) throw new UsageError([problem('gpujs', `webasm buffer data of kernel ${name} is not a Float32Array`)]);
    const base = start * this.size;
    // Over the level's rows the forward kernels never read `old` (every thread is in the level):
    // a one-entry stand-in spares gpu.js copying the whole buffer into the kernel's memory.
    const [old, ...rest] = args;
    this.launchInto(data, base, name, (end - start) * this.size, name === 'backwardSum' ? old : UNREAD, ...rest, base);
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
