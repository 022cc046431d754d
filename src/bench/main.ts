import { writeFileSync } from 'node:fs';
import { cpuKernels } from '../backend/index.js';
import { makeBatch } from '../engine/batch.js';
import { createModel } from '../engine/model.js';
import { lossAndGradient } from '../engine/propagate.js';
import { createWorkspace } from '../engine/workspace.js';
import { generateAutoencoder } from '../generate/autoencoder.js';
import { generateBinaryData } from '../generate/data.js';
import { medianMicros } from './timing.js';

/**
 * `npm run bench [-- --json FILE]`: median time of one batch iteration on Section 4's
 * autoencoder (seed 1, 16 samples), with its multiply-add count and time per multiply-add.
 */
function main(args: string[]): void {
  const jsonAt = args.indexOf('--json');
  const model = createModel(generateAutoencoder({ seed: 1, activation: 'sigmoid' }));
  const data = generateBinaryData({ seed: 1 });
  const { net } = model;
  const batch = makeBatch(net, data);
  const ws = createWorkspace(net, batch.size);
  const gradient = new Float64Array(net.nParams);
  const params = model.params.slice();
  const backprop = () => {
    lossAndGradient(cpuKernels, net, params, batch, ws, gradient);
    for (let p = 0; p < params.length; p++) params[p] += 1e-3 * gradient[p];
  };
  // Forward (E + biases), backward (E), gradient (E + biases) multiply-adds per sample, plus the update.
  const nonInput = net.nUnits - net.nInputs;
  const multiplyAdds = batch.size * (3 * net.nEdges + 2 * nonInput) + net.nParams;
  const micros = medianMicros(backprop);
  const methods = { backprop: { medianMicros: micros, ratioToBackprop: 1, multiplyAdds } };
  process.stdout.write(`autoencoder 100-30-10-30-100 (seed 1): ${net.nUnits} units, ${net.nEdges} edges, ${batch.size} samples, backend cpu (float64)\n`);
  process.stdout.write('method            median µs  ratio  multiply-adds  ns per multiply-add\n');
  for (const [name, m] of Object.entries(methods)) {
    process.stdout.write(`${name.padEnd(16)} ${m.medianMicros.toFixed(1).padStart(10)}  ${m.ratioToBackprop.toFixed(2).padStart(5)}  ${String(m.multiplyAdds).padStart(13)}  ${((m.medianMicros * 1000) / m.multiplyAdds).toFixed(3).padStart(19)}\n`);
  }
  if (jsonAt >= 0) writeFileSync(args[jsonAt + 1], JSON.stringify({ methods }, null, 2) + '\n');
}

main(process.argv.slice(2));
