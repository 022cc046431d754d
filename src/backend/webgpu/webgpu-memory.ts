import { UsageError, problem } from '../../errors.js';
import { TransferCounter, type AdamStepOptions, type DeviceBuffer } from '../engine.js';
import type { WebgpuDevice } from './webgpu-device.js';
import { adamKernel, combineKernel, fillKernel, REDUCE, reduceKernel } from './wgsl-elementwise.js';
import type { KernelSpec } from './wgsl-kernel.js';

/** A buffer of a WebGPU engine: the id of a GPU buffer of `length` f32 (or i32) entries in the device's worker. */
export class WebgpuBuffer implements DeviceBuffer {
  freed = false;
  constructor(
    readonly id: number,
    readonly length: number,
    readonly owner: WebgpuMemory,
  ) {}
}

/**
 * The memory side of the WebGPU engine: its buffers, counted host↔device copies (4 bytes per
 * float32 value), kernel launches, the elementwise helpers and the reductions (one number read
 * back each). Every buffer lives on the device until freed or until {@link dispose}.
 */
export class WebgpuMemory {
  readonly transfers = new TransferCounter();
  protected readonly live = new Set<WebgpuBuffer>();
  protected disposed = false;
  /** Results of the reductions (one f32 each). */
  private readonly reduced: WebgpuBuffer;

  constructor(readonly device: WebgpuDevice) {
    this.reduced = this.alloc(1) as WebgpuBuffer;
  }

  /** The engine's own live buffer behind a {@link DeviceBuffer}. */
  dev(buffer: DeviceBuffer): WebgpuBuffer {
    if (!(buffer instanceof WebgpuBuffer) || buffer.owner !== this) throw new UsageError([problem('engine', 'a buffer of another engine was given to a webgpu engine')]);
    if (buffer.freed) throw new UsageError([problem('engine', 'a freed buffer was given to a webgpu engine')]);
    return buffer;
  }

  protected checkOpen(): void {
    if (this.disposed) throw new UsageError([problem('engine', 'webgpu engine used after dispose()')]);
  }

  /** A zero-filled buffer of `length` numbers. */
  alloc(length: number): DeviceBuffer {
    this.checkOpen();
    if (4 * length > this.device.maxBufferBytes) {
      throw new UsageError([problem('webgpu', `a buffer of ${length} float32 values exceeds the device's largest storage binding (${this.device.maxBufferBytes} bytes); use smaller batches (mini-batch mode) or the cpu backend`)]);
    }
    const buffer = new WebgpuBuffer(this.device.createBuffer(4 * length), length, this);
    this.live.add(buffer);
    return buffer;
  }

  /** A buffer holding `values` (i32 index arrays or f32 constants), counted as an upload. */
  constant(values: Int32Array | Float32Array): WebgpuBuffer {
    const buffer = this.alloc(values.length) as WebgpuBuffer;
    this.transfers.upload(values.byteLength);
    this.device.write(buffer.id, 0, values);
    return buffer;
  }

  upload(buffer: DeviceBuffer, values: ArrayLike<number>, offset = 0): void {
    const b = this.dev(buffer);
    if (values.length === 0) return;
    if (offset < 0 || offset + values.length > b.length) throw new UsageError([problem('engine', `upload of ${values.length} values at ${offset} into a buffer of ${b.length}`)]);
    const f32 = Float32Array.from(values);
    this.transfers.upload(f32.byteLength);
    this.device.write(b.id, 4 * offset, f32);
  }

  read(buffer: DeviceBuffer, offset = 0, length = buffer.length - offset): Float64Array {
    const b = this.dev(buffer);
    if (length <= 0) return new Float64Array(0);
    if (offset < 0 || offset + length > b.length) throw new UsageError([problem('engine', `read of ${length} values at ${offset} from a buffer of ${b.length}`)]);
    this.transfers.read(4 * length);
    return Float64Array.from(new Float32Array(this.device.read(b.id, 4 * offset, 4 * length)));
  }

