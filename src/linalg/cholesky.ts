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
  for (let j = 0; j < n; j++) {
    const rowJ = offset + j * n;
    let d = a[rowJ + j];
    for (let k = 0; k < j; k++) d -= a[rowJ + k] * a[rowJ + k];
    if (!(d > 0) || !Number.isFinite(d)) return false;
    const ljj = Math.sqrt(d);
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = offset + i * n;
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) s -= a[rowI + k] * a[rowJ + k];
      a[rowI + j] = s / ljj;
    }
  }
  return true;
}

/** Solves L Lᵀ x = b with the factor from {@link choleskyInPlace}; b at bOffset, x at xOffset (may alias b). */
export function choleskySolve(l: Float64Array, offset: number, n: number, b: ArrayLike<number>, bOffset: number, x: Float64Array, xOffset: number): void {
  for (let i = 0; i < n; i++) {
    let s = b[bOffset + i];
    const row = offset + i * n;
    for (let k = 0; k < i; k++) s -= l[row + k] * x[xOffset + k];
    x[xOffset + i] = s / l[row + i];
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
