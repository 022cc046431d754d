import { describe, expect, it } from 'vitest';
import { choleskyInPlace, choleskySolve, pivotedCholeskySolve } from '../src/linalg/cholesky.js';
import { Prng } from '../src/random/prng.js';

/** A = Σ_s v_s v_sᵀ over `rank` random vectors in R^n. */
function gram(n: number, rank: number, rng: Prng): { a: Float64Array; vectors: number[][] } {
  const vectors = Array.from({ length: rank }, () => Array.from({ length: n }, () => rng.normal()));
  const a = new Float64Array(n * n);
  for (const v of vectors) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] += v[i] * v[j];
  return { a, vectors };
}

describe('Cholesky solves', () => {
  it('full rank: the plain and the pivoted solve agree', () => {
    const rng = new Prng(1);
    const n = 12;
    const { a } = gram(n, 30, rng);
    const b = Array.from({ length: n }, () => rng.normal());
    const l = a.slice();
    expect(choleskyInPlace(l, 0, n)).toBe(true);
    const x = new Float64Array(n);
    choleskySolve(l, 0, n, b, 0, x, 0);
    const y = new Float64Array(n);
    expect(pivotedCholeskySolve(a, 0, n, b, 0, y, 0)).toBe(n);
    y.forEach((v, i) => expect(v).toBeCloseTo(x[i], 9));
  });

  it('rank deficient (fewer samples than unknowns): an exact solution, so the same fitted values on the samples', () => {
    const rng = new Prng(2);
    const n = 18;
    const { a, vectors } = gram(n, 16, rng);
    // b in the range of A, as a gradient always is (Section 3.3).
    const c = vectors.map(() => rng.normal());
    const b = Array.from({ length: n }, (_, i) => vectors.reduce((sum, v, s) => sum + c[s] * v[i], 0));
    const x = new Float64Array(n);
    expect(pivotedCholeskySolve(a, 0, n, b, 0, x, 0)).toBe(16);
    for (let i = 0; i < n; i++) {
      let ax = 0;
      for (let j = 0; j < n; j++) ax += a[i * n + j] * x[j];
      expect(ax).toBeCloseTo(b[i], 8);
    }
    expect(choleskyInPlace(a.slice(), 0, n)).toBe(false);
  });
});
