import { BACKENDS, backendInfo, useBackend } from '../backend/load.js';
import { METHODS } from '../methods/methods.js';

/** yargs options shared by the commands that compute a method's direction. */
export const methodOptions = {
  method: { choices: METHODS, default: 'backprop' as const, describe: 'training method (metric and reduction of Sections 1 and 2.5)' },
  epsilon: { type: 'number' as const, default: 1e-4, describe: 'regularisation ε added to the metric before solving (Section 4)' },
  'mc-samples': { type: 'number' as const, default: 1, describe: 'outputs drawn per sample by the Monte-Carlo Fisher methods (K of Eq. 100)' },
  seed: { type: 'number' as const, default: 1, describe: 'seed of the Monte-Carlo draws' },
  backend: { choices: BACKENDS, default: 'cpu' as const, describe: 'compute backend: cpu (Float64 reference) or tfjs (TensorFlow.js, float32)' },
};

/** Loads the backend named on the command line and says which ran (on stderr) when it is not the CPU reference. */
export async function prepareBackend(name: string): Promise<string> {
  await useBackend(name);
  if (name !== 'cpu') process.stderr.write(`backend: ${backendInfo(name).detail}\n`);
  return name;
}
