import { onCpu } from './cpu-fused.js';
import { fusedQuasiDiagonalSolve } from './cpu-fused-update.js';
import { gatherRows } from './gather.js';
import type * as TF from '@tensorflow/tfjs-core';
import type { AdamStepOptions } from '../engine.js';
import type { EngineContext, TfjsWorkspace } from './engine-context.js';
import { readThen, settled, type Readback } from './engine-readback.js';
import type { TensorBuffer } from './tensor-buffer.js';

/**
 * Quasi-diagonal step (Eq. 22-23, 32-33), elementwise over the parameters:
 * δw_i = (G_i A_00 - G_0 A_0i) / (A_ii A_00 - A_0i²) (0 where the denominator is not positive),
 * δw_0 = G_0/A_00 - Σ_i (A_0i/A_00) δw_i (0 where A_00 ≤ 0), ε on A_00 and A_ii.
 * NOTE: the per-unit sums of Eq. 23 are taken per bucket (gather, sum) rather than as a
 * difference of one running sum over all parameters, which would lose float32 precision on
 * large networks.
 */
export function quasiDiagonalSolve(ctx: EngineContext, diagonal: TensorBuffer, cross: TensorBuffer, gradient: TensorBuffer, epsilon: number, out: TensorBuffer): void {
  const { tf } = ctx;
  if (onCpu(tf)) return out.writeWith(0, out.length, (dest) => fusedQuasiDiagonalSolve(tf, ctx.net, diagonal.tensor, cross.tensor, gradient.tensor, epsilon, dest));
  const { bias, isBias, bucketUnit } = ctx.index.params;
  const d = tf.add(diagonal.tensor, epsilon);
  const c = cross.tensor;
  const g = gradient.tensor;
  const a00 = gatherRows(tf, d, bias);
  const g0 = gatherRows(tf, g, bias);
  const zero = tf.zerosLike(g);
  const isWeight = tf.less(isBias, 0.5);
  const denominator = tf.sub(tf.mul(d, a00), tf.square(c));
  const weight = tf.where(tf.logicalAnd(tf.greater(denominator, 0), isWeight), tf.div(tf.sub(tf.mul(g, a00), tf.mul(g0, c)), denominator), zero);
  const term = tf.concat([tf.mul(tf.div(c, a00), weight), tf.zeros([1])]); // (A_0i/A_00) δw_i, and a zero for padding
  const sums = ctx.index.buckets.map((b) => tf.sum(gatherRows(tf, term, b.params), 1));
  const unitSum = gatherRows(tf, sums.length === 1 ? sums[0] : tf.concat(sums), bucketUnit);
  const biasStep = tf.where(tf.greater(a00, 0), tf.sub(tf.div(g, a00), unitSum), zero);
  out.set(tf.where(isWeight, weight, biasStep));
}

/** δw_p = G_p / (A_pp + ε), or G_p / √(A_pp + ε) with `root`; 0 where A_pp + ε ≤ 0. */
export function diagonalSolve(ctx: EngineContext, diagonal: TensorBuffer, gradient: TensorBuffer, epsilon: number, root: boolean, out: TensorBuffer): void {
  const { tf } = ctx;
  const d = tf.add(diagonal.tensor, epsilon);
  const g = gradient.tensor;
  out.set(tf.where(tf.greater(d, 0), tf.div(g, root ? tf.sqrt(d) : d), tf.zerosLike(g)));
}

/**
 * One online step (Eq. 37-38) of every unit, batched per bucket: u = √ψ̃_k(x)·ā(x) from sample
 * `sample`, A ← (1-γ)A + γuuᵀ, H ← ((H + Hᵀ)/2 - f Hu(Hu)ᵀ)/(1-γ) with f = c/(1 + c uᵀHu),
 * c = γ/(1-γ), and δw = H G. Units whose 1 + c uᵀHu is not positive and finite keep H and δw.
 * Returns the refused units: one number (their count) is read, and their ids when there are any.
 */
