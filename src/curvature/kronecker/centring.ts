import type { KroneckerGroup } from './groups.js';

/**
 * The centred coordinates of a group's ε = 0 solves (seed 000's bias-separated form, the
 * centring of Natural Neural Networks, here for any rank). With μ_i = A_0i / A_00 (the data
 * mean of source i: A_00 = E 1 = 1) and C = [[1, -μᵀ], [0, I]], a unit's step
 * δV_k = δθ_0k + Σ_i δθ_ik ā_i is written c_k + Σ_i δθ_ik (ā_i - μ_i), with δθ = C y, and the
 * factor becomes Cᵀ A C = A_00 ⊕ Σ, Σ_ij = A_ij - A_0i A_0j / A_00 (the covariance).
 *
 * Why: a Def. 29 reparametrisation of the sources, ā'_i = α_i ā_i + β_i, and of the units,
 * V'_k = V_k / γ_k, maps the centred coordinates by a diagonal matrix (ā_i - μ_i scales by α_i),
 * and with it the centred restricted system (M_c' = D M_c D). A solve whose choices are
 * invariant under diagonal scalings ({@link covariantCholesky}) is then covariant even where
 * M_g is singular and the gradient leaves its range; in homogeneous coordinates the bias mixes
 * with every source, and no such choice is.
 */
export interface Centring {
  /** μ_i, length n_g + 1, μ_0 = 0. */
  readonly mu: Float64Array;
  /** Cᵀ A C, (n_g + 1)² row-major. */
  readonly A: Float64Array;
}

/** The centring of a homogeneous factor A ((n × n), row and column 0 the bias); no centring if A_00 ≤ 0. */
export function centre(A: Float64Array, n: number): Centring {
  const a00 = A[0];
  const mu = new Float64Array(n);
  if (a00 > 0) for (let i = 1; i < n; i++) mu[i] = A[i] / a00;
  const centred = new Float64Array(n * n);
  centred[0] = a00;
  for (let i = 1; i < n; i++) for (let j = 1; j < n; j++) centred[i * n + j] = A[i * n + j] - mu[i] * A[j];
  if (!(a00 > 0)) centred.set(A);
  return { mu, A: centred };
}

/** Gradient entries of a group (in `group.params` order) into centred coordinates, Cᵀ g: g_ik - μ_i g_0k. */
export function centreGradient(group: KroneckerGroup, mu: Float64Array, g: Float64Array, out: Float64Array): void {
  let bias = 0;
  for (let p = 0; p < group.params.length; p++) {
    const row = group.rowOf[p];
    if (row === 0) bias = p;
    out[p] = row === 0 ? g[p] : g[p] - mu[row] * g[bias];
  }
}

/** A centred step back to the parameters, δθ = C y: δθ_0k = y_0k - Σ_i μ_i y_ik (`out` may alias `y`). */
export function uncentreDirection(group: KroneckerGroup, mu: Float64Array, y: Float64Array, out: Float64Array): void {
  const P = group.params.length;
  for (let p = 0; p < P; ) {
    let q = p + 1;
    let s = y[p];
    for (; q < P && group.rowOf[q] !== 0; q++) {
      s -= mu[group.rowOf[q]] * y[q];
      out[q] = y[q];
    }
    out[p] = s;
    p = q;
  }
}
