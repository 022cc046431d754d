import { getBackend } from '../backend/index.js';
import { makeBatch } from '../engine/batch.js';
import { createModel } from '../engine/model.js';
import { createWorkspace } from '../engine/workspace.js';
import { generateBinaryData } from '../generate/data.js';
import { generateRandomDag } from '../generate/random-dag.js';
import { evaluateMethod, METHOD_SPECS, NetworkCache, type MethodName } from '../methods/methods.js';
import { Prng } from '../random/prng.js';

/**
 * Peak memory of training one network with one method, measured in its own process (spawned by
 * the scaling benchmark) so that earlier work does not inflate it:
 * `node dist/bench/memory.js METHOD UNITS FAN_IN OUTPUTS BATCH ITERATIONS` prints
 * {"method", "edges", "maxRssBytes"} as JSON.
 */
function main([method, units, fanIn, outputs, batchSize, iterations]: string[]): void {
  const model = createModel(generateRandomDag({ units: Number(units), fanIn: Number(fanIn), outputs: Number(outputs), levels: 4, seed: 1 }));
  const { net } = model;
  const S = Number(batchSize);
  const batch = makeBatch(net, { inputs: generateBinaryData({ seed: 1, samples: S, length: net.nInputs }).inputs, targets: generateBinaryData({ seed: 2, samples: S, length: net.nOutputs }).targets });
  const ws = createWorkspace(net, S);
  const cache = new NetworkCache(net);
  const kernels = getBackend('cpu');
  for (let i = 0; i < Number(iterations); i++) {
    const { direction } = evaluateMethod(METHOD_SPECS[method as MethodName], kernels, cache, model.params, batch, ws, { rng: new Prng(1) });
    for (let p = 0; p < direction.length; p++) model.params[p] += 1e-6 * direction[p];
  }
  process.stdout.write(JSON.stringify({ method, edges: net.nEdges, maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
}

main(process.argv.slice(2));
