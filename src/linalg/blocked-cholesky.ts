import { choleskyInPlace, factorColumns } from './cholesky.js';

/** Below this size {@link blockedCholeskyInPlace} hands the block to {@link choleskyInPlace} as is. */
export const BLOCKED_CHOLESKY_MIN_SIZE = 64;

/** Columns factorised per panel: the panel's rows of L stay in cache while every later row passes by. */
const PANEL = 16;

/**
 * Factorises A = L Lᵀ in place, like {@link choleskyInPlace} (L in the lower triangle, the upper
 * triangle left as is, false when a pivot is ≤ 0 or not finite) and with the same values, bit
 * for bit, but faster on large matrices (the whole-network Fisher matrix, P up to 4096).
 *
 * NOTE: left-looking by panels of {@link PANEL} columns. Every entry L_ij is still
 * (A_ij - Σ_{k<j} L_ik L_jk) / L_jj with the subtractions in ascending k, as in
 * `choleskyInPlace`: first the terms k < j0 (the panel's first column) are taken off by 2 × 4
 * register tiles (eight independent chains, each row pair read once per panel), and the partial
 * sum is stored in place; then the terms j0 ≤ k < j inside the panel. No fused multiply-add in
 * JavaScript, so the same operations in the same order give the same doubles. On failure the
 * block holds partial sums (callers discard it, as with `choleskyInPlace`).
 */
export function blockedCholeskyInPlace(a: Float64Array, offset: number, n: number): boolean {
  if (n < BLOCKED_CHOLESKY_MIN_SIZE) return choleskyInPlace(a, offset, n);
  for (let j0 = 0; j0 < n; j0 += PANEL) {
    const j1 = Math.min(n, j0 + PANEL);
    if (j0 > 0) subtractPreviousColumns(a, offset, n, j0, j1);
    if (!factorColumns(a, offset, n, j0, j1)) return false;
  }
  return true;
}

/** A_ij -= Σ_{k<j0} L_ik L_jk (ascending k) for the panel's columns j0 ≤ j < j1 and rows i ≥ j. */
function subtractPreviousColumns(a: Float64Array, offset: number, n: number, j0: number, j1: number): void {
  // The panel's own rows (the triangle j ≤ i < j1), one entry at a time.
  for (let i = j0; i < j1; i++) {
    const ri = offset + i * n;
    for (let j = j0; j <= i; j++) {
      const rj = offset + j * n;
      let s = a[ri + j];
      for (let k = 0; k < j0; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s;
    }
  }
  // The rows below the panel: 2 rows × 4 columns at a time.
  let i = j1;
  for (; i + 1 < n; i += 2) {
    const r1 = offset + i * n;
    const r2 = r1 + n;
    let j = j0;
    for (; j + 3 < j1; j += 4) {
      const c1 = offset + j * n;
      const c2 = c1 + n;
      const c3 = c2 + n;
      const c4 = c3 + n;
      let s11 = a[r1 + j];
      let s12 = a[r1 + j + 1];
      let s13 = a[r1 + j + 2];
      let s14 = a[r1 + j + 3];
      let s21 = a[r2 + j];
      let s22 = a[r2 + j + 1];
      let s23 = a[r2 + j + 2];
      let s24 = a[r2 + j + 3];
      for (let k = 0; k < j0; k++) {
        const x1 = a[r1 + k];
        const x2 = a[r2 + k];
        const l1 = a[c1 + k];
        const l2 = a[c2 + k];
        const l3 = a[c3 + k];
        const l4 = a[c4 + k];
        s11 -= x1 * l1;
        s12 -= x1 * l2;
        s13 -= x1 * l3;
        s14 -= x1 * l4;
        s21 -= x2 * l1;
        s22 -= x2 * l2;
        s23 -= x2 * l3;
        s24 -= x2 * l4;
      }
      a[r1 + j] = s11;
      a[r1 + j + 1] = s12;
      a[r1 + j + 2] = s13;
      a[r1 + j + 3] = s14;
      a[r2 + j] = s21;
      a[r2 + j + 1] = s22;
      a[r2 + j + 2] = s23;
      a[r2 + j + 3] = s24;
    }
    for (; j < j1; j++) {
      const c = offset + j * n;
      let s1 = a[r1 + j];
      let s2 = a[r2 + j];
      for (let k = 0; k < j0; k++) {
        const l = a[c + k];
        s1 -= a[r1 + k] * l;
        s2 -= a[r2 + k] * l;
      }
      a[r1 + j] = s1;
      a[r2 + j] = s2;
    }
  }
  if (i < n) {
    const r1 = offset + i * n;
    for (let j = j0; j < j1; j++) {
      const c = offset + j * n;
      let s = a[r1 + j];
      for (let k = 0; k < j0; k++) s -= a[r1 + k] * a[c + k];
      a[r1 + j] = s;
    }
  }
}

