import { fusedBackwardLevel, fusedForwardLevel, fusedGradient, onCpu } from './cpu-fused.js';
import { ellProduct, ellRowDots } from './ell-products.js';
import { gatherRows } from './gather.js';
import type * as TF from '@tensorflow/tfjs-core';
import type { Activation, Interpretation } from '../../network/types.js';
import { outputRows, rows, writeOutputRows, type EngineContext, type TfjsWorkspace } from './engine-context.js';
import type { LevelIndex } from './engine-index.js';
import { inWeights, outWeights, sumAbove } from './engine-weights.js';
import { readThen, settled, type Readback } from './engine-readback.js';
import type { TensorBuffer } from './tensor-buffer.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/*
 * NOTE: on tfjs's CPU backend an elementwise op whose operands differ in shape other than by
 * missing leading axes (e.g. [count × 1] against [count × size]) and a slice that is not one
 * contiguous range both take a per-element path about fifty times slower than their plain
 * loops; so constants are built at the full [count × size] shape, per-sample vectors are rank 1,
 * and sums over units are products with a row of ones.
 */

/** The rows a level reads: act of units inBase .. start-1, a zero row and a row of ones: [inSpan + 2 × size]. */
function sources(ctx: EngineContext, ws: TfjsWorkspace, lv: LevelIndex): TF.Tensor2D {
  return ctx.tf.reshape(ws.act.range(lv.inBase * ctx.size, lv.inSpan * ctx.size, ctx.zeroOne), [lv.inSpan + 2, ctx.size]);
}

/**
 * Forward propagation of one level (Eq. 2, 6; Def. 29): V = W ā, the level's weights (bias
 * against the row of ones) times its source rows, dense or by padded lists; then
 * a = scale·s(gain·V) + shift and r = scale·gain·s'(gain·V). Writes the level's rows of `pre`
 * (gain·V), `act` and `deriv` ([count × size] each).
 */
