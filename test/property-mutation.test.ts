import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnitwiseError } from '../src/errors.js';
import { createModel } from '../src/engine/model.js';
import { inspectModel } from '../src/engine/inspect.js';
import { stringifyJson } from '../src/json/stringify-json.js';
import { parseData, parseNetwork } from '../src/network/load.js';
import { exampleData, exampleNetwork } from './helpers/documents.js';

type Json = unknown;

/** Every path (list of keys) to a value inside a JSON document. */
function paths(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function setAt(root: Json, path: Array<string | number>, mutate: (parent: Record<string | number, Json>, key: string | number) => void): Json {
  if (path.length === 0) return root;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  mutate(parent, path[path.length - 1]);
  return copy;
}

/** Random mutation of a document: replace, delete or duplicate a value, or corrupt the text. */
const mutant = (base: Json) => {
  const all = paths(base);
  const pathArb = fc.integer({ min: 0, max: all.length - 1 }).map((i) => all[i]);
  const special = fc.constantFrom<Json>('h1', 'x1', 'y2', 'input', 'hidden', 'output', 'tanh', 'linear', 'softmax', -0, 1e308, -1e-320, null, [], {});
  return fc.oneof(
    fc.tuple(pathArb, fc.oneof(fc.jsonValue({ maxDepth: 2 }), special)).map(([p, v]) => stringifyOrRaw(setAt(base, p, (parent, key) => (parent[key] = v)))),
    pathArb.map((p) => stringifyOrRaw(setAt(base, p, (parent, key) => (Array.isArray(parent) ? parent.splice(Number(key), 1) : delete parent[key])))),
    pathArb.map((p) => stringifyOrRaw(setAt(base, p, (parent, key) => Array.isArray(parent) && parent.push(structuredClone(parent[Number(key)]))))),
    fc.tuple(fc.nat(), fc.string({ maxLength: 3 })).map(([at, junk]) => {
      const text = JSON.stringify(base);
      const i = at % text.length;
      return text.slice(0, i) + junk + text.slice(i + 1);
    }),
  );
};

function stringifyOrRaw(value: Json): string {
  try {
    return stringifyJson(value);
  } catch {
    return JSON.stringify(value) ?? 'null';
  }
}

/** Accepted (and then computable) or rejected with a typed error; nothing else. */
function acceptedOrTyped(run: () => void): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof UnitwiseError)) throw err;
    expect(err.problems.length).toBeGreaterThan(0);
    expect(err.message).not.toMatch(/undefined|\[object Object\]/);
  }
}

describe('property: mutated files are accepted or rejected with a typed error, never an uncaught exception', () => {
  for (const name of ['tiny-bernoulli', 'tiny-softmax', 'tiny-spherical', 'tiny-square']) {
    it(`network mutants of ${name}`, () => {
      const data = exampleData(name);
      fc.assert(
        fc.property(mutant(exampleNetwork(name)), (text) =>
          acceptedOrTyped(() => {
            const { document } = parseNetwork(text, 'mutant.json');
            const model = createModel(document);
            const { net } = model;
            const checked = parseData(JSON.stringify(data), net);
            const report = inspectModel(model, checked);
            expect(Number.isNaN(report.loss.meanBits)).toBe(false);
          }),
        ),
        { numRuns: 300 },
      );
    });
  }

  it('data mutants', () => {
    const shape = { nInputs: 2, nOutputs: 2, interpretation: 'softmax' as const };
    fc.assert(fc.property(mutant(exampleData('tiny-softmax')), (text) => acceptedOrTyped(() => parseData(text, shape, 'data.json'))), { numRuns: 300 });
  });
});
