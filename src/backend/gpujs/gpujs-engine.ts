import { UsageError, problem } from '../../errors.js';
import type { Batch } from '../../engine/batch.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { TransferCounter, type DeviceBuffer, type Engine, type EngineWorkspace, type EntryBuffers, type OutputMetricBuffers } from '../engine.js';
import { metricLayout, type MetricLayout } from '../kernels.js';
import { blocksTimesVector, diagonalSolve, invertBlocks, onlineBlockStep, quasiDiagonalSolve, solveUnitBlocks, unitBlocks } from './device-curvature.js';
import { fisherModulus, monteCarloModulus, outputMetric, transferRates } from './device-metric.js';
import { checkDeviceSizes, deviceNetwork, deviceNetworkData, type DeviceNetwork } from './device-network.js';
import type { DeviceData, DeviceKernel, DeviceRuntime } from './device-runtime.js';
import { EXACT_INDEX_LIMIT } from './gpujs-mode.js';

/** A buffer of a {@link GpujsEngine}: its current device data (a texture, or a Float32Array in webasm mode). */
export class GpujsBuffer implements DeviceBuffer {
  constructor(
    public data: DeviceData,
    readonly length: number,
  ) {}
}

/** An argument of {@link GpujsEngine.launch}: a buffer of this engine, raw device data or a number. */
export type LaunchArg = DeviceBuffer | DeviceData | number;

const INTERPRETATION_CODE = { square: 0, bernoulli: 1, softmax: 2, spherical: 3 } as const;
const REDUCE = { sum: 0, min: 1, nonFinite: 2, negative: 3 } as const;

const dev = (b: DeviceBuffer): GpujsBuffer => {
  if (!(b instanceof GpujsBuffer)) throw new TypeError('a buffer of another engine was given to a gpujs engine');
  return b;
};

/**
 * The gpu.js {@link Engine}: every buffer stays on the device (textures in headlessgl mode,
 * Float32Arrays in webasm mode) between kernels and across iterations; only `upload`, `read`,
 * `setBatch`, the Monte-Carlo draws and O(1) status numbers (mean loss, failed unit, refusal
 * count, finiteness) cross, each counted in {@link transfers} at 4 bytes per float32 value.
 * NOTE: a buffer is one whole-array texture, and a kernel that writes some rows (a level, the
 * output units, a group of blocks) outputs the whole array, copying the other rows from the old
 * texture: O(nUnits × size) device work per level and no host traffic, where per-level textures
 * would make every kernel that reads a unit-major array gather from several textures.
 */
export class GpujsEngine implements Engine {
  readonly backend = 'gpujs';
  readonly precision = 'float32' as const;
  readonly transfers = new TransferCounter();
  readonly layout: MetricLayout;
  readonly interpretation: number;
  /** The network's constants on the device (uploaded and counted at open). */
  readonly constants: DeviceNetwork;
  private readonly live = new Set<GpujsBuffer>();
  private readonly metrics = new Map<EngineWorkspace, OutputMetricBuffers>();
  private disposed = false;

  constructor(
    readonly runtime: DeviceRuntime,
    readonly net: CompiledNetwork,
    readonly size: number,
    /** Entries of one transfer-rate chunk (tests lower it to exercise chunking). */
    readonly transferBudget = EXACT_INDEX_LIMIT,
  ) {
    checkDeviceSizes(net, size);
    this.layout = metricLayout(net);
    this.interpretation = INTERPRETATION_CODE[net.interpretation];
    this.constants = deviceNetwork(net, this.layout, (values) => this.toDevice(values));
  }

  // Internal helpers, shared with device-metric.ts and device-curvature.ts.

  /** Runs a kernel over `threads` threads; buffers pass their current data. Returns new device data. */
  launch(name: DeviceKernel, threads: number, ...args: LaunchArg[]): DeviceData {
    if (this.disposed) throw new Error('gpujs engine used after dispose()');
    return this.runtime.launch(name, Math.max(1, threads), ...args.map((a) => (a instanceof GpujsBuffer ? a.data : (a as DeviceData | number))));
  }

  /** Runs a kernel over the whole of `buffer` and makes its output the buffer's data (the old data is freed). */
  update(buffer: DeviceBuffer, name: DeviceKernel, ...args: LaunchArg[]): void {
    this.assign(buffer, this.launch(name, buffer.length, ...args));
  }

