import type { Batch } from '../../engine/batch.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { UsageError, problem } from '../../errors.js';
import { checkRateChunk, gramLayout, type AdamStepOptions, type Backend, type DeviceBuffer, type Engine, type EngineWorkspace, type EntryBuffers, type GramPlan, type OutputMetricBuffers } from '../engine.js';
import type { TfjsEngineOptions } from './tfjs-backend.js';
import type { ReadingMethod } from './engine-readers.js';
import { tfjsWebgpuChannel, type TfjsWebgpuChannel } from './tfjs-webgpu-channel.js';
import type { Arg, Keep, PlainMethod } from './tfjs-webgpu-protocol.js';
import { RemoteBuffer, RemoteTransfers, RemoteWorkspace, foreign, ref } from './tfjs-webgpu-remote.js';

/**
 * An {@link Engine} on TensorFlow.js's WebGPU backend, whose `TfjsEngine` runs in the
 * tfjs-webgpu worker thread (see `tfjs-webgpu-channel.ts`): buffers, workspaces and Gram plans
 * are ids here; kernels are posted without waiting, and the reading methods (`read`, `meanLoss`,
 * `squaredNorm`, `allFinite`, `solveUnitBlocks`, `invertBlocks`, `onlineBlockStep`) wait for the
 * worker's asynchronous reads. Arrays given to a call are copied when it is made (uploads and the
 * batch as float32, which the engine stores). Transfers are those the worker's engine counts.
 */
export class TfjsWebgpuEngine implements Engine {
  readonly backend = 'tfjs-webgpu';
  readonly precision = 'float32' as const;
  readonly transfers: RemoteTransfers = new RemoteTransfers(this);
  private readonly id: number;
  private readonly plans = new WeakMap<GramPlan, number>();
  private disposed = false;

  constructor(
    private readonly channel: TfjsWebgpuChannel,
    readonly net: CompiledNetwork,
    readonly size: number,
    options: TfjsEngineOptions = {},
  ) {
    this.id = channel.id();
    channel.post({ op: 'open', engine: this.id, net, size, options });
  }

  alloc(length: number): DeviceBuffer {
    const buffer = new RemoteBuffer(this.channel.id(), length);
    this.call('alloc', [length], { id: buffer.id });
    return buffer;
  }

  workspace(): EngineWorkspace {
    const ws = new RemoteWorkspace(this.channel.id(), this.size, this.net, () => this.channel.id());
    this.call('workspace', [], { id: ws.id, fields: ws.fields() });
    return ws;
  }

  upload(buffer: DeviceBuffer, values: ArrayLike<number>, offset = 0): void {
    this.call('upload', [ref(buffer), Float32Array.from(values), offset]);
  }

  read(buffer: DeviceBuffer, offset = 0, length = buffer.length - offset): Float64Array {
    return this.ask('read', [ref(buffer), offset, length], length);
  }

  free(buffer: DeviceBuffer | EngineWorkspace): void {
    if (buffer instanceof RemoteWorkspace) {
      const ids = [buffer.id, ...Object.values(buffer.fields()), ...Object.values(buffer.metric ?? {}).map((b) => b.id)];
      this.call('free', [ref(buffer)], undefined, ids);
    } else {
      this.call('free', [ref(buffer as DeviceBuffer)], undefined, [(buffer as RemoteBuffer).id]);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.channel.post({ op: 'dispose', engine: this.id });
  }

  copy(src: DeviceBuffer, dst: DeviceBuffer): void {
    this.call('copy', [ref(src), ref(dst)]);
  }

  fill(buffer: DeviceBuffer, value: number): void {
    this.call('fill', [ref(buffer), value]);
  }

  combine(out: DeviceBuffer, alpha: number, x: DeviceBuffer, beta: number, y: DeviceBuffer): void {
    this.call('combine', [ref(out), alpha, ref(x), beta, ref(y)]);
  }

  allFinite(buffer: DeviceBuffer): boolean {
    return this.ask('allFinite', [ref(buffer)], 1)[0] === 1;
  }

  squaredNorm(buffer: DeviceBuffer): number {
    return this.ask('squaredNorm', [ref(buffer)], 1)[0];
  }

  adamStep(moment1: DeviceBuffer, moment2: DeviceBuffer, gradient: DeviceBuffer, options: AdamStepOptions, out: DeviceBuffer): void {
    const { beta1, beta2, epsilon, step } = options;
    this.call('adamStep', [ref(moment1), ref(moment2), ref(gradient), { beta1, beta2, epsilon, step }, ref(out)]);
  }

  setBatch(ws: EngineWorkspace, batch: Batch): void {
    this.call('setBatch', [ref(ws), { size: batch.size, inputs: Float32Array.from(batch.inputs), targets: Float32Array.from(batch.targets) }]);
  }

  forwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number): void {
    this.call('forwardLevel', [ref(params), ref(ws), level]);
  }

