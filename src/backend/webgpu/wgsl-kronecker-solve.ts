import type { KernelSpec } from './wgsl-kernel.js';
import { findGroup } from './wgsl-kronecker.js';

/**
 * WGSL kernels of the Kronecker grid solves D = A'⁻¹ R G'⁻¹ (seed 004, Eq. 7; Martens & Grosse
 * §6.3) on the device, through explicit inverses formed at each refresh: after the batched damped
 * Cholesky (`wgsl-kronecker.ts`), L⁻¹ by parallel triangular solves against the identity (one
 * thread per column of every factor), then A'⁻¹ = L⁻ᵀ L⁻¹ (and G'⁻¹) with one thread per strip of
 * {@link STRIP} rows of a column; each solve is then a gather of R and two products with one thread
 * per strip of a grid column (about n·m/4 per group). The strips share one load of the right
 * operand between four accumulators: on llvmpipe, where a lane's load costs as much as its
 * multiply-add, this is what makes the products pay (2 loads per multiply-add without it).
 *
 * NOTE (explicit inverses instead of triangular solves at each solve): the multiply-adds per
 * solve are the same, n²m + nm² per group (the two triangular solves by column of R then by row
 * cost n² per column and m² per row), but the triangular solves are sequential in the row (one
 * thread per column, then per row: m + n threads of O(n²) or O(m²) each, a few hundred threads on
 * small layers), while the products run n·m independent threads of O(n + m) each. The price: per
 * refresh, L⁻¹ and its product (n³/6 + n³/3 multiply-adds, on top of the Cholesky's n³/6) and
 * n² + m² more floats for L⁻¹ (the inverses overwrite L); and accuracy: forming L⁻ᵀL⁻¹ in
 * float32 loses about cond(A') × 2⁻²⁴ in the inverse where the solves lose about that in the
 * direction, the same order; factored damping (π√ε, √ε/π on the diagonals) bounds cond(A') by
 * (λmax + π√ε)/(π√ε). Measured against the Float64 cpu route (largest relative gap of the
 * directions over 3 iterations, kflr/kfac, networks 6-8-5-3, 130-70-4, 64-48-32-10): at
 * ε = 10⁻³ up to 2.9e-5 (triangular solves 1.1e-5, the host route on the float32 factors 8.6e-6),
 * at ε = 10⁻⁵ up to 2.0e-4 (triangular 9.9e-5, host 7.3e-5): 2-3× the triangular solves' gap,
 * far inside the tests' 2e-3. Which design a plan takes: `WebgpuKronecker.designFor`.
 */

/** Rows of the strip one thread of the products computes (the accumulators of a vec4f). */
export const STRIP = 4;

/**
 * WGSL of a strip: from `e` (the thread's index within its matrix of `rows` × `cols`, strips
 * of {@link STRIP} rows), `c` (the column), `i0` (the strip's first row), `q` (its rows), and
 * `r1`-`r3` (rows i0 + 1 .. i0 + 3, clamped to the last row: the unused lanes re-read it).
 */
const strip = (rows: string, cols: string) => `  let c = e % ${cols};
  let i0 = (e / ${cols}) * ${STRIP}u;
  let q = min(${STRIP}u, ${rows} - i0);
  let r1 = min(i0 + 1u, ${rows} - 1u);
  let r2 = min(i0 + 2u, ${rows} - 1u);
  let r3 = min(i0 + 3u, ${rows} - 1u);`;

/** WGSL storing the strip's accumulators `s` at `target(row)` (rows i0 .. i0 + q - 1). */
const store = (target: (row: string) => string) => `  ${target('i0')} = s.x;
  if (q > 1u) { ${target('i0 + 1u')} = s.y; }
  if (q > 2u) { ${target('i0 + 2u')} = s.z; }
  if (q > 3u) { ${target('i0 + 3u')} = s.w; }`;

/**
 * L⁻¹ of every damped factor's Cholesky factor L (lower triangles in `L`; the upper triangles
 * there hold stale entries and are not read): thread x solves L x_c = e_c for one column c of one
 * factor (columns of A'_g first, then of G'_g) into `Linv`, zeros above the diagonal.
 */
