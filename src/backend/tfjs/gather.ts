import type * as TF from '@tensorflow/tfjs-core';

/**
 * `x` indexed along its first axis by `indices` (`tf.gather(x, indices)`): shape
 * indices.shape ++ x.shape[1:].
 *
 * NOTE: on tfjs-backend-wasm, GatherV2 computes an index per number moved (about 100 ns each
 * here), while GatherNd with indices [..., 1] copies whole rows: 20-40x faster on the engine's
 * row gathers (rows of `size` samples) and on element gathers alike. On tfjs's cpu backend it is
 * the other way round (GatherNd 2-4x slower), so GatherNd is used on wasm only.
 */
export function gatherRows<R extends TF.Rank = TF.Rank>(tf: typeof TF, x: TF.Tensor, indices: TF.Tensor): TF.Tensor<R> {
  if (tf.getBackend() !== 'wasm' || indices.size === 0) return tf.gather(x, indices) as TF.Tensor<R>;
  return tf.gatherND(x, tf.expandDims(indices, -1)) as TF.Tensor<R>;
}
