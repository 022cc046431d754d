import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { createModel } from '../src/engine/model.js';
import { INIT_SCHEMES } from '../src/generate/init.js';
import { generateMlp, type MlpOptions } from '../src/generate/mlp.js';
import { stringifyJson } from '../src/json/stringify-json.js';
import { checkNetwork } from '../src/network/load.js';
import { ACTIVATIONS, INTERPRETATIONS, type NetworkDocument } from '../src/network/types.js';

/** Layer and index of a key `L{layer}_{index}`. */
const parse = (key: string): [number, number] => {
  const m = /^L(\d+)_(\d+)$/.exec(key);
  if (!m) throw new Error(`unexpected key ${key}`);
  return [Number(m[1]), Number(m[2])];
};

/** Per target unit: its sources, split into the previous layer and earlier (skip) layers. */
function incoming(doc: NetworkDocument): Map<string, { previous: string[]; skips: string[] }> {
  const map = new Map<string, { previous: string[]; skips: string[] }>();
  for (const e of doc.edges) {
    const [ls] = parse(e.source);
    const [lt] = parse(e.target);
    expect(ls).toBeLessThan(lt);
    const entry = map.get(e.target) ?? { previous: [], skips: [] };
    (ls === lt - 1 ? entry.previous : entry.skips).push(e.source);
    map.set(e.target, entry);
  }
  return map;
}

/** Checks the layer structure, fan-ins and skip-edge placement of a generated network against its options. */
function checkStructure(doc: NetworkDocument, o: MlpOptions): void {
  const { layers } = o;
  expect(doc.nodes.map((n) => n.key)).toEqual(layers.flatMap((size, l) => Array.from({ length: size }, (_, i) => `L${l}_${i}`)));
  doc.nodes.forEach((n) => {
    const [l] = parse(n.key);
    expect(n.attributes.role).toBe(l === 0 ? 'input' : l === layers.length - 1 ? 'output' : 'hidden');
  });
  const byTarget = incoming(doc);
  for (let l = 1; l < layers.length; l++) {
    for (let j = 0; j < layers[l]; j++) {
      const { previous, skips } = byTarget.get(`L${l}_${j}`) ?? { previous: [], skips: [] };
      expect(new Set(previous).size).toBe(previous.length);
      expect(previous.length).toBe(o.fanIn === undefined || o.fanIn === 'dense' ? layers[l - 1] : o.fanIn);
      if (!o.skip || l < 2) expect(skips).toEqual([]);
      expect(new Set(skips).size).toBe(skips.length);
    }
  }
  for (const e of doc.edges) expect(Number.isFinite(e.attributes.weight)).toBe(true);
}

