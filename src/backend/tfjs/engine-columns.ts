import type * as TF from '@tensorflow/tfjs-core';
import type { EngineContext } from './engine-context.js';
import type { LevelIndex } from './engine-index.js';
import type { TensorBuffer } from './tensor-buffer.js';

/**
 * Backpropagation of C columns per sample at once, level by level from the top: rows
 * J_k = r_k Σ_j w_kj J_j (+ seed_k), each level's rows [count × size × C] (sample-major columns).
 * The Fisher modulus runs it with one column per output (transfer rates, Def. 2, seeded σ_o at
 * output o), the Monte-Carlo modulus with one column per draw (b̃ of sampled targets).
 * NOTE: batching the columns turns n_out (or K) backpropagations into one pass with the same
 * number of launches per level as a single backward pass; it holds [nUnits × size × C] numbers,
 * so callers take C in chunks of at most {@link columnChunk} columns.
 */
export interface ColumnPass {
  /** Columns per sample. */
  readonly columns: number;
  /** The seed rows of a level [count × size × C], added after the propagation (undefined: none). */
  seed(lv: LevelIndex): TF.Tensor | undefined;
  /** Propagate into hidden units only (b̃: outputs keep their seed); else into every unit (transfer rates). */
  readonly hiddenOnly: boolean;
  /** Called with level `level`'s rows J [count × size × C] and, where propagated, Σ_j w_kj J_j before r. */
  visit(lv: LevelIndex, level: number, rows: TF.Tensor3D, sums: TF.Tensor3D | undefined): void;
}

/** Columns per chunk so that [nUnits × size × C] stays under `ctx.chunkEntries` numbers (at least 1). */
export function columnChunk(ctx: EngineContext): number {
  return Math.max(1, Math.floor(ctx.chunkEntries / (ctx.net.nUnits * ctx.size)));
}

/** Runs a {@link ColumnPass} with the parameters `params` and the derivatives of `deriv`. Call inside `tf.tidy`. */
export function propagateColumns(ctx: EngineContext, params: TensorBuffer, deriv: TensorBuffer, pass: ColumnPass): void {
  const { tf, size: S } = ctx;
  const C = pass.columns;
  const levels = ctx.index.levels;
  const p = ctx.paramsExt(params);
  const done: TF.Tensor2D[] = []; // done[l - 1]: level l's rows [count × S·C]
  for (let l = levels.length; l >= 1; l--) {
    const lv = levels[l - 1];
    let rows: TF.Tensor3D | undefined;
    let sums: TF.Tensor3D | undefined;
    if (lv.fanOut > 0 && (!pass.hiddenOnly || lv.hidden > 0)) {
      const above: TF.Tensor2D[] = [];
      for (let m = l + 1; m <= levels.length && levels[m - 1].start < lv.outBase + lv.outSpan; m++) above.push(done[m - 1]);
      const source = tf.concat([...above, tf.zeros([1, S * C])]);
      const gathered = tf.gather(source, lv.outTarget as TF.Tensor2D) as TF.Tensor3D; // [count × Fo × S·C]
      sums = tf.reshape(tf.matMul(tf.gather(p as TF.Tensor, lv.outParam as TF.Tensor3D) as TF.Tensor3D, gathered), [lv.count, S, C]);
      rows = tf.mul(sums, tf.reshape(deriv.range(lv.start * S, lv.count * S), [lv.count, S, 1])) as TF.Tensor3D;
      if (pass.hiddenOnly && lv.hiddenMask) rows = tf.mul(rows, lv.hiddenMask) as TF.Tensor3D;
    }
    const seed = pass.seed(lv);
    const level = (rows && seed ? tf.add(rows, seed) : (rows ?? seed ?? tf.zeros([lv.count, S, C]))) as TF.Tensor3D;
    pass.visit(lv, l, level, sums);
    done[l - 1] = tf.reshape(level, [lv.count, S * C]);
  }
}

/** [count × 1 × C]: 1 where the level's unit is output `first + c`. */
export function outputColumns(tf: typeof TF, lv: LevelIndex, first: number, C: number): TF.Tensor3D | undefined {
  if (!lv.outputOf) return undefined;
  const columns = tf.reshape(tf.range(first, first + C, 1, 'int32'), [1, 1, C]);
  return tf.cast(tf.equal(tf.reshape(lv.outputOf, [lv.count, 1, 1]), columns), 'float32') as TF.Tensor3D;
}

/**
 * Structural ancestry of output `output`: per level (index l - 1), [count × 1] with 1 for the
 * output and the units with a path to it, 0 elsewhere (Def. 2's rates are defined there).
 */
export function ancestry(ctx: EngineContext, output: number): TF.Tensor2D[] {
  const { tf } = ctx;
  const levels = ctx.index.levels;
  const reach: TF.Tensor2D[] = [];
  for (let l = levels.length; l >= 1; l--) {
    const lv = levels[l - 1];
    let mask: TF.Tensor2D = tf.zeros([lv.count, 1]);
    if (lv.fanOut > 0) {
      const above: TF.Tensor2D[] = [];
      for (let m = l + 1; m <= levels.length && levels[m - 1].start < lv.outBase + lv.outSpan; m++) above.push(reach[m - 1]);
      mask = tf.max(tf.gather(tf.concat([...above, tf.zeros([1, 1])]), lv.outTarget as TF.Tensor2D), 1) as TF.Tensor2D;
    }
    const self = outputColumns(tf, lv, output, 1);
    reach[l - 1] = self ? tf.maximum(mask, tf.reshape(self, [lv.count, 1])) : mask;
  }
  return reach;
}
