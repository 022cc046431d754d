import { covariantCholesky, covariantCholeskySolve } from '../../linalg/covariant-cholesky.js';
import { centre, centreGradient, uncentreDirection } from './centring.js';
import { KroneckerInverse, RELATIVE_RANK_TOLERANCE, type DampedFactors } from './factor-inverse.js';
import type { KroneckerGroup } from './groups.js';
import { restrictedConjugateGradient, type UnitBlock } from './restricted-cg.js';

/** How a group's system is solved (`--kronecker-solve`): exactly on the parameters that exist, or the dense solve masked. */
export const KRONECKER_SOLVES = ['restricted', 'masked'] as const;
export type KroneckerSolve = (typeof KRONECKER_SOLVES)[number];

/**
 * How sparse groups are solved exactly (`restricted`):
 * - P_g ≤ {@link DIRECT_ONLY_LIMIT}: a direct Cholesky factorisation of M_g;
 * - larger: conjugate gradients preconditioned by the per-unit blocks, falling back to the
 *   direct factorisation (up to {@link DIRECT_SOLVE_LIMIT} parameters) when CG has not reached
 *   {@link CG_TOLERANCE} after P_g iterations.
 * NOTE: the factorisation costs P_g³/3 per inverse refresh (P_g² memory), then P_g² per solve;
 * one CG iteration costs P_g(n_g + 1 + m_g) (M v never forms the grid product: A' acts on the
 * P_g non-zeros of V and G' only where parameters exist). On the paper's sparse autoencoder
 * (first group: P_g = 530, n_g + 1 = 101, m_g = 30) CG reaches 1e-14 in about 120 iterations,
 * 8·10⁶ flops against 5·10⁷ for the factorisation, which a batch step (one refresh per
 * iteration) pays every time. CG is exact to the tolerance; the fallback bounds its cost.
 */
export const DIRECT_ONLY_LIMIT = 256;
/** Largest group factorised directly (the fallback of CG); above it CG runs to 4 P_g iterations. */
export const DIRECT_SOLVE_LIMIT = 2048;
export { CG_TOLERANCE } from './restricted-cg.js';

/** The direction of one group from its gradient entries (in `group.params` order). */
export interface GroupSolver {
  /**
   * 'matrix' (complete group: A'⁻¹ ∇ G'⁻¹ on the grid), 'masked', 'units' (G' diagonal: M_g is
   * block-diagonal, one small solve per unit), 'direct' (Cholesky of M_g) or 'cg'.
   */
  readonly route: 'matrix' | 'masked' | 'units' | 'direct' | 'cg';
  /** Conjugate-gradient iterations of the last solve (0 for the other routes). */
  iterations: number;
  /** Relative residual reached by the last CG solve (0 for the other routes). */
  residual: number;
  solve(gradient: Float64Array, out: Float64Array): void;
}

/**
 * Prepares the solve of M_g δ = ∇_g for one group, M_g = P_g (A' ⊗ G') P_gᵀ + c I (entry
 * M[(i,k),(j,l)] = A'[i,j]·G'[k,l]): complete groups in matrix form; sparse groups exactly on
 * their parameters (`restricted`: direct Cholesky up to {@link DIRECT_SOLVE_LIMIT} parameters,
 * else conjugate gradients preconditioned by the per-unit diagonal blocks), or `masked`:
 * δ = P K⁻¹ Pᵀ ∇ with K = A' ⊗ G' + c I on the whole grid.
 */
export function groupSolver(group: KroneckerGroup, f: DampedFactors, mode: KroneckerSolve, limits: { directOnly?: number; direct?: number } = {}): GroupSolver {
  const n = group.sources.length + 1;
  const m = group.units.length;
  if (group.complete || mode === 'masked') {
    const inverse = new KroneckerInverse(f.A, f.G, n, m, f.shift);
    const grid = new Float64Array(n * m);
    const result = new Float64Array(n * m);
    return {
      route: group.complete ? 'matrix' : 'masked',
      iterations: 0,
      residual: 0,
      solve(gradient, out) {
        grid.fill(0);
        scatter(group, gradient, grid, m);
        inverse.apply(grid, result);
        gather(group, result, out, m);
      },
    };
  }
  const P = group.params.length;
  return inCentredCoordinates(group, f, n, (c) => {
    if (isDiagonal(c.G, m)) return unitSolver(group, c, n, m);
    if (P <= (limits.directOnly ?? DIRECT_ONLY_LIMIT)) return directSolver(group, c);
    return iterativeSolver(group, c, n, m, P <= (limits.direct ?? DIRECT_SOLVE_LIMIT));
  });
}

/**
 * With c = 0 a sparse group's exact solve runs in centred coordinates ({@link centre}: the
 * factor A' becomes A'_00 ⊕ Σ, the gradient Cᵀ∇, the step C y), where its choices, at ε = 0
 * among the solutions of a singular M_g, do not depend on the coordinates of Def. 29. With
 * c > 0 (exact damping) M_g + cI is definite and is solved as it is.
 */
function inCentredCoordinates(group: KroneckerGroup, f: DampedFactors, n: number, build: (f: DampedFactors) => GroupSolver): GroupSolver {
  if (f.shift !== 0) return build(f);
  const { mu, A } = centre(f.A, n);
  const inner = build({ ...f, A });
  const centred = new Float64Array(group.params.length);
  return {
    get route() {
      return inner.route;
    },
    get iterations() {
      return inner.iterations;
    },
    get residual() {
      return inner.residual;
    },
    solve(gradient, out) {
      centreGradient(group, mu, gradient, centred);
      inner.solve(centred, out);
      uncentreDirection(group, mu, out, out);
    },
  };
}