  /** Frees one buffer of this engine. */
  freeBuffer(buffer: DeviceBuffer): void {
    const b = this.dev(buffer);
    this.live.delete(b);
    b.freed = true;
    this.device.destroy(b.id);
  }

  /**
   * Launches `spec` over `threads` threads with `buffers` in binding order. WebGPU forbids one
   * buffer in a read-only and a writable binding of the same launch, so a read-only binding of
   * a buffer the launch also writes gets a copy taken before it (e.g. combine's `out` = `x`).
   */
  launch(spec: KernelSpec, threads: number, buffers: readonly WebgpuBuffer[], values: readonly number[] = []): void {
    this.checkOpen();
    const written = new Set(buffers.filter((_, i) => spec.bindings[i].write).map((b) => b.id));
    const copies: number[] = [];
    const ids = buffers.map((b, i) => {
      if (spec.bindings[i].write || !written.has(b.id)) return b.id;
      const copy = this.device.createBuffer(4 * b.length);
      this.device.copy(b.id, 0, copy, 0, 4 * b.length);
      copies.push(copy);
      return copy;
    });
    this.device.dispatch(spec, threads, ids, values);
    for (const id of copies) this.device.destroy(id);
  }

  /** Reduces entries offset .. offset + n - 1 on the device and reads the one number back (4 bytes). */
  reduce(buffer: DeviceBuffer, op: keyof typeof REDUCE, offset = 0, n = buffer.length - offset): number {
    this.launch(reduceKernel, 1, [this.dev(buffer), this.reduced], [offset, n, REDUCE[op], 0]);
    return this.read(this.reduced, 0, 1)[0];
  }

  copy(src: DeviceBuffer, dst: DeviceBuffer): void {
    const [s, d] = [this.dev(src), this.dev(dst)];
    if (s.length !== d.length) throw new UsageError([problem('engine', `copy of a buffer of ${s.length} into one of ${d.length}`)]);
    this.checkOpen();
    if (s !== d) this.device.copy(s.id, 0, d.id, 0, 4 * s.length);
  }

  /** dst[0 .. count - 1] ← src[0 .. count - 1]. */
  copyRange(src: WebgpuBuffer, dst: WebgpuBuffer, count: number): void {
    this.checkOpen();
    if (src !== dst) this.device.copy(src.id, 0, dst.id, 0, 4 * count);
  }

  fill(buffer: DeviceBuffer, value: number): void {
    this.fillRange(this.dev(buffer), 0, buffer.length, value);
  }

  /** buffer[offset .. offset + count - 1] ← value. */
  fillRange(buffer: WebgpuBuffer, offset: number, count: number, value: number): void {
    this.launch(fillKernel, count, [buffer], [offset, value]);
  }

  combine(out: DeviceBuffer, alpha: number, x: DeviceBuffer, beta: number, y: DeviceBuffer): void {
    this.launch(combineKernel, out.length, [this.dev(out), this.dev(x), this.dev(y)], [alpha, beta]);
  }

  /** Whether every entry is finite: a count of the others on the device, one number read back. */
  allFinite(buffer: DeviceBuffer): boolean {
    return this.reduce(buffer, 'nonFinite') === 0;
  }

  squaredNorm(buffer: DeviceBuffer): number {
    return this.reduce(buffer, 'sumSquares');
  }

  adamStep(moment1: DeviceBuffer, moment2: DeviceBuffer, gradient: DeviceBuffer, o: AdamStepOptions, out: DeviceBuffer): void {
    const c1 = 1 - o.beta1 ** o.step;
    const c2 = 1 - o.beta2 ** o.step;
    this.launch(adamKernel, gradient.length, [this.dev(moment1), this.dev(moment2), this.dev(gradient), this.dev(out)], [o.beta1, o.beta2, c1, c2, o.epsilon]);
  }
}
