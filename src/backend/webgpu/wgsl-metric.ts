import { TABLE_HELPERS } from './webgpu-network.js';
import type { KernelBinding, KernelSpec } from './wgsl-kernel.js';

/**
 * WGSL kernels of the metrics (Sections 1.2, 2.5): the output metric, Monte-Carlo targets,
 * transfer rates (Def. 2, Eq. 13) and the Fisher modulus (Def. 3, Eq. 14-17). Transfer rates of
 * a chunk of C outputs live in one array R [nUnits × C × S] (unit k, output j0 + c, sample s at
 * (k·C + c)·S + s), filled level by level from the top. Interpretation codes and `stats` as in
 * `wgsl-output.ts`.
 */

const f32 = (name: string, write = false): KernelBinding => ({ name, type: 'f32', write });
const table: KernelBinding = { name: 'T', type: 'i32' };

/**
 * The output metric (`OutputMetric`), thread x = j·S + s (x = s for which 3): which 0 seeds σ
 * (√r Bernoulli, r otherwise), 1 β (p softmax, 4/Σa² spherical, 1 otherwise), 2 γ (p softmax, a
 * spherical), 3 β_x (-1 softmax, -4/(Σa²)² spherical).
 */
export const outputMetricKernel: KernelSpec = {
  name: 'outputMetric',
  bindings: [f32('act'), f32('deriv'), table, f32('stats'), f32('out', true)],
  params: [
    ['S', 'u32'],
    ['interpretation', 'u32'],
    ['which', 'u32'],
  ],
  helpers: TABLE_HELPERS,
  body: `  if (P.which == 3u) {
    let n = stats[3u * x + 2u];
    out[x] = select(-4.0 / (n * n), -1.0, P.interpretation == 2u);
    return;
  }
  let s = x % P.S;
  let row = outputRow(x, P.S);
  let r = deriv[row];
  let a = act[row];
  let p = exp(a - stats[3u * s]) / stats[3u * s + 1u];
  if (P.which == 0u) {
    out[x] = select(r, sqrt(r), P.interpretation == 1u);
  } else if (P.interpretation < 2u) {
    out[x] = 1.0;
  } else if (P.which == 1u) {
    out[x] = select(4.0 / stats[3u * s + 2u], p, P.interpretation == 2u);
  } else {
    out[x] = select(a, p, P.interpretation == 2u);
  }`,
};

/**
 * Outputs y ~ ω(x) from draw numbers `D` (from `P.base`), thread x = j·S + s: square a + n;
 * Bernoulli u < p (p = a, or (1+a)/2 on tanh units); softmax and spherical one-hot of the class
 * found by walking the probabilities with u = D[base + s].
 */
export const drawTargetsKernel: KernelSpec = {
  name: 'drawTargets',
  bindings: [f32('act'), f32('D'), table, f32('U'), f32('stats'), f32('Y', true)],
  params: [
    ['S', 'u32'],
    ['interpretation', 'u32'],
    ['base', 'u32'],
  ],
  helpers: TABLE_HELPERS,
  body: `  let j = x / P.S;
  let s = x % P.S;
  let k = outputUnit(j);
  let a = act[k * P.S + s];
  if (P.interpretation == 0u) {
    Y[x] = a + D[P.base + x];
    return;
  }
  if (P.interpretation == 1u) {
    let p = select(a, 0.5 * (1.0 + a), u32(U[4u * k]) == 2u);
    Y[x] = select(0.0, 1.0, D[P.base + x] < p);
    return;
  }
  let n = nOutputs();
  var u = D[P.base + s];
  var chosen = n - 1u;
  for (var q = 0u; q + 1u < n; q = q + 1u) {
    let aq = act[outputUnit(q) * P.S + s];
    var pq = aq * aq / stats[3u * s + 2u];
    if (P.interpretation == 2u) { pq = exp(aq - stats[3u * s]) / stats[3u * s + 1u]; }
    if (u >= pq) {
      u = u - pq;
    } else {
      chosen = q;
      break;
    }
  }
  Y[x] = select(0.0, 1.0, chosen == j);`,
};

/**
 * One level (units start ≤ k < start + threads/(C·S)) of the transfer rates of outputs j0 ..
 * j0 + C - 1: at output j0 + c itself the seed σ (and J = 1); elsewhere J = Σ_e w_e J̃_target and
 * J̃ = r J. With `withRaw`, J into `raw` too ([nUnits × C × S], as R).
 */
