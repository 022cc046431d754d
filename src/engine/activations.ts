import { ActivationCode } from './compiled-network.js';

/**
 * Applies unit activation s to pre-activations V (Eq. 2) and computes r = s'(V) (Eq. 6) over
 * `pre[offset .. offset+length-1]`, writing `act` and `deriv` at the same positions.
 *
 * NOTE: r is computed from V rather than from a (a(1-a), 1-a²) so that it keeps full relative
 * precision for saturated units: with e = exp(-|V|), the sigmoid's r is a·(e·a) for V ≥ 0 and
 * a(1-a) for V < 0 (both free of cancellation), and tanh's r is 4t/(1+t)² with t = exp(-2|V|),
 * computed through expm1 so that small |V| loses nothing either. One exp per unit and sample.
 * relu: a = max(0, V), r = 1 for V > 0 and 0 for V ≤ 0 (the left slope at 0, where s has
 * none; a measure-zero event for real-valued weights). softplus: a = ln(1 + e^V) written as
 * max(V, 0) + log1p(e^-|V|) so that it neither overflows nor cancels, r = sigm(V).
 */
export function activate(code: number, pre: Float64Array, act: Float64Array, deriv: Float64Array, offset: number, length: number): void {
  const end = offset + length;
  if (code === ActivationCode.Sigmoid) {
    for (let i = offset; i < end; i++) {
      const v = pre[i];
      if (v >= 0) {
        const e = Math.exp(-v);
        const a = 1 / (1 + e);
        act[i] = a;
        deriv[i] = a * (e * a);
      } else {
        const e = Math.exp(v);
        const a = e / (1 + e);
        act[i] = a;
        deriv[i] = a * (1 - a);
      }
    }
  } else if (code === ActivationCode.Tanh) {
    for (let i = offset; i < end; i++) {
      const v = pre[i];
      const m = Math.expm1(-2 * Math.abs(v)); // t - 1, in (-1, 0]
      const d = 2 + m; // 1 + t
      const a = -m / d;
      act[i] = v < 0 ? -a : a;
      deriv[i] = (4 * (1 + m)) / (d * d);
    }
  } else if (code === ActivationCode.Relu) {
    for (let i = offset; i < end; i++) {
      const v = pre[i];
      act[i] = v > 0 ? v : 0;
      deriv[i] = v > 0 ? 1 : 0;
    }
  } else if (code === ActivationCode.Softplus) {
    for (let i = offset; i < end; i++) {
      const v = pre[i];
      const e = Math.exp(-Math.abs(v)); // in (0, 1]
      act[i] = (v > 0 ? v : 0) + Math.log1p(e);
      deriv[i] = v >= 0 ? 1 / (1 + e) : e / (1 + e);
    }
  } else {
    for (let i = offset; i < end; i++) {
      act[i] = pre[i];
      deriv[i] = 1;
    }
  }
}

/**
 * Affine-wrapped activation of Def. 29: a = scale·s(gain·V) + shift, r = ∂a/∂V =
 * scale·gain·s'(gain·V). `pre` is left holding the argument gain·V of s.
 */
export function activateAffine(code: number, gain: number, scale: number, shift: number, pre: Float64Array, act: Float64Array, deriv: Float64Array, offset: number, length: number): void {
  if (gain === 1 && scale === 1 && shift === 0) return activate(code, pre, act, deriv, offset, length);
  const end = offset + length;
  for (let i = offset; i < end; i++) pre[i] *= gain;
  activate(code, pre, act, deriv, offset, length);
  for (let i = offset; i < end; i++) {
    act[i] = scale * act[i] + shift;
    deriv[i] *= scale * gain;
  }
}
