import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { createModel } from '../src/engine/model.js';
import { maxDistributionGap, outputDistribution } from '../src/engine/output-distribution.js';
import { generateAutoencoder } from '../src/generate/autoencoder.js';
import { generateBinaryData } from '../src/generate/data.js';
import { checkNetwork } from '../src/network/load.js';
import { INTERPRETATIONS } from '../src/network/types.js';
import { convertData, convertNetwork } from '../src/transform/convert.js';
import { exampleNetwork } from './helpers/documents.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

describe('convert: Section 3.2 sigmoid <-> tanh correspondence', () => {
  for (const interpretation of INTERPRETATIONS) {
    it(`${interpretation}: the converted network on converted data gives the same distribution to 1e-12`, () => {
      for (let seed = 1; seed <= 5; seed++) {
        const doc = randomNetwork({ interpretation, seed, activations: ['sigmoid', 'sigmoid', 'linear', 'tanh'] });
        const data = randomData(doc, 6, seed, true);
        const original = outputDistribution(createModel(doc), data);
        const tanh = convertNetwork(doc, 'tanh').document;
        checkNetwork(tanh);
        const converted = outputDistribution(createModel(tanh), convertData(data, 'tanh'));
        expect(maxDistributionGap(original, converted)).toBeLessThan(1e-12);
      }
    });
  }

  it('Eq. 46-47 on a sigmoid unit fed by sigmoid units: w = 4w\', w_0 = 2w\'_0 - 2Σw\'', () => {
    const doc = exampleNetwork('tiny-bernoulli');
    doc.attributes.activation = 'sigmoid';
    const tanh = convertNetwork(doc, 'tanh').document;
    const weight = (d: typeof doc, s: string, t: string) => d.edges.find((e) => e.source === s && e.target === t)!.attributes.weight;
    const bias = (d: typeof doc, k: string) => d.nodes.find((n) => n.key === k)!.attributes.bias as number;
    // y2 (sigmoid output, Bernoulli) is fed by h2 and x2, both converted.
    expect(weight(doc, 'h2', 'y2')).toBeCloseTo(4 * weight(tanh, 'h2', 'y2'), 14);
    expect(bias(doc, 'y2')).toBeCloseTo(2 * bias(tanh, 'y2') - 2 * (weight(tanh, 'h2', 'y2') + weight(tanh, 'x2', 'y2')), 14);
    expect(tanh.nodes.find((n) => n.key === 'y2')!.attributes.activation).toBe('tanh');
    expect(tanh.nodes.find((n) => n.key === 'h1')!.attributes.activation).toBeUndefined();
    expect(tanh.attributes.activation).toBe('tanh');
  });

  it('output units under non-Bernoulli interpretations and linear units keep their activation', () => {
    const doc = exampleNetwork('tiny-softmax');
    doc.attributes.activation = 'sigmoid';
    doc.nodes[4].attributes.activation = 'sigmoid';
    const tanh = convertNetwork(doc, 'tanh').document;
    expect(tanh.nodes.map((n) => n.attributes.activation)).toEqual([undefined, undefined, undefined, 'tanh', 'sigmoid', 'linear']);
  });

  it('to tanh and back to sigmoid restores the network', () => {
    const doc = randomNetwork({ interpretation: 'bernoulli', seed: 3, activations: ['sigmoid'] });
    const back = convertNetwork(convertNetwork(doc, 'tanh').document, 'sigmoid').document;
    back.edges.forEach((e, i) => expect(e.attributes.weight).toBeCloseTo(doc.edges[i].attributes.weight, 12));
    back.nodes.forEach((n, i) => expect(n.attributes.bias ?? 0).toBeCloseTo(doc.nodes[i].attributes.bias ?? 0, 12));
    expect(convertData(convertData({ inputs: [[0, 1]], targets: [[1]] }, 'tanh'), 'sigmoid').inputs).toEqual([[0, 1]]);
  });

  it('the seed-1 sigmoid autoencoder converts into the seed-1 tanh autoencoder (Section 4 initialisations)', () => {
    const tanh = convertNetwork(generateAutoencoder({ seed: 1, activation: 'sigmoid' }), 'tanh').document;
    const direct = generateAutoencoder({ seed: 1, activation: 'tanh' });
    tanh.edges.forEach((e, i) => expect(Math.abs(e.attributes.weight - direct.edges[i].attributes.weight)).toBeLessThan(1e-14));
    tanh.nodes.forEach((n, i) => expect(Math.abs((n.attributes.bias ?? 0) - (direct.nodes[i].attributes.bias ?? 0))).toBeLessThan(1e-13));
    const data = generateBinaryData({ seed: 1 });
    expect(convertData(data, 'tanh')).toEqual(generateBinaryData({ seed: 1, encoding: 'pm1' }));
  });

  it('relu and softplus units keep their activation and outputs (only incoming weights change)', () => {
    for (const interpretation of ['square', 'softmax'] as const) {
      const doc = randomNetwork({ interpretation, seed: 8, activations: ['sigmoid', 'relu', 'softplus', 'tanh'], hidden: 6 });
      const data = randomData(doc, 6, 8, true);
      const tanh = convertNetwork(doc, 'tanh').document;
      checkNetwork(tanh);
      const kept = (d: typeof doc) => d.nodes.filter((n) => n.attributes.activation === 'relu' || n.attributes.activation === 'softplus').map((n) => n.key);
      expect(kept(tanh)).toEqual(kept(doc));
      expect(kept(doc).length).toBeGreaterThan(0);
      expect(maxDistributionGap(outputDistribution(createModel(doc), data), outputDistribution(createModel(tanh), convertData(data, 'tanh')))).toBeLessThan(1e-12);
    }
  });

  it('refuses targets outside sigmoid<->tanh through the library, saying so', () => {
    const doc = exampleNetwork('tiny-square');
    for (const to of ['relu', 'softplus', 'linear']) {
      expect(() => convertNetwork(doc, to as never)).toThrow(UsageError);
      expect(() => convertNetwork(doc, to as never)).toThrow(new RegExp(`sigmoid↔tanh only.*"${to}"`));
      expect(() => convertData({ inputs: [[0]], targets: [[0]] }, to as never)).toThrow(/sigmoid↔tanh only/);
    }
    doc.nodes.forEach((n) => n.attributes.role !== 'input' && (n.attributes.activation = 'relu'));
    expect(() => convertNetwork(doc, 'tanh')).toThrow(/no sigmoid unit.*sigmoid↔tanh only/);
  });

  it('refuses a network with nothing to convert', () => {
    const doc = exampleNetwork('tiny-square');
    doc.nodes.forEach((n) => n.attributes.role !== 'input' && (n.attributes.activation = 'linear'));
    expect(() => convertNetwork(doc, 'sigmoid')).toThrow(UsageError);
    expect(() => convertNetwork(doc, 'tanh')).toThrow(/no sigmoid unit/);
  });
});