export const transferLevelKernel: KernelSpec = {
  name: 'transferLevel',
  bindings: [f32('W'), f32('deriv'), table, f32('seeds'), f32('R', true), f32('raw', true)],
  params: [
    ['start', 'u32'],
    ['C', 'u32'],
    ['S', 'u32'],
    ['j0', 'u32'],
    ['withRaw', 'u32'],
  ],
  helpers: TABLE_HELPERS,
  body: `  let per = P.C * P.S;
  let k = P.start + x / per;
  let c = (x % per) / P.S;
  let s = x % P.S;
  let at = k * per + c * P.S + s;
  if (outputOf(k) == i32(P.j0 + c)) {
    R[at] = seeds[(P.j0 + c) * P.S + s];
    if (P.withRaw == 1u) { raw[at] = 1.0; }
    return;
  }
  var sum = 0.0;
  for (var e = outOffset(k); e < outOffset(k + 1u); e = e + 1u) {
    sum = sum + W[outParam(e)] * R[outTarget(e) * per + c * P.S + s];
  }
  R[at] = deriv[k * P.S + s] * sum;
  if (P.withRaw == 1u) { raw[at] = sum; }`,
};

/**
 * Fisher modulus terms of a chunk, thread x = (k - first)·S + s over non-input units:
 * M += Σ_c β_{j0+c} J̃², and with `withExtra` X += Σ_c γ_{j0+c} J̃ (`gamma`, X otherwise unread).
 */
export const rateMomentKernel: KernelSpec = {
  name: 'rateMoment',
  bindings: [f32('R'), f32('beta'), f32('gamma'), f32('M', true), f32('X', true)],
  params: [
    ['first', 'u32'],
    ['C', 'u32'],
    ['S', 'u32'],
    ['j0', 'u32'],
    ['withExtra', 'u32'],
  ],
  body: `  let k = P.first + x / P.S;
  let s = x % P.S;
  var m = 0.0;
  var e = 0.0;
  for (var c = 0u; c < P.C; c = c + 1u) {
    let v = R[(k * P.C + c) * P.S + s];
    let b = (P.j0 + c) * P.S + s;
    m = m + beta[b] * v * v;
    if (P.withExtra == 1u) { e = e + gamma[b] * v; }
  }
  M[k * P.S + s] = M[k * P.S + s] + m;
  if (P.withExtra == 1u) { X[k * P.S + s] = X[k * P.S + s] + e; }`,
};

/** M += β_x X² (the softmax/spherical term of the Fisher modulus), thread x = k·S + s from `P.offset`. */
export const addExtraKernel: KernelSpec = {
  name: 'addExtra',
  bindings: [f32('X'), f32('betaExtra'), f32('M', true)],
  params: [
    ['offset', 'u32'],
    ['S', 'u32'],
  ],
  body: `  let i = P.offset + x;
  M[i] = M[i] + betaExtra[i % P.S] * X[i] * X[i];`,
};

/** out[x] = values[x] on the rows k with mask[k] > 0, thread x = k·S + s; other rows untouched. */
export const maskRowsKernel: KernelSpec = {
  name: 'maskRows',
  bindings: [f32('values'), f32('mask'), f32('out', true)],
  params: [['S', 'u32']],
  body: `  if (mask[x / P.S] > 0.0) { out[x] = values[x]; }`,
};

/** out[x] = accumulate·out[x] + scale·v[x]² from x ≥ first (before: 0, or kept when accumulating). */
export const scaledSquaresKernel: KernelSpec = {
  name: 'scaledSquares',
  bindings: [f32('out', true), f32('v')],
  params: [
    ['first', 'u32'],
    ['scale', 'f32'],
    ['accumulate', 'f32'],
  ],
  body: `  let kept = P.accumulate * out[x];
  out[x] = select(kept + P.scale * v[x] * v[x], kept, x < P.first);`,
};

/**
 * Group Gram entries, thread x < total: out[x] += scale · Σ_s w_s v_a(s) v_b(s), a = pairs[2x],
 * b = pairs[2x + 1] (unit ids, -1 for the constant 1), w_s = weights[base + s] when `weighted`.
 */
export const gramEntryKernel: KernelSpec = {
  name: 'gramEntry',
  bindings: [f32('values'), f32('weights'), { name: 'pairs', type: 'i32' }, f32('out', true)],
  params: [
    ['S', 'u32'],
    ['scale', 'f32'],
    ['base', 'u32'],
    ['weighted', 'u32'],
  ],
  body: `  let a = pairs[2u * x];
  let b = pairs[2u * x + 1u];
  var sum = 0.0;
  for (var s = 0u; s < P.S; s = s + 1u) {
    var va = 1.0;
    var vb = 1.0;
    if (a >= 0) { va = values[u32(a) * P.S + s]; }
    if (b >= 0) { vb = values[u32(b) * P.S + s]; }
    var w = 1.0;
    if (P.weighted == 1u) { w = weights[P.base + s]; }
    sum = sum + w * va * vb;
  }
  out[x] = out[x] + P.scale * sum;`,
};

/** dst[x] += weights[base + s] · src[x], thread x = k·S + s. */
export const weightedSumKernel: KernelSpec = {
  name: 'weightedSum',
  bindings: [f32('dst', true), f32('src'), f32('weights')],
  params: [
    ['S', 'u32'],
    ['base', 'u32'],
  ],
  body: '  dst[x] = dst[x] + weights[P.base + x % P.S] * src[x];',
};
