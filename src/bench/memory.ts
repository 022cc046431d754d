import { useBackend } from '../backend/load.js';
import { evaluateMethod, METHOD_SPECS, type MethodName } from '../methods/methods.js';
import { benchSetup } from './random-setup.js';
import { Prng } from '../random/prng.js';

/**
 * Peak memory of training one network with one method, measured in its own process (spawned by
 * the scaling benchmark) so that earlier work does not inflate it:
 * `node dist/bench/memory.js METHOD UNITS FAN_IN OUTPUTS BATCH ITERATIONS [BACKEND]` prints
 * {"method", "edges", "maxRssBytes"} as JSON.
 */
async function main([method, units, fanIn, outputs, batchSize, iterations, backend]: string[]): Promise<void> {
  const { model, batch, ws, cache } = benchSetup({ units: Number(units), fanIn: Number(fanIn), outputs: Number(outputs) }, Number(batchSize));
  const { net } = model;
  const kernels = await useBackend(backend ?? 'cpu');
  for (let i = 0; i < Number(iterations); i++) {
    const { direction } = evaluateMethod(METHOD_SPECS[method as MethodName], kernels, cache, model.params, batch, ws, { rng: new Prng(1) });
    for (let p = 0; p < direction.length; p++) model.params[p] += 1e-6 * direction[p];
  }
  process.stdout.write(JSON.stringify({ method, edges: net.nEdges, maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
}

await main(process.argv.slice(2));
