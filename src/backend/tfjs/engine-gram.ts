import { gatherRows } from './gather.js';
import type * as TF from '@tensorflow/tfjs-core';
import { UsageError, problem } from '../../errors.js';
import { gramLayout, type GramPlan } from '../engine.js';
import type { EngineContext } from './engine-context.js';
import type { TensorBuffer } from './tensor-buffer.js';

/**
 * Kronecker-factor kernels of the tfjs engine: second moments of lists of rows (group Gram
 * matrices) and the weighted accumulation of per-unit arrays.
 */

/** Lists of one length m whose Gram matrices are one batched product: [lists × m] rows of x ‖ zero ‖ one. */
interface GramChunk {
  readonly m: number;
  readonly rows: TF.Tensor2D;
}

/** The index tensors of a {@link GramPlan} on a tfjs engine (built once by {@link gramIndex}). */
export interface GramIndex {
  /** Numbers written: the plan's `offsets[lists]`. */
  readonly total: number;
  readonly chunks: readonly GramChunk[];
  /** [total]: each output entry's position in the concatenated flat chunk results (undefined: already in order). */
  readonly perm?: TF.Tensor1D;
}

/**
 * Index tensors of `plan` for {@link groupGram}: lists grouped by length, each group cut into
 * chunks whose [lists × m × size] gather stays within `ctx.chunkEntries` numbers (at least one
 * list), and the permutation from chunk order back to the plan's layout. Rows index x followed
 * by `ctx.zeroOne` (row -1, the constant 1, is row nUnits + 1). Tensors go through `own`; their
 * index arrays are counted as uploads (4 bytes per number).
 * NOTE: lists of one length share one gather and one batched matMul (a launch per chunk, not per
 * list); the price is a gather of the results into the plan's order when the lengths are mixed.
 */
export function gramIndex(ctx: EngineContext, plan: GramPlan, own: <T extends TF.Tensor>(t: T) => T): GramIndex {
  const { tf, net, size: S } = ctx;
  const total = plan.offsets[plan.rows.length];
  const byLength = new Map<number, number[]>();
  plan.rows.forEach((rows, g) => {
    for (const k of rows) {
      if (!(Number.isInteger(k) && k >= -1 && k < net.nUnits)) throw new UsageError([problem('engine', `row ${k} of Gram list ${g} is neither a unit of the network nor -1`)]);
    }
    if (rows.length === 0) return;
    const lists = byLength.get(rows.length);
    if (lists) lists.push(g);
    else byLength.set(rows.length, [g]);
  });
  const chunks: GramChunk[] = [];
  const perm = new Int32Array(total);
  let flat = 0;
  for (const [m, lists] of byLength) {
    const perChunk = Math.max(1, Math.floor(ctx.chunkEntries / (m * Math.max(S, m))));
    for (let c0 = 0; c0 < lists.length; c0 += perChunk) {
      const part = lists.slice(c0, c0 + perChunk);
      const rows = new Int32Array(part.length * m);
      part.forEach((g, i) => {
        plan.rows[g].forEach((k, a) => (rows[i * m + a] = k < 0 ? net.nUnits + 1 : k));
        for (let e = 0; e < m * m; e++) perm[plan.offsets[g] + e] = flat++;
      });
      ctx.transfers.upload(rows.length * 4);
      chunks.push({ m, rows: own(tf.tensor2d(rows, [part.length, m], 'int32')) });
    }
  }
  const ordered = perm.every((p, i) => p === i);
  if (!ordered) ctx.transfers.upload(perm.length * 4);
  return { total, chunks, perm: ordered ? undefined : own(tf.tensor1d(perm, 'int32')) };
}

/** The weight row `row` [size] of a [rows × size] buffer (checked against its length). */
function weightRow(ctx: EngineContext, weights: TensorBuffer, row: number): TF.Tensor1D {
  const S = ctx.size;
  if (!(Number.isInteger(row) && row >= 0 && (row + 1) * S <= weights.length)) throw new UsageError([problem('engine', `weight row ${row} is outside a buffer of ${weights.length} numbers (${S} per row)`)]);
  return weights.range(row * S, S);
}

/**
 * out[offsets[g] + a·m + b] += scale · Σ_s w_s x[ρ_a, s] x[ρ_b, s] for every list of the plan
 * (`index`): per chunk, a gather of the lists' rows [lists × m × size], the weights on one side,
 * and a batched product with the other. Call inside `tf.tidy`.
 * NOTE: each symmetric matrix is computed whole (matMul has no symmetric form); the entries past
 * the plan's `total` keep their values (a range write).
 */
export function groupGram(ctx: EngineContext, index: GramIndex, x: TensorBuffer, out: TensorBuffer, scale: number, weights?: TensorBuffer, row = 0): void {
  const { tf, net, size: S } = ctx;
  if (x.length !== net.nUnits * S) throw new UsageError([problem('engine', `groupGram reads a per-unit buffer of ${net.nUnits * S} numbers, not ${x.length}`)]);
  if (out.length < index.total) throw new UsageError([problem('engine', `groupGram writes ${index.total} numbers into a buffer of ${out.length}`)]);
  const w = weights && weightRow(ctx, weights, row);
  if (index.total === 0) return;
  const rows = tf.reshape(x.range(0, net.nUnits * S, ctx.zeroOne), [net.nUnits + 2, S]);
  const flat = index.chunks.map((c) => {
    const xu = gatherRows(tf, rows, c.rows) as TF.Tensor3D; // [lists × m × S]
    return tf.reshape(tf.matMul(w ? (tf.mul(xu, w) as TF.Tensor3D) : xu, xu, false, true), [-1]);
  });
  const joined = flat.length === 1 ? flat[0] : tf.concat(flat);
  const gram = index.perm ? gatherRows(tf, joined, index.perm) : joined;
  out.write(0, tf.add(out.range(0, index.total), tf.mul(gram, scale)));
}

/** dst[k·size + s] += weights[row·size + s] · src[k·size + s] (dst and src of one length, a multiple of size). Call inside `tf.tidy`. */
export function accumulateWeighted(ctx: EngineContext, dst: TensorBuffer, src: TensorBuffer, weights: TensorBuffer, row: number): void {
  const { tf, size: S } = ctx;
  if (src.length !== dst.length || dst.length % S !== 0) throw new UsageError([problem('engine', `accumulateWeighted takes two buffers of one length, a multiple of ${S} (given ${dst.length} and ${src.length})`)]);
  const w = weightRow(ctx, weights, row);
  if (dst.length === 0) return;
  dst.set(tf.add(dst.tensor, tf.reshape(tf.mul(tf.reshape(src.tensor, [dst.length / S, S]), w), [-1])));
}

/** The Gram plans an engine made ({@link gramIndex} per plan, its tensors owned by the engine). */
export class GramPlans {
  private readonly plans = new WeakMap<GramPlan, GramIndex>();

  /** Lays out `rows` (see `gramLayout`) and builds the plan's index tensors. */
  make(ctx: EngineContext, rows: readonly Int32Array[], own: <T extends TF.Tensor>(t: T) => T): GramPlan {
    const plan = gramLayout(rows);
    this.plans.set(plan, gramIndex(ctx, plan, own));
    return plan;
  }

  /** The index of a plan this engine made; a UsageError for any other. */
  index(plan: GramPlan): GramIndex {
    const index = this.plans.get(plan);
    if (!index) throw new UsageError([problem('engine', 'a Gram plan not made by this tfjs engine (use its gramPlan)')]);
    return index;
  }
}
