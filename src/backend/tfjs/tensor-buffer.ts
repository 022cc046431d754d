import { UsageError, problem } from '../../errors.js';
import type * as TF from '@tensorflow/tfjs-core';
import type { DeviceBuffer } from '../engine.js';

/** A contiguous range `[offset, offset + length)` of a buffer, held as one flat tensor. */
interface Piece {
  readonly offset: number;
  readonly length: number;
  readonly tensor: TF.Tensor1D;
}

/** A tensor's storage on tfjs's cpu backend (its `data` map's entries). */
interface CpuEntry {
  readonly values: ArrayBufferView & ArrayLike<number>;
  readonly refCount: number;
}

/** Rows `row .. + tensor.size / rowLength - 1` of a unit-major buffer, as one tensor (see {@link TensorBuffer.rowPieces}). */
export interface RowPiece {
  readonly row: number;
  readonly tensor: TF.Tensor1D;
}

/**
 * A {@link DeviceBuffer} of the tfjs engine: `length` float32 numbers held in tensors.
 *
 * Tensors are immutable, so a kernel that writes a buffer replaces tensors: {@link set} the
 * whole buffer, {@link write} a range of it. On tfjs's cpu backend the engine's fused kernels
 * write into a piece's own array instead where nothing else shares it ({@link writable}). The buffer owns every tensor it holds (kept out of
 * any `tf.tidy`) and disposes a tensor as soon as it is replaced.
 *
 * NOTE: a written range is kept as a separate piece rather than spliced into one tensor. The
 * level kernels write one level's rows at a time; splicing would copy the whole [nUnits × size]
 * array (and cost two slices and a concat) per level and array, while pieces make a write free
 * and a read of the whole buffer one concat, cached in {@link tensor} until the next write.
 * After one pass the pieces of a workspace array line up with the levels, so a level's rows are
 * a piece and reading the rows of a few levels concatenates just those. The price is memory: a
 * buffer read whole after piecewise writes holds its data twice (pieces and cache).
 */
export class TensorBuffer implements DeviceBuffer {
  private pieces: Piece[];
  private whole: TF.Tensor1D | undefined;
  private disposed = false;
  private content: object = {};

  /** `tensor` (flattened; owned from now on) or zeros. Call inside `tf.tidy` when `tensor` is not rank 1. */
  constructor(
    private readonly tf: typeof TF,
    readonly length: number,
    tensor?: TF.Tensor,
  ) {
    this.pieces = [{ offset: 0, length, tensor: this.own(tensor ?? tf.zeros([length])) }];
  }

  /** The whole buffer as one flat tensor [length]. Owned by the buffer: use it, never dispose it. */
  get tensor(): TF.Tensor1D {
    this.check();
    if (this.pieces.length === 1) return this.pieces[0].tensor;
    return (this.whole ??= this.tf.keep(this.tf.concat(this.pieces.map((p) => p.tensor))));
  }

  /**
   * Identifies the buffer's values: a new object at every write, the source's after
   * {@link set} with `copyOf` (what caches of derived tensors key on). NOTE: not the tensor's
   * `dataId`: a clone shares it on tfjs's cpu backend but is a copy on wasm.
   */
  get contentId(): object {
    return this.content;
  }

  /**
   * Replaces the whole buffer by `t` (any shape, `length` numbers), which the buffer then owns;
   * `copyOf`: `t` holds that buffer's values (they keep their {@link contentId}).
   */
  set(t: TF.Tensor, copyOf?: TensorBuffer, inPlace = false): void {
    this.check();
    if (t.size !== this.length) throw new UsageError([problem('engine', `a tensor of ${t.size} numbers written to a buffer of ${this.length}`)]);
    const next = this.own(t, inPlace);
    this.release();
    this.pieces = [{ offset: 0, length: this.length, tensor: next }];
    this.content = copyOf?.content ?? {};
  }

  /**
   * Replaces `[offset, offset + t.size)` by `t` (any shape), which the buffer then owns. Call
   * inside `tf.tidy`. `inPlace`: `t`'s storage is the array {@link writable} returned for this range.
   */
  write(offset: number, t: TF.Tensor, inPlace = false): void {
    this.check();
    const end = offset + t.size;
    if (offset < 0 || end > this.length) throw new UsageError([problem('engine', `write of ${t.size} numbers at ${offset} outside a buffer of ${this.length}`)]);
    if (t.size === 0) return;
    if (offset === 0 && end === this.length) return this.set(t, undefined, inPlace);
    const piece: Piece = { offset, length: t.size, tensor: this.own(t, inPlace) };
    this.dropWhole();
    this.content = {};
    const next: Piece[] = [];
    let inserted = false;
    for (const p of this.pieces) {
      const pEnd = p.offset + p.length;
      if (pEnd <= offset) {
        next.push(p);
        continue;
      }
      if (p.offset >= end) {
        if (!inserted) next.push(piece);
        inserted = true;
        next.push(p);
        continue;
      }
      if (p.offset < offset) next.push(this.cut(p, p.offset, offset));
      if (!inserted) next.push(piece);
      inserted = true;
      if (pEnd > end) next.push(this.cut(p, end, pEnd));
      this.tf.dispose(p.tensor);
    }
    if (!inserted) next.push(piece);
    this.pieces = next;
  }

