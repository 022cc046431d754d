import { choleskyInPlace, choleskySolve } from '../../linalg/cholesky.js';
import { NumericalError, problem } from '../../errors.js';

/**
 * The bias-separated form of a complete group's Kronecker step (seed 000; the centring of
 * Natural Neural Networks): with ā = (1, a), A = E ā āᵀ = [[1, μᵀ], [μ, E a aᵀ]] and the
 * covariance Σ = E a aᵀ - μ μᵀ, block inversion of A ⊗ G gives
 *   δW = Σ⁻¹ (∇_W - μ ∇_bᵀ) G⁻¹   (centred statistics and a centred gradient),
 *   δb = G⁻¹ ∇_b - δWᵀ μ,
 * which equals the homogeneous A⁻¹ ∇ G⁻¹. `A` is (n+1) × (n+1), `G` m × m, `gradient` the
 * (n+1) × m grid (row 0 the biases); both factors must be positive definite (ε = 0 here: the
 * two forms differ once damping is added, to Σ in one and to A in the other). Returns the grid.
 */
export function centredGroupDirection(A: Float64Array, G: Float64Array, gradient: Float64Array, n1: number, m: number): Float64Array {
  const n = n1 - 1;
  const mu = Float64Array.from({ length: n }, (_, i) => A[i + 1]);
  const sigma = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sigma[i * n + j] = A[(i + 1) * n1 + j + 1] - mu[i] * mu[j];
  const g = G.slice();
  if (!choleskyInPlace(sigma, 0, n) || !choleskyInPlace(g, 0, m)) {
    throw new NumericalError([problem('not-positive-definite', 'the centred Kronecker form needs a positive-definite covariance Σ and factor G')]);
  }
  // Centred gradient ∇_W - μ ∇_bᵀ, then Σ⁻¹ (column by column) and G⁻¹ (row by row).
  const W = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let k = 0; k < m; k++) W[i * m + k] = gradient[(i + 1) * m + k] - mu[i] * gradient[k];
  const column = new Float64Array(n);
  for (let k = 0; k < m; k++) {
    for (let i = 0; i < n; i++) column[i] = W[i * m + k];
    choleskySolve(sigma, 0, n, column, 0, column, 0);
    for (let i = 0; i < n; i++) W[i * m + k] = column[i];
  }
  for (let i = 0; i < n; i++) choleskySolve(g, 0, m, W, i * m, W, i * m);
  const out = new Float64Array(n1 * m);
  choleskySolve(g, 0, m, gradient, 0, out, 0);
  for (let k = 0; k < m; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += mu[i] * W[i * m + k];
    out[k] -= s;
  }
  out.set(W, m);
  return out;
}
