/**
 * Dense Cholesky factorisation and solves on row-major square blocks stored inside larger
 * Float64Arrays (at `offset`, size n × n). Used for the per-unit metric blocks (n = 1 + fan-in)
 * and for the whole-network Fisher matrix.
 */

/**
 * Factorises A = L Lᵀ in place (L in the lower triangle; the upper triangle is left as is).
 * Returns false when A is not numerically positive definite (a pivot ≤ 0 or not finite).
 */
export function choleskyInPlace(a: Float64Array, offset: number, n: number): boolean {
  return factorColumns(a, offset, n, 0, n);
}

/**
 * Columns j0 ≤ j < j1 of {@link choleskyInPlace}'s loop, in order, with the terms j0 ≤ k < j
 * only: each column's pivot, then its rows below divided by it. The whole factorisation is
 * (0, n); a blocked factorisation (`blocked-cholesky.ts`) runs it on each panel once the
 * terms k < j0 are taken off, which gives the same values (every row's sum in the same order).
 */
export function factorColumns(a: Float64Array, offset: number, n: number, j0: number, j1: number): boolean {
  for (let j = j0; j < j1; j++) {
    const rowJ = offset + j * n;
    let d = a[rowJ + j];
    for (let k = j0; k < j; k++) d -= a[rowJ + k] * a[rowJ + k];
    if (!(d > 0) || !Number.isFinite(d)) return false;
    const ljj = Math.sqrt(d);
    a[rowJ + j] = ljj;
    // NOTE: four (then two) rows per pass: each row's sum is a serial chain of subtractions
    // (latency-bound), so chains side by side take about the time of one; each keeps its order
    // (same values).
    let i = j + 1;
    for (; i + 3 < n; i += 4) {
      const r1 = offset + i * n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      const r4 = r3 + n;
      let s1 = a[r1 + j];
      let s2 = a[r2 + j];
      let s3 = a[r3 + j];
      let s4 = a[r4 + j];
      for (let k = j0; k < j; k++) {
        const l = a[rowJ + k];
        s1 -= a[r1 + k] * l;
        s2 -= a[r2 + k] * l;
        s3 -= a[r3 + k] * l;
        s4 -= a[r4 + k] * l;
      }
      a[r1 + j] = s1 / ljj;
      a[r2 + j] = s2 / ljj;
      a[r3 + j] = s3 / ljj;
      a[r4 + j] = s4 / ljj;
    }
    for (; i + 1 < n; i += 2) {
      const rowI = offset + i * n;
      const rowH = rowI + n;
      let s1 = a[rowI + j];
      let s2 = a[rowH + j];
      for (let k = j0; k < j; k++) {
        const l = a[rowJ + k];
        s1 -= a[rowI + k] * l;
        s2 -= a[rowH + k] * l;
      }
      a[rowI + j] = s1 / ljj;
      a[rowH + j] = s2 / ljj;
    }
    if (i < n) {
      const rowI = offset + i * n;
      let s1 = a[rowI + j];
      for (let k = j0; k < j; k++) s1 -= a[rowI + k] * a[rowJ + k];
      a[rowI + j] = s1 / ljj;
    }
  }
  return true;
}

/** Solves L Lᵀ x = b with the factor from {@link choleskyInPlace}; b at bOffset, x at xOffset (may alias b). */
export function choleskySolve(l: Float64Array, offset: number, n: number, b: ArrayLike<number>, bOffset: number, x: Float64Array, xOffset: number): void {
  // NOTE: L y = b by columns: once y_j is known it is taken off every later row, so the rows'
  // subtractions are independent of each other (no serial chain per row), in the same order
  // (k ascending) as the row-by-row form, which gives the same values.
  for (let i = 0; i < n; i++) x[xOffset + i] = b[bOffset + i];
  for (let j = 0; j < n; j++) {
    const y = x[xOffset + j] / l[offset + j * n + j];
    x[xOffset + j] = y;
    for (let i = j + 1; i < n; i++) x[xOffset + i] -= l[offset + i * n + j] * y;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[xOffset + i];
    for (let k = i + 1; k < n; k++) s -= l[offset + k * n + i] * x[xOffset + k];
    x[xOffset + i] = s / l[offset + i * n + i];
  }
}

/** Adds ε to the diagonal of the n × n block at `offset`. */
export function addToDiagonal(a: Float64Array, offset: number, n: number, epsilon: number): void {
  if (epsilon !== 0) for (let i = 0; i < n; i++) a[offset + i * n + i] += epsilon;
}

/**
 * Least-squares solve of a symmetric positive semi-definite system A x = b (n × n block at
 * `offset`, left unchanged) by Cholesky with diagonal pivoting, stopping at the numerical rank:
 * a pivot at or below `relativeTolerance` × the largest diagonal entry ends the factorisation
 * and the remaining components of x are 0. When b lies in the range of A (Section 3.3: the
 * gradient always does), x is an exact solution, and every exact solution gives the same
 * δV = xᵀā on the data. Returns the rank.
 */
export function pivotedCholeskySolve(a: Float64Array, offset: number, n: number, b: ArrayLike<number>, bOffset: number, x: Float64Array, xOffset: number, relativeTolerance = 1e-12): number {
  const m = a.slice(offset, offset + n * n);
  const perm = Array.from({ length: n }, (_, i) => i);
  let maxDiagonal = 0;
  for (let i = 0; i < n; i++) maxDiagonal = Math.max(maxDiagonal, m[i * n + i]);
  const threshold = relativeTolerance * maxDiagonal;
  const swap = (i: number, j: number) => {
    if (i === j) return;
    [perm[i], perm[j]] = [perm[j], perm[i]];
    for (let k = 0; k < n; k++) [m[i * n + k], m[j * n + k]] = [m[j * n + k], m[i * n + k]];
    for (let k = 0; k < n; k++) [m[k * n + i], m[k * n + j]] = [m[k * n + j], m[k * n + i]];
  };
  let rank = 0;
  for (let j = 0; j < n; j++) {
    let best = j;
    for (let i = j + 1; i < n; i++) if (m[i * n + i] > m[best * n + best]) best = i;
    if (!(m[best * n + best] > threshold)) break;
    swap(j, best);
    const ljj = Math.sqrt(m[j * n + j]);
    m[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) m[i * n + j] /= ljj;
    for (let i = j + 1; i < n; i++) {
      const lij = m[i * n + j];
      for (let k = j + 1; k <= i; k++) m[i * n + k] -= lij * m[k * n + j]; // Schur complement, lower triangle
      for (let k = j + 1; k < i; k++) m[k * n + i] = m[i * n + k]; // kept symmetric for later pivoting swaps
    }
    rank++;
  }
  const y = new Float64Array(n);
  for (let i = 0; i < rank; i++) {
    let s = b[bOffset + perm[i]];
    for (let k = 0; k < i; k++) s -= m[i * n + k] * y[k];
    y[i] = s / m[i * n + i];
  }
  for (let i = rank - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < rank; k++) s -= m[k * n + i] * y[k];
    y[i] = s / m[i * n + i];
  }
  for (let i = 0; i < n; i++) x[xOffset + i] = 0;
  for (let i = 0; i < rank; i++) x[xOffset + perm[i]] = y[i];
  return rank;
}
