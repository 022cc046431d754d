import { gatherRows } from './gather.js';
import type * as TF from '@tensorflow/tfjs-core';
import { onCpu } from './cpu-fused.js';
import { fusedSolveUnitBlocks, fusedUnitBlocks } from './cpu-fused-blocks.js';
import { UsageError, problem } from '../../errors.js';
import { blockBuckets } from './engine-buckets.js';
import type { EngineContext, TfjsWorkspace } from './engine-context.js';
import { bucketTensors, type Bucket } from './engine-index.js';
import { readThen, settled, type Readback } from './engine-readback.js';
import type { TensorBuffer } from './tensor-buffer.js';

/** Buckets of some units and how their concatenated flat results are written into a buffer. */
export interface BucketSet {
  readonly buckets: readonly Bucket[];
  /** Writes concatenated flat bucket blocks (or vectors) into their metric-layout (or parameter) places of `target`. */
  write(target: TensorBuffer, flat: TF.Tensor, kind: 'blocks' | 'params'): void;
}

/**
 * The buckets of every non-input unit (built at open), or of `units`. Call inside `tf.tidy`.
 * NOTE: a subset's index arrays are built on the host and uploaded at each call (counted), and
 * its results are scattered into the buffers; the callers (re-inverting refused online updates)
 * pass few units, rarely.
 */
export function bucketSet(ctx: EngineContext, units?: readonly number[]): BucketSet {
  const { tf, net, index } = ctx;
  const everyUnit = !units || (units.length === net.nUnits - net.nInputs && units.every((k, i) => k === net.nInputs + i));
  if (everyUnit) {
    return {
      buckets: index.buckets,
      write: (target, flat, kind) => target.set(gatherRows(tf, flat, kind === 'blocks' ? index.blocksPerm : index.paramsPerm)),
    };
  }
  const layout = blockBuckets(net, index.matrixOffsets, units);
  for (const b of layout.buckets) ctx.transfers.upload((b.unitIds.length * 2 + b.rows.length + b.params.length + b.blocks.length + b.padEye.length + b.realEye.length) * 4);
  const pairs = { blocks: layout.blockPairs, params: layout.paramPairs };
  for (const p of Object.values(pairs)) ctx.transfers.upload(p.layout.length * 8);
  return {
    buckets: bucketTensors(tf, layout.buckets, (t) => t),
    write: (target, flat, kind) => {
      const { layout: at, flat: from } = pairs[kind];
      if (at.length === 0) return;
      const positions = tf.tensor2d(at, [at.length, 1], 'int32');
      const values = gatherRows(tf, flat, tf.tensor1d(from, 'int32'));
      const mask = tf.cast(tf.scatterND(positions, tf.ones([at.length]), [target.length]), 'bool');
      target.set(tf.where(mask, tf.scatterND(positions, values, [target.length]), target.tensor));
    },
  };
}

/** A buffer followed by a zero (the target of padding indices). */
function withZero(tf: typeof TF, buffer: TensorBuffer): TF.Tensor1D {
  return tf.concat([buffer.tensor, tf.zeros([1])]);
}

/** The blocks of a bucket [u × n × n] from a flat metric-layout tensor followed by a zero (padding: 0). */
function gatherBlocks(tf: typeof TF, flat: TF.Tensor1D, b: Bucket): TF.Tensor3D {
  return tf.reshape(gatherRows(tf, flat, b.blocks), [b.size, b.n, b.n]);
}

/** A bucket's entries [u × n × 1] of a parameter-shaped tensor followed by a zero. */
function gatherVectors(tf: typeof TF, flat: TF.Tensor1D, b: Bucket): TF.Tensor3D {
  return tf.reshape(gatherRows(tf, flat, b.params), [b.size, b.n, 1]);
}

