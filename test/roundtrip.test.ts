import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createModel, modelDocument } from '../src/engine/model.js';
import { stringifyJson } from '../src/json/stringify-json.js';
import { parseNetwork } from '../src/network/load.js';
import { exampleNetwork } from './helpers/documents.js';
import { randomNetwork } from './helpers/random-network.js';

const bits = (x: number) => {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0);
};

describe('writing and reading a network is exact', () => {
  it('keeps every float64 bit pattern, -0 and subnormals included', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 50 }), (weights) => {
        const doc = randomNetwork({ interpretation: 'square', seed: weights.length, hidden: 2, inputs: 2, outputs: 2, density: 1 });
        doc.edges.forEach((e, i) => (e.attributes.weight = weights[i % weights.length]));
        const back = parseNetwork(stringifyJson(doc)).document;
        back.edges.forEach((e, i) => expect(bits(e.attributes.weight)).toBe(bits(doc.edges[i].attributes.weight)));
      }),
    );
    expect(stringifyJson({ w: -0 })).toContain('"w": -0');
    expect(Object.is((JSON.parse(stringifyJson([-0, 5e-324])) as number[])[0], -0)).toBe(true);
  });

  it('compile then export gives back the same document, order and extra fields included', () => {
    const doc = exampleNetwork('tiny-spherical') as ReturnType<typeof exampleNetwork> & { attributes: Record<string, unknown> };
    doc.attributes.name = 'kept';
    doc.nodes[3].attributes.note = 'also kept';
    const model = createModel(parseNetwork(stringifyJson(doc)).document);
    expect(stringifyJson(modelDocument(model))).toBe(stringifyJson(doc));
  });

  it('parameters land in per-unit blocks: bias first, then incoming weights', () => {
    const model = createModel(exampleNetwork('tiny-square'));
    const { net, params } = model;
    const h2 = net.unitKeys.indexOf('h2');
    const block = Array.from(params.subarray(net.blockOffsets[h2], net.blockOffsets[h2 + 1]));
    expect(block).toEqual([-0.2, 1.2, 0.3]);
    expect(Array.from(net.levelOffsets)).toEqual([0, 2, 3, 4, 6]);
    expect(net.unitKeys).toEqual(['x1', 'x2', 'h1', 'h2', 'y1', 'y2']);
  });

  it('the example autoencoders are what `generate` writes for seed 1', async () => {
    const { generateAutoencoder } = await import('../src/generate/autoencoder.js');
    expect(stringifyJson(generateAutoencoder({ seed: 1, activation: 'sigmoid' }))).toBe(stringifyJson(exampleNetwork('autoencoder-seed1-sigmoid')));
    expect(stringifyJson(generateAutoencoder({ seed: 1, activation: 'tanh' }))).toBe(stringifyJson(exampleNetwork('autoencoder-seed1-tanh')));
  });
});
