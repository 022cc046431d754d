import { describe, expect, it } from 'vitest';
import { centre } from '../src/curvature/kronecker/centring.js';
import { KroneckerInverse } from '../src/curvature/kronecker/factor-inverse.js';
import { groupSolver, restrictedMatrix } from '../src/curvature/kronecker/group-solve.js';
import { buildGroups, type KroneckerGroup } from '../src/curvature/kronecker/groups.js';
import { createModel } from '../src/engine/model.js';
import { covariantCholesky, covariantCholeskySolve } from '../src/linalg/covariant-cholesky.js';
import { Prng } from '../src/random/prng.js';
import { relative } from './helpers/compare.js';
import { denseSolve } from './helpers/dense-solve.js';
import { layeredNetwork } from './helpers/layered-network.js';

/** A = E ā āᵀ over `samples` random activities ā = (1, a) (singular when samples < n), G = B Bᵀ of rank `rankG`. */
function factors(n: number, m: number, samples: number, rankG: number, rng: Prng) {
  const A = new Float64Array(n * n);
  for (let s = 0; s < samples; s++) {
    const a = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 1 : 1 / (1 + Math.exp(-rng.normal()))));
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] += (a[i] * a[j]) / samples;
  }
  const B = Float64Array.from({ length: m * rankG }, () => rng.normal());
  const G = new Float64Array(m * m);
  for (let k = 0; k < m; k++) for (let l = 0; l < m; l++) for (let r = 0; r < rankG; r++) G[k * m + l] += B[k * rankG + r] * B[l * rankG + r];
  return { A, G };
}

/**
 * Def. 29 on one group: ā'_i = α_i ā_i + β_i (T lower-triangular, bias first) and V'_k = γ_k V_k,
 * so A' = T A Tᵀ, G' = Γ G Γ, and on the parameters J = P (T ⊗ Γ) Pᵀ (it keeps the pattern).
 */
function reparametrisation(group: KroneckerGroup, rng: Prng) {
  const n = group.sources.length + 1;
  const m = group.units.length;
  const T = new Float64Array(n * n);
  T[0] = 1;
  for (let i = 1; i < n; i++) [T[i * n], T[i * n + i]] = [2 * rng.uniform() - 1, (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + 1.5 * rng.uniform())];
  const gamma = Float64Array.from({ length: m }, () => 0.5 + 1.5 * rng.uniform());
  const P = group.params.length;
  const J = new Float64Array(P * P);
  for (let p = 0; p < P; p++) for (let q = 0; q < P; q++) if (group.colOf[p] === group.colOf[q]) J[p * P + q] = T[group.rowOf[p] * n + group.rowOf[q]] * gamma[group.colOf[p]];
  const map = (A: Float64Array, G: Float64Array) => {
    const A2 = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) A2[i * n + j] += T[i * n + a] * A[a * n + b] * T[j * n + b];
    return { A: A2, G: Float64Array.from(G, (v, x) => v * gamma[Math.floor(x / m)] * gamma[x % m]) };
  };
  const times = (v: Float64Array) => Float64Array.from({ length: P }, (_, p) => v.reduce((s, x, q) => s + J[p * P + q] * x, 0));
  // J⁻ᵀ δ: solve Jᵀ x = δ (Gaussian elimination, J is small here).
  const transposed = Float64Array.from({ length: P * P }, (_, x) => J[(x % P) * P + Math.floor(x / P)]);
  const inverseTransposeTimes = (d: Float64Array) => denseSolve(transposed, d);
  return { map, times, inverseTransposeTimes };
}