export function forwardLevel(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, level: number): void {
  const { tf, size: S } = ctx;
  const lv = ctx.index.levels[level - 1];
  if (onCpu(tf)) {
    const targets = [ws.pre, ws.act, ws.deriv];
    const dest = targets.map((b) => b.writable(lv.start * S, lv.count * S));
    const outs = fusedForwardLevel(tf, ctx.net, S, params.tensor, ws.act.rowPieces(lv.inBase, lv.inSpan, S), lv.start, lv.count, dest);
    targets.forEach((b, i) => b.write(lv.start * S, outs[i], dest[i] !== undefined));
    return;
  }
  const src = sources(ctx, ws, lv);
  const w = inWeights(ctx, params, lv);
  let z: TF.Tensor = lv.inDense ? tf.matMul(w as TF.Tensor2D, src) : ellProduct(tf, w as TF.Tensor3D, src, lv.inSource as TF.Tensor2D, lv.inSpan);
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
 * s(z) and s'(z) for the level's activation(s) (mixed levels: each present kind under its mask).
 * NOTE: s' is taken from z, not from a (a(1-a), 1-a²), so that saturated units keep their
 * relative precision in float32 (sigm(z)·sigm(-z), 1/cosh²z), as the CPU reference does in
 * float64; one more launch per level. relu's slope is 1 for z > 0, else 0 (as on the CPU);
 * tf.softplus is the stable form and its slope is sigm(z).
 */
function activate(tf: typeof TF, lv: LevelIndex, z: TF.Tensor): [TF.Tensor, TF.Tensor] {
  const one = (kind: Activation): [TF.Tensor, TF.Tensor] => {
    if (kind === 'sigmoid') {
      const a = tf.sigmoid(z);
      return [a, tf.mul(a, tf.sigmoid(tf.neg(z)))];
    }
    if (kind === 'tanh') return [tf.tanh(z), tf.reciprocal(tf.square(tf.cosh(z)))];
    if (kind === 'relu') return [tf.relu(z), tf.step(z)];
    if (kind === 'softplus') return [tf.softplus(z), tf.sigmoid(z)];
    return [z, tf.onesLike(z)];
  };
  if (lv.activation !== 'mixed') return one(lv.activation);
  const as: TF.Tensor[] = [];
  const rs: TF.Tensor[] = [];
  for (const [kind, mask] of Object.entries(lv.masks ?? {}) as Array<[Activation, TF.Tensor2D]>) {
    if (kind === 'linear') {
      as.push(tf.mul(z, mask));
      rs.push(mask);
      continue;
    }
    const [a, r] = one(kind);
    as.push(tf.mul(a, mask));
    rs.push(tf.mul(r, mask));
  }
  return [tf.addN(as), tf.addN(rs)];
}

/** Output-layer quantities, all of one shape [nOutputs × columns] but `norm2` (rank 1, [columns]). */
export interface OutputTerms {
  readonly a: TF.Tensor2D;
  readonly r: TF.Tensor2D;
  /** Softmax: class probabilities. */
  readonly p?: TF.Tensor2D;
  /** Spherical: Σ_o a_o² per column. */
  readonly norm2?: TF.Tensor1D;
  /** Bernoulli: 1 for tanh outputs (when there is one). */
  readonly isTanh?: TF.Tensor2D;
}

/** Σ over the outputs (axis 0) of [nOutputs × columns], as a product with a row of ones: [columns]. */
export function sumOutputs(ctx: EngineContext, x: TF.Tensor): TF.Tensor1D {
  return ctx.tf.reshape(ctx.tf.matMul(ctx.index.outputs.ones, x as TF.Tensor2D), [-1]);
}

/** {@link OutputTerms} of the forward pass in `ws` ([nOutputs × size]). */
export function outputTerms(ctx: EngineContext, ws: TfjsWorkspace): OutputTerms {
  const { tf, net } = ctx;
  const a = outputRows(ctx, ws.act);
  const r = outputRows(ctx, ws.deriv);
  if (net.interpretation === 'softmax') return { a, r, p: tf.transpose(tf.softmax(tf.transpose(a))) };
  if (net.interpretation === 'spherical') return { a, r, norm2: sumOutputs(ctx, tf.square(a)) };
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
    loss = tf.add(tf.mul(sumOutputs(ctx, tf.square(tf.sub(y, t.a))), 0.5), net.nOutputs * HALF_LOG_2PI);
  } else if (net.interpretation === 'bernoulli') {
    // p = sigm(z), z = V or 2V for tanh outputs: ℓ = y softplus(-z) + (1-y) softplus(z).
    const pre = outputRows(ctx, ws.pre);
    const z = t.isTanh ? tf.mul(pre, tf.add(t.isTanh, 1)) : pre;
    loss = sumOutputs(ctx, tf.add(tf.mul(y, tf.softplus(tf.neg(z))), tf.mul(tf.sub(1, y), tf.softplus(z))));
  } else if (net.interpretation === 'softmax') {
    loss = tf.neg(sumOutputs(ctx, tf.mul(y, tf.transpose(tf.logSoftmax(tf.transpose(t.a))))));
  } else {
    const logP = tf.sub(tf.log(tf.square(t.a)), tf.log(t.norm2 as TF.Tensor));
    loss = tf.neg(sumOutputs(ctx, tf.where(tf.greater(y, 0), tf.mul(y, logP), tf.zerosLike(y))));
  }
  ws.loss.set(loss);
  writeOutputRows(ctx, ws.backReduced, reducedOutputBack(tf, net.interpretation, y, t));
}

/** Mean of `ws.loss` (one number read back). */
export function meanLoss(ctx: EngineContext, ws: TfjsWorkspace): Readback<number> {
  return readThen(ctx.tf.mean(ws.loss.tensor), (v) => settled(v[0]));
}

/**
 * Backward propagation of one level (Eq. 5, 10): b = Σ_j w_kj b̃_j from the rows above, b̃ = r b,
 * for the level's hidden units; with `modulus`, m̃ = r² Σ_j w_kj² m̃_j (Eq. 26) with the squared
 * weights on the same route. Output units keep their rows.
 */
export function backwardLevel(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, level: number, modulus?: TensorBuffer): void {
  const { tf, size: S } = ctx;
  const lv = ctx.index.levels[level - 1];
  if (lv.hidden === 0) return;
  if (onCpu(tf)) {
    const span = Math.max(lv.start + lv.count, lv.outBase + lv.outSpan) - lv.start;
    const groups = { d: ws.deriv.rowPieces(lv.start, lv.count, S), b: ws.backReduced.rowPieces(lv.start, span, S), k: ws.back.rowPieces(lv.start, lv.count, S), m: modulus?.rowPieces(lv.start, span, S) };
    const targets = modulus ? [ws.back, ws.backReduced, modulus] : [ws.back, ws.backReduced];
    const dest = targets.map((b) => b.writable(lv.start * S, lv.count * S));
    const outs = fusedBackwardLevel(tf, ctx.net, S, params.tensor, groups, lv.start, lv.count, dest);
    targets.forEach((b, i) => b.write(lv.start * S, outs[i], dest[i] !== undefined));
    return;
  }
  const r = rows(ctx, ws.deriv, lv.start, lv.count);
  const w = outWeights(ctx, params, lv);
  const above = (buffer: TensorBuffer) => rows(ctx, buffer, lv.outBase, lv.outSpan);
  const keepOutputs = (buffer: TensorBuffer, value: TF.Tensor) => (lv.hiddenMask ? tf.where(lv.hiddenMask, value, rows(ctx, buffer, lv.start, lv.count)) : value);
  const b = w ? sumAbove(tf, lv, w, above(ws.backReduced)) : tf.zeros([lv.count, S]);
  ws.back.write(lv.start * S, keepOutputs(ws.back, b));
  ws.backReduced.write(lv.start * S, keepOutputs(ws.backReduced, tf.mul(r, b)));
  if (modulus) {
    const squares = w && ctx.weights(params, `square${lv.start}`, () => tf.square(w));
    const m = squares ? tf.mul(sumAbove(tf, lv, squares, above(modulus)), tf.square(r)) : tf.zeros([lv.count, S]);
    modulus.write(lv.start * S, keepOutputs(modulus, m));
  }
}

