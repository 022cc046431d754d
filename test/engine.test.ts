import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { makeBatch } from '../src/engine/batch.js';
import { inspectModel } from '../src/engine/inspect.js';
import { createModel } from '../src/engine/model.js';
import { lossAndGradient } from '../src/engine/propagate.js';
import { stepModel } from '../src/train/step.js';
import type { NetworkDocument } from '../src/network/types.js';
import { exampleData, exampleNetwork } from './helpers/documents.js';

/** One input, one output, output unit of the given activation; bias b and weight w. */
function single(activation: 'sigmoid' | 'tanh' | 'linear', interpretation: NetworkDocument['attributes']['interpretation'], w: number, b: number): NetworkDocument {
  return {
    attributes: { interpretation, activation },
    nodes: [
      { key: 'x', attributes: { role: 'input' } },
      { key: 'y', attributes: { role: 'output', bias: b } },
    ],
    edges: [{ source: 'x', target: 'y', attributes: { weight: w } }],
  };
}

describe('loss per interpretation (Eq. 3, Example 1)', () => {
  it('bernoulli: -ln p with p = sigm(V), and p = (1+tanh V)/2 for tanh outputs', () => {
    const data = { inputs: [[1]], targets: [[1]] };
    const sig = inspectModel(createModel(single('sigmoid', 'bernoulli', 0.3, 0.2)), data);
    expect(sig.loss.meanNats).toBeCloseTo(-Math.log(1 / (1 + Math.exp(-0.5))), 14);
    const tanh = inspectModel(createModel(single('tanh', 'bernoulli', 0.3, 0.2)), data);
    expect(tanh.loss.meanNats).toBeCloseTo(-Math.log((1 + Math.tanh(0.5)) / 2), 14);
    expect(sig.loss.meanBits).toBeCloseTo(sig.loss.meanNats / Math.LN2, 14);
  });
  it('square: Gaussian -ln density, normalising constant included', () => {
    const r = inspectModel(createModel(single('linear', 'square', 2, 1)), { inputs: [[1]], targets: [[0.5]] });
    expect(r.loss.meanNats).toBeCloseTo(0.5 * 2.5 ** 2 + 0.5 * Math.log(2 * Math.PI), 14);
  });
  it('softmax and spherical on the tiny networks match direct formulas', () => {
    for (const name of ['tiny-softmax', 'tiny-spherical']) {
      const model = createModel(exampleNetwork(name));
      const data = exampleData(name);
      const r = inspectModel(model, data);
      const s = 2;
      const a = [r.activations.y1[s], r.activations.y2[s]];
      const p = name === 'tiny-softmax' ? a.map((v) => Math.exp(v) / (Math.exp(a[0]) + Math.exp(a[1]))) : a.map((v) => (v * v) / (a[0] ** 2 + a[1] ** 2));
      const y = data.targets[s];
      expect(r.loss.perSampleBits[s]).toBeCloseTo(-(y[0] * Math.log2(p[0]) + y[1] * Math.log2(p[1])), 12);
    }
  });
});

describe('saturated outputs stay finite (reduced variables b̃ = rb, Eq. 9-11)', () => {
  it('sigmoid output with a = 1 exactly in float64, y = 1 and y = 0', () => {
    for (const y of [0, 1]) {
      const model = createModel(single('sigmoid', 'bernoulli', 50, 0));
      const data = { inputs: [[1], [-1]], targets: [[y], [y]] };
      const r = inspectModel(model, data);
      expect(r.activations.y[0]).toBe(1);
      expect(r.activations.y[1]).toBeLessThan(1e-20);
      expect(Number.isFinite(r.loss.meanNats)).toBe(true);
      expect(Number.isFinite(r.gradient.biases.y) && Number.isFinite(r.gradient.edges[0].value)).toBe(true);
      // y = 1 at a = 1: the loss is softplus(-50) ≈ 2e-22 (below float64 resolution of a = 1); y = 0: 50 nats.
      const expected = y === 1 ? 2e-22 : 50;
      expect(Math.abs(r.loss.perSampleBits[0] * Math.LN2 - expected)).toBeLessThan(1e-12);
      expect(r.loss.perSampleBits[0]).toBeGreaterThanOrEqual(0);
    }
  });
  it('tanh hidden units saturated at ±1 backpropagate zeros, not NaN', () => {
    const doc = exampleNetwork('tiny-bernoulli');
    doc.edges.forEach((e) => (e.attributes.weight *= 1000));
    const model = createModel(doc);
    const r = inspectModel(model, exampleData('tiny-bernoulli'));
    expect(Object.values(r.gradient.biases).every(Number.isFinite)).toBe(true);
  });
});

describe('batch quantities are means over samples', () => {
  it('the gradient of a duplicated data set equals that of the original', () => {
    const model = createModel(exampleNetwork('tiny-square'));
    const data = exampleData('tiny-square');
    const twice = { inputs: [...data.inputs, ...data.inputs], targets: [...data.targets, ...data.targets] };
    const g = (d: typeof data) => {
      const batch = makeBatch(model.net, d);
      const out = new Float64Array(model.net.nParams);
      const loss = lossAndGradient(cpuBackend.open(model.net, batch.size), model.params, batch, out);
      return [loss, ...out];
    };
    g(twice).forEach((v, i) => expect(v).toBeCloseTo(g(data)[i], 14));
  });
});

describe('backprop step (Eq. 12)', () => {
  it('w <- w + ηG lowers the loss for a small rate', () => {
    const model = createModel(exampleNetwork('tiny-softmax'));
    const before = model.params.slice();
    const data = exampleData('tiny-softmax');
    const { net } = model;
    const batch = makeBatch(net, data);
    const G = new Float64Array(net.nParams);
    lossAndGradient(cpuBackend.open(net, batch.size), model.params, batch, G);
    const result = stepModel(model, data, { method: 'backprop', lr: 0.05 });
    model.params.forEach((w, p) => expect(w).toBe(before[p] + 0.05 * G[p]));
    expect(result.lossAfter).toBeLessThan(result.lossBefore);
  });
  it('refuses a step that would write non-finite weights', () => {
    const model = createModel(exampleNetwork('tiny-square'));
    const data = exampleData('tiny-square');
    data.targets = data.targets.map((row) => row.map((y) => 1e6 * y));
    expect(() => stepModel(model, data, { method: 'backprop', lr: 1e308 })).toThrow(/non-finite parameters/);
    expect(() => stepModel(model, data, { method: 'backprop', lr: Infinity })).toThrow(/not a finite number/);
  });
});
