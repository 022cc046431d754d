import { addToDiagonal, choleskyInPlace, choleskySolve } from './cholesky.js';

/**
 * Discounted rank-one update of a symmetric positive-definite matrix and of its inverse
 * (Section 1.3, Eq. 37): A' = (1-γ)A + γ u uᵀ, and by the Sherman-Morrison formula
 *   A'⁻¹ = (1/(1-γ)) [H - c H u uᵀ H / (1 + c uᵀ H u)],  c = γ/(1-γ),  H = A⁻¹,
 * both in O(n²). Blocks are n × n row-major at `offset`; `scratch` holds n numbers.
 *
 * Numerical guards: the updated inverse is symmetrised ((H + Hᵀ)/2) so that rounding cannot
 * make it drift away from symmetry; if the denominator 1 + c uᵀHu is not a positive finite
 * number (positive definiteness lost to rounding), the update returns false and the caller
 * re-inverts A' directly.
 */
export function discountedRankOneUpdate(a: Float64Array, h: Float64Array, offset: number, n: number, u: ArrayLike<number>, gamma: number, scratch: Float64Array): boolean {
  const keep = 1 - gamma;
  for (let i = 0; i < n; i++) {
    const row = offset + i * n;
    for (let j = 0; j < n; j++) a[row + j] = keep * a[row + j] + gamma * u[i] * u[j];
  }
  const c = gamma / keep;
  let uhu = 0;
  for (let i = 0; i < n; i++) {
    let hu = 0;
    const row = offset + i * n;
    for (let j = 0; j < n; j++) hu += h[row + j] * u[j];
    scratch[i] = hu; // H u (H symmetric, so also uᵀH)
    uhu += u[i] * hu;
  }
  const denominator = 1 + c * uhu;
  if (!(denominator > 0) || !Number.isFinite(denominator)) return false;
  const factor = c / denominator;
  for (let i = 0; i < n; i++) {
    const row = offset + i * n;
    for (let j = 0; j < n; j++) h[row + j] = (h[row + j] - factor * scratch[i] * scratch[j]) / keep;
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const m = 0.5 * (h[offset + i * n + j] + h[offset + j * n + i]);
      h[offset + i * n + j] = m;
      h[offset + j * n + i] = m;
    }
  }
  return true;
}

/**
 * Writes the inverse of the n × n block of `a` at `offset` (plus ε on the diagonal) into `h`
 * at the same offset, by Cholesky. Returns false if the block is not positive definite.
 */
export function invertBlock(a: Float64Array, h: Float64Array, offset: number, n: number, epsilon = 0): boolean {
  const factor = a.slice(offset, offset + n * n);
  addToDiagonal(factor, 0, n, epsilon);
  if (!choleskyInPlace(factor, 0, n)) return false;
  const unit = new Float64Array(n);
  const column = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    unit.fill(0);
    unit[j] = 1;
    choleskySolve(factor, 0, n, unit, 0, column, 0);
    for (let i = 0; i < n; i++) h[offset + i * n + j] = column[i];
  }
  return true;
}

/** out[o + i] = Σ_j H_ij g[o + j] for the n × n block of `h` at `offset` (the direction H G of one unit). */
export function blockTimesVector(h: Float64Array, offset: number, n: number, g: Float64Array, o: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += h[offset + i * n + j] * g[o + j];
    out[o + i] = sum;
  }
}