  /**
   * `[offset, offset + length)` as one flat tensor, followed by `extra` when given. A range that
   * is exactly one piece (and no extra) is that piece: owned by the buffer, never dispose it;
   * anything else is a new tensor of the current `tf.tidy` scope.
   */
  range(offset: number, length: number, extra?: TF.Tensor1D): TF.Tensor1D {
    this.check();
    const end = offset + length;
    if (this.whole) {
      const part = offset === 0 && end === this.length ? this.whole : this.tf.slice(this.whole, offset, length);
      return extra ? this.tf.concat([part, extra]) : part;
    }
    const parts: TF.Tensor1D[] = [];
    for (const p of this.pieces) {
      const pEnd = p.offset + p.length;
      if (pEnd <= offset || p.offset >= end) continue;
      const from = Math.max(offset, p.offset);
      const to = Math.min(end, pEnd);
      parts.push(from === p.offset && to === pEnd ? p.tensor : this.tf.slice(p.tensor, from - p.offset, to - from));
    }
    if (extra) parts.push(extra);
    if (parts.length === 0) return this.tf.zeros([0]);
    return parts.length === 1 ? parts[0] : this.tf.concat(parts);
  }

  /**
   * Tensors holding rows `first .. first+count-1` of `rowLength` numbers each: the whole pieces
   * they overlap when every such piece starts and ends on a row boundary (nothing is copied), else
   * the range itself (see {@link range}). Owned by the buffer or the current `tf.tidy`; never dispose.
   */
  rowPieces(first: number, count: number, rowLength: number): RowPiece[] {
    this.check();
    const [offset, end] = [first * rowLength, (first + count) * rowLength];
    if (this.whole) return [{ row: 0, tensor: this.whole }];
    const hit = this.pieces.filter((p) => p.offset < end && p.offset + p.length > offset);
    if (hit.every((p) => p.offset % rowLength === 0 && p.length % rowLength === 0)) return hit.map((p) => ({ row: p.offset / rowLength, tensor: p.tensor }));
    return [{ row: first, tensor: this.range(offset, count * rowLength) }];
  }

  /**
   * On tfjs's cpu backend, the float32 array that stores exactly `[offset, offset + length)` when
   * one piece holds that range and nothing else shares its storage (its data's reference count
   * is 1; a piece never holds a view of another tensor's array, see {@link own}); else undefined.
   * A fused kernel writes its result into it and returns a tensor over the same array, which the
   * caller then passes to {@link write} (or {@link set}) with `inPlace`; the range's old values
   * are gone from then on, so the kernel must not need them once written.
   * NOTE: writing in place is what keeps a training loop from allocating a fresh array per level
   * and buffer each iteration: arrays that outlive a young-generation collection are freed only by
   * V8's full mark-compacts, which they set off (external memory pressure) and which cost seconds
   * at 10⁶ edges.
   */
  writable(offset: number, length: number): Float32Array | undefined {
    this.check();
    const p = this.pieces.find((q) => q.offset === offset && q.length === length);
    const entry = p && this.cpuEntry(p.tensor);
    if (!entry || entry.refCount !== 1 || !(entry.values instanceof Float32Array) || entry.values.length !== length) return undefined;
    return entry.values;
  }

  /** Writes `[offset, offset + length)` with `kernel(dest)`'s result, `dest` the range's own array where {@link writable} gives one. */
  writeWith(offset: number, length: number, kernel: (dest: Float32Array | undefined) => TF.Tensor): void {
    const dest = this.writable(offset, length);
    this.write(offset, kernel(dest), dest !== undefined);
  }

  /** Frees every tensor; the buffer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.release();
    this.pieces = [];
    this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * Keeps `t` flat and float32. On tfjs's cpu backend a tensor whose array is a view of another
   * array (a contiguous `tf.slice` of another tensor) is copied first, so that no piece shares
   * storage with a tensor held elsewhere ({@link writable} relies on it), unless `inPlace` (the
   * array is this buffer's own, see {@link writable}).
   */
  private own(t: TF.Tensor, inPlace = false): TF.Tensor1D {
    let flat = (t.rank === 1 ? t : this.tf.reshape(t, [-1])) as TF.Tensor1D;
    if (flat.dtype !== 'float32') flat = this.tf.cast(flat, 'float32');
    const values = inPlace ? undefined : this.cpuEntry(flat)?.values;
    if (values && (values.byteOffset !== 0 || values.byteLength !== values.buffer.byteLength)) {
      const copy = this.tf.tensor1d(Float32Array.from(values));
      this.tf.dispose(flat);
      flat = copy;
    }
    return this.tf.keep(flat);
  }

  /** The storage entry of `t` on tfjs's cpu backend while it is the active backend (undefined elsewhere). */
  private cpuEntry(t: TF.Tensor): CpuEntry | undefined {
    if (this.tf.getBackend() !== 'cpu') return undefined;
    return (this.tf.backend() as unknown as { data: { get(id: object): CpuEntry | undefined } }).data.get(t.dataId);
  }

  private cut(p: Piece, from: number, to: number): Piece {
    return { offset: from, length: to - from, tensor: this.tf.keep(this.tf.slice(p.tensor, from - p.offset, to - from)) };
  }

  private dropWhole(): void {
    if (this.whole) this.tf.dispose(this.whole);
    this.whole = undefined;
  }

  private release(): void {
    this.dropWhole();
    for (const p of this.pieces) this.tf.dispose(p.tensor);
  }

  private check(): void {
    if (this.disposed) throw new UsageError([problem('engine', 'a tfjs engine buffer was used after it was freed')]);
  }
}