  /** Makes `data` the data of `buffer`, freeing what it held. */
  assign(buffer: DeviceBuffer, data: DeviceData): void {
    const b = dev(buffer);
    if (b.data !== data) this.runtime.release(b.data);
    b.data = data;
  }

  /** Frees temporary device data. */
  release(...data: DeviceData[]): void {
    for (const d of data) this.runtime.release(d);
  }

  /** Host → device copy of a whole array (counted). */
  toDevice(values: ArrayLike<number>): DeviceData {
    const f32 = Float32Array.from(values);
    this.transfers.upload(f32.byteLength);
    return this.runtime.mode === 'webasm' ? f32 : this.runtime.launch('fromArray', f32.length, f32);
  }

  /** Device → host copy of the first `length` values of device data (counted). */
  toHost(data: DeviceData, length: number): Float64Array {
    this.transfers.read(length * 4);
    return Float64Array.from(this.runtime.toHost(data, length));
  }

  /**
   * Reduces the first `n` entries of device data to one number on the device (two stages of
   * √n-long loops beyond 1024 entries) and reads it back (4 bytes).
   */
  reduce(data: LaunchArg, n: number, op: keyof typeof REDUCE): number {
    let values = data;
    let count = n;
    let code: number = REDUCE[op];
    const temporaries: DeviceData[] = [];
    while (count > 1024) {
      const chunk = Math.ceil(Math.sqrt(count));
      const threads = Math.ceil(count / chunk);
      const partial = this.launch('reduceChunk', threads, values, count, chunk, code);
      temporaries.push(partial);
      values = partial;
      count = threads;
      code = op === 'min' ? REDUCE.min : REDUCE.sum;
    }
    const result = this.launch('reduceChunk', 1, values, count, Math.max(1, count), code);
    const value = this.toHost(result, 1)[0];
    this.release(result, ...temporaries);
    return value;
  }

  /** A new buffer holding device data (owned by the engine until freed). */
  wrap(data: DeviceData, length: number): GpujsBuffer {
    const buffer = new GpujsBuffer(data, length);
    this.live.add(buffer);
    return buffer;
  }

  // Memory.

  alloc(length: number): DeviceBuffer {
    if (length > EXACT_INDEX_LIMIT) throw new UsageError([problem('gpujs', `a buffer of ${length} entries exceeds 2^24, the largest index float32 kernels address exactly; use the cpu backend`)]);
    return this.wrap(this.launch('fillValue', length, 0), length);
  }

  workspace(): EngineWorkspace {
    const n = this.net.nUnits * this.size;
    const deriv = this.wrap(this.launch('fillSplit', n, this.net.nInputs * this.size, 1, 0), n);
    return {
      pre: this.alloc(n),
      act: this.alloc(n),
      deriv,
      back: this.alloc(n),
      backReduced: this.alloc(n),
      targets: this.alloc(this.net.nOutputs * this.size),
      loss: this.alloc(this.size),
    };
  }

  upload(buffer: DeviceBuffer, values: ArrayLike<number>, offset = 0): void {
    if (values.length === 0) return;
    if (offset < 0 || offset + values.length > buffer.length) throw new RangeError(`upload of ${values.length} values at ${offset} into a buffer of ${buffer.length}`);
    if (offset === 0 && values.length === buffer.length) return this.assign(buffer, this.toDevice(values));
    const f32 = Float32Array.from(values);
    this.transfers.upload(f32.byteLength);
    this.update(buffer, 'splice', buffer, f32, offset, f32.length);
  }

  read(buffer: DeviceBuffer, offset = 0, length = buffer.length - offset): Float64Array {
    if (length <= 0) return new Float64Array(0);
    if (offset === 0 && length === buffer.length) return this.toHost(dev(buffer).data, length);
    const part = this.launch('slice', length, buffer, offset);
    const values = this.toHost(part, length);
    this.release(part);
    return values;
  }

  free(buffer: DeviceBuffer | EngineWorkspace): void {
    if (buffer instanceof GpujsBuffer) {
      if (this.live.delete(buffer)) this.runtime.release(buffer.data);
      return;
    }
    const ws = buffer as EngineWorkspace;
    for (const b of [ws.pre, ws.act, ws.deriv, ws.back, ws.backReduced, ws.targets, ws.loss]) this.free(b);
    const metric = this.metrics.get(ws);
    if (metric) for (const b of Object.values(metric)) if (b) this.free(b);
    this.metrics.delete(ws);
  }

