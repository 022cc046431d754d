import { UsageError, problem } from '../../errors.js';
import { TransferCounter, type DeviceBuffer } from '../engine.js';
import type { DeviceData, DeviceKernel, DeviceRuntime, FusedKernel, FusedOutputs } from './device-runtime.js';
import { EXACT_INDEX_LIMIT } from './gpujs-mode.js';

/** A buffer of a gpu.js engine: its current device data (a texture, or a Float32Array in webasm mode). */
export class GpujsBuffer implements DeviceBuffer {
  constructor(
    public data: DeviceData,
    readonly length: number,
  ) {}
}

/** An argument of {@link DeviceMemory.launch}: a buffer of this engine, raw device data or a number. */
export type LaunchArg = DeviceBuffer | DeviceData | number;

const REDUCE = { sum: 0, min: 1, nonFinite: 2, negative: 3, sumSquares: 4 } as const;

/** The engine's own buffer behind a {@link DeviceBuffer}. */
export function dev(b: DeviceBuffer): GpujsBuffer {
  if (!(b instanceof GpujsBuffer)) throw new UsageError([problem('engine', 'a buffer of another engine was given to a gpujs engine')]);
  return b;
}

/**
 * The memory side of the gpu.js engine: buffers that own device data, kernel launches that
 * replace it, and every host↔device copy, counted in {@link transfers} at 4 bytes per float32
 * value (in webasm mode, where the "device" arrays are Float32Arrays in host memory, the
 * conversions to and from the engine's Float64 world are what is counted).
 */
export class DeviceMemory {
  readonly transfers = new TransferCounter();
  protected readonly live = new Set<GpujsBuffer>();
  protected disposed = false;

  constructor(readonly runtime: DeviceRuntime) {}

  /** Runs a kernel over `threads` threads; buffers pass their current data. Returns new device data (the caller's to release). */
  launch(name: DeviceKernel, threads: number, ...args: LaunchArg[]): DeviceData {
    if (this.disposed) throw new UsageError([problem('engine', 'gpujs engine used after dispose()')]);
    return this.runtime.launch(name, Math.max(1, threads), ...args.map((a) => (a instanceof GpujsBuffer ? a.data : (a as DeviceData | number))));
  }

  /** Runs a fused kernel (headlessgl mode only) over `threads` threads with 1 or 2 extra outputs: new device data, the caller's to release. */
  launchFused(name: FusedKernel, threads: number, outputs: 1 | 2, ...args: LaunchArg[]): FusedOutputs {
    if (this.disposed) throw new UsageError([problem('engine', 'gpujs engine used after dispose()')]);
    return this.runtime.launchFused(name, Math.max(1, threads), outputs, ...args.map((a) => (a instanceof GpujsBuffer ? a.data : (a as DeviceData | number))));
  }

  /** Runs a kernel over the whole of `buffer` and makes its output the buffer's data (the old data is freed after the launch). */
  update(buffer: DeviceBuffer, name: DeviceKernel, ...args: LaunchArg[]): void {
    const data = dev(buffer).data;
    if (this.runtime.launchInto && data instanceof Float32Array && data.length === buffer.length) return this.launchInto(data, 0, name, buffer.length, ...args);
    this.assign(buffer, this.launch(name, buffer.length, ...args));
  }

  /**
   * Runs a kernel over `threads` threads and writes its output into `target` (the array of a
   * webasm buffer) from `offset`: in place, with nothing allocated where the runtime can
   * (`DeviceRuntime.launchInto`). Safe when `target` is also an argument: gpu.js copies every
   * argument into the kernel's memory before it runs.
   */
  launchInto(target: Float32Array, offset: number, name: DeviceKernel, threads: number, ...args: LaunchArg[]): void {
    if (this.disposed) throw new UsageError([problem('engine', 'gpujs engine used after dispose()')]);
    const values = args.map((a) => (a instanceof GpujsBuffer ? a.data : (a as DeviceData | number)));
    if (this.runtime.launchInto) return this.runtime.launchInto(name, Math.max(1, threads), target, offset, ...values);
    const data = this.runtime.launch(name, Math.max(1, threads), ...values);
    if (!(data instanceof Float32Array)) throw new UsageError([problem('gpujs', `kernel ${name} gave device data that is not a Float32Array`)]);
    target.set(data.subarray(0, threads), offset);
    this.runtime.release(data);
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
    return this.runtime.mode === 'webasm' ? f32 : this.launch('fromArray', f32.length, f32);
  }

