import { describe, expect, it } from 'vitest';
import { createModel } from '../src/engine/model.js';
import { maxDistributionGap, outputDistribution } from '../src/engine/output-distribution.js';
import { expectedInvariance } from '../src/invariance/expectation.js';
import { METHOD_SPECS, METHODS, type MethodName } from '../src/methods/methods.js';
import type { DataDocument, NetworkDocument } from '../src/network/types.js';
import { stepModel } from '../src/train/step.js';
import { convertData, convertNetwork } from '../src/transform/convert.js';
import { reparametrize } from '../src/transform/reparametrize.js';
import { Prng } from '../src/random/prng.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

/** Output distributions of two (network, data) pairs after one step of `method` on each. */
function gapAfterStep(method: MethodName, a: [NetworkDocument, DataDocument], b: [NetworkDocument, DataDocument], lr = 0.2): { before: number; after: number } {
  const ma = createModel(a[0]);
  const mb = createModel(b[0]);
  const before = maxDistributionGap(outputDistribution(ma, a[1]), outputDistribution(mb, b[1]));
  stepModel(ma, a[1], { method, lr, epsilon: 0, seed: 7 });
  stepModel(mb, b[1], { method, lr, epsilon: 0, seed: 7 });
  return { before, after: maxDistributionGap(outputDistribution(ma, a[1]), outputDistribution(mb, b[1])) };
}

describe('Prop. 30: one step of a sigmoid network and its tanh twin (ε = 0)', () => {
  // Three outputs and 40 samples keep the whole-network Fisher matrix well conditioned: with
  // fewer outputs its smallest eigenvalues make `natural` steps of 10^4-10^7 whose rounding
  // errors (cond × 1e-16) alone exceed 1e-9, in both parametrisations alike.
  for (const interpretation of ['bernoulli', 'softmax', 'square', 'spherical'] as const) {
    const doc = randomNetwork({ interpretation, seed: 11, activations: ['sigmoid'], inputs: 3, hidden: 3, outputs: 3, density: 0.7 });
    const data = randomData(doc, 40, 3);
    const twin: [NetworkDocument, DataDocument] = [convertNetwork(doc, 'tanh').document, convertData(data, 'tanh')];
    for (const method of METHODS) {
      const invariant = expectedInvariance(method, 'convert', { net: createModel(doc).net, samples: data.inputs.length }).invariant;
      it(`${interpretation}, ${method}: ${invariant ? 'identical outputs (< 1e-9)' : 'outputs part (not invariant)'}`, () => {
        const { before, after } = gapAfterStep(method, [doc, data], twin);
        expect(before).toBeLessThan(1e-13);
        if (invariant) expect(after).toBeLessThan(1e-9);
        else expect(after).toBeGreaterThan(1e-5);
      });
    }
  }
});

describe('Prop. 30: random (α, β, γ) reparametrisations of every hidden unit (Def. 29, ε = 0)', () => {
  const doc = randomNetwork({ interpretation: 'bernoulli', seed: 11, activations: ['sigmoid', 'tanh'], inputs: 3, hidden: 3, outputs: 3, density: 0.7 });
  const data = randomData(doc, 40, 3);
  const rng = new Prng(99);
  const units = new Map(
    doc.nodes.filter((n) => n.attributes.role === 'hidden').map((n) => [n.key, { alpha: (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + 1.5 * rng.uniform()), beta: 2 * rng.uniform() - 1, gamma: 0.5 + 1.5 * rng.uniform() }]),
  );
  const twin: [NetworkDocument, DataDocument] = [reparametrize(doc, units), data];
  for (const method of METHODS) {
    const invariant = expectedInvariance(method, 'reparametrize', { net: createModel(doc).net, samples: data.inputs.length }).invariant;
    it(`${method}: ${invariant ? 'identical outputs (< 1e-9)' : 'outputs part'}`, () => {
      const { before, after } = gapAfterStep(method, [doc, data], twin);
      expect(before).toBeLessThan(1e-13);
      if (invariant) expect(after).toBeLessThan(1e-9);
      else expect(after).toBeGreaterThan(1e-5);
    });
  }
});

