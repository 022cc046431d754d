/**
 * A pivoted Cholesky factorisation P M Pᵀ = L Lᵀ of a symmetric positive semi-definite matrix
 * over its kept (independent) variables, from {@link covariantCholesky}.
 */
export interface CovariantCholesky {
  readonly n: number;
  /** Kept variables, in pivot order. */
  readonly perm: Int32Array;
  /** L by pivot step: entry (step r, variable i) at `l[r * n + i]`. */
  readonly l: Float64Array;
  readonly rank: number;
}

/** Relative gap below which two pivot fractions count as tied (see {@link covariantCholesky}). */
const TIE = 1e-9;

/**
 * Factorises the n × n block at `offset` (left unchanged) by Cholesky with diagonal pivoting,
 * stopping at the numerical rank. The pivot is the variable whose Schur complement d_j is the
 * largest fraction of its own diagonal entry M_jj (the part of it not explained by the
 * variables already taken; fractions within 1e-9 of the largest count as tied, and the first of
 * them wins); when that fraction is at most `tolerance` for every remaining variable, they are
 * dependent and their solution components are 0.
 *
 * Why these fractions: they do not change under a diagonal congruence M' = D M Dᵀ (a change of
 * units of each variable), so neither do the pivot order, the rank and the basic solution,
 * which maps by D⁻¹: whether or not the right-hand side lies in the range of M, the solution
 * is covariant. Pivoting on the plain diagonal picks a different solution in each scaling; no
 * pivoting is unstable on singular matrices (rounding leaves spurious pivots).
 */
export function covariantCholesky(a: Float64Array, offset: number, n: number, tolerance: number): CovariantCholesky {
  const m = a.slice(offset, offset + n * n); // lower triangle updated: entry (i, k), i ≥ k
  const l = new Float64Array(n * n);
  const perm: number[] = [];
  const own = Float64Array.from({ length: n }, (_, j) => m[j * n + j]);
  const done = new Uint8Array(n);
  const rest = new Int32Array(n);
  const ratio = (j: number) => (done[j] || !(own[j] > 0) ? 0 : m[j * n + j] / own[j]);
  while (true) {
    let largest = tolerance;
    for (let j = 0; j < n; j++) {
      const r = ratio(j);
      if (r > largest && Number.isFinite(r)) largest = r;
    }
    if (largest === tolerance) break;
    // Kronecker products tie many fractions exactly, and rounding would break the ties
    // differently in each coordinate system: the first variable within TIE of the largest wins.
    let best = 0;
    while (!(ratio(best) >= largest * (1 - TIE))) best++;
    const r = perm.length;
    perm.push(best);
    done[best] = 1;
    const pivot = Math.sqrt(m[best * n + best]);
    const column = r * n;
    l[column + best] = pivot;
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (done[i]) continue;
      rest[count++] = i;
      l[column + i] = (i > best ? m[i * n + best] : m[best * n + i]) / pivot;
    }
    for (let a = 0; a < count; a++) {
      const i = rest[a];
      const li = l[column + i];
      if (li === 0) continue;
      const row = i * n;
      for (let b = 0; b <= a; b++) {
        const k = rest[b];
        m[row + k] -= li * l[column + k];
      }
    }
  }
  return { n, perm: Int32Array.from(perm), l, rank: perm.length };
}

/** Solves M x = b with a factor from {@link covariantCholesky}: the basic solution, 0 on the dependent variables (`x` may alias `b`). */
export function covariantCholeskySolve(f: CovariantCholesky, b: ArrayLike<number>, bOffset: number, x: Float64Array, xOffset: number): void {
  const { n, perm, l, rank } = f;
  const y = new Float64Array(rank);
  for (let r = 0; r < rank; r++) {
    const i = perm[r];
    let s = b[bOffset + i];
    for (let q = 0; q < r; q++) s -= l[q * n + i] * y[q];
    y[r] = s / l[r * n + i];
  }
  for (let r = rank - 1; r >= 0; r--) {
    let s = y[r];
    const column = r * n;
    for (let q = r + 1; q < rank; q++) s -= l[column + perm[q]] * y[q];
    y[r] = s / l[column + perm[r]];
  }
  for (let i = 0; i < n; i++) x[xOffset + i] = 0;
  for (let r = 0; r < rank; r++) x[xOffset + perm[r]] = y[r];
}