export const triangularInverseKernel: KernelSpec = {
  name: 'kronecker-triangular-inverse',
  bindings: [
    { name: 'T', type: 'i32' },
    { name: 'L', type: 'f32' },
    { name: 'Linv', type: 'f32', write: true },
  ],
  params: [
    ['groups', 'u32'],
    ['gBase', 'u32'],
  ],
  body: `${findGroup(5)}
  var c = x - u32(T[t + 5u]);
  var size = n;
  var base = aOff;
  if (c >= n) {
    c = c - n;
    size = m;
    base = P.gBase + gOff;
  }
  for (var i = 0u; i < c; i = i + 1u) { Linv[base + i * size + c] = 0.0; }
  Linv[base + c * size + c] = 1.0 / L[base + c * size + c];
  for (var i = c + 1u; i < size; i = i + 1u) {
    var s = 0.0;
    for (var j = c; j < i; j = j + 1u) { s = s + L[base + i * size + j] * Linv[base + j * size + c]; }
    Linv[base + i * size + c] = -s / L[base + i * size + i];
  }`,
};

/**
 * The inverses A'⁻¹ = L⁻ᵀ L⁻¹ and G'⁻¹ (full, symmetric) into `inv`, one thread per strip of
 * rows of a column j of every factor: entry (i, j) = Σ_{k ≥ max(i, j)} L⁻¹[k, i] L⁻¹[k, j]
 * (from k = max(i0, j): L⁻¹ is 0 above its diagonal).
 */
export const inverseProductKernel: KernelSpec = {
  name: 'kronecker-inverse-product',
  bindings: [
    { name: 'T', type: 'i32' },
    { name: 'Linv', type: 'f32' },
    { name: 'inv', type: 'f32', write: true },
  ],
  params: [
    ['groups', 'u32'],
    ['gBase', 'u32'],
  ],
  body: `${findGroup(6)}
  var e = x - u32(T[t + 6u]);
  var size = n;
  var base = aOff;
  let aStrips = ((n + ${STRIP - 1}u) / ${STRIP}u) * n;
  if (e >= aStrips) {
    e = e - aStrips;
    size = m;
    base = P.gBase + gOff;
  }
${strip('size', 'size')}
  var s = vec4f(0.0);
  for (var k = max(i0, c); k < size; k = k + 1u) {
    let row = base + k * size;
    s = s + Linv[row + c] * vec4f(Linv[row + i0], Linv[row + r1], Linv[row + r2], Linv[row + r3]);
  }
${store((row) => `inv[base + (${row}) * size + c]`)}`,
};

/** R of every group gathered from the gradient by the grids' parameter map, one thread per grid entry. */
export const gridGatherKernel: KernelSpec = {
  name: 'kronecker-grid-gather',
  bindings: [
    { name: 'pmap', type: 'i32' },
    { name: 'gradient', type: 'f32' },
    { name: 'R', type: 'f32', write: true },
  ],
  params: [],
  body: '  R[x] = gradient[u32(pmap[x])];',
};

/** First product of a solve, one thread per strip of a grid column of every group: W = A'⁻¹ R into the work grid. */
export const gridLeftKernel: KernelSpec = {
  name: 'kronecker-grid-left',
  bindings: [
    { name: 'T', type: 'i32' },
    { name: 'R', type: 'f32' },
    { name: 'inv', type: 'f32' },
    { name: 'work', type: 'f32', write: true },
  ],
  params: [['groups', 'u32']],
  body: `${findGroup(7)}
  let e = x - u32(T[t + 7u]);
${strip('n', 'm')}
  var s = vec4f(0.0);
  for (var j = 0u; j < n; j = j + 1u) {
    s = s + R[grid + j * m + c] * vec4f(inv[aOff + i0 * n + j], inv[aOff + r1 * n + j], inv[aOff + r2 * n + j], inv[aOff + r3 * n + j]);
  }
${store((row) => `work[grid + (${row}) * m + c]`)}`,
};

/** Second product: D = W G'⁻¹, one thread per strip of a grid column, scattered into the direction by the map. */
export const gridRightKernel: KernelSpec = {
  name: 'kronecker-grid-right',
  bindings: [
    { name: 'T', type: 'i32' },
    { name: 'pmap', type: 'i32' },
    { name: 'inv', type: 'f32' },
    { name: 'work', type: 'f32' },
    { name: 'out', type: 'f32', write: true },
  ],
  params: [
    ['groups', 'u32'],
    ['gBase', 'u32'],
  ],
  body: `${findGroup(7)}
  let e = x - u32(T[t + 7u]);
${strip('n', 'm')}
  let column = P.gBase + gOff + c;
  var s = vec4f(0.0);
  for (var k = 0u; k < m; k = k + 1u) {
    s = s + inv[column + k * m] * vec4f(work[grid + i0 * m + k], work[grid + r1 * m + k], work[grid + r2 * m + k], work[grid + r3 * m + k]);
  }
${store((row) => `out[u32(pmap[grid + (${row}) * m + c])]`)}`,
};