/**
 * G_p = E_x ā_p b̃_k (Eq. 8, 19), and with `entries` the quasi-diagonal entries E ψ̃ ā²
 * (diagonal) and E ψ̃ ā (cross), per level: dense levels as [count × size]·[size × rows]
 * products (every (unit, source row) pair, the parameters picked out afterwards), ELL levels by
 * gathers of each unit's ā and batched products, then one gather into the parameter layout.
 * NOTE: ELL gathers are taken a chunk of units at a time so that no [units × F × size]
 * intermediate exceeds `chunkEntries` numbers (a 10⁶-edge level with 64 samples).
 */
export function gradient(ctx: EngineContext, ws: TfjsWorkspace, out: TensorBuffer, entries?: { modulus: TensorBuffer; diagonal: TensorBuffer; cross?: TensorBuffer }): void {
  const { tf, size: S } = ctx;
  if (onCpu(tf)) {
    const all = (b: TensorBuffer) => b.rowPieces(0, ctx.net.nUnits, S);
    const targets = entries ? [out, entries.diagonal, ...(entries.cross ? [entries.cross] : [])] : [out];
    const dest = targets.map((b) => b.writable(0, b.length));
    const outs = fusedGradient(tf, ctx.net, S, { a: all(ws.act), b: all(ws.backReduced), m: entries && all(entries.modulus) }, entries?.cross !== undefined, dest);
    targets.forEach((b, i) => b.set(outs[i], undefined, dest[i] !== undefined));
    return;
  }
  const parts: TF.Tensor[][] = [[], [], []];
  for (const lv of ctx.index.levels) {
    const src = sources(ctx, ws, lv);
    const b = rows(ctx, ws.backReduced, lv.start, lv.count);
    const psi = entries && rows(ctx, entries.modulus, lv.start, lv.count);
    const add = (g: TF.Tensor, diagonal?: TF.Tensor, cross?: TF.Tensor) => {
      parts[0].push(tf.reshape(g, [-1]));
      if (diagonal && cross) {
        parts[1].push(tf.reshape(diagonal, [-1]));
        parts[2].push(tf.reshape(cross, [-1]));
      }
    };
    if (lv.inDense) {
      add(tf.matMul(b, src, false, true), psi && tf.matMul(psi, tf.square(src), false, true), psi && tf.matMul(psi, src, false, true));
      continue;
    }
    const width = lv.gradWidth;
    const chunk = Math.max(1, Math.floor(ctx.chunkEntries / (width * S)));
    for (let i0 = 0; i0 < lv.count; i0 += chunk) {
      const n = Math.min(chunk, lv.count - i0);
      const pick = (t: TF.Tensor2D) => (n === lv.count ? t : tf.slice(t, [i0, 0], [n, t.shape[1]]));
      // Σ_s of ā (or ā²) of each list entry times the unit's b̃ (or ψ̃): [n × F × 1] each.
      const [g, diagonal, cross] = ellRowDots(tf, src, pick(lv.inSource as TF.Tensor2D), psi ? [{ y: pick(b) }, { y: pick(psi), square: true }, { y: pick(psi) }] : [{ y: pick(b) }]);
      add(g, diagonal, cross);
    }
  }
  const join = (list: TF.Tensor[]) => tf.mul(gatherRows(tf, list.length === 1 ? list[0] : tf.concat(list), ctx.index.params.gradPerm), 1 / S);
  out.set(join(parts[0]));
  if (entries) {
    entries.diagonal.set(join(parts[1]));
    entries.cross?.set(join(parts[2]));
  }
}
