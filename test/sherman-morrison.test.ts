import { describe, expect, it } from 'vitest';
import { discountedRankOneUpdate, invertBlock } from '../src/linalg/sherman-morrison.js';
import { Prng } from '../src/random/prng.js';
import { relativeError } from './helpers/brute-force.js';

describe('online metric: discounted rank-one updates by Sherman-Morrison (Eq. 37)', () => {
  for (const [n, gamma, steps] of [
    [6, 0.02, 5000],
    [18, 0.005, 3000],
  ] as const) {
    it(`n = ${n}, γ = ${gamma}: after ${steps} updates the inverse matches the directly accumulated matrix's (< 1e-8)`, () => {
      const rng = new Prng(n);
      const a = new Float64Array(n * n);
      const h = new Float64Array(n * n);
      // A⁽⁰⁾ from 3n samples (Eq. 36), as the trainer does.
      const sample = () => Array.from({ length: n }, (_, i) => (i === 0 ? 1 : rng.normal() + 0.5) * (0.5 + rng.uniform()));
      for (let t = 0; t < 3 * n; t++) {
        const u = sample();
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] += (u[i] * u[j]) / (3 * n);
      }
      expect(invertBlock(a, h, 0, n)).toBe(true);
      const direct = a.slice();
      const scratch = new Float64Array(n);
      for (let t = 0; t < steps; t++) {
        const u = sample();
        expect(discountedRankOneUpdate(a, h, 0, n, u, gamma, scratch)).toBe(true);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) direct[i * n + j] = (1 - gamma) * direct[i * n + j] + gamma * u[i] * u[j];
      }
      const exact = new Float64Array(n * n);
      expect(invertBlock(direct, exact, 0, n)).toBe(true);
      expect(relativeError(h, exact)).toBeLessThan(1e-8);
      expect(relativeError(a, direct)).toBeLessThan(1e-12);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(h[i * n + j]).toBe(h[j * n + i]);
    });
  }

  it('refuses an update that would lose positive definiteness', () => {
    const a = Float64Array.from([1, 0, 0, 1]);
    const h = Float64Array.from([1, 0, 0, 1]);
    expect(discountedRankOneUpdate(a, h, 0, 2, [Number.NaN, 1], 0.1, new Float64Array(2))).toBe(false);
  });
});
