import { describe, expect, it } from 'vitest';
import { createModel } from '../src/engine/model.js';
import { generateRandomDag } from '../src/generate/random-dag.js';
import { checkNetwork } from '../src/network/load.js';
import { stringifyJson } from '../src/json/stringify-json.js';

describe('generate random-dag', () => {
  it('valid, exact fan-in, the requested sizes, seeded', () => {
    const doc = generateRandomDag({ units: 2000, fanIn: 12, outputs: 20, levels: 5, seed: 3 });
    expect(checkNetwork(doc).document).toBeDefined();
    const { net } = createModel(doc);
    expect(net.nUnits).toBe(2000);
    expect(net.nOutputs).toBe(20);
    expect(net.levelOffsets.length - 1).toBe(6);
    for (let k = net.nInputs; k < net.nUnits; k++) expect(net.inOffsets[k + 1] - net.inOffsets[k]).toBe(12);
    expect(stringifyJson(generateRandomDag({ units: 2000, fanIn: 12, outputs: 20, levels: 5, seed: 3 }))).toBe(stringifyJson(doc));
  });

  it('skip connections reach across levels in about the requested share', () => {
    const doc = generateRandomDag({ units: 3000, fanIn: 10, outputs: 10, levels: 4, skip: 0.3, seed: 1 });
    const { net } = createModel(doc);
    let skips = 0;
    let eligible = 0;
    for (let l = 2; l < net.levelOffsets.length - 1; l++) {
      for (let k = net.levelOffsets[l]; k < net.levelOffsets[l + 1]; k++) {
        for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) {
          eligible++;
          if (net.inSources[e] < net.levelOffsets[l - 1]) skips++;
        }
      }
    }
    expect(skips / eligible).toBeGreaterThan(0.25);
    expect(skips / eligible).toBeLessThan(0.35);
  });

  it('builds 10^6 edges in seconds', () => {
    const doc = generateRandomDag({ units: 83_340, fanIn: 16, outputs: 10, levels: 4, seed: 2 });
    expect(doc.edges.length).toBeGreaterThanOrEqual(1_000_000);
  });
});
