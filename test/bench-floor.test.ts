import { describe, expect, it } from 'vitest';
import { openEngine } from '../src/backend/registry.js';
import { runFloor } from '../src/bench/floor.js';
import { referenceBackprop } from '../src/bench/reference-backprop.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { UsageError } from '../src/errors.js';
import { generateAutoencoder } from '../src/generate/autoencoder.js';
import { generateBinaryData } from '../src/generate/data.js';
import { createMethod } from '../src/methods/methods.js';
import { evaluateMethodOnce } from '../src/methods/runner.js';
import { Prng } from '../src/random/prng.js';

describe('hand-written backprop reference (bench --floor)', () => {
  it.each([1, 7])('gives the engine backprop gradient and loss on the seed-%i autoencoder', (seed) => {
    const model = createModel(generateAutoencoder({ seed, activation: 'sigmoid' }));
    const batch = makeBatch(model.net, generateBinaryData({ seed: seed + 1, samples: 11 }));
    const gradient = new Float64Array(model.net.nParams);
    const loss = referenceBackprop(model.net, batch.size)(model.params, batch, gradient);
    const engine = openEngine('cpu', model.net, batch.size);
    const expected = evaluateMethodOnce(engine, createMethod('backprop'), model.params, batch, { epsilon: 0, rng: new Prng(1), mcSamples: 1 });
    engine.dispose();
    expect(loss).toBeCloseTo(expected.lossNats, 10);
    let largest = 0;
    for (let p = 0; p < gradient.length; p++) largest = Math.max(largest, Math.abs(gradient[p] - expected.gradient[p]));
    expect(largest).toBeLessThan(1e-12);
    expect(gradient.some((g) => g !== 0)).toBe(true);
  });

  it('refuses networks it does not cover and batches of another size', () => {
    const tanh = createModel(generateAutoencoder({ seed: 1, activation: 'tanh' }));
    expect(() => referenceBackprop(tanh.net, 16)).toThrow(UsageError);
    const model = createModel(generateAutoencoder({ seed: 1, activation: 'sigmoid' }));
    const run = referenceBackprop(model.net, 16);
    const batch = makeBatch(model.net, generateBinaryData({ seed: 1, samples: 8 }));
    expect(() => run(model.params, batch, new Float64Array(model.net.nParams))).toThrow(/16 samples, not 8/);
  });

  it('runFloor reports each goal with a ratio per round', () => {
    const lines: string[] = [];
    const result = runFloor({ rounds: 2, sliceMs: 1, warmup: 3, onLine: (l) => lines.push(l) });
    expect(result.gradientDifference).toBeLessThan(1e-12);
    expect(result.ratios.map((r) => `${r.method}/${r.over}`)).toEqual(['backprop/reference', 'quasi-diagonal-backpropagated-metric/backprop', 'unitwise-natural/backprop']);
    for (const r of result.ratios) {
      expect(r.rounds).toHaveLength(2);
      expect(Number.isFinite(r.ratio) && r.ratio > 0).toBe(true);
      expect(r.met).toBe(r.ratio <= r.goal);
    }
    expect(lines.some((l) => l.includes('unitwise-natural / backprop'))).toBe(true);
  });
});
