import { useBackend } from '../backend/load.js';
import type { MethodName } from '../methods/methods.js';
import { methodLoop } from './loop.js';
import { benchSetup } from './random-setup.js';

/**
 * Peak memory of training one network with one method, measured in its own process (spawned by
 * the scaling benchmark) so that earlier work does not inflate it:
 * `node dist/bench/memory.js METHOD UNITS FAN_IN OUTPUTS BATCH ITERATIONS [BACKEND]` prints
 * {"method", "edges", "maxRssBytes"} as JSON.
 */
async function main([method, units, fanIn, outputs, batchSize, iterations, backend]: string[]): Promise<void> {
  const { model, batch } = benchSetup({ units: Number(units), fanIn: Number(fanIn), outputs: Number(outputs) }, Number(batchSize));
  const { net } = model;
  await useBackend(backend ?? 'cpu');
  const loop = methodLoop(backend ?? 'cpu', net, model.params, batch, method as MethodName);
  for (let i = 0; i < Number(iterations); i++) loop.iterate();
  loop.dispose();
  process.stdout.write(JSON.stringify({ method, edges: net.nEdges, maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
}

await main(process.argv.slice(2));
