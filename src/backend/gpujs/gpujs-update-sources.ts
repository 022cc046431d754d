import type { A, KernelThis } from './gpujs-sources.js';

/**
 * The gpu.js kernel functions of the update phase (same conventions as `gpujs-sources.ts`):
 * batched Cholesky and triangular solves for the per-unit blocks, the quasi-diagonal and
 * diagonal steps, and the online Sherman-Morrison step.
 */

/**
 * Column j of the Cholesky factors L of A + εI, for a batch of n × n blocks (row-major, [units × n × n]).
 * Thread x = g·n + i: L_ij for i ≥ j (0 above the diagonal), from the columns < j already in L.
 */
export function choleskyColumn(this: KernelThis, blocks: A, factors: A, j: number, n: number, epsilon: number): number {
  const g = Math.floor(this.thread.x / n);
  const i = this.thread.x - g * n;
  if (i < j) {
    return 0;
  }
  const base = g * n * n;
  let d = blocks[base + j * n + j] + epsilon;
  for (let m1 = 0; m1 < j; m1++) {
    d -= factors[base + j * n + m1] * factors[base + j * n + m1];
  }
  const pivot = Math.sqrt(d);
  if (i === j) {
    return pivot;
  }
  let sum = blocks[base + i * n + j];
  for (let m2 = 0; m2 < j; m2++) {
    sum -= factors[base + i * n + m2] * factors[base + j * n + m2];
  }
  return sum / pivot;
}

/**
 * Row `row` of a batched triangular solve with the factors L. Thread x = g: forward (upper = 0)
 * y_row = (b_row - Σ_{m<row} L_row,m y_m) / L_row,row; backward (upper = 1, with Lᵀ)
 * x_row = (b_row - Σ_{m>row} L_m,row x_m) / L_row,row. `known`: [units × n], the solution so far.
 */
export function triangularRow(this: KernelThis, factors: A, known: A, rhs: A, row: number, n: number, upper: number): number {
  const g = this.thread.x;
  const base = g * n * n;
  let sum = rhs[g * n + row];
  if (upper > 0.5) {
    for (let m1 = row + 1; m1 < n; m1++) {
      sum -= factors[base + m1 * n + row] * known[g * n + m1];
    }
  } else {
    for (let m2 = 0; m2 < row; m2++) {
      sum -= factors[base + row * n + m2] * known[g * n + m2];
    }
  }
  return sum / factors[base + row * n + row];
}

/**
 * Quasi-diagonal weights (Eq. 22, 32), thread x = p: δw_i = (G_i A_00 - G_0 A_0i) / (A_ii A_00 - A_0i²)
 * with ε on A_00 and A_ii, 0 where that denominator is not positive; 0 at the biases.
 */
export function quasiDiagonalWeight(this: KernelThis, diagonal: A, cross: A, gradient: A, bias: A, epsilon: number): number {
  const p = this.thread.x;
  const b = bias[p];
  if (Math.abs(b - p) < 0.5) {
    return 0;
  }
  const a00 = diagonal[b] + epsilon;
  const denominator = (diagonal[p] + epsilon) * a00 - cross[p] * cross[p];
  if (denominator > 0) {
    return (gradient[p] * a00 - gradient[b] * cross[p]) / denominator;
  }
  return 0;
}

/** Quasi-diagonal biases (Eq. 23, 33), thread x = p: δw_0 = G_0/A_00 - Σ_i (A_0i/A_00) δw_i; weights pass through. */
export function quasiDiagonalBias(this: KernelThis, weights: A, diagonal: A, cross: A, gradient: A, bias: A, last: A, epsilon: number): number {
  const p = this.thread.x;
  if (Math.abs(bias[p] - p) > 0.5) {
    return weights[p];
  }
  const a00 = diagonal[p] + epsilon;
  if (a00 <= 0) {
    return 0;
  }
  let correction = 0;
  for (let q = p + 1; q <= last[p]; q++) {
    correction += (cross[q] / a00) * weights[q];
  }
  return gradient[p] / a00 - correction;
}

/** Diagonal step, thread x = p: G_p / (A_pp + ε), or G_p / √(A_pp + ε) with root = 1 (AdaGrad); 0 where A_pp + ε ≤ 0. */
export function diagonalStep(this: KernelThis, diagonal: A, gradient: A, epsilon: number, root: number): number {
  const d = diagonal[this.thread.x] + epsilon;
  if (d <= 0) {
    return 0;
  }
  if (root > 0.5) {
    return gradient[this.thread.x] / Math.sqrt(d);
  }
  return gradient[this.thread.x] / d;
}

/** Batched block × vector, thread x = g·n + i: Σ_j M[g, i, j] v[g, j] (Hu, and the online direction H G). */
export function blockVector(this: KernelThis, matrices: A, vectors: A, n: number): number {
  const g = Math.floor(this.thread.x / n);
  const i = this.thread.x - g * n;
  const row = (g * n + i) * n;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    sum += matrices[row + j] * vectors[g * n + j];
  }
  return sum;
}

/**
 * Batched symmetric rank-one update (Eq. 37), thread x = (g·n + i)·n + j:
 * scale · (M_ij - coef_g v_i v_j), with M_ij replaced by (M_ij + M_ji)/2 when symmetrise = 1.
 * A' = (1-γ)A + γuuᵀ is scale 1-γ, coef -γ/(1-γ), v = u; the Sherman-Morrison inverse
 * H' = (H - f Hu (Hu)ᵀ)/(1-γ) is scale 1/(1-γ), coef f, v = Hu, symmetrised.
 */
export function rankOneBlock(this: KernelThis, matrices: A, vectors: A, coef: A, scale: number, n: number, symmetrise: number): number {
  const g = Math.floor(this.thread.x / (n * n));
  const rest = this.thread.x - g * n * n;
  const i = Math.floor(rest / n);
  const j = rest - i * n;
  let base = matrices[this.thread.x];
  if (symmetrise > 0.5) {
    base = 0.5 * (base + matrices[g * n * n + j * n + i]);
  }
  return scale * (base - coef[g] * vectors[g * n + i] * vectors[g * n + j]);
}
