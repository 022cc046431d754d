import type * as TF from '@tensorflow/tfjs-core';
import type { Interpretation } from '../../network/types.js';
import { outputRows, rows, writeOutputRows, type EngineContext, type TfjsWorkspace } from './engine-context.js';
import type { LevelIndex } from './engine-index.js';
import type { TensorBuffer } from './tensor-buffer.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Forward propagation of one level (Eq. 2, 6; Def. 29): V = Σ w ā over the level's padded
 * incoming lists (bias first, against the row of ones) as one batched [1 × F] × [F × size]
 * product per unit, then a = scale·s(gain·V) + shift and r = scale·gain·s'(gain·V).
 * Writes the level's rows of `pre` (gain·V), `act` and `deriv`. Shapes: [count × 1 × size].
 */
export function forwardLevel(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, level: number): void {
  const { tf, size: S } = ctx;
  const lv = ctx.index.levels[level - 1];
  const sources = tf.reshape(ws.act.range(lv.inBase * S, lv.inSpan * S, ctx.zeroOne), [lv.inSpan + 2, S]);
  const weights = tf.gather(ctx.paramsExt(params) as TF.Tensor, lv.inParam) as TF.Tensor3D; // [count × 1 × (F+1)]
  let z = tf.matMul(weights, tf.gather(sources, lv.inSource) as TF.Tensor3D); // [count × 1 × S]
  if (lv.affine) z = tf.mul(z, lv.affine.gain);
  let [a, r] = activate(tf, lv, z);
  if (lv.affine) {
    a = tf.add(tf.mul(a, lv.affine.scale), lv.affine.shift);
    r = tf.mul(r, lv.affine.scaleGain);
  }
  ws.pre.write(lv.start * S, z);
  ws.act.write(lv.start * S, a === z ? tf.clone(a) : a);
  ws.deriv.write(lv.start * S, r);
}

/**
 * s(z) and s'(z) for the level's activation(s).
 * NOTE: s' is taken from z, not from a (a(1-a), 1-a²), so that saturated units keep a relative
 * precision in float32 (sigm(z)·sigm(-z), 1/cosh²z), as the CPU reference does in float64; one
 * more launch per level.
 */
function activate(tf: typeof TF, lv: LevelIndex, z: TF.Tensor): [TF.Tensor, TF.Tensor] {
  const sigmoid = (): [TF.Tensor, TF.Tensor] => {
    const a = tf.sigmoid(z);
    return [a, tf.mul(a, tf.sigmoid(tf.neg(z)))];
  };
  const tanh = (): [TF.Tensor, TF.Tensor] => [tf.tanh(z), tf.reciprocal(tf.square(tf.cosh(z)))];
  if (lv.activation === 'sigmoid') return sigmoid();
  if (lv.activation === 'tanh') return tanh();
  if (lv.activation === 'linear') return [z, tf.onesLike(z)];
  const masks = lv.masks as NonNullable<LevelIndex['masks']>;
  const [sa, sr] = sigmoid();
  const [ta, tr] = tanh();
  const a = tf.addN([tf.mul(sa, masks.sigmoid), tf.mul(ta, masks.tanh), tf.mul(z, masks.linear)]);
  const r = tf.addN([tf.mul(sr, masks.sigmoid), tf.mul(tr, masks.tanh), tf.mul(tf.onesLike(z), masks.linear)]);
  return [a, r];
}

/** Output-layer quantities of one interpretation, broadcastable against the targets. */
export interface OutputTerms {
  /** Output activities a and derivatives r. */
  readonly a: TF.Tensor;
  readonly r: TF.Tensor;
  /** Softmax: class probabilities; spherical: Σ_o a_o² per sample; Bernoulli: 1 for tanh outputs (when any). */
  readonly p?: TF.Tensor;
  readonly norm2?: TF.Tensor;
  readonly isTanh?: TF.Tensor;
}

/** Softmax over the outputs (axis 0) of [nOutputs × size] activities. */
export function softmaxRows(tf: typeof TF, a: TF.Tensor2D): TF.Tensor2D {
  return tf.transpose(tf.softmax(tf.transpose(a)));
}

