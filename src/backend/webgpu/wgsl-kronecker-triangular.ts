import type { KernelSpec } from './wgsl-kernel.js';
import { findGroup } from './wgsl-kronecker.js';

/**
 * WGSL kernels of the Kronecker grid solves D = A'⁻¹ R G'⁻¹ by triangular solves with the
 * Cholesky factors (the design of plans with a factor wider than `WebgpuKronecker.inverseLimit`
 * or an inverse period of 1, see `WebgpuKronecker.designFor`; the explicit-inverse design and the trade-off between the two
 * are in `wgsl-kronecker-solve.ts`): one thread per grid column, then one per grid row, each
 * sequential over its O(n²) or O(m²) multiply-adds. Table columns 8 (first column thread, m per
 * group) and 9 (first row thread, n per group).
 */

/**
 * First half of D = A'⁻¹ R G'⁻¹ (seed 004, Eq. 7; Martens & Grosse §6.3), one thread per grid
 * column c of every group: R's column gathered from the gradient by the grid's parameter map,
 * then L y = r and Lᵀ x = y with A'_g's factor, into the work grid.
 */
export const gridColumnsKernel: KernelSpec = {
  name: 'kronecker-grid-columns',
  bindings: [
    { name: 'T', type: 'i32' },
    { name: 'pmap', type: 'i32' },
    { name: 'gradient', type: 'f32' },
    { name: 'L', type: 'f32' },
    { name: 'work', type: 'f32', write: true },
  ],
  params: [['groups', 'u32']],
  body: `${findGroup(8)}
  let c = x - u32(T[t + 8u]);
  for (var i = 0u; i < n; i = i + 1u) {
    var s = gradient[u32(pmap[grid + i * m + c])];
    for (var j = 0u; j < i; j = j + 1u) { s = s - L[aOff + i * n + j] * work[grid + j * m + c]; }
    work[grid + i * m + c] = s / L[aOff + i * n + i];
  }
  for (var r = 0u; r < n; r = r + 1u) {
    let i = n - 1u - r;
    var s = work[grid + i * m + c];
    for (var j = i + 1u; j < n; j = j + 1u) { s = s - L[aOff + j * n + i] * work[grid + j * m + c]; }
    work[grid + i * m + c] = s / L[aOff + i * n + i];
  }`,
};

/**
 * Second half: one thread per grid row i of every group, the row times G'⁻¹ (G' symmetric: the
 * two triangular solves with G'_g's factor at `gBase`), scattered into the direction by the map.
 */
export const gridRowsKernel: KernelSpec = {
  name: 'kronecker-grid-rows',
  bindings: [
    { name: 'T', type: 'i32' },
    { name: 'pmap', type: 'i32' },
    { name: 'L', type: 'f32' },
    { name: 'work', type: 'f32', write: true },
    { name: 'out', type: 'f32', write: true },
  ],
  params: [
    ['groups', 'u32'],
    ['gBase', 'u32'],
  ],
  body: `${findGroup(9)}
  let i = x - u32(T[t + 9u]);
  let row = grid + i * m;
  let lg = P.gBase + gOff;
  for (var k = 0u; k < m; k = k + 1u) {
    var s = work[row + k];
    for (var j = 0u; j < k; j = j + 1u) { s = s - L[lg + k * m + j] * work[row + j]; }
    work[row + k] = s / L[lg + k * m + k];
  }
  for (var r = 0u; r < m; r = r + 1u) {
    let k = m - 1u - r;
    var s = work[row + k];
    for (var j = k + 1u; j < m; j = j + 1u) { s = s - L[lg + j * m + k] * work[row + j]; }
    work[row + k] = s / L[lg + k * m + k];
    out[u32(pmap[row + k])] = work[row + k];
  }`,
};
