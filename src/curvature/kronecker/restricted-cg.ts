import { covariantCholeskySolve, type CovariantCholesky } from '../../linalg/covariant-cholesky.js';
import type { DampedFactors } from './factor-inverse.js';
import type { KroneckerGroup } from './groups.js';

/** Relative residual ‖M δ - ∇‖ / ‖∇‖ at which conjugate gradients stop. */
export const CG_TOLERANCE = 1e-14;

/** One unit's diagonal block of M_g: parameters `start .. start+size-1` and its pivoted Cholesky factor (rank < size: singular). */
export interface UnitBlock {
  start: number;
  size: number;
  factor: CovariantCholesky;
}

/**
 * Preconditioned conjugate gradients on M_g δ = ∇ for a sparse group, M_g = P (A' ⊗ G') Pᵀ + cI,
 * preconditioned by the per-unit diagonal blocks. Returns a solver
 * `(gradient, x, maxIterations) → { iterations, residual, converged }` writing δ into `x`.
 *
 * M v costs P_g (n_g + 1 + m_g): Y = A' V over the non-zeros of V (column l of V holds unit l's
 * parameters at the rows of its sources), then (Y G')_(i,k) only where parameter (i,k) exists
 * (G' symmetric).
 */
export function restrictedConjugateGradient(group: KroneckerGroup, f: DampedFactors, n: number, m: number, blocks: readonly UnitBlock[]) {
  const P = group.params.length;
  const { rowOf, colOf } = group;
  // Y = A' V, row-major (n × m); A' is symmetric, so column j of A' is its contiguous row j.
  const Y = new Float64Array(n * m);
  const apply = (v: Float64Array, out: Float64Array) => {
    Y.fill(0);
    for (let p = 0; p < P; p++) {
      const x = v[p];
      if (x === 0) continue;
      const row = rowOf[p] * n;
      const l = colOf[p];
      for (let i = 0; i < n; i++) Y[i * m + l] += f.A[row + i] * x;
    }
    for (let p = 0; p < P; p++) {
      const yi = rowOf[p] * m;
      const gk = colOf[p] * m;
      let s = 0;
      for (let l = 0; l < m; l++) s += Y[yi + l] * f.G[gk + l];
      out[p] = s + f.shift * v[p];
    }
  };
  const precondition = (r: Float64Array, z: Float64Array) => {
    for (const b of blocks) {
      if (b.factor.rank === b.size) covariantCholeskySolve(b.factor, r, b.start, z, b.start);
      else z.set(r.subarray(b.start, b.start + b.size), b.start);
    }
  };
  return (gradient: Float64Array, x: Float64Array, maxIterations: number) => {
    x.fill(0);
    const norm = Math.sqrt(dot(gradient, gradient));
    if (norm === 0) return { iterations: 0, residual: 0, converged: true };
    const r = gradient.slice();
    const z = new Float64Array(P);
    const q = new Float64Array(P);
    precondition(r, z);
    const d = z.slice();
    let rz = dot(r, z);
    let k = 0;
    let relative = 1;
    while (k < maxIterations) {
      apply(d, q);
      const dq = dot(d, q);
      if (!(dq > 0)) break; // singular M_g (ε = 0): stop at the iterate reached
      const alpha = rz / dq;
      for (let i = 0; i < P; i++) {
        x[i] += alpha * d[i];
        r[i] -= alpha * q[i];
      }
      k++;
      relative = Math.sqrt(dot(r, r)) / norm;
      if (relative <= CG_TOLERANCE) break;
      precondition(r, z);
      const next = dot(r, z);
      const beta = next / rz;
      rz = next;
      for (let i = 0; i < P; i++) d[i] = z[i] + beta * d[i];
    }
    return { iterations: k, residual: relative, converged: relative <= CG_TOLERANCE };
  };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