/** {@link OutputTerms} of the forward pass in `ws`, [nOutputs × size] (norm2 [1 × size]). */
export function outputTerms(ctx: EngineContext, ws: TfjsWorkspace): OutputTerms {
  const { tf, net } = ctx;
  const a = outputRows(ctx, ws.act);
  const r = outputRows(ctx, ws.deriv);
  if (net.interpretation === 'softmax') return { a, r, p: softmaxRows(tf, a) };
  if (net.interpretation === 'spherical') return { a, r, norm2: tf.sum(tf.square(a), 0, true) };
  if (net.interpretation === 'bernoulli') return { a, r, isTanh: ctx.index.outputs.isTanh };
  return { a, r };
}

/**
 * Reduced backpropagated values b̃ of the outputs (Eq. 7, 9) for targets `y` (see
 * `engine/output-layer.ts`): square r(y - a); Bernoulli y - a, or 2y - 1 - a for tanh outputs;
 * softmax r(y - p); spherical r(2y/a - 2a/Σa²), the y/a term 0 where y = 0.
 */
export function reducedOutputBack(tf: typeof TF, interpretation: Interpretation, y: TF.Tensor, t: OutputTerms): TF.Tensor {
  if (interpretation === 'square') return tf.mul(t.r, tf.sub(y, t.a));
  if (interpretation === 'bernoulli') {
    const plain = tf.sub(y, t.a);
    return t.isTanh ? tf.sub(plain, tf.mul(t.isTanh, tf.sub(1, y))) : plain;
  }
  if (interpretation === 'softmax') return tf.mul(t.r, tf.sub(y, t.p as TF.Tensor));
  const positive = tf.greater(y, 0);
  const ratio = tf.where(positive, tf.div(tf.mul(y, 2), tf.where(positive, t.a, tf.onesLike(t.a))), tf.zerosLike(y));
  return tf.mul(t.r, tf.sub(ratio, tf.div(tf.mul(t.a, 2), t.norm2 as TF.Tensor)));
}

/** ℓ per sample (Eq. 3) into `ws.loss` and b̃ of the outputs into `ws.backReduced`, from `ws.targets`. */
export function outputLayer(ctx: EngineContext, ws: TfjsWorkspace): void {
  const { tf, net, size: S } = ctx;
  const t = outputTerms(ctx, ws);
  const y = tf.reshape(ws.targets.tensor, [net.nOutputs, S]);
  let loss: TF.Tensor;
  if (net.interpretation === 'square') {
    loss = tf.add(tf.mul(tf.sum(tf.square(tf.sub(y, t.a)), 0), 0.5), net.nOutputs * HALF_LOG_2PI);
  } else if (net.interpretation === 'bernoulli') {
    // p = sigm(z), z = V or 2V for tanh outputs: ℓ = y softplus(-z) + (1-y) softplus(z).
    const pre = outputRows(ctx, ws.pre);
    const z = t.isTanh ? tf.mul(pre, tf.add(t.isTanh, 1)) : pre;
    loss = tf.sum(tf.add(tf.mul(y, tf.softplus(tf.neg(z))), tf.mul(tf.sub(1, y), tf.softplus(z))), 0);
  } else if (net.interpretation === 'softmax') {
    loss = tf.neg(tf.sum(tf.mul(y, tf.transpose(tf.logSoftmax(tf.transpose(t.a)))), 0));
  } else {
    const positive = tf.greater(y, 0);
    const logP = tf.sub(tf.log(tf.square(t.a)), tf.log(t.norm2 as TF.Tensor));
    loss = tf.neg(tf.sum(tf.where(positive, tf.mul(y, logP), tf.zerosLike(y)), 0));
  }
  ws.loss.set(loss);
  writeOutputRows(ctx, ws.backReduced, reducedOutputBack(tf, net.interpretation, y, t));
}

