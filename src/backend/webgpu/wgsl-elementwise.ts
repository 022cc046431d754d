import type { KernelSpec } from './wgsl-kernel.js';

/**
 * Elementwise WGSL kernels and the reduction (see `wgsl-kernel.ts` for the conventions: thread
 * `x`, parameters in `P`). Flat arrays of f32.
 */

/** out[offset + x] = value for x < count (threads = count). */
export const fillKernel: KernelSpec = {
  name: 'fill',
  bindings: [{ name: 'out', type: 'f32', write: true }],
  params: [
    ['offset', 'u32'],
    ['value', 'f32'],
  ],
  body: '  out[P.offset + x] = P.value;',
};

/** out = α·a + β·b. */
export const combineKernel: KernelSpec = {
  name: 'combine',
  bindings: [
    { name: 'out', type: 'f32', write: true },
    { name: 'a', type: 'f32' },
    { name: 'b', type: 'f32' },
  ],
  params: [
    ['alpha', 'f32'],
    ['beta', 'f32'],
  ],
  body: '  out[x] = P.alpha * a[x] + P.beta * b[x];',
};

/**
 * One Adam step (Kingma & Ba, Algorithm 1): m ← β1 m + (1-β1) g, v ← β2 v + (1-β2) g², out ←
 * (m / c1) / (√(v / c2) + ε), c1 and c2 the bias corrections 1 - β^t.
 */
export const adamKernel: KernelSpec = {
  name: 'adam',
  bindings: [
    { name: 'm', type: 'f32', write: true },
    { name: 'v', type: 'f32', write: true },
    { name: 'g', type: 'f32' },
    { name: 'out', type: 'f32', write: true },
  ],
  params: [
    ['beta1', 'f32'],
    ['beta2', 'f32'],
    ['c1', 'f32'],
    ['c2', 'f32'],
    ['epsilon', 'f32'],
  ],
  body: `  let gx = g[x];
  let mx = P.beta1 * m[x] + (1.0 - P.beta1) * gx;
  let vx = P.beta2 * v[x] + (1.0 - P.beta2) * gx * gx;
  m[x] = mx;
  v[x] = vx;
  out[x] = mx / P.c1 / (sqrt(vx / P.c2) + P.epsilon);`,
};

/** Reduction operations of {@link reduceKernel}. */
export const REDUCE = { sum: 0, sumSquares: 1, nonFinite: 2, minPositive: 3 } as const;

/**
 * One workgroup of 128 threads (the compatibility-mode limit) reduces x[offset .. offset + n - 1] into result[slot]: the sum,
 * the sum of squares, the count of entries that are not finite (exponent bits all set: NaN
 * and ±∞, tested on the bits since WGSL may assume finite floats), or the smallest positive
 * entry (0 when none: failure flags).
 */
export const reduceKernel: KernelSpec = {
  name: 'reduce',
  workgroup: 128,
  bindings: [
    { name: 'values', type: 'f32' },
    { name: 'result', type: 'f32', write: true },
  ],
  params: [
    ['offset', 'u32'],
    ['n', 'u32'],
    ['op', 'u32'],
    ['slot', 'u32'],
  ],
  helpers: 'var<workgroup> partial: array<f32, 128>;',
  body: `  var acc = 0.0;
  if (P.op == 3u) { acc = 3.0e38; }
  for (var i = li; i < P.n; i = i + 128u) {
    let v = values[P.offset + i];
    if (P.op == 3u) {
      if (v > 0.0) { acc = min(acc, v); }
    } else if (P.op == 0u) {
      acc = acc + v;
    } else if (P.op == 1u) {
      acc = acc + v * v;
    } else if ((bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) {
      acc = acc + 1.0;
    }
  }
  partial[li] = acc;
  workgroupBarrier();
  for (var w = 64u; w > 0u; w = w >> 1u) {
    if (li < w) {
      if (P.op == 3u) {
        partial[li] = min(partial[li], partial[li + w]);
      } else {
        partial[li] = partial[li] + partial[li + w];
      }
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    result[P.slot] = select(partial[0], 0.0, P.op == 3u && partial[0] > 1.0e38);
  }`,
};

/** out[x] = v[x]² for x ≥ first, 0 before (the outer-product modulus b̃², Def. 14, inputs 0). */
export const squaresKernel: KernelSpec = {
  name: 'squares',
  bindings: [
    { name: 'out', type: 'f32', write: true },
    { name: 'v', type: 'f32' },
  ],
  params: [['first', 'u32']],
  body: '  out[x] = select(v[x] * v[x], 0.0, x < P.first);',
};
