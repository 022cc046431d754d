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

describe('least squares by pivoted QR', () => {
  it('matches the normal equations at full rank and fits exactly what can be fitted when rank deficient', async () => {
    const { leastSquaresQR } = await import('../src/linalg/qr.js');
    const rng = new Prng(3);
    for (const [m, n, rank] of [
      [30, 6, 6],
      [16, 18, 16],
      [10, 8, 5],
    ]) {
      const basis = Array.from({ length: rank }, () => Array.from({ length: n }, () => rng.normal()));
      const rows = Array.from({ length: m }, () => {
        const c = basis.map(() => rng.normal());
        return Array.from({ length: n }, (_, j) => basis.reduce((s, b, i) => s + c[i] * b[j], 0));
      });
      const y = Array.from({ length: m }, () => rng.normal());
      const x = Float64Array.from(rows.flat());
      const delta = new Float64Array(n);
      expect(leastSquaresQR(x, m, n, Float64Array.from(y), delta)).toBe(rank);
      // Normal equations XᵀXδ = Xᵀy hold.
      for (let j = 0; j < n; j++) {
        let lhs = 0;
        let rhs = 0;
        rows.forEach((r, i) => {
          rhs += r[j] * y[i];
          lhs += r[j] * r.reduce((s, v, l) => s + v * delta[l], 0);
        });
        expect(lhs).toBeCloseTo(rhs, 8);
      }
    }
  });
});