  dispose(): void {
    if (this.disposed) return;
    for (const b of this.live) this.runtime.release(b.data);
    this.live.clear();
    this.metrics.clear();
    this.release(...deviceNetworkData(this.constants));
    this.disposed = true;
  }

  // Elementwise helpers.

  copy(src: DeviceBuffer, dst: DeviceBuffer): void {
    this.update(dst, 'slice', src, 0);
  }

  fill(buffer: DeviceBuffer, value: number): void {
    this.assign(buffer, this.launch('fillValue', buffer.length, value));
  }

  combine(out: DeviceBuffer, alpha: number, x: DeviceBuffer, beta: number, y: DeviceBuffer): void {
    this.update(out, 'combine', dev(x), dev(y), alpha, beta);
  }

  allFinite(buffer: DeviceBuffer): boolean {
    return this.reduce(dev(buffer), buffer.length, 'nonFinite') === 0;
  }

  // Propagation.

  setBatch(ws: EngineWorkspace, batch: Batch): void {
    if (batch.size !== this.size) throw new RangeError(`batch of ${batch.size} samples given to an engine opened for ${this.size}`);
    this.upload(ws.act, batch.inputs, 0);
    this.upload(ws.targets, batch.targets, 0);
  }

  forwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number): void {
    const c = this.constants;
    const [start, end] = this.levelRange(level);
    const S = this.size;
    this.update(ws.pre, 'forwardSum', ws.pre, ws.act, dev(params), c.inOffsets, c.inSources, c.blockOffsets, c.gain, start, end, S);
    this.update(ws.act, 'forwardActivation', ws.act, ws.pre, c.kind, c.scale, c.shift, c.gainScale, start, end, S, 0);
    this.update(ws.deriv, 'forwardActivation', ws.deriv, ws.pre, c.kind, c.scale, c.shift, c.gainScale, start, end, S, 1);
  }

  outputLayer(ws: EngineWorkspace): void {
    this.writeOutputLayer(ws, ws.targets, ws.backReduced, ws.loss);
  }

  /** ℓ (when `loss` is given) and the output rows of b̃ into `backReduced`, from `targets`. */
  writeOutputLayer(ws: EngineWorkspace, targets: DeviceBuffer, backReduced: DeviceBuffer, loss?: DeviceBuffer): void {
    const c = this.constants;
    const { nOutputs } = this.net;
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
    const edges = [dev(params), c.outOffsets, c.outTargets, c.outParams, c.outputIndex, dev(deriv), start, end, this.size] as const;
    if (back) this.update(back, 'backwardSum', back, dev(backReduced), ...edges, 1, 0);
    this.update(backReduced, 'backwardSum', backReduced, dev(backReduced), ...edges, 1, 1);
    if (modulus) this.update(modulus, 'backwardSum', modulus, dev(modulus), ...edges, 2, 1);
  }

  gradient(ws: EngineWorkspace, out: DeviceBuffer, entries?: EntryBuffers): void {
    const c = this.constants;
    const moment = (target: DeviceBuffer, y: DeviceBuffer, power: number) =>
      this.update(target, 'moment', ws.act, dev(y), c.paramUnit, c.blockOffsets, c.inOffsets, c.inSources, this.size, power);
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

  invertBlocks(blocks: DeviceBuffer, inverses: DeviceBuffer, units?: readonly number[]): number {
    return invertBlocks(this, dev(blocks), inverses, units);
  }

  blocksTimesVector(inverses: DeviceBuffer, gradient: DeviceBuffer, out: DeviceBuffer, units?: readonly number[]): void {
    blocksTimesVector(this, dev(inverses), dev(gradient), out, units);
  }

  onlineBlockStep(blocks: DeviceBuffer, inverses: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer, sample: number, gradient: DeviceBuffer, decay: number, out: DeviceBuffer): number[] {
    return onlineBlockStep(this, blocks, inverses, ws, dev(modulus), sample, dev(gradient), decay, out);
  }

  /** Unit ids [start, end) of a level ≥ 1. */
  levelRange(level: number): [number, number] {
    if (!(level >= 1 && level < this.net.levelOffsets.length - 1)) throw new RangeError(`level ${level} is not a level ≥ 1 of this network`);
    return [this.net.levelOffsets[level], this.net.levelOffsets[level + 1]];
  }
}