describe('ε = 0 Kronecker solves are covariant under Def. 29 where the factors are singular', () => {
  const sparse = buildGroups(createModel(layeredNetwork([7, 5, 2], { interpretation: 'bernoulli', density: 0.6, seed: 4 })).net, 'levels')[0];
  const complete = buildGroups(createModel(layeredNetwork([6, 4, 2], { interpretation: 'bernoulli', seed: 4 })).net, 'levels')[0];
  const cases = [
    { name: 'sparse, direct', group: sparse, limits: {}, diagonalG: false },
    { name: 'sparse, CG → direct', group: sparse, limits: { directOnly: 0 }, diagonalG: false },
    { name: 'sparse, per-unit (diagonal G)', group: sparse, limits: {}, diagonalG: true },
    { name: 'complete, matrix form', group: complete, limits: {}, diagonalG: false },
  ];
  it('the groups', () => expect([sparse.complete, complete.complete]).toEqual([false, true]));

  for (const { name, group, limits, diagonalG } of cases) {
    const n = group.sources.length + 1;
    const m = group.units.length;
    for (const consistent of [true, false]) {
      it(`${name}: A singular (4 samples), ${consistent ? 'G regular, gradient in the range' : "G of rank 2 (K-FAC's few draws), gradient outside the range"}`, () => {
        const rng = new Prng(consistent ? 21 : 22);
        const { A, G: G0 } = factors(n, m, 4, consistent ? m : 2, rng);
        const G = diagonalG ? Float64Array.from(G0, (v, x) => (x % (m + 1) === 0 ? v + (consistent ? 0 : 0) : 0)) : G0;
        const P = group.params.length;
        // In the range: the grid E_x ā_x b_xᵀ restricted, with b_x = G c_x; else any vector.
        const gradient = Float64Array.from({ length: P }, () => rng.normal());
        if (consistent) {
          const M = restrictedMatrix(group, { A, G, shift: 0, pi: 1 });
          gradient.set(Float64Array.from({ length: P }, (_, p) => M.subarray(p * P, (p + 1) * P).reduce((s, v, q) => s + v * gradient[q], 0)));
        }
        const twin = reparametrisation(group, rng);
        const mapped = twin.map(A, G);
        const solve = (f: { A: Float64Array; G: Float64Array }, g: Float64Array) => {
          const out = new Float64Array(P);
          groupSolver(group, { ...f, shift: 0, pi: 1 }, 'restricted', limits).solve(g, out);
          return out;
        };
        const delta = solve({ A, G }, gradient);
        const deltaTwin = solve(mapped, twin.times(gradient));
        expect(relative(deltaTwin, twin.inverseTransposeTimes(delta))).toBeLessThan(1e-8);
        if (consistent) {
          const M = restrictedMatrix(group, { A, G, shift: 0, pi: 1 });
          const residual = Float64Array.from({ length: P }, (_, p) => M.subarray(p * P, (p + 1) * P).reduce((s, v, q) => s + v * delta[q], 0));
          expect(relative(residual, gradient)).toBeLessThan(1e-8);
        }
      });
    }
  }
});

describe('the covariant pivoted Cholesky', () => {
  it('solves a definite system exactly and a singular consistent one to its rank; the pivots ignore diagonal scalings', () => {
    const rng = new Prng(5);
    const n = 6;
    const X = Float64Array.from({ length: n * 3 }, () => rng.normal()); // rank 3
    const M = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let r = 0; r < 3; r++) M[i * n + j] += X[i * 3 + r] * X[j * 3 + r];
    const f = covariantCholesky(M, 0, n, 1e-12);
    expect(f.rank).toBe(3);
    const b = Float64Array.from({ length: n }, (_, i) => M.subarray(i * n, (i + 1) * n).reduce((s, v, j) => s + v * (j + 1), 0));
    const x = new Float64Array(n);
    covariantCholeskySolve(f, b, 0, x, 0);
    const back = Float64Array.from({ length: n }, (_, i) => M.subarray(i * n, (i + 1) * n).reduce((s, v, j) => s + v * x[j], 0));
    expect(relative(back, b)).toBeLessThan(1e-12);
    const d = Float64Array.from({ length: n }, () => 0.1 + 10 * rng.uniform());
    const scaled = covariantCholesky(Float64Array.from(M, (v, k) => v * d[Math.floor(k / n)] * d[k % n]), 0, n, 1e-12);
    expect(Array.from(scaled.perm)).toEqual(Array.from(f.perm));
  });

  it('the centring makes Cᵀ A C = A_00 ⊕ Σ', () => {
    const rng = new Prng(8);
    const { A } = factors(4, 1, 6, 1, rng);
    const { mu, A: c } = centre(A, 4);
    expect(mu[0]).toBe(0);
    for (let j = 1; j < 4; j++) expect(Math.abs(c[j]) + Math.abs(c[j * 4])).toBe(0);
    expect(c[5]).toBeCloseTo(A[5] - A[1] * A[1], 14);
  });

  it('the matrix form solves A D G = R exactly when R lies in the range (singular A)', () => {
    const rng = new Prng(9);
    const { A, G } = factors(5, 3, 3, 3, rng);
    const C = Float64Array.from({ length: 15 }, () => rng.normal());
    // R = A C G: in the range of both factors.
    const AC = new Float64Array(15);
    for (let i = 0; i < 5; i++) for (let k = 0; k < 3; k++) for (let j = 0; j < 5; j++) AC[i * 3 + k] += A[i * 5 + j] * C[j * 3 + k];
    const R = new Float64Array(15);
    for (let i = 0; i < 5; i++) for (let k = 0; k < 3; k++) for (let l = 0; l < 3; l++) R[i * 3 + k] += AC[i * 3 + l] * G[l * 3 + k];
    const D = new Float64Array(15);
    const inverse = new KroneckerInverse(A, G, 5, 3, 0);
    inverse.apply(R, D);
    expect(inverse.rank).toEqual({ A: 3, G: 3 });
    const AD = new Float64Array(15);
    for (let i = 0; i < 5; i++) for (let k = 0; k < 3; k++) for (let j = 0; j < 5; j++) AD[i * 3 + k] += A[i * 5 + j] * D[j * 3 + k];
    const back = new Float64Array(15);
    for (let i = 0; i < 5; i++) for (let k = 0; k < 3; k++) for (let l = 0; l < 3; l++) back[i * 3 + k] += AD[i * 3 + l] * G[l * 3 + k];
    expect(relative(back, R)).toBeLessThan(1e-10);
  });
});
