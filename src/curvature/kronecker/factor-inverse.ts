import { covariantCholesky, covariantCholeskySolve, type CovariantCholesky } from '../../linalg/covariant-cholesky.js';
import { centre } from './centring.js';
import { symmetricEigen, type SymmetricEigen } from '../../linalg/symmetric-eigen.js';

/**
 * Relative tolerance of the ε = 0 solves: a Schur complement at most this fraction of its
 * variable's own (see {@link covariantCholesky}) marks a dependent variable (rounding leaves
 * about 1e-16 there), and with exact damping, eigenvalue products below this fraction of the
 * largest count as zero.
 */
export const RELATIVE_RANK_TOLERANCE = 1e-12;

/**
 * (A ⊗ G + c·I)⁻¹ applied in matrix form to the dense (n × m) grid, D = the solution of
 * A D G + c D = R (row-major n × m; A is n × n, G is m × m, both symmetric), never forming the
 * nm × nm matrix (Martens & Grosse §6.3; seed 004):
 * - c = 0: pivoted Cholesky ({@link covariantCholesky}) of G and of A in centred coordinates
 *   ({@link centre}: A = C⁻ᵀ (A_00 ⊕ Σ) C⁻¹), D = A⁻ R G⁻. When a factor is singular (ε = 0
 *   with fewer samples than sources, or K-FAC's G_g from fewer draws than units), A⁻ and G⁻
 *   are basic inverses, 0 on the dependent variables. Where R's rows lie in the range of G
 *   (KFLR always) D is an exact solution; either way it is covariant under Def. 29, which maps
 *   the centred coordinates and G by diagonal matrices. The pseudo-inverse (A ⊗ G)⁺ is not:
 *   its choice among the solutions moves with the coordinates, and twins would agree on the
 *   data to first order only.
 * - c > 0 (exact damping): eigendecompositions A = U Λ Uᵀ, G = V M Vᵀ,
 *   D = U [(Uᵀ R V) ⊘ (λ_i μ_k + c)] Vᵀ, terms whose λ_i μ_k + c is at most
 *   {@link RELATIVE_RANK_TOLERANCE} × the largest dropped.
 */
export class KroneckerInverse {
  private readonly cholA?: CovariantCholesky;
  private readonly cholG?: CovariantCholesky;
  private readonly mu?: Float64Array;
  private readonly eigA?: SymmetricEigen;
  private readonly eigG?: SymmetricEigen;
  /** Whether the eigen route (exact damping) is used. */
  readonly eigen: boolean;
  /** Numerical ranks of A and G on the Cholesky route (n, m when both are definite). */
  readonly rank: { A: number; G: number };

  constructor(
    A: Float64Array,
    G: Float64Array,
    readonly n: number,
    readonly m: number,
    readonly shift: number,
  ) {
    if (shift === 0) {
      const centring = centre(A, n);
      this.mu = centring.mu;
      this.cholA = covariantCholesky(centring.A, 0, n, RELATIVE_RANK_TOLERANCE);
      this.cholG = covariantCholesky(G, 0, m, RELATIVE_RANK_TOLERANCE);
      this.rank = { A: this.cholA.rank, G: this.cholG.rank };
      this.eigen = false;
      return;
    }
    this.eigA = symmetricEigen(A, n);
    this.eigG = symmetricEigen(G, m);
    this.rank = { A: n, G: m };
    this.eigen = true;
  }

