import { describe, expect, it } from 'vitest';
import { Prng } from '../src/random/prng.js';

describe('Prng (xoshiro128**)', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xs);
  });
  it('resumes exactly from a saved state', () => {
    const a = new Prng(7);
    for (let i = 0; i < 10; i++) a.uniform();
    const b = new Prng(a.state());
    expect(Array.from({ length: 20 }, () => b.uniform())).toEqual(Array.from({ length: 20 }, () => a.uniform()));
  });
  it('uniform in [0,1), normal with mean 0 and variance 1', () => {
    const rng = new Prng(1);
    let sum = 0;
    let sq = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      const z = rng.normal();
      sum += z;
      sq += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.02);
  });
  it('int is uniform over its range, and samples without replacement', () => {
    const rng = new Prng(3);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    const draw = rng.sampleWithoutReplacement(30, 5);
    expect(new Set(draw).size).toBe(5);
    expect(draw.every((v) => v >= 0 && v < 30)).toBe(true);
  });
});
