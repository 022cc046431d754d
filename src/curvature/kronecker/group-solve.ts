import { choleskyInPlace, choleskySolve, pivotedCholeskySolve } from '../../linalg/cholesky.js';
import { KroneckerInverse, RELATIVE_RANK_TOLERANCE, type DampedFactors } from './factor-inverse.js';
import type { KroneckerGroup } from './groups.js';

/** How a group's system is solved (`--kronecker-solve`): exactly on the parameters that exist, or the dense solve masked. */
export const KRONECKER_SOLVES = ['restricted', 'masked'] as const;
export type KroneckerSolve = (typeof KRONECKER_SOLVES)[number];

/**
 * Largest group (parameters) solved by a direct Cholesky factorisation of M_g; larger sparse
 * groups use preconditioned conjugate gradients.
 * NOTE: the factorisation costs P_g³/3 once per inverse refresh (and P_g² memory), then P_g² per
 * solve; CG costs about 2(n_g+1)m_g(n_g+1+m_g) per iteration and needs tens to hundreds of
 * iterations at the tolerance below. At P_g = 2048 the factorisation takes about 3·10⁹ flops,
 * a few seconds here: beyond that the iterative solve wins even when refreshed rarely.
 */
export const DIRECT_SOLVE_LIMIT = 2048;
/** Relative residual ‖M δ - ∇‖ / ‖∇‖ at which conjugate gradients stop. */
export const CG_TOLERANCE = 1e-14;

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
export function groupSolver(group: KroneckerGroup, f: DampedFactors, mode: KroneckerSolve, directLimit = DIRECT_SOLVE_LIMIT): GroupSolver {
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
  if (isDiagonal(f.G, m)) return unitSolver(group, f, n, m);
  return P <= directLimit ? directSolver(group, f) : conjugateGradientSolver(group, f, n, m);
}

function isDiagonal(G: Float64Array, m: number): boolean {
  for (let k = 0; k < m; k++) for (let l = 0; l < m; l++) if (k !== l && G[k * m + l] !== 0) return false;
  return true;
}

/**
 * The per-unit diagonal blocks of M_g, A'[S̄_k, S̄_k]·G'[k,k] + c I, factored by Cholesky (or
 * kept for a pivoted least-squares solve when singular): the preconditioner of CG, and the
 * exact solve when G' is diagonal.
 */
function unitBlocks(group: KroneckerGroup, f: DampedFactors, n: number, m: number) {
  const P = group.params.length;
  const blocks: Array<{ start: number; size: number; matrix: Float64Array; factor: Float64Array | undefined }> = [];
  for (let p = 0; p < P; ) {
    let q = p;
    while (q < P && group.colOf[q] === group.colOf[p]) q++;
    const size = q - p;
    const matrix = new Float64Array(size * size);
    const g = f.G[group.colOf[p] * m + group.colOf[p]];
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) matrix[i * size + j] = f.A[group.rowOf[p + i] * n + group.rowOf[p + j]] * g + (i === j ? f.shift : 0);
    const factor = matrix.slice();
    blocks.push({ start: p, size, matrix, factor: choleskyInPlace(factor, 0, size) ? factor : undefined });
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
      for (const b of blocks) {
        if (b.factor) choleskySolve(b.factor, 0, b.size, gradient, b.start, out, b.start);
        else pivotedCholeskySolve(b.matrix, 0, b.size, gradient, b.start, out, b.start, RELATIVE_RANK_TOLERANCE);
      }
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

function directSolver(group: KroneckerGroup, f: DampedFactors): GroupSolver {
  const P = group.params.length;
  const M = restrictedMatrix(group, f);
  const factor = M.slice();
  const definite = choleskyInPlace(factor, 0, P);
  return {
    route: 'direct',
    iterations: 0,
    residual: 0,
    solve(gradient, out) {
      // ε = 0 and a singular M_g: least squares (pivoted Cholesky to the numerical rank).
      if (definite) choleskySolve(factor, 0, P, gradient, 0, out, 0);
      else pivotedCholeskySolve(M, 0, P, gradient, 0, out, 0, RELATIVE_RANK_TOLERANCE);
    },
  };
}

function conjugateGradientSolver(group: KroneckerGroup, f: DampedFactors, n: number, m: number): GroupSolver {
  const P = group.params.length;
  const grid = new Float64Array(n * m);
  const left = new Float64Array(n * m);
  const product = new Float64Array(n * m);
  // M v = P (A' V G') Pᵀ v + c v, V the grid of v.
  const apply = (v: Float64Array, out: Float64Array) => {
    grid.fill(0);
    scatter(group, v, grid, m);
    multiply(f.A, grid, left, n, n, m);
    multiply(left, f.G, product, n, m, m);
    gather(group, product, out, m);
    if (f.shift !== 0) for (let p = 0; p < P; p++) out[p] += f.shift * v[p];
  };
  // Preconditioner: the per-unit diagonal blocks.
  const blocks = unitBlocks(group, f, n, m);
  const precondition = (r: Float64Array, z: Float64Array) => {
    for (const b of blocks) {
      if (b.factor) choleskySolve(b.factor, 0, b.size, r, b.start, z, b.start);
      else z.set(r.subarray(b.start, b.start + b.size), b.start);
    }
  };
  const solver: GroupSolver = {
    route: 'cg',
    iterations: 0,
    residual: 0,
    solve(gradient, x) {
      const r = gradient.slice();
      const z = new Float64Array(P);
      const q = new Float64Array(P);
      x.fill(0);
      const norm = Math.sqrt(dot(gradient, gradient));
      if (norm === 0) {
        solver.iterations = 0;
        solver.residual = 0;
        return;
      }
      precondition(r, z);
      const d = z.slice();
      let rz = dot(r, z);
      let k = 0;
      let relative = 1;
      const maxIterations = 4 * P;
      while (k < maxIterations) {
        apply(d, q);
        const dq = dot(d, q);
        if (!(dq > 0)) break; // singular M_g (ε = 0): stop at the least-squares iterate reached
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
      solver.iterations = k;
      solver.residual = relative;
    },
  };
  return solver;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** out = X Y for row-major X (r × s) and Y (s × t). */
function multiply(X: Float64Array, Y: Float64Array, out: Float64Array, r: number, s: number, t: number): void {
  out.fill(0);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < s; j++) {
      const x = X[i * s + j];
      if (x === 0) continue;
      for (let k = 0; k < t; k++) out[i * t + k] += x * Y[j * t + k];
    }
  }
}