export function onlineBlockStep(ctx: EngineContext, blocks: TensorBuffer, inverses: TensorBuffer, ws: TfjsWorkspace, modulus: TensorBuffer, sample: number, gradient: TensorBuffer, decay: number, out: TensorBuffer): Readback<number[]> {
  const { tf, net, size: S, index } = ctx;
  const keep = 1 - decay;
  const c = decay / keep;
  const act = tf.reshape(tf.slice(tf.reshape(ws.act.range(0, net.nUnits * S, ctx.zeroOne), [net.nUnits + 2, S]), [0, sample], [net.nUnits + 2, 1]), [-1]);
  const root = tf.sqrt(tf.relu(tf.reshape(tf.slice(tf.reshape(modulus.tensor, [net.nUnits, S]), [0, sample], [net.nUnits, 1]), [-1])));
  const withZero = (b: TensorBuffer) => tf.concat([b.tensor, tf.zeros([1])]);
  const [a0, h0, g0, x0] = [withZero(blocks), withZero(inverses), withZero(gradient), withZero(out)];
  const nextA: TF.Tensor[] = [];
  const nextH: TF.Tensor[] = [];
  const nextX: TF.Tensor[] = [];
  const refused: TF.Tensor[] = [];
  for (const b of index.buckets) {
    const { n, size: u } = b;
    const square: [number, number, number] = [u, n, n];
    const v = tf.mul(tf.reshape(gatherRows(tf, act, b.rows), [u, n, 1]), tf.reshape(gatherRows(tf, root, b.units), [u, 1, 1])) as TF.Tensor3D;
    const a = tf.reshape(gatherRows(tf, a0, b.blocks), square) as TF.Tensor3D;
    const h = tf.reshape(gatherRows(tf, h0, b.blocks), square) as TF.Tensor3D;
    const hu = tf.matMul(h, v);
    const denominator = tf.reshape(tf.add(tf.mul(tf.matMul(v, hu, true, false), c), 1), [u]);
    const ok = tf.logicalAnd(tf.greater(denominator, 0), tf.isFinite(denominator));
    const f = tf.reshape(tf.where(ok, tf.div(c, denominator), tf.zerosLike(denominator)), [u, 1, 1]);
    nextA.push(tf.reshape(tf.add(tf.mul(a, keep), tf.mul(tf.matMul(v, v, false, true), decay)), [-1]));
    const symmetric = tf.mul(tf.add(h, tf.transpose(h, [0, 2, 1])), 0.5);
    const updated = tf.div(tf.sub(symmetric, tf.mul(f, tf.matMul(hu, hu, false, true))), keep) as TF.Tensor3D;
    nextH.push(tf.reshape(tf.where(tf.reshape(ok, [u, 1, 1]), updated, h), [-1]));
    const direction = tf.reshape(tf.matMul(updated, tf.reshape(gatherRows(tf, g0, b.params), [u, n, 1])), [u, n]);
    nextX.push(tf.reshape(tf.where(tf.reshape(ok, [u, 1]), direction, gatherRows(tf, x0, b.params)), [-1]));
    refused.push(tf.where(ok, tf.fill([u], -1), b.unitValues));
  }
  const join = (parts: TF.Tensor[]) => (parts.length === 1 ? parts[0] : tf.concat(parts));
  blocks.set(gatherRows(tf, join(nextA), index.blocksPerm));
  inverses.set(gatherRows(tf, join(nextH), index.blocksPerm));
  out.set(gatherRows(tf, join(nextX), index.paramsPerm));
  const ids = join(refused);
  return readThen(tf.sum(tf.cast(tf.greaterEqual(ids, 0), 'float32')), ([count]) => {
    if (count === 0) return settled([]);
    // The refused ids are the `count` largest of -id (ids ≥ 0 against -1 elsewhere, negated).
    const smallest = tf.topk(tf.neg(tf.where(tf.greaterEqual(ids, 0), ids, tf.fill(ids.shape, Infinity))), count);
    return readThen(smallest.values, (values) => settled(Array.from(values, (x) => -x)));
  });
}

/** One Adam step (see `Engine.adamStep`): the moments m and v in place, m̂/(√v̂ + ε) into `out`. */
export function adamStep(ctx: EngineContext, m: TensorBuffer, v: TensorBuffer, gradient: TensorBuffer, o: AdamStepOptions, out: TensorBuffer): void {
  const { tf } = ctx;
  const g = gradient.tensor;
  m.set(tf.add(tf.mul(m.tensor, o.beta1), tf.mul(g, 1 - o.beta1)));
  v.set(tf.add(tf.mul(v.tensor, o.beta2), tf.mul(tf.square(g), 1 - o.beta2)));
  const mHat = tf.div(m.tensor, 1 - o.beta1 ** o.step);
  const vHat = tf.div(v.tensor, 1 - o.beta2 ** o.step);
  out.set(tf.div(mHat, tf.add(tf.sqrt(vHat), o.epsilon)));
}