/** Per-unit blocks A_ij = E_x ψ̃_k ā_i ā_j (Eq. 18, 28) as one batched product per bucket. */
export function unitBlocks(ctx: EngineContext, ws: TfjsWorkspace, modulus: TensorBuffer, blocks: TensorBuffer): void {
  const { tf, net, size: S } = ctx;
  if (onCpu(tf)) return blocks.writeWith(0, blocks.length, (dest) => fusedUnitBlocks(tf, net, S, blocks.length, { a: ws.act.rowPieces(0, net.nUnits, S), m: modulus.rowPieces(0, net.nUnits, S) }, dest));
  const act = tf.reshape(ws.act.range(0, net.nUnits * S, ctx.zeroOne), [net.nUnits + 2, S]);
  const psi = tf.reshape(modulus.tensor, [net.nUnits, S]);
  const flat = ctx.index.buckets.map((b) => {
    const x = gatherRows(tf, act, b.rows) as TF.Tensor3D; // [u × n × S]
    // ψ̃ repeated over the n rows of each unit by a product with ones (not a broadcast; see engine-propagation.ts).
    const weights = tf.matMul(tf.ones([1, b.n, 1]) as TF.Tensor3D, tf.reshape(gatherRows(tf, psi, b.units), [b.size, 1, S]) as TF.Tensor3D);
    return tf.reshape(tf.matMul(tf.mul(x, weights) as TF.Tensor3D, x, false, true), [-1]);
  });
  blocks.set(tf.mul(gatherRows(tf, flat.length === 1 ? flat[0] : tf.concat(flat), ctx.index.blocksPerm), 1 / S));
}

/**
 * Y = L⁻ᵀ for A = L Lᵀ, batched over a bucket [u × n × n], by right-looking Cholesky of the
 * augmented [A; I] ([2n × n]): the rows below the first n of the factor's columns are L⁻ᵀ's
 * rows, so no triangular solve is needed; then A⁻¹ = Y Yᵀ and A⁻¹g = Y (Yᵀ g).
 * A block that is not positive definite gives a pivot ≤ 0 (or not finite), hence NaN or ±∞ in
 * its Y, which {@link firstFailure} detects.
 * NOTE: n elimination steps of 7 launches on [u × 2n × n]: columns, pivots and row blocks are
 * picked out by products with unit vectors, since strided slices and broadcasts are slow
 * element by element on tfjs's CPU backend (matMul runs plain loops); float32 throughout.
 */
export function choleskyInverseFactor(tf: typeof TF, a: TF.Tensor3D, eye: TF.Tensor3D): TF.Tensor3D {
  const n = a.shape[1];
  const unit = tf.eye(2 * n); // row j: e_j
  let m = tf.concat([a, eye], 1) as TF.Tensor3D;
  const columns: TF.Tensor3D[] = [];
  for (let j = 0; j < n; j++) {
    const current = m;
    const [column, next] = tf.tidy(() => {
      const e = tf.reshape(tf.slice(unit, [j, 0], [1, n]), [1, n, 1]) as TF.Tensor3D;
      const col = tf.matMul(current, e); // [u × 2n × 1]
      const pivot = tf.matMul(tf.reshape(tf.slice(unit, [j, 0], [1, 2 * n]), [1, 1, 2 * n]) as TF.Tensor3D, col); // [u × 1 × 1]
      const l = tf.matMul(col, tf.rsqrt(pivot)) as TF.Tensor3D;
      if (j === n - 1) return [l, current];
      const top = tf.matMul(l, tf.reshape(tf.slice(unit, [0, 0], [2 * n, n]), [1, 2 * n, n]) as TF.Tensor3D, true, false); // [u × 1 × n]
      return [l, tf.sub(current, tf.matMul(l, top)) as TF.Tensor3D];
    });
    columns.push(column);
    if (next !== current) tf.dispose(current);
    m = next;
  }
  tf.dispose([m, unit]);
  const factor = columns.length === 1 ? columns[0] : (tf.concat(columns, 2) as TF.Tensor3D); // [u × 2n × n]
  const bottom = tf.reshape(tf.slice(tf.eye(2 * n), [n, 0], [n, 2 * n]), [1, n, 2 * n]) as TF.Tensor3D;
  return tf.matMul(bottom, factor);
}

