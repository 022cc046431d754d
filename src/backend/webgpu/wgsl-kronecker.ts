import type { KernelSpec } from './wgsl-kernel.js';

/**
 * WGSL kernels of the device route of the Kronecker curvatures (complete groups, factored
 * damping, ε > 0; host side in `webgpu-kronecker.ts`). A grid table (i32, {@link GRID_TABLE_WIDTH}
 * per group) holds per group g: [offset of A_g, offset of G_g, n = n_g + 1, m = m_g, offset of
 * the grid (n × m: its first grid-entry thread), first column thread (n + m per group: the
 * columns of L_A⁻¹ then of L_G⁻¹), first thread of the inverse products (⌈n/4⌉·n + ⌈m/4⌉·m
 * per group: strips of 4 rows of a column), first thread of the grid products (⌈n/4⌉·m), first
 * grid-column thread (m per group), first grid-row thread (n per group)]: columns 5-7 for the
 * explicit-inverse solves (`wgsl-kronecker-solve.ts`), 8-9 for the triangular ones. The
 * factors are row-major, at their offsets in the factor buffers (the Gram plans' layouts); the
 * Cholesky factors L of the damped factors, their inverses and the inverses A'⁻¹, G'⁻¹ go to
 * buffers of that layout too, A' at A_g's offset and G' at `gBase` + G_g's offset. The solves
 * are in `wgsl-kronecker-solve.ts` and `wgsl-kronecker-triangular.ts`.
 */

/** i32 entries of one group's row of the grid table. */
export const GRID_TABLE_WIDTH = 10;
/** Threads of one factor's Cholesky workgroup (within the compatibility-mode limit of 128). */
export const CHOLESKY_WORKGROUP = 64;

/**
 * Batched Cholesky of the damped factors, one workgroup per factor (`wg` = 2g for A'_g, 2g + 1
 * for G'_g). Factored damping (Martens & Grosse §6.3; seed 004, "Regularization techniques"):
 * π_g = √((tr A_g / n) / (tr G_g / m)) from the traces (1 if one is 0), A' = A + π√ε I,
 * G' = G + (√ε/π) I. Right-looking: at step k one thread takes the pivot, the workgroup scales
 * column k and updates the trailing lower triangle row by row (rows interleaved over the
 * threads: factors up to ~1000 rows, O(n³/6) multiply-adds per factor); storage barriers
 * separate the steps. A pivot that is not positive (or NaN) stops the factor and sets
 * flags[wg] = wg + 1 (0 when the factor is definite).
 */
export const dampedCholeskyKernel: KernelSpec = {
  name: 'kronecker-cholesky',
  workgroup: CHOLESKY_WORKGROUP,
  perWorkgroup: true,
  bindings: [
    { name: 'T', type: 'i32' },
    { name: 'A', type: 'f32' },
    { name: 'G', type: 'f32' },
    { name: 'L', type: 'f32', write: true },
    { name: 'flags', type: 'f32', write: true },
  ],
  params: [
    ['epsilon', 'f32'],
    ['gBase', 'u32'],
  ],
  helpers: `var<workgroup> bad: u32;
fn factorEntry(which: u32, index: u32) -> f32 {
  if (which == 0u) { return A[index]; }
  return G[index];
}`,
  body: `  let W = ${CHOLESKY_WORKGROUP}u;
  let g = wg / 2u;
  let which = wg % 2u;
  let t = g * ${GRID_TABLE_WIDTH}u;
  let aOff = u32(T[t]);
  let gOff = u32(T[t + 1u]);
  let n = u32(T[t + 2u]);
  let m = u32(T[t + 3u]);
  var ta = 0.0;
  for (var i = 0u; i < n; i = i + 1u) { ta = ta + A[aOff + i * n + i]; }
  var tg = 0.0;
  for (var k = 0u; k < m; k = k + 1u) { tg = tg + G[gOff + k * m + k]; }
  var pi = 1.0;
  if (ta > 0.0 && tg > 0.0) { pi = sqrt((ta / f32(n)) / (tg / f32(m))); }
  let root = sqrt(P.epsilon);
  let size = select(m, n, which == 0u);
  let shift = select(root / pi, pi * root, which == 0u);
  let first = select(gOff, aOff, which == 0u);
  let base = select(P.gBase + gOff, aOff, which == 0u);
  if (li == 0u) { bad = 0u; }
  for (var e = li; e < size * size; e = e + W) {
    var v = factorEntry(which, first + e);
    if (e / size == e % size) { v = v + shift; }
    L[base + e] = v;
  }
  storageBarrier();
  workgroupBarrier();
  for (var k = 0u; k < size; k = k + 1u) {
    if (li == 0u) {
      let d = L[base + k * size + k];
      if (d > 0.0) { L[base + k * size + k] = sqrt(d); } else { bad = 1u; }
    }
    storageBarrier();
    if (workgroupUniformLoad(&bad) != 0u) { break; }
    let dk = L[base + k * size + k];
    for (var i = k + 1u + li; i < size; i = i + W) { L[base + i * size + k] = L[base + i * size + k] / dk; }
    storageBarrier();
    workgroupBarrier();
    for (var i = k + 1u + li; i < size; i = i + W) {
      let lik = L[base + i * size + k];
      for (var j = k + 1u; j <= i; j = j + 1u) { L[base + i * size + j] = L[base + i * size + j] - lik * L[base + j * size + k]; }
    }
    storageBarrier();
    workgroupBarrier();
  }
  if (li == 0u) { flags[wg] = select(0.0, f32(wg + 1u), bad != 0u); }`,
};

/**
 * The WGSL that finds thread x's group g (the last whose first thread, column `field` of the
 * grid table, is ≤ x) and reads its row: `t`, `aOff`, `gOff`, `n`, `m`, `grid` (uses `P.groups`).
 */
export const findGroup = (field: number) => `  var g = 0u;
  while (g + 1u < P.groups && u32(T[(g + 1u) * ${GRID_TABLE_WIDTH}u + ${field}u]) <= x) { g = g + 1u; }
  let t = g * ${GRID_TABLE_WIDTH}u;
  let aOff = u32(T[t]);
  let gOff = u32(T[t + 1u]);
  let n = u32(T[t + 2u]);
  let m = u32(T[t + 3u]);
  let grid = u32(T[t + 4u]);`;
