import { describe, expect, it } from 'vitest';
import { fittedExponent } from '../src/bench/fit.js';
import { runScaling, scalingCharts } from '../src/bench/scaling.js';
import { useBackend } from '../src/backend/load.js';

// Measurements on a possibly loaded 2-core machine: a timeout far above what these need (a few seconds here).
describe('scaling benchmark (structure only: tests never assert on time)', { timeout: 240_000 }, () => {
  it('fits exponents exactly on power laws', () => {
    expect(fittedExponent([1, 2, 4, 8].map((x) => [x, 3 * x ** 1.5]))).toBeCloseTo(1.5, 12);
    expect(fittedExponent([1, 2, 4, 8].map((x) => [x, 7]))).toBeCloseTo(0, 12);
  });

  it('measures every sweep, method and size on small networks, with charts', () => {
    const result = runScaling({ scale: 0.01, repeats: 1, batch: 4, methods: ['backprop', 'quasi-diagonal-natural'] });
    for (const sweep of ['units', 'fanIn', 'outputs'] as const) {
      expect(result.sweeps[sweep].values).toHaveLength(4);
      for (const m of Object.values(result.sweeps[sweep].methods)) {
        expect(m.points).toHaveLength(4);
        expect(Number.isFinite(m.exponent)).toBe(true);
        expect(m.points.every((p) => p.secondsPerSample > 0 && p.edges > 0)).toBe(true);
      }
    }
    expect(result.sweeps.fanIn.values).toEqual([4, 8, 16, 32]);
    expect(Object.keys(result.peakMemory)).toEqual(['backprop', 'quasi-diagonal-natural']);
    const charts = scalingCharts(result);
    expect(charts.units).toMatch(/<svg[\s\S]*Backpropagation: -?\d\.\d\d \(paper 1\)/);
  });

  it('runs per backend: the gpujs sweep records which mode ran and measures memory on that backend', async () => {
    await useBackend('gpujs');
    const result = runScaling({ backend: 'gpujs', scale: 0.005, repeats: 1, batch: 4, methods: ['quasi-diagonal-backpropagated-metric'] });
    expect(result.backend).toBe('gpujs');
    expect(result.detail).toMatch(/^gpu\.js '(headlessgl|webasm)' mode/);
    expect(result.sweeps.outputs.methods['quasi-diagonal-backpropagated-metric'].points).toHaveLength(4);
    expect(result.peakMemory['quasi-diagonal-backpropagated-metric']).toBeGreaterThan(0);
    expect(scalingCharts(result).units).toMatch(/gpujs (headlessgl|webasm) backend/);
  });
});
