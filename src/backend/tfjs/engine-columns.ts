import { gatherRows } from './gather.js';
import type * as TF from '@tensorflow/tfjs-core';
import { rows as unitRows, type EngineContext } from './engine-context.js';
import type { LevelIndex } from './engine-index.js';
import { outPattern, outWeights, repeatColumns, sumAbove } from './engine-weights.js';
import type { TensorBuffer } from './tensor-buffer.js';

/**
 * Backpropagation of several columns per unit at once, level by level from the top:
 * J_k = r_k Σ_j w_kj J_j (+ seed_k), each level's rows [count × width]. With C columns per
 * sample, width = C·size and column c·size + s is sample s of column c (r repeated C times).
 * The Fisher modulus runs it with a column per output (transfer rates, Def. 2, seeded σ_o at
 * output o), the Monte-Carlo modulus with a column per draw (b̃ of sampled targets), the
 * ancestry search structurally (0/1 edges, no r, width 1).
 * NOTE: batching the columns turns n_out (or K) backpropagations into one pass with the
 * launches of a single backward pass; it holds [nUnits × width] numbers, so callers take the
 * columns in chunks (see {@link columnChunk}).
 */
export interface ColumnPass {
  /** Numbers per unit row; a multiple of the batch size unless `structural`. */
  readonly width: number;
  /** The seed rows of a level [count × width] (undefined: none). */
  seed(lv: LevelIndex): TF.Tensor2D | undefined;
  /** Propagate into hidden units only (b̃: outputs keep their seed); else into every unit (rates). */
  readonly hiddenOnly: boolean;
  /** 0/1 edges, no r, rows clamped to 1: which units reach a seeded one. */
  readonly structural?: boolean;
  /** Called with level `level`'s rows [count × width] and, where propagated, Σ_j w_kj J_j before r. */
  visit(lv: LevelIndex, level: number, rows: TF.Tensor2D, sums: TF.Tensor2D | undefined): void;
}

/** Columns per sample in a chunk, so that [nUnits × size × C] stays under `ctx.chunkEntries` numbers (at least 1). */
export function columnChunk(ctx: EngineContext): number {
  return Math.max(1, Math.floor(ctx.chunkEntries / (ctx.net.nUnits * ctx.size)));
}

/** Runs a {@link ColumnPass} with the parameters `params` and the derivatives of `deriv`. Call inside `tf.tidy`. */
export function propagateColumns(ctx: EngineContext, params: TensorBuffer, deriv: TensorBuffer, pass: ColumnPass): void {
  const { tf, size: S } = ctx;
  const W = pass.width;
  const levels = ctx.index.levels;
  const done: TF.Tensor2D[] = []; // done[l - 1]: level l's rows [count × W]
  for (let l = levels.length; l >= 1; l--) {
    const lv = levels[l - 1];
    let rows: TF.Tensor2D | undefined;
    let sums: TF.Tensor2D | undefined;
    const weights = pass.structural ? (lv.outDense || lv.outParam ? outPattern(ctx, lv) : undefined) : outWeights(ctx, params, lv);
    if (weights && (!pass.hiddenOnly || lv.hidden > 0)) {
      const above: TF.Tensor2D[] = [];
      for (let m = l + 1; m <= levels.length && levels[m - 1].start < lv.outBase + lv.outSpan; m++) above.push(done[m - 1]);
      sums = sumAbove(tf, lv, weights, above.length === 1 ? above[0] : (tf.concat(above) as TF.Tensor2D));
      let propagated: TF.Tensor = pass.structural ? tf.minimum(sums, 1) : tf.mul(sums, repeatColumns(tf, unitRows(ctx, deriv, lv.start, lv.count), W / S));
      if (pass.hiddenOnly && lv.hiddenMask) propagated = tf.mul(propagated, repeatColumns(tf, tf.cast(lv.hiddenMask, 'float32') as TF.Tensor2D, W / S));
      rows = propagated as TF.Tensor2D;
    }
    const seed = pass.seed(lv);
    const level = (rows && seed ? (pass.structural ? tf.maximum(rows, seed) : tf.add(rows, seed)) : (rows ?? seed ?? tf.zeros([lv.count, W]))) as TF.Tensor2D;
    pass.visit(lv, l, level, sums);
    done[l - 1] = level;
  }
}

/**
 * The seed rows of a level from per-output rows `perOutput` [nOutputs × width]: the level's
 * output units take their output's row, hidden units zeros; undefined for levels without outputs.
 */
export function seedRows(tf: typeof TF, lv: LevelIndex, perOutput: TF.Tensor2D): TF.Tensor2D | undefined {
  if (!lv.outputOf) return undefined;
  const width = perOutput.shape[1];
  if (lv.outputRun !== undefined && lv.outputRun >= 0) return tf.slice(perOutput, [lv.outputRun, 0], [lv.count, width]);
  return gatherRows<TF.Rank.R2>(tf, tf.concat([perOutput, tf.zeros([1, width])]) as TF.Tensor2D, lv.outputOf);
}

/**
 * Per-output seed rows [nOutputs × C·S] of a chunk of C columns starting at output `first`:
 * row o holds `values` row o in column block o - first (zeros when o is outside the chunk).
 */
export function chunkSeeds(tf: typeof TF, values: TF.Tensor2D, first: number, C: number): TF.Tensor2D {
  const [O, S] = values.shape;
  // Row o: the one-hot vector of column o - first (oneHot wants a depth of 2 at least).
  let place = tf.oneHot(tf.range(-first, O - first, 1, 'int32'), Math.max(2, C));
  if (C === 1) place = tf.slice(place, [0, 0], [O, 1]);
  return tf.reshape(tf.matMul(tf.reshape(tf.cast(place, 'float32'), [O, C, 1]) as TF.Tensor3D, tf.reshape(values, [O, 1, S]) as TF.Tensor3D), [O, C * S]);
}

/** Σ over the C column blocks of rows [count × C·S]: [count × S] (a batched product with ones). */
export function sumBlocks(tf: typeof TF, x: TF.Tensor2D, C: number, S: number): TF.Tensor2D {
  if (C === 1) return x;
  const count = x.shape[0];
  return tf.reshape(tf.matMul(tf.ones([1, 1, C]) as TF.Tensor3D, tf.reshape(x, [count, C, S]) as TF.Tensor3D), [count, S]);
}