/** The smallest unit id of a bucket whose factor has a non-finite entry, as a scalar (∞: none). */
function firstFailure(tf: typeof TF, factor: TF.Tensor3D, b: Bucket): TF.Scalar {
  const bad = tf.any(tf.logicalNot(tf.isFinite(factor)), [1, 2]);
  return tf.min(tf.where(bad, b.unitValues, tf.fill([b.size], Infinity)));
}

/** Reads the first failing unit of the buckets' failures (one number): -1 when there is none. */
function readFailure(ctx: EngineContext, failures: TF.Scalar[]): Readback<number> {
  const { tf } = ctx;
  return readThen(failures.length === 1 ? failures[0] : tf.min(tf.stack(failures)), (v) => settled(Number.isFinite(v[0]) ? v[0] : -1));
}

/** δw = (A + εI)⁻¹ G per unit (Eq. 20, 30), batched per bucket; returns -1 or the first unit whose block is not positive definite (one number read). */
export function solveUnitBlocks(ctx: EngineContext, blocks: TensorBuffer, gradient: TensorBuffer, epsilon: number, out: TensorBuffer): Readback<number> {
  const { tf } = ctx;
  if (epsilon === 0) {
    throw new UsageError([problem('epsilon', 'the tfjs backend solves per-unit blocks by Cholesky in float32 and needs ε > 0; use the cpu backend for the least-squares solves of ε = 0')]);
  }
  if (onCpu(tf)) {
    const dest = out.writable(0, out.length);
    const [step, failed] = fusedSolveUnitBlocks(tf, ctx.net, blocks.tensor, gradient.tensor, epsilon, dest);
    out.set(step, undefined, dest !== undefined);
    return readThen(failed, (v) => settled(v[0]));
  }
  const a = withZero(tf, blocks);
  const g = withZero(tf, gradient);
  const failures: TF.Scalar[] = [];
  const flat = ctx.index.buckets.map((b) => {
    const regularised = tf.add(tf.add(gatherBlocks(tf, a, b), b.padEye), tf.mul(b.realEye, epsilon)) as TF.Tensor3D;
    const y = choleskyInverseFactor(tf, regularised, b.eye);
    failures.push(firstFailure(tf, y, b));
    return tf.reshape(tf.matMul(y, tf.matMul(y, gatherVectors(tf, g, b), true, false)), [-1]);
  });
  out.set(gatherRows(tf, flat.length === 1 ? flat[0] : tf.concat(flat), ctx.index.paramsPerm));
  return readFailure(ctx, failures);
}

/** H = A⁻¹ for the blocks of `units` (all non-input units by default); returns -1 or the first unit whose block is not positive definite. */
export function invertBlocks(ctx: EngineContext, blocks: TensorBuffer, inverses: TensorBuffer, units?: readonly number[]): Readback<number> {
  const { tf } = ctx;
  const set = bucketSet(ctx, units);
  if (set.buckets.length === 0) return settled(-1);
  const a = withZero(tf, blocks);
  const failures: TF.Scalar[] = [];
  const flat = set.buckets.map((b) => {
    const y = choleskyInverseFactor(tf, tf.add(gatherBlocks(tf, a, b), b.padEye), b.eye);
    failures.push(firstFailure(tf, y, b));
    return tf.reshape(tf.matMul(y, y, false, true), [-1]);
  });
  set.write(inverses, flat.length === 1 ? flat[0] : tf.concat(flat), 'blocks');
  return readFailure(ctx, failures);
}

/** out ← H G per unit of `units` (all non-input units by default), batched per bucket. */
export function blocksTimesVector(ctx: EngineContext, inverses: TensorBuffer, gradient: TensorBuffer, out: TensorBuffer, units?: readonly number[]): void {
  const { tf } = ctx;
  const set = bucketSet(ctx, units);
  if (set.buckets.length === 0) return;
  const h = withZero(tf, inverses);
  const g = withZero(tf, gradient);
  const flat = set.buckets.map((b) => tf.reshape(tf.matMul(gatherBlocks(tf, h, b), gatherVectors(tf, g, b)), [-1]));
  set.write(out, flat.length === 1 ? flat[0] : tf.concat(flat), 'params');
}