/** Mean of `ws.loss` (one number read back). */
export function meanLoss(ctx: EngineContext, ws: TfjsWorkspace): number {
  return ctx.readSmall(ctx.tf.mean(ws.loss.tensor))[0];
}

/**
 * Backward propagation of one level (Eq. 5, 10): b = Σ_j w_kj b̃_j over the padded outgoing
 * lists (one batched product per unit), b̃ = r b, for the level's hidden units; with `modulus`,
 * m̃ = r² Σ_j w_kj² m̃_j (Eq. 26) on the same gathers' pattern. Output units keep their rows.
 */
export function backwardLevel(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, level: number, modulus?: TensorBuffer): void {
  const { tf, size: S } = ctx;
  const lv = ctx.index.levels[level - 1];
  if (lv.hidden === 0) return;
  const shape: [number, number, number] = [lv.count, 1, S];
  const r = tf.reshape(ws.deriv.range(lv.start * S, lv.count * S), shape);
  const above = (buffer: TensorBuffer) => tf.gather(tf.reshape(buffer.range(lv.outBase * S, lv.outSpan * S, ctx.zeroOne), [lv.outSpan + 2, S]) as TF.Tensor, lv.outTarget as TF.Tensor2D) as TF.Tensor3D;
  const weights = lv.fanOut > 0 ? (tf.gather(ctx.paramsExt(params) as TF.Tensor, lv.outParam as TF.Tensor3D) as TF.Tensor3D) : undefined;
  const keepOutputs = (buffer: TensorBuffer, value: TF.Tensor) => {
    if (!lv.hiddenMask) return value;
    const old = tf.reshape(buffer.range(lv.start * S, lv.count * S), shape);
    return tf.add(old, tf.mul(lv.hiddenMask, tf.sub(value, old)));
  };
  const b = weights ? tf.matMul(weights, above(ws.backReduced)) : tf.zeros(shape);
  ws.back.write(lv.start * S, keepOutputs(ws.back, b));
  ws.backReduced.write(lv.start * S, keepOutputs(ws.backReduced, tf.mul(r, b)));
  if (modulus) {
    const m = weights ? tf.mul(tf.matMul(tf.square(weights), above(modulus)), tf.square(r)) : tf.zeros(shape);
    modulus.write(lv.start * S, keepOutputs(modulus, m));
  }
}

/**
 * G_p = E_x ā_p b̃_k (Eq. 8, 19) per parameter by [parameters × size] gathers, and with
 * `entries` the quasi-diagonal entries E ψ̃ ā² (diagonal) and E ψ̃ ā (cross) on the same gathers.
 * NOTE: gathers are taken a chunk of parameters at a time (index tensors built at open) so
 * that a 10⁶-edge network with 64 samples never holds [nParams × 64] intermediates at once.
 */
export function gradient(ctx: EngineContext, ws: TfjsWorkspace, out: TensorBuffer, entries?: { modulus: TensorBuffer; diagonal: TensorBuffer; cross?: TensorBuffer }): void {
  const { tf, net, size: S } = ctx;
  const act = tf.reshape(ws.act.range(0, net.nUnits * S, ctx.zeroOne), [net.nUnits + 2, S]);
  const back = rows(ctx, ws.backReduced, 0, net.nUnits);
  const psi = entries ? rows(ctx, entries.modulus, 0, net.nUnits) : undefined;
  const parts = ctx.index.params.chunks.map((chunk) =>
    tf.tidy(() => {
      const a = tf.gather(act, chunk.source);
      const g = tf.mean(tf.mul(a, tf.gather(back, chunk.unit)), 1);
      if (!psi) return [g];
      const weighted = tf.mul(a, tf.gather(psi, chunk.unit));
      return [g, tf.mean(tf.mul(weighted, a), 1), tf.mean(weighted, 1)];
    }),
  );
  const join = (i: number) => (parts.length === 1 ? parts[0][i] : tf.concat(parts.map((p) => p[i])));
  out.set(join(0));
  if (entries) {
    entries.diagonal.set(join(1));
    entries.cross?.set(join(2));
  }
}
