import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { generateAutoencoder } from '../src/generate/autoencoder.js';
import { initialiseNetwork, type InitScheme, type NetworkSkeleton } from '../src/generate/init.js';
import { generateMlp } from '../src/generate/mlp.js';
import { stringifyJson } from '../src/json/stringify-json.js';
import { checkNetwork, checkNetworkSkeleton } from '../src/network/load.js';
import type { Activation, Interpretation, NetworkDocument } from '../src/network/types.js';
import { validateNetwork } from '../src/network/validate-network.js';
import { exampleNetwork } from './helpers/documents.js';
import { referenceAutoencoder } from './helpers/reference-autoencoder.js';

/** The document without its weights and biases (a hand-written skeleton). */
function strip(doc: NetworkDocument): NetworkSkeleton {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      const attributes = { ...n.attributes };
      delete attributes.bias;
      return { key: n.key, attributes };
    }),
    edges: doc.edges.map((e) => ({ source: e.source, target: e.target })),
  };
}

/** A DAG whose fan-ins differ from unit to unit: sparse layers plus random skip edges. */
const irregular = (activation: Activation, interpretation: Interpretation = 'bernoulli') => strip(generateMlp({ layers: [300, 200, 150], fanIn: 20, skip: 0.25, activation, interpretation, seed: 5 }));

/** Per target unit, the weights of its incoming edges divided by `std(edge)`; their mean and variance. */
function normalisedStats(doc: NetworkDocument, std: (source: string, target: string) => number): Map<string, { mean: number; variance: number; n: number }> {
  const byUnit = new Map<string, number[]>();
  for (const e of doc.edges) {
    const list = byUnit.get(e.target) ?? [];
    list.push(e.attributes.weight / std(e.source, e.target));
    byUnit.set(e.target, list);
  }
  const stats = new Map<string, { mean: number; variance: number; n: number }>();
  for (const [unit, z] of byUnit) {
    const mean = z.reduce((a, b) => a + b, 0) / z.length;
    stats.set(unit, { mean, variance: z.reduce((a, b) => a + (b - mean) ** 2, 0) / (z.length - 1), n: z.length });
  }
  return stats;
}

function degrees(doc: NetworkSkeleton): { fanIn: Map<string, number>; fanOut: Map<string, number> } {
  const fanIn = new Map<string, number>();
  const fanOut = new Map<string, number>();
  for (const e of doc.edges) {
    fanIn.set(e.target, (fanIn.get(e.target) ?? 0) + 1);
    fanOut.set(e.source, (fanOut.get(e.source) ?? 0) + 1);
  }
  return { fanIn, fanOut };
}

/** Pools the normalised weights of all units: overall variance near 1, and every unit's within loose bounds. */
function expectUnitVariance(doc: NetworkDocument, std: (source: string, target: string) => number): void {
  const stats = normalisedStats(doc, std);
  let total = 0;
  let count = 0;
  for (const { variance, mean, n } of stats.values()) {
    total += variance * (n - 1);
    count += n - 1;
    // Per unit (≥ 20 weights): the sample variance of standard draws; bounds far outside sampling noise.
    expect(variance).toBeGreaterThan(0.1);
    expect(variance).toBeLessThan(3.2);
    expect(Math.abs(mean)).toBeLessThan(1.2);
  }
  expect(total / count).toBeGreaterThan(0.95);
  expect(total / count).toBeLessThan(1.05);
}