  outputLayer(ws: EngineWorkspace): void {
    this.call('outputLayer', [ref(ws)]);
  }

  meanLoss(ws: EngineWorkspace): number {
    return this.ask('meanLoss', [ref(ws)], 1)[0];
  }

  backwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number, modulus?: DeviceBuffer): void {
    this.call('backwardLevel', [ref(params), ref(ws), level, modulus && ref(modulus)]);
  }

  gradient(ws: EngineWorkspace, out: DeviceBuffer, entries?: EntryBuffers): void {
    const e = entries && { modulus: ref(entries.modulus), diagonal: ref(entries.diagonal), ...(entries.cross ? { cross: ref(entries.cross) } : {}) };
    this.call('gradient', [ref(ws), ref(out), e]);
  }

  outputMetric(ws: EngineWorkspace): OutputMetricBuffers {
    if (!(ws instanceof RemoteWorkspace)) throw foreign();
    if (!ws.metric) {
      const perOutput = this.net.nOutputs * this.size;
      const classes = this.net.interpretation === 'softmax' || this.net.interpretation === 'spherical';
      const make = (length: number) => new RemoteBuffer(this.channel.id(), length);
      ws.metric = { seeds: make(perOutput), beta: make(perOutput), ...(classes ? { gamma: make(perOutput), betaExtra: make(this.size) } : {}) };
    }
    const metric = ws.metric;
    this.call('outputMetric', [ref(ws)], { fields: Object.fromEntries(Object.entries(metric).map(([k, b]) => [k, b.id])) });
    return metric;
  }

  outputModulus(ws: EngineWorkspace, modulus: DeviceBuffer): void {
    this.call('outputModulus', [ref(ws), ref(modulus)]);
  }

  fisherModulus(params: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer): void {
    this.call('fisherModulus', [ref(params), ref(ws), ref(modulus)]);
  }

  transferRates(params: DeviceBuffer, ws: EngineWorkspace, output: number, rates: DeviceBuffer, raw?: DeviceBuffer): void {
    this.call('transferRates', [ref(params), ref(ws), output, ref(rates), raw && ref(raw)]);
  }

  transferRateChunk(params: DeviceBuffer, ws: EngineWorkspace, first: number, count: number, rates: DeviceBuffer): void {
    checkRateChunk(this.net, this.size, first, count, rates);
    this.call('transferRateChunk', [ref(params), ref(ws), first, count, ref(rates)]);
  }

  monteCarloModulus(params: DeviceBuffer, ws: EngineWorkspace, draws: Float64Array, modulus: DeviceBuffer): void {
    this.call('monteCarloModulus', [ref(params), ref(ws), draws.slice(), ref(modulus)]);
  }

  outerProductModulus(ws: EngineWorkspace, modulus: DeviceBuffer): void {
    this.call('outerProductModulus', [ref(ws), ref(modulus)]);
  }

  unitBlocks(ws: EngineWorkspace, modulus: DeviceBuffer, blocks: DeviceBuffer): void {
    this.call('unitBlocks', [ref(ws), ref(modulus), ref(blocks)]);
  }

  solveUnitBlocks(blocks: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer, work: DeviceBuffer): number {
    return this.ask('solveUnitBlocks', [ref(blocks), ref(gradient), epsilon, ref(out), ref(work)], 1)[0];
  }

  quasiDiagonalSolve(diagonal: DeviceBuffer, cross: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer): void {
    this.call('quasiDiagonalSolve', [ref(diagonal), ref(cross), ref(gradient), epsilon, ref(out)]);
  }

  diagonalSolve(diagonal: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, root: boolean, out: DeviceBuffer): void {
    this.call('diagonalSolve', [ref(diagonal), ref(gradient), epsilon, root, ref(out)]);
  }

  invertBlocks(blocks: DeviceBuffer, inverses: DeviceBuffer, units?: readonly number[]): number {
    return this.ask('invertBlocks', [ref(blocks), ref(inverses), units && [...units]], 1)[0];
  }

  blocksTimesVector(inverses: DeviceBuffer, gradient: DeviceBuffer, out: DeviceBuffer, units?: readonly number[]): void {
    this.call('blocksTimesVector', [ref(inverses), ref(gradient), ref(out), units && [...units]]);
  }

  onlineBlockStep(blocks: DeviceBuffer, inverses: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer, sample: number, gradient: DeviceBuffer, decay: number, out: DeviceBuffer): number[] {
    return Array.from(this.ask('onlineBlockStep', [ref(blocks), ref(inverses), ref(ws), ref(modulus), sample, ref(gradient), decay, ref(out)], this.net.nUnits));
  }

  /** NOTE: waits for the worker (once per plan), so that a plan the engine refuses is refused here, as on other engines. */
  gramPlan(rows: readonly Int32Array[]): GramPlan {
    const plan = gramLayout(rows);
    const id = this.channel.id();
    this.plans.set(plan, id);
    this.call('gramPlan', [rows.map((r) => r.slice())], { id });
    this.syncTransfers(); // a round trip, so that rows the engine refuses are refused here
    return plan;
  }

  groupGram(x: DeviceBuffer, plan: GramPlan, out: DeviceBuffer, scale: number, weights?: DeviceBuffer, weightRow = 0): void {
    const id = this.plans.get(plan);
    if (id === undefined) throw new UsageError([problem('engine', 'a Gram plan not made by this tfjs engine (use its gramPlan)')]);
    this.call('groupGram', [ref(x), { $ref: id }, ref(out), scale, weights && ref(weights), weightRow]);
  }

  accumulateWeighted(dst: DeviceBuffer, src: DeviceBuffer, weights: DeviceBuffer, weightRow: number): void {
    this.call('accumulateWeighted', [ref(dst), ref(src), ref(weights), weightRow]);
  }

  sampledBackward(params: DeviceBuffer, ws: EngineWorkspace, draw: Float64Array, out: DeviceBuffer): void {
    this.call('sampledBackward', [ref(params), ref(ws), draw.slice(), ref(out)]);
  }

  /** Asks the worker for its engine's transfer counts (see {@link RemoteTransfers}). */
  syncTransfers(): void {
    this.check();
    this.transfers.update(this.channel.ask({ op: 'transfers', engine: this.id }, 0).transfers);
  }

  /** Zeroes the worker engine's transfer counts. */
  resetTransfers(): void {
    this.check();
    this.channel.post({ op: 'resetTransfers', engine: this.id });
  }

  private call(method: PlainMethod, args: Arg[], keep?: Keep, forget?: number[]): void {
    this.check();
    this.channel.post({ op: 'call', engine: this.id, method, args, ...(keep ? { keep } : {}), ...(forget ? { forget } : {}) });
  }

  private ask(method: ReadingMethod, args: Arg[], count: number): Float64Array {
    this.check();
    const answer = this.channel.ask({ op: 'read', engine: this.id, method, args }, count);
    this.transfers.update(answer.transfers);
    return answer.values;
  }

  private check(): void {
    if (this.disposed) throw new UsageError([problem('engine', 'the tfjs engine was used after dispose()')]);
  }
}

/**
 * The `tfjs-webgpu` backend: TensorFlow.js's WebGPU backend on Dawn, its engines in one worker
 * thread (started here, once per process) and driven from this one (see {@link TfjsWebgpuEngine}).
 */
export async function tfjsWebgpuBackend(options: TfjsEngineOptions = {}): Promise<Backend> {
  const channel = await tfjsWebgpuChannel();
  return {
    name: 'tfjs-webgpu',
    precision: 'float32',
    detail: `TensorFlow.js 'webgpu' backend from @tensorflow/tfjs-backend-webgpu (float32; ${channel.note}; in a worker thread, reads awaited)`,
    open: (net: CompiledNetwork, size: number) => new TfjsWebgpuEngine(channel, net, size, options),
  };
}