  /** Device → host copy of the first `length` values of device data (counted). */
  toHost(data: DeviceData, length: number): Float64Array {
    this.transfers.read(length * 4);
    return Float64Array.from(this.runtime.toHost(data, length));
  }

  /**
   * Reduces the first `n` entries of device data to one number on the device (stages of
   * √n-long loops while more than 1024 entries remain) and reads it back (4 bytes).
   */
  reduce(data: LaunchArg, n: number, op: keyof typeof REDUCE): number {
    let values = data;
    let count = n;
    let code: number = REDUCE[op];
    const partials: DeviceData[] = [];
    while (count > 1024) {
      const chunk = Math.ceil(Math.sqrt(count));
      const threads = Math.ceil(count / chunk);
      const partial = this.launch('reduceChunk', threads, values, count, chunk, code);
      partials.push(partial);
      values = partial;
      count = threads;
      code = op === 'min' ? REDUCE.min : REDUCE.sum;
    }
    const result = this.launch('reduceChunk', 1, values, count, Math.max(1, count), code);
    const value = this.toHost(result, 1)[0];
    this.release(result, ...partials);
    return value;
  }

  /** A new buffer holding device data (owned by the engine until freed). */
  wrap(data: DeviceData, length: number): GpujsBuffer {
    const buffer = new GpujsBuffer(data, length);
    this.live.add(buffer);
    return buffer;
  }

  /** A zero-filled buffer of `length` numbers (at most 2^24: float32 indices are exact below). */
  alloc(length: number): DeviceBuffer {
    if (length > EXACT_INDEX_LIMIT) throw new UsageError([problem('gpujs', `a buffer of ${length} entries exceeds 2^24, the largest index float32 kernels address exactly; use the cpu backend`)]);
    return this.wrap(this.launch('fillValue', length, 0), length);
  }

  /** Host → device copy into `buffer` from `offset` (counted): a whole buffer directly, a range by a splice on the device. */
  upload(buffer: DeviceBuffer, values: ArrayLike<number>, offset = 0): void {
    if (values.length === 0) return;
    if (offset < 0 || offset + values.length > buffer.length) throw new UsageError([problem('engine', `upload of ${values.length} values at ${offset} into a buffer of ${buffer.length}`)]);
    if (offset === 0 && values.length === buffer.length) return this.assign(buffer, this.toDevice(values));
    const f32 = Float32Array.from(values);
    this.transfers.upload(f32.byteLength);
    const data = dev(buffer).data;
    // webasm: the buffer's array is host memory, written in place (no kernel over the whole buffer).
    if (this.runtime.mode === 'webasm' && data instanceof Float32Array && data.length === buffer.length) return void data.set(f32, offset);
    this.update(buffer, 'splice', buffer, f32, offset, f32.length);
  }

  /** Device → host copy (counted): a range is sliced on the device first, so only it crosses. */
  read(buffer: DeviceBuffer, offset = 0, length = buffer.length - offset): Float64Array {
    if (length <= 0) return new Float64Array(0);
    if (offset === 0 && length === buffer.length) return this.toHost(dev(buffer).data, length);
    const part = this.launch('slice', length, buffer, offset);
    const values = this.toHost(part, length);
    this.release(part);
    return values;
  }

  /** Frees one buffer of this engine. */
  freeBuffer(buffer: DeviceBuffer): void {
    const b = dev(buffer);
    if (this.live.delete(b)) this.runtime.release(b.data);
  }

  copy(src: DeviceBuffer, dst: DeviceBuffer): void {
    const data = dev(src).data;
    // NOTE: a texture clone shares the texture, reference-counted: gpu.js renders into a fresh
    // one before writing a texture that more than one clone holds, so a copy needs no launch.
    if (!(data instanceof Float32Array) && src.length === dst.length) return this.assign(dst, data.clone());
    this.update(dst, 'slice', src, 0);
  }

  fill(buffer: DeviceBuffer, value: number): void {
    this.assign(buffer, this.launch('fillValue', buffer.length, value));
  }

  combine(out: DeviceBuffer, alpha: number, x: DeviceBuffer, beta: number, y: DeviceBuffer): void {
    this.update(out, 'combine', dev(x), dev(y), alpha, beta);
  }

  /** Whether every entry is finite: a count of the others on the device, one number read back. */
  allFinite(buffer: DeviceBuffer): boolean {
    return this.reduce(dev(buffer), buffer.length, 'nonFinite') === 0;
  }

  squaredNorm(buffer: DeviceBuffer): number {
    return this.reduce(dev(buffer), buffer.length, 'sumSquares');
  }
}