describe('initialiseNetwork', () => {
  it('paper, tanh: w ~ N(0, 1/d_j) per unit with that unit\'s own fan-in, zero biases', () => {
    const skeleton = irregular('tanh');
    const { fanIn } = degrees(skeleton);
    expect(new Set(fanIn.values()).size).toBeGreaterThan(10); // the fan-ins do differ
    const doc = initialiseNetwork(skeleton, { scheme: 'paper', seed: 1 });
    expectUnitVariance(doc, (_, t) => 1 / Math.sqrt(fanIn.get(t) as number));
    for (const n of doc.nodes) if (n.attributes.role !== 'input') expect(n.attributes.bias).toBe(0);
    expect(checkNetwork(doc).document).toBeDefined();
  });

  it('paper, sigmoid: the Eq. 46-47 image of the tanh draw, w = 4w\' and bias -Σw/2', () => {
    const tanh = initialiseNetwork(irregular('tanh'), { scheme: 'paper', seed: 4 });
    const sigmoid = initialiseNetwork(irregular('sigmoid'), { scheme: 'paper', seed: 4 });
    const sums = new Map<string, number>();
    sigmoid.edges.forEach((e, i) => {
      expect(e.attributes.weight).toBe(4 * tanh.edges[i].attributes.weight);
      sums.set(e.target, (sums.get(e.target) ?? 0) + e.attributes.weight);
    });
    for (const n of sigmoid.nodes) if (n.attributes.role !== 'input') expect(n.attributes.bias).toBeCloseTo(-(sums.get(n.key) ?? 0) / 2, 12);
  });

  it('paper on relu, softplus and linear units: like tanh, N(0, 1/d_j) and zero biases', () => {
    const tanh = initialiseNetwork(irregular('tanh', 'square'), { scheme: 'paper', seed: 9 });
    for (const activation of ['relu', 'softplus', 'linear'] as const) {
      const other = initialiseNetwork(irregular(activation, 'square'), { scheme: 'paper', seed: 9 });
      expect(other.edges.map((e) => e.attributes.weight)).toEqual(tanh.edges.map((e) => e.attributes.weight));
      for (const n of other.nodes) if (n.attributes.role !== 'input') expect(n.attributes.bias).toBe(0);
    }
  });

  it('he: w ~ N(0, 2/d_j); glorot: uniform with variance 2/(d_j + o_i) within ±√(6/(d_j + o_i)); zero biases', () => {
    const skeleton = irregular('relu');
    const { fanIn, fanOut } = degrees(skeleton);
    const he = initialiseNetwork(skeleton, { scheme: 'he', seed: 2 });
    expectUnitVariance(he, (_, t) => Math.sqrt(2 / (fanIn.get(t) as number)));
    const glorot = initialiseNetwork(skeleton, { scheme: 'glorot', seed: 2 });
    const glorotStd = (s: string, t: string) => Math.sqrt(2 / ((fanIn.get(t) as number) + (fanOut.get(s) as number)));
    expectUnitVariance(glorot, glorotStd);
    for (const e of glorot.edges) expect(Math.abs(e.attributes.weight)).toBeLessThanOrEqual(Math.sqrt(3) * glorotStd(e.source, e.target));
    for (const doc of [he, glorot]) for (const n of doc.nodes) if (n.attributes.role !== 'input') expect(n.attributes.bias).toBe(0);
  });

  it('glorot on a dense layer is Glorot & Bengio\'s rule: variance 2/(n_in + n_out)', () => {
    const doc = initialiseNetwork(strip(generateMlp({ layers: [200, 150, 1], seed: 1 })), { scheme: 'glorot', seed: 3 });
    const first = doc.edges.filter((e) => e.target.startsWith('L1_')).map((e) => e.attributes.weight);
    const variance = first.reduce((a, w) => a + w * w, 0) / first.length;
    // Units of layer 0 feed 150 units; units of layer 1 are fed by 200.
    expect((variance * (200 + 150)) / 2).toBeGreaterThan(0.97);
    expect((variance * (200 + 150)) / 2).toBeLessThan(1.03);
  });

  it('`paper` reproduces generateAutoencoder: the recorded networks and the pre-refactor code, bit for bit', () => {
    for (const activation of ['sigmoid', 'tanh'] as const) {
      expect(stringifyJson(generateAutoencoder({ seed: 1, activation }))).toBe(stringifyJson(exampleNetwork(`autoencoder-seed1-${activation}`)));
      for (const seed of [2, 3, 17]) {
        for (const o of [{}, { layers: [20, 8, 3, 8, 20], fan: 3 }]) {
          expect(stringifyJson(generateAutoencoder({ ...o, seed, activation }))).toBe(stringifyJson(referenceAutoencoder({ ...o, seed, activation })));
        }
      }
    }
  });

  it('seeded, leaves its input alone; keep fills only the missing weights and biases, with the draws of a full run', () => {
    const doc = generateMlp({ layers: [10, 8, 4], fanIn: 3, activation: 'sigmoid', seed: 1 });
    const skeleton = strip(doc);
    const before = stringifyJson(skeleton);
    const full = initialiseNetwork(skeleton, { scheme: 'paper', seed: 6 });
    expect(stringifyJson(skeleton)).toBe(before);
    expect(stringifyJson(initialiseNetwork(skeleton, { scheme: 'paper', seed: 6 }))).toBe(stringifyJson(full));
    expect(stringifyJson(initialiseNetwork(skeleton, { scheme: 'paper', seed: 7 }))).not.toBe(stringifyJson(full));

    const partial = strip(doc);
    partial.edges[0].attributes = { weight: 123 };
    partial.nodes[12].attributes.bias = -5;
    const kept = initialiseNetwork(partial, { scheme: 'paper', seed: 6, keep: true });
    expect(kept.edges[0].attributes.weight).toBe(123);
    expect(kept.nodes[12].attributes.bias).toBe(-5);
    kept.edges.slice(1).forEach((e, i) => expect(e.attributes.weight).toBe(full.edges[i + 1].attributes.weight));
    const target = kept.edges[0].target;
    const sum = kept.edges.filter((e) => e.target === target).reduce((a, e) => a + e.attributes.weight, 0);
    expect(kept.nodes.find((n) => n.key === target)?.attributes.bias).toBeCloseTo(-sum / 2, 12);
    // Without keep every weight and bias is replaced.
    expect(stringifyJson(initialiseNetwork(partial, { scheme: 'paper', seed: 6 }))).toBe(stringifyJson(full));
  });

  it('refuses an unknown scheme naming it', () => {
    expect(() => initialiseNetwork(strip(exampleNetwork('tiny-square')), { scheme: 'xavier' as InitScheme, seed: 1 })).toThrow(UsageError);
    expect(() => initialiseNetwork(strip(exampleNetwork('tiny-square')), { scheme: 'xavier' as InitScheme, seed: 1 })).toThrow(/--scheme xavier is unknown; use one of paper, glorot, he/);
  });
});