describe('generate mlp', () => {
  it('dense layers: every unit linked from the whole previous layer; valid and acyclic, one level per layer', () => {
    const o: MlpOptions = { layers: [12, 9, 7, 4], seed: 2 };
    const doc = generateMlp(o);
    checkStructure(doc, o);
    expect(doc.edges.length).toBe(12 * 9 + 9 * 7 + 7 * 4);
    expect(checkNetwork(doc).document).toBeDefined();
    expect(createModel(doc).net.levelOffsets.length - 1).toBe(4);
  });

  it('784-300-100-10 dense: 266,200 edges, each unit with its whole previous layer', () => {
    const doc = generateMlp({ layers: [784, 300, 100, 10], interpretation: 'softmax', seed: 1 });
    expect(doc.edges.length).toBe(784 * 300 + 300 * 100 + 100 * 10);
    const fanIn = new Map<string, number>();
    for (const e of doc.edges) fanIn.set(e.target, (fanIn.get(e.target) ?? 0) + 1);
    for (const n of doc.nodes) if (n.attributes.role !== 'input') expect(fanIn.get(n.key)).toBe([0, 784, 300, 100][parse(n.key)[0]]);
  });

  it('exact fan-in D: D distinct units of the previous layer per unit', () => {
    const o: MlpOptions = { layers: [30, 20, 15, 5], fanIn: 4, seed: 7 };
    const doc = generateMlp(o);
    checkStructure(doc, o);
    expect(doc.edges.length).toBe(4 * (20 + 15 + 5));
    expect(checkNetwork(doc).document).toBeDefined();
  });

  it('skip P: edges from layers 0..l-2 in about the share P of the candidates, none without skip', () => {
    const o: MlpOptions = { layers: [40, 30, 30, 30], fanIn: 5, skip: 0.4, seed: 3 };
    const doc = generateMlp(o);
    checkStructure(doc, o);
    let skips = 0;
    for (const { skips: s } of incoming(doc).values()) skips += s.length;
    const candidates = 30 * 40 + 30 * (40 + 30);
    expect(skips / candidates).toBeGreaterThan(0.34);
    expect(skips / candidates).toBeLessThan(0.46);
    const { net } = createModel(doc);
    expect(net.levelOffsets.length - 1).toBe(4);
    const none = generateMlp({ ...o, skip: 0 });
    for (const { skips: s } of incoming(none).values()) expect(s).toEqual([]);
  });

  it('output units per interpretation: bernoulli keeps sigmoid/tanh (else sigmoid); square, softmax, spherical are linear', () => {
    const outputs = (doc: NetworkDocument) => new Set(doc.nodes.filter((n) => n.attributes.role === 'output').map((n) => n.attributes.activation ?? doc.attributes.activation));
    const hidden = (doc: NetworkDocument) => new Set(doc.nodes.filter((n) => n.attributes.role === 'hidden').map((n) => n.attributes.activation ?? doc.attributes.activation));
    for (const activation of ACTIVATIONS) {
      for (const interpretation of INTERPRETATIONS) {
        const doc = generateMlp({ layers: [5, 4, 3], activation, interpretation, seed: 1 });
        expect(hidden(doc)).toEqual(new Set([activation]));
        const expected = interpretation !== 'bernoulli' ? 'linear' : activation === 'tanh' ? 'tanh' : 'sigmoid';
        expect(outputs(doc), `${activation}/${interpretation}`).toEqual(new Set([expected]));
        expect(doc.attributes.interpretation).toBe(interpretation);
        expect(checkNetwork(doc).document, `${activation}/${interpretation}`).toBeDefined();
      }
    }
  });

  it('seeded: the same options give the same document, another seed another one', () => {
    const o: MlpOptions = { layers: [20, 10, 6], fanIn: 3, skip: 0.2, activation: 'relu', seed: 11 };
    expect(stringifyJson(generateMlp(o))).toBe(stringifyJson(generateMlp(o)));
    expect(stringifyJson(generateMlp({ ...o, seed: 12 }))).not.toBe(stringifyJson(generateMlp(o)));
  });

  it('property: any valid option set gives a valid network of the requested structure', () => {
    const options = fc
      .array(fc.integer({ min: 1, max: 12 }), { minLength: 2, maxLength: 5 })
      .chain((layers) =>
        fc.record({
          layers: fc.constant(layers),
          fanIn: fc.oneof(fc.constant('dense' as const), fc.integer({ min: 1, max: Math.min(...layers.slice(0, -1)) })),
          skip: fc.double({ min: 0, max: 1, noNaN: true }),
          activation: fc.constantFrom(...ACTIVATIONS),
          interpretation: fc.constantFrom(...INTERPRETATIONS),
          init: fc.constantFrom(...INIT_SCHEMES),
          seed: fc.integer({ min: 0, max: 2 ** 31 }),
        }),
      );
    fc.assert(
      fc.property(options, (o) => {
        const doc = generateMlp(o);
        checkStructure(doc, o);
        expect(checkNetwork(doc).document).toBeDefined();
      }),
      { numRuns: 150 },
    );
  });

  it('refuses bad options with a UsageError naming the option and the fix', () => {
    const cases: Array<[MlpOptions, string, RegExp]> = [
      [{ layers: [5] }, 'layers', /--layers 5: give at least two positive integer layer sizes/],
      [{ layers: [5, 0, 2] }, 'layers', /--layers 5,0,2/],
      [{ layers: [5, 3, 2], fanIn: 4 }, 'fan-in', /--fan-in 4: units of layer 2 must each pick 4 distinct units of layer 1, which has 3; give a fan-in of at most 3 or 'dense'/],
      [{ layers: [5, 3], fanIn: 0 }, 'fan-in', /--fan-in 0: give a positive integer or 'dense'/],
      [{ layers: [5, 3], fanIn: 1.5 }, 'fan-in', /--fan-in 1\.5/],
      [{ layers: [5, 3], skip: 1.5 }, 'skip', /--skip 1\.5: give a probability in \[0, 1\]/],
      [{ layers: [5, 3], activation: 'gelu' as never }, 'activation', /--activation gelu: use one of sigmoid, tanh/],
      [{ layers: [5, 3], interpretation: 'poisson' as never }, 'interpretation', /--interpretation poisson/],
      [{ layers: [5, 3], init: 'xavier' as never }, 'init', /--init xavier: use one of paper, glorot, he/],
    ];
    for (const [o, code, message] of cases) {
      let error: unknown;
      try {
        generateMlp(o);
      } catch (err) {
        error = err;
      }
      expect(error, code).toBeInstanceOf(UsageError);
      expect((error as UsageError).problems[0].code).toBe(code);
      expect((error as UsageError).message).toMatch(message);
    }
  });
});
