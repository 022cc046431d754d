import { TABLE_HELPERS } from './webgpu-network.js';
import { ACTIVATION_HELPERS } from './wgsl-propagation.js';
import type { KernelBinding, KernelSpec } from './wgsl-kernel.js';

/**
 * WGSL kernels of the output layer (Eq. 3, 7, 9) and of the output metric (Example 1, Eq. 27).
 * Interpretation codes: 0 square, 1 Bernoulli, 2 softmax, 3 spherical. Targets `Y` are
 * [nOutputs × S]; `stats` holds per sample [max a, Σ exp(a - max), Σ a²] over the outputs
 * ([S × 3]), written by {@link outputStatsKernel} for the kernels after it.
 */

const f32 = (name: string, write = false): KernelBinding => ({ name, type: 'f32', write });
const table: KernelBinding = { name: 'T', type: 'i32' };

/** Bernoulli outputs on tanh units read a = 2p - 1 (`U[4k]` is the unit's activation code, 2 for tanh). */
const IS_TANH = 'select(0.0, 1.0, u32(U[4u * k]) == 2u)';

/**
 * Per sample (thread x = s): the stats, and with `withLoss` = 1 the loss ℓ = -ln ω(y): square
 * ½(y-a)² + ln √(2π); Bernoulli y softplus(-z) + (1-y) softplus(z), z = V (2V on tanh units);
 * softmax -Σ y (a - ln Σ e^a); spherical -Σ y ln(a²/Σa²).
 */
export const outputStatsKernel: KernelSpec = {
  name: 'outputStats',
  bindings: [f32('act'), f32('pre'), f32('Y'), table, f32('U'), f32('stats', true), f32('loss', true)],
  params: [
    ['S', 'u32'],
    ['interpretation', 'u32'],
    ['withLoss', 'u32'],
  ],
  helpers: TABLE_HELPERS + ACTIVATION_HELPERS,
  body: `  let s = x;
  let n = nOutputs();
  var top = -3.0e38;
  var norm2 = 0.0;
  for (var j = 0u; j < n; j = j + 1u) {
    let a = act[outputUnit(j) * P.S + s];
    top = max(top, a);
    norm2 = norm2 + a * a;
  }
  var total = 0.0;
  for (var j = 0u; j < n; j = j + 1u) {
    total = total + exp(act[outputUnit(j) * P.S + s] - top);
  }
  stats[3u * s] = top;
  stats[3u * s + 1u] = total;
  stats[3u * s + 2u] = norm2;
  if (P.withLoss == 0u) { return; }
  let logNormaliser = top + log(total);
  var l = 0.0;
  for (var j = 0u; j < n; j = j + 1u) {
    let k = outputUnit(j);
    let a = act[k * P.S + s];
    let y = Y[j * P.S + s];
    if (P.interpretation == 0u) {
      l = l + 0.5 * (y - a) * (y - a) + 0.9189385332046727;
    } else if (P.interpretation == 1u) {
      let z = pre[k * P.S + s] * (1.0 + ${IS_TANH});
      let tail = log1pf(exp(-abs(z)));
      l = l + y * (max(-z, 0.0) + tail) + (1.0 - y) * (max(z, 0.0) + tail);
    } else if (P.interpretation == 2u) {
      if (y != 0.0) { l = l - y * (a - logNormaliser); }
    } else if (y != 0.0) {
      l = l - y * (log(a * a) - log(norm2));
    }
  }
  loss[s] = l;`,
};

/**
 * b̃ of the output units (Eq. 7, 9), thread x = j·S + s: square r(y - a); Bernoulli y - a
 * (2y - 1 - a on tanh units); softmax r(y - p); spherical r(2y/a - 2a/Σa²), the y/a term 0 where y = 0.
 */
export const outputBackKernel: KernelSpec = {
  name: 'outputBack',
  bindings: [f32('act'), f32('deriv'), f32('Y'), table, f32('U'), f32('stats'), f32('backReduced', true)],
  params: [
    ['S', 'u32'],
    ['interpretation', 'u32'],
  ],
  helpers: TABLE_HELPERS,
  body: `  let j = x / P.S;
  let s = x % P.S;
  let k = outputUnit(j);
  let row = k * P.S + s;
  let a = act[row];
  let r = deriv[row];
  let y = Y[x];
  var b = 0.0;
  if (P.interpretation == 0u) {
    b = r * (y - a);
  } else if (P.interpretation == 1u) {
    b = y - a - ${IS_TANH} * (1.0 - y);
  } else if (P.interpretation == 2u) {
    b = r * (y - exp(a - stats[3u * s] - log(stats[3u * s + 1u])));
  } else {
    var direct = 0.0;
    if (y != 0.0) { direct = 2.0 * y / a; }
    b = r * (direct - 2.0 * a / stats[3u * s + 2u]);
  }
  backReduced[row] = b;`,
};

/**
 * Output rows of the reduced backpropagated modulus m̃_o (Eq. 27), thread x = j·S + s: square
 * r², Bernoulli r, softmax r² p(1-p), spherical r² (4/N)(1 - a²/N), N = Σa².
 */
export const outputModulusKernel: KernelSpec = {
  name: 'outputModulus',
  bindings: [f32('act'), f32('deriv'), table, f32('stats'), f32('M', true)],
  params: [
    ['S', 'u32'],
    ['interpretation', 'u32'],
  ],
  helpers: TABLE_HELPERS,
  body: `  let s = x % P.S;
  let row = outputRow(x, P.S);
  let r = deriv[row];
  let a = act[row];
  var m = r * r;
  if (P.interpretation == 1u) {
    m = r;
  } else if (P.interpretation == 2u) {
    let p = exp(a - stats[3u * s]) / stats[3u * s + 1u];
    m = r * r * (p - p * p);
  } else if (P.interpretation == 3u) {
    let n = stats[3u * s + 2u];
    m = r * r * (4.0 / n - 4.0 * a * a / (n * n));
  }
  M[row] = m;`,
};