describe('networks without weights', () => {
  it('load as skeletons for init; refused as networks, naming the first edges and units and suggesting unitwise init', () => {
    const skeleton = strip(generateMlp({ layers: [6, 5, 3], seed: 1 }));
    expect(checkNetworkSkeleton(skeleton).document).toBeDefined();
    const { document, problems } = validateNetwork(skeleton);
    expect(document).toBeUndefined();
    const weights = problems.filter((p) => p.code === 'missing-weight');
    const biases = problems.filter((p) => p.code === 'missing-bias');
    expect(weights).toHaveLength(6); // five named, then the count
    expect(weights[0].message).toMatch(/edge 'L0_0' -> 'L1_0' \(edges\[0\]\): missing "attributes": \{"weight": number\}.*unitwise init NET --scheme/);
    expect(weights[5].message).toMatch(/40 more edges lack a "weight" \(45 in all\).*unitwise init/);
    expect(biases).toHaveLength(6);
    expect(biases[5].message).toMatch(/3 more units lack a "bias" \(8 in all\)/);
  });

  it('a skeleton must still be a well-formed DAG with finite weights where given', () => {
    const skeleton = strip(generateMlp({ layers: [4, 3, 2], seed: 1 }));
    skeleton.edges[1].attributes = { weight: Number.NaN };
    skeleton.edges.push({ source: 'L2_0', target: 'L1_0' });
    const codes = validateNetwork(skeleton, { skeleton: true }).problems.map((p) => p.code);
    expect(codes).toContain('non-finite-weight');
    expect(codes).toContain('output-outgoing');
  });
});