/**
 * CG, with the direct factorisation as the fallback when allowed (built once, on first need).
 * Where the fallback is allowed, singular systems go straight to it: a singular unit block
 * (ε = 0, more parameters than samples) makes M_g singular and leaves CG unpreconditioned
 * there, so its solution would depend on the coordinates; a singular G' (K-FAC's G_g from
 * fewer draws than units) leaves the gradient outside the range of M_g, where CG cannot
 * converge.
 */
function iterativeSolver(group: KroneckerGroup, f: DampedFactors, n: number, m: number, fallback: boolean): GroupSolver {
  const P = group.params.length;
  const blocks = unitBlocks(group, f, n, m);
  const singular = () => blocks.some((b) => b.factor.rank < b.size) || (f.shift === 0 && covariantCholesky(f.G, 0, m, RELATIVE_RANK_TOLERANCE).rank < m);
  if (fallback && singular()) return directSolver(group, f);
  const cg = restrictedConjugateGradient(group, f, n, m, blocks);
  let direct: GroupSolver | undefined;
  const solver: GroupSolver = {
    route: 'cg',
    iterations: 0,
    residual: 0,
    solve(gradient, out) {
      if (direct) return direct.solve(gradient, out);
      const { iterations, residual, converged } = cg(gradient, out, fallback ? P : 4 * P);
      solver.iterations = iterations;
      solver.residual = residual;
      if (!converged && fallback) {
        direct = directSolver(group, f);
        (solver as { route: GroupSolver['route'] }).route = 'direct';
        direct.solve(gradient, out);
      }
    },
  };
  return solver;
}

function isDiagonal(G: Float64Array, m: number): boolean {
  for (let k = 0; k < m; k++) for (let l = 0; l < m; l++) if (k !== l && G[k * m + l] !== 0) return false;
  return true;
}

/**
 * The per-unit diagonal blocks of M_g, A'[S̄_k, S̄_k]·G'[k,k] + c I, factored by pivoted
 * Cholesky (singular blocks to their rank, see {@link covariantCholesky}): the preconditioner
 * of CG (where definite), and the exact solve when G' is diagonal.
 */
function unitBlocks(group: KroneckerGroup, f: DampedFactors, n: number, m: number): UnitBlock[] {
  const P = group.params.length;
  const blocks: UnitBlock[] = [];
  for (let p = 0; p < P; ) {
    let q = p;
    while (q < P && group.colOf[q] === group.colOf[p]) q++;
    const size = q - p;
    const factor = new Float64Array(size * size);
    const g = f.G[group.colOf[p] * m + group.colOf[p]];
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) factor[i * size + j] = f.A[group.rowOf[p + i] * n + group.rowOf[p + j]] * g + (i === j ? f.shift : 0);
    blocks.push({ start: p, size, factor: covariantCholesky(factor, 0, size, RELATIVE_RANK_TOLERANCE) });
    p = q;
  }
  return blocks;
}

/** G' diagonal (e.g. the output group under Bernoulli or square outputs): M_g is block-diagonal by unit. */
function unitSolver(group: KroneckerGroup, f: DampedFactors, n: number, m: number): GroupSolver {
  const blocks = unitBlocks(group, f, n, m);
  return {
    route: 'units',
    iterations: 0,
    residual: 0,
    solve(gradient, out) {
      for (const b of blocks) covariantCholeskySolve(b.factor, gradient, b.start, out, b.start);
    },
  };
}

function scatter(group: KroneckerGroup, v: Float64Array, grid: Float64Array, m: number): void {
  for (let p = 0; p < group.params.length; p++) grid[group.rowOf[p] * m + group.colOf[p]] = v[p];
}

function gather(group: KroneckerGroup, grid: Float64Array, out: Float64Array, m: number): void {
  for (let p = 0; p < group.params.length; p++) out[p] = grid[group.rowOf[p] * m + group.colOf[p]];
}

/** M_g as a dense P_g × P_g row-major matrix (tests, and the direct solve). */
export function restrictedMatrix(group: KroneckerGroup, f: DampedFactors): Float64Array {
  const n = group.sources.length + 1;
  const m = group.units.length;
  const P = group.params.length;
  const M = new Float64Array(P * P);
  for (let p = 0; p < P; p++) {
    const ap = group.rowOf[p] * n;
    const gp = group.colOf[p] * m;
    for (let q = 0; q < P; q++) M[p * P + q] = f.A[ap + group.rowOf[q]] * f.G[gp + group.colOf[q]];
    M[p * P + p] += f.shift;
  }
  return M;
}

/**
 * Pivoted Cholesky of M_g ({@link covariantCholesky}). At ε = 0 M_g may be singular (fewer
 * samples than sources, or K-FAC's G_g from fewer draws than units): it stops at the numerical
 * rank and gives the basic solution, exact where the gradient lies in the range of M_g; in the
 * centred coordinates where ε = 0 solves run (see {@link centre}) it maps under Def. 29 as the
 * parameters do, so twins agree to all orders, not only to the first as for an arbitrary
 * least-squares solution.
 */
function directSolver(group: KroneckerGroup, f: DampedFactors): GroupSolver {
  const factor = covariantCholesky(restrictedMatrix(group, f), 0, group.params.length, RELATIVE_RANK_TOLERANCE);
  return {
    route: 'direct',
    iterations: 0,
    residual: 0,
    solve: (gradient, out) => covariantCholeskySolve(factor, gradient, 0, out, 0),
  };
}
