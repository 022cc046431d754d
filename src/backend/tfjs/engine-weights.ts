import { ellProduct } from './ell-products.js';
import { gatherRows } from './gather.js';
import type * as TF from '@tensorflow/tfjs-core';
import type { EngineContext } from './engine-context.js';
import type { LevelIndex } from './engine-index.js';
import type { TensorBuffer } from './tensor-buffer.js';

/** A level's incoming weights: dense [count × (inSpan+2)] or ELL [count × 1 × F] (see `LevelIndex`). */
export function inWeights(ctx: EngineContext, params: TensorBuffer, lv: LevelIndex): TF.Tensor {
  const { tf } = ctx;
  return ctx.weights(params, `in${lv.start}`, (p) => (lv.inDense ? tf.reshape(gatherRows(tf, p, lv.inDense), [lv.count, lv.inSpan + 2]) : gatherRows(tf, p as TF.Tensor, lv.inParam as TF.Tensor3D)));
}

/** A level's outgoing weights: dense [count × outSpan], ELL [count × 1 × Fo], or undefined (no outgoing edges). */
export function outWeights(ctx: EngineContext, params: TensorBuffer, lv: LevelIndex): TF.Tensor | undefined {
  const { tf } = ctx;
  if (!lv.outDense && !lv.outParam) return undefined;
  return ctx.weights(params, `out${lv.start}`, (p) => (lv.outDense ? tf.reshape(gatherRows(tf, p, lv.outDense), [lv.count, lv.outSpan]) : gatherRows(tf, p as TF.Tensor, lv.outParam as TF.Tensor3D)));
}

/**
 * Σ_j w_kj X_j for the level's units, X the rows [outSpan × C] of the units above (from
 * `outBase`), by the level's route: dense [count × outSpan] · X, or ELL gathers of the rows
 * (X followed by a zero row) and a batched product. `weights` from {@link outWeights} (or
 * their squares). Result [count × C].
 */
export function sumAbove(tf: typeof TF, lv: LevelIndex, weights: TF.Tensor, above: TF.Tensor2D): TF.Tensor2D {
  const C = above.shape[1];
  if (lv.outDense) return tf.matMul(weights as TF.Tensor2D, above);
  const padded = tf.concat([above, tf.zeros([1, C])]);
  return ellProduct(tf, weights as TF.Tensor3D, padded as TF.Tensor2D, lv.outTarget as TF.Tensor2D, above.shape[0]);
}

/** 0/1 pattern of a level's outgoing edges, shaped like {@link outWeights} (ancestry searches). */
export function outPattern(ctx: EngineContext, lv: LevelIndex): TF.Tensor {
  const { tf, net } = ctx;
  if (lv.outDense) return tf.reshape(tf.cast(tf.less(lv.outDense, net.nParams), 'float32'), [lv.count, lv.outSpan]);
  return tf.cast(tf.less(lv.outParam as TF.Tensor3D, net.nParams), 'float32');
}

/** C copies of a [count × S] tensor side by side: [count × C·S] (column blocks, as the column passes lay out their columns). */
export function repeatColumns(tf: typeof TF, x: TF.Tensor2D, C: number): TF.Tensor2D {
  return C === 1 ? x : tf.concat(new Array<TF.Tensor2D>(C).fill(x), 1);
}

/**
 * Parameter-derived tensors (params ‖ 0, the levels' weight matrices), cached per parameter
 * data: a buffer's `contentId` identifies its values (a copy made by the engine's `copy`
 * shares it), so the forward pass, the backward pass and the metric of one parameter vector
 * build each level's weights once. The cache owns its tensors (kept out of any `tf.tidy`).
 * NOTE: two entries (the trainer's current and candidate parameters), least recently used out;
 * they hold about two copies of the parameters in each level's dense or padded layout.
 */
export class WeightCache {
  private entries: Array<{ id: object; tensors: Map<string, TF.Tensor> }> = [];

  constructor(private readonly tf: typeof TF) {}

  /** The tensor `key` of `params`' data, built by `build(paramsExt)` on first use (see `EngineContext.weights`). */
  get(params: TensorBuffer, key: string, build: (paramsExt: TF.Tensor1D) => TF.Tensor): TF.Tensor {
    const { tf } = this;
    const source = params.tensor;
    const id = params.contentId;
    let entry = this.entries.find((e) => e.id === id);
    if (entry) this.entries.splice(this.entries.indexOf(entry), 1);
    else entry = { id, tensors: new Map() };
    this.entries.unshift(entry);
    for (const old of this.entries.splice(2)) tf.dispose([...old.tensors.values()]);
    let ext = entry.tensors.get('');
    if (!ext) {
      ext = tf.keep(tf.concat([source, tf.zeros([1])]));
      entry.tensors.set('', ext);
    }
    let t = entry.tensors.get(key);
    if (!t) {
      t = tf.keep(build(ext as TF.Tensor1D));
      entry.tensors.set(key, t);
    }
    return t;
  }

  /** Frees every cached tensor. */
  dispose(): void {
    for (const entry of this.entries.splice(0)) this.tf.dispose([...entry.tensors.values()]);
  }
}
