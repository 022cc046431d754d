import type * as TF from '@tensorflow/tfjs-core';
import { checkedRow, cpuStorage, gatherRows, registerCpuKernel, withDtype } from './gather.js';

/** Kernel names of the fused padded-list products on tfjs's cpu backend (registered on first use). */
export const CPU_ELL_PRODUCT = 'UnitwiseEllProduct';
export const CPU_ELL_ROW_DOTS = 'UnitwiseEllRowDots';

/**
 * out[i, :] = Σ_f w[i, f] x[idx[i, f], :], accumulated in float64 per row as tfjs's cpu matMul
 * does; entries naming row `padRow` (a zero row: the lists' padding) are skipped.
 */
function cpuEllProduct({ inputs, backend, attrs }: { inputs: TF.NamedTensorInfoMap; backend: unknown; attrs?: TF.NamedAttrMap }): TF.TensorInfo {
  const { w, x, indices } = inputs as { w: TF.TensorInfo; x: TF.TensorInfo; indices: TF.TensorInfo };
  const padRow = typeof attrs?.padRow === 'number' ? attrs.padRow : -1;
  const storage = cpuStorage(backend);
  const [weights, from, index] = [w, x, indices].map((t) => storage.data.get(t.dataId).values);
  const [count, F] = indices.shape;
  const [rows, C] = x.shape;
  const out = new Float32Array(count * C);
  const acc = new Float64Array(C);
  for (let i = 0; i < count; i++) {
    acc.fill(0);
    for (let f = 0; f < F; f++) {
      const row = index[i * F + f];
      if (row === padRow) continue;
      const weight = weights[i * F + f];
      const src = checkedRow(row, rows) * C;
      for (let c = 0; c < C; c++) acc[c] += weight * from[src + c];
    }
    out.set(acc, i * C);
  }
  return storage.makeTensorInfo([count, C], 'float32', out);
}

/** out[i, f] = Σ_c x[idx[i, f], c]^p y[i, c] (p = 2 when `square`, else 1): [count × F × 1]. */
function cpuEllRowDots({ inputs, backend, attrs }: { inputs: TF.NamedTensorInfoMap; backend: unknown; attrs?: TF.NamedAttrMap }): TF.TensorInfo {
  const { x, indices, y } = inputs as { x: TF.TensorInfo; indices: TF.TensorInfo; y: TF.TensorInfo };
  const square = attrs?.square === true;
  const storage = cpuStorage(backend);
  const [from, index, by] = [x, indices, y].map((t) => storage.data.get(t.dataId).values);
  const [count, F] = indices.shape;
  const [rows, C] = x.shape;
  const out = new Float32Array(count * F);
  for (let i = 0; i < count; i++) {
    const yi = i * C;
    for (let f = 0; f < F; f++) {
      const src = checkedRow(index[i * F + f], rows) * C;
      let sum = 0;
      if (square) {
        for (let c = 0; c < C; c++) sum += from[src + c] * from[src + c] * by[yi + c];
      } else {
        for (let c = 0; c < C; c++) sum += from[src + c] * by[yi + c];
      }
      out[i * F + f] = sum;
    }
  }
  return storage.makeTensorInfo([count, F, 1], 'float32', out);
}

/**
 * Padded-list (ELL) product Σ_f w[i, f] x[idx[i, f], :] of a level: weights `w` [count × 1 × F],
 * rows `x` [R × C], row lists `indices` [count × F] (int32; padding: `padRow`, a row of zeros
 * in x, with weight 0). Result [count × C].
 * NOTE: elsewhere a gather of [count × F × C] and a batched product; on tfjs's cpu backend one
 * fused kernel (no [count × F × C] intermediate: at 10⁶ edges the gathers allocated about 60 MB
 * per level, and the garbage collector's full collections they set off took most of an
 * iteration), which skips the padding entries (padded fan-out lists average a third full).
 */
export function ellProduct(tf: typeof TF, w: TF.Tensor3D, x: TF.Tensor2D, indices: TF.Tensor2D, padRow: number): TF.Tensor2D {
  const [count, C] = [indices.shape[0], x.shape[1]];
  if (tf.getBackend() !== 'cpu' || count === 0) return tf.reshape(tf.matMul(w, gatherRows<TF.Rank.R3>(tf, x, indices)), [count, C]);
  registerCpuKernel(tf, CPU_ELL_PRODUCT, cpuEllProduct);
  return tf.engine().runKernel<TF.Tensor2D>(CPU_ELL_PRODUCT, { w: withDtype(tf, w, 'float32'), x: withDtype(tf, x, 'float32'), indices: withDtype(tf, indices, 'int32') }, { padRow });
}

/**
 * Per (unit, list entry) sums over the columns of gathered rows times the unit's own row, one
 * result per term: Σ_c x[idx[i, f], c]^p y[i, c], p = 2 when the term is `square`
 * ([count × F × 1] each); `x` [R × C], `indices` [count × F], each `y` [count × C]. The
 * gradient's ELL products (G = E ā b̃ and the quasi-diagonal entries). Elsewhere one gather
 * shared by the terms and a batched product each; on tfjs's cpu backend a fused kernel per term,
 * as in {@link ellProduct}.
 */
export function ellRowDots(tf: typeof TF, x: TF.Tensor2D, indices: TF.Tensor2D, terms: ReadonlyArray<{ y: TF.Tensor2D; square?: boolean }>): TF.Tensor3D[] {
  const count = indices.shape[0];
  const C = x.shape[1];
  if (tf.getBackend() !== 'cpu' || count === 0) {
    const rows = gatherRows<TF.Rank.R3>(tf, x, indices); // [count × F × C]
    let squares: TF.Tensor3D | undefined;
    return terms.map(({ y, square }) => tf.matMul(square ? (squares ??= tf.square(rows)) : rows, tf.reshape(y, [count, C, 1]) as TF.Tensor3D));
  }
  registerCpuKernel(tf, CPU_ELL_ROW_DOTS, cpuEllRowDots);
  const [xs, is] = [withDtype(tf, x, 'float32'), withDtype(tf, indices, 'int32')];
  return terms.map(({ y, square }) => tf.engine().runKernel<TF.Tensor3D>(CPU_ELL_ROW_DOTS, { x: xs, indices: is, y: withDtype(tf, y, 'float32') }, { square: square === true }));
}