  /** D = (A ⊗ G + c I)⁻¹ R on the grid (`out` may not alias `r`). */
  apply(r: Float64Array, out: Float64Array): void {
    const { n, m } = this;
    if (this.cholA && this.cholG) {
      const mu = this.mu as Float64Array;
      const column = new Float64Array(n);
      // C Σ_c⁻ Cᵀ R column by column (centred: row i - μ_i row 0, solve, row 0 - Σ μ_i row i).
      for (let c = 0; c < m; c++) {
        for (let i = 0; i < n; i++) column[i] = r[i * m + c] - (i > 0 ? mu[i] * r[c] : 0);
        covariantCholeskySolve(this.cholA, column, 0, column, 0);
        let bias = column[0];
        for (let i = 1; i < n; i++) bias -= mu[i] * column[i];
        column[0] = bias;
        for (let i = 0; i < n; i++) out[i * m + c] = column[i];
      }
      // (A⁻ R) G⁻, row by row (G symmetric).
      for (let i = 0; i < n; i++) covariantCholeskySolve(this.cholG, out, i * m, out, i * m);
      return;
    }
    const { values: la, vectors: U } = this.eigA as SymmetricEigen;
    const { values: lg, vectors: V } = this.eigG as SymmetricEigen;
    const t = rotate(U, r, V, n, m, true);
    let largest = 0;
    for (let i = 0; i < n; i++) for (let k = 0; k < m; k++) largest = Math.max(largest, la[i] * lg[k] + this.shift);
    const floor = RELATIVE_RANK_TOLERANCE * largest;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < m; k++) {
        const d = la[i] * lg[k] + this.shift;
        t[i * m + k] = d > floor ? t[i * m + k] / d : 0;
      }
    }
    out.set(rotate(U, t, V, n, m, false));
  }
}

/** Uᵀ R V (forward) or U R Vᵀ (back) for n × n U, m × m V (eigenvectors as columns) and n × m R. */
function rotate(U: Float64Array, R: Float64Array, V: Float64Array, n: number, m: number, forward: boolean): Float64Array {
  const tmp = new Float64Array(n * m);
  // tmp = Uᵀ R or U R.
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const u = forward ? U[j * n + i] : U[i * n + j];
      if (u === 0) continue;
      const rj = j * m;
      const ti = i * m;
      for (let k = 0; k < m; k++) tmp[ti + k] += u * R[rj + k];
    }
  }
  const out = new Float64Array(n * m);
  // out = tmp V or tmp Vᵀ.
  for (let i = 0; i < n; i++) {
    const ti = i * m;
    for (let l = 0; l < m; l++) {
      const t = tmp[ti + l];
      if (t === 0) continue;
      for (let k = 0; k < m; k++) out[ti + k] += t * (forward ? V[l * m + k] : V[k * m + l]);
    }
  }
  return out;
}

/** The damped factors of one group and the shift c of exact damping (see {@link dampFactors}). */
export interface DampedFactors {
  A: Float64Array;
  G: Float64Array;
  /** c of A'⊗G' + c I: ε with exact damping, 0 with factored damping. */
  shift: number;
  /** π of factored damping (1 with exact damping or a zero trace). */
  pi: number;
}

/** How ε damps the Kronecker factors (`--kronecker-damping`). */
export const KRONECKER_DAMPINGS = ['factored', 'exact'] as const;
export type KroneckerDamping = (typeof KRONECKER_DAMPINGS)[number];

/** π = √((tr A/n) / (tr G/m)), 1 if a trace is 0 (Martens & Grosse §6.3). */
export function factoredPi(A: Float64Array, n: number, G: Float64Array, m: number): number {
  let ta = 0;
  let tg = 0;
  for (let i = 0; i < n; i++) ta += A[i * n + i];
  for (let k = 0; k < m; k++) tg += G[k * m + k];
  return ta > 0 && tg > 0 ? Math.sqrt(ta / n / (tg / m)) : 1;
}

/**
 * Damping of a group's factors by ε: factored (Martens & Grosse §6.3), A' = A + π√ε I and
 * G' = G + (√ε/π) I; exact, A' = A, G' = G and ε I added to A ⊗ G itself.
 */
export function dampFactors(A: Float64Array, n: number, G: Float64Array, m: number, epsilon: number, damping: KroneckerDamping): DampedFactors {
  if (damping === 'exact') return { A, G, shift: epsilon, pi: 1 };
  const pi = factoredPi(A, n, G, m);
  const root = Math.sqrt(epsilon);
  const a = A.slice();
  const g = G.slice();
  for (let i = 0; i < n; i++) a[i * n + i] += pi * root;
  for (let k = 0; k < m; k++) g[k * m + k] += root / pi;
  return { A: a, G: g, shift: 0, pi };
}
