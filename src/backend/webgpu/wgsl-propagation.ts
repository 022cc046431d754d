import { TABLE_HELPERS } from './webgpu-network.js';
import type { KernelBinding, KernelSpec } from './wgsl-kernel.js';

/**
 * WGSL kernels of propagation (Section 1.1) over the network's CSR lists (`webgpu-network.ts`):
 * one thread per (unit of the level, sample), unit-major arrays [nUnits × S] (unit k, sample s
 * at k·S + s). `W` are the parameters, `T` the index table, `U` the per-unit [kind, gain, scale, shift].
 */

/**
 * expm1 and log1p without cancellation in f32 (Kahan's u-1 corrections), and the activation
 * (value, slope) for the `ActivationCode`s with the CPU reference's formulas (`activations.ts`):
 * sigmoid from e = exp(-|V|), tanh's r = 4t/(1+t)² through expm1, softplus max(V, 0) + log1p(e^-|V|).
 */
export const ACTIVATION_HELPERS = `
fn expm1f(v: f32) -> f32 {
  let u = exp(v);
  if (u == 1.0) { return v; }
  let um1 = u - 1.0;
  if (um1 == -1.0) { return -1.0; }
  return um1 * v / log(u);
}
fn log1pf(v: f32) -> f32 {
  let u = 1.0 + v;
  if (u == 1.0) { return v; }
  return log(u) * v / (u - 1.0);
}
fn activate(code: u32, v: f32) -> vec2f {
  switch code {
    case 1u: {
      if (v >= 0.0) {
        let e = exp(-v);
        let a = 1.0 / (1.0 + e);
        return vec2f(a, a * (e * a));
      }
      let e = exp(v);
      let a = e / (1.0 + e);
      return vec2f(a, a * (1.0 - a));
    }
    case 2u: {
      let m = expm1f(-2.0 * abs(v));
      let d = 2.0 + m;
      let a = -m / d;
      return vec2f(select(a, -a, v < 0.0), 4.0 * (1.0 + m) / (d * d));
    }
    case 4u: {
      return select(vec2f(0.0, 0.0), vec2f(v, 1.0), v > 0.0);
    }
    case 5u: {
      let e = exp(-abs(v));
      return vec2f(max(v, 0.0) + log1pf(e), select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0));
    }
    default: {
      return vec2f(v, 1.0);
    }
  }
}
`;

const f32 = (name: string, write = false): KernelBinding => ({ name, type: 'f32', write });
const table: KernelBinding = { name: 'T', type: 'i32' };

/**
 * V, a, r of units start ≤ k < start + threads/S (Eq. 2, 6; Def. 29): V = gain·(w_0k + Σ_i w_ik a_i),
 * a = scale·s(V) + shift, r = scale·gain·s'(V).
 */
export const forwardKernel: KernelSpec = {
  name: 'forward',
  bindings: [f32('W'), f32('act', true), f32('pre', true), f32('deriv', true), table, f32('U')],
  params: [
    ['start', 'u32'],
    ['S', 'u32'],
  ],
  helpers: TABLE_HELPERS + ACTIVATION_HELPERS,
  body: `  let k = P.start + x / P.S;
  let s = x % P.S;
  let p0 = blockOffset(k);
  let e0 = inOffset(k);
  let e1 = inOffset(k + 1u);
  var sum = W[p0];
  for (var e = e0; e < e1; e = e + 1u) {
    sum = sum + W[p0 + 1u + e - e0] * act[inSource(e) * P.S + s];
  }
  let gain = U[4u * k + 1u];
  let scale = U[4u * k + 2u];
  let v = gain * sum;
  let ar = activate(u32(U[4u * k]), v);
  let row = k * P.S + s;
  pre[row] = v;
  act[row] = scale * ar.x + U[4u * k + 3u];
  deriv[row] = ar.y * scale * gain;`,
};

/**
 * b and b̃ = r b (Eq. 5, 10) of the hidden units of a level (output units are left alone), with
 * `modulus` also m̃ = r² Σ_j w_kj² m̃_j (Eq. 26) on the same pass over the outgoing edges.
 */
export function backwardKernel(modulus: boolean): KernelSpec {
  return {
    name: modulus ? 'backwardModulus' : 'backward',
    bindings: [f32('W'), f32('backReduced', true), f32('back', true), f32('deriv'), table, ...(modulus ? [f32('M', true)] : [])],
    params: [
      ['start', 'u32'],
      ['S', 'u32'],
    ],
    helpers: TABLE_HELPERS,
    body: `  let k = P.start + x / P.S;
  if (outputOf(k) >= 0) { return; }
  let s = x % P.S;
  var b = 0.0;
  var m = 0.0;
  for (var e = outOffset(k); e < outOffset(k + 1u); e = e + 1u) {
    let w = W[outParam(e)];
    let t = outTarget(e) * P.S + s;
    b = b + w * backReduced[t];
    ${modulus ? 'm = m + w * w * M[t];' : ''}
  }
  let row = k * P.S + s;
  let r = deriv[row];
  back[row] = b;
  backReduced[row] = r * b;
  ${modulus ? 'M[row] = r * r * m;' : ''}`,
  };
}

/**
 * G_p = (1/S) Σ_s x_p b̃_k (Eq. 8) per parameter p of unit k (x_p = 1 at the bias, a_i at weight
 * i); with `entries`, the quasi-diagonal entries (1/S) Σ_s ψ̃_k x_p² (`D`) and, with `cross`,
 * (1/S) Σ_s ψ̃_k x_p (`C`) (Eq. 22's A_00, A_ii, A_0i).
 */
export function gradientKernel(entries: boolean, cross: boolean): KernelSpec {
  const extra = entries ? [f32('M'), f32('D', true), ...(cross ? [f32('C', true)] : [])] : [];
  return {
    name: entries ? (cross ? 'gradientEntries' : 'gradientDiagonal') : 'gradient',
    bindings: [f32('act'), f32('backReduced'), table, f32('G', true), ...extra],
    params: [['S', 'u32']],
    helpers: TABLE_HELPERS,
    body: `  let k = paramUnit(x);
  let i = x - blockOffset(k);
  var src = 0u;
  if (i > 0u) { src = inSource(inOffset(k) + i - 1u); }
  var g = 0.0;
  var d = 0.0;
  var c = 0.0;
  for (var s = 0u; s < P.S; s = s + 1u) {
    var a = 1.0;
    if (i > 0u) { a = act[src * P.S + s]; }
    g = g + a * backReduced[k * P.S + s];
    ${entries ? 'let wa = M[k * P.S + s] * a;\n    c = c + wa;\n    d = d + wa * a;' : ''}
  }
  let inv = 1.0 / f32(P.S);
  G[x] = g * inv;
  ${entries ? 'D[x] = d * inv;' : ''}
  ${cross ? 'C[x] = c * inv;' : ''}`,
  };
}