describe('Prop. 31: affine recombination of the signals entering the first layer', () => {
  // Inputs x0..x2 feed h0 and h1 completely; recombining them, x~ = Bx + c, with weights
  // w~ = B^{-T} w and w~_0 = w_0 - w~ᵀc, gives a network with the same outputs.
  const B = [
    [1.5, 0.4, -0.3],
    [0.2, -0.9, 0.5],
    [0.7, 0.1, 1.2],
  ];
  const c = [0.3, -1.2, 0.8];
  const inverseTranspose = invert3(B).map((row, i) => row.map((_, j) => invert3(B)[j][i]));
  const doc: NetworkDocument = {
    attributes: { interpretation: 'bernoulli', activation: 'sigmoid' },
    nodes: [
      ...[0, 1, 2].map((i) => ({ key: `x${i}`, attributes: { role: 'input' as const } })),
      { key: 'h0', attributes: { role: 'hidden', bias: 0.2 } },
      { key: 'h1', attributes: { role: 'hidden', bias: -0.4, activation: 'tanh' } },
      { key: 'y0', attributes: { role: 'output', bias: 0.1 } },
      { key: 'y1', attributes: { role: 'output', bias: -0.3 } },
    ],
    edges: [
      ...['h0', 'h1'].flatMap((h, hi) => [0, 1, 2].map((i) => ({ source: `x${i}`, target: h, attributes: { weight: [[0.9, -0.5, 0.3], [-0.6, 0.8, 1.1]][hi][i] } }))),
      { source: 'h0', target: 'y0', attributes: { weight: 1.4 } },
      { source: 'h1', target: 'y0', attributes: { weight: -0.7 } },
      { source: 'h0', target: 'y1', attributes: { weight: -1.1 } },
      { source: 'h1', target: 'y1', attributes: { weight: 0.9 } },
    ],
  };
  const data = randomData(doc, 30, 9);
  const recombined = structuredClone(doc);
  for (const h of ['h0', 'h1']) {
    const w = [0, 1, 2].map((i) => doc.edges.find((e) => e.source === `x${i}` && e.target === h)!.attributes.weight);
    const wt = inverseTranspose.map((row) => row.reduce((sum, v, j) => sum + v * w[j], 0));
    recombined.edges.filter((e) => e.target === h).forEach((e) => (e.attributes.weight = wt[Number(e.source.slice(1))]));
    const node = recombined.nodes.find((n) => n.key === h)!;
    node.attributes.bias = (node.attributes.bias as number) - wt.reduce((sum, v, j) => sum + v * c[j], 0);
  }
  const recombinedData = { ...data, inputs: data.inputs.map((x) => B.map((row, i) => row.reduce((sum, v, j) => sum + v * x[j], 0) + c[i])) };
  // Both levels are complete groups ({h0, h1} fed by all of x0..x2, {y0, y1} by all of h0, h1) and
  // one B recombines the first group's shared inputs: the Kronecker methods are invariant too.
  for (const method of METHODS.filter((m) => METHOD_SPECS[m].metric !== 'euclidean' && METHOD_SPECS[m].reduction !== 'diagonal' && METHOD_SPECS[m].reduction !== 'diagonal-root')) {
    const invariant = expectedInvariance(method, 'recombine', { net: createModel(doc).net, samples: data.inputs.length }).invariant;
    it(`${method}: ${invariant ? 'same outputs after one step' : 'outputs part (quasi-diagonal)'}`, () => {
      const { before, after } = gapAfterStep(method, [doc, data], [recombined, recombinedData], 0.5);
      expect(before).toBeLessThan(1e-13);
      if (invariant) expect(after).toBeLessThan(1e-9);
      else expect(after).toBeGreaterThan(1e-5);
    });
  }
});

function invert3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}
