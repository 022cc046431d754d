import { beforeAll, describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/backend/index.js';
import type { Kernels } from '../src/backend/kernels.js';
import { useBackend } from '../src/backend/load.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { createWorkspace } from '../src/engine/workspace.js';
import { evaluateMethod, METHOD_SPECS, METHODS, NetworkCache } from '../src/methods/methods.js';
import { INTERPRETATIONS, type NetworkDocument } from '../src/network/types.js';
import { Prng } from '../src/random/prng.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

/** max |a - b| / max |b|. */
const relative = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
};

/** Tolerances from the backend's precision: float32 carries ~7 digits; solves lose a few more. */
const tolerance = (k: Kernels) => (k.precision === 'float64' ? { loss: 1e-12, gradient: 1e-10, direction: 1e-8 } : { loss: 1e-5, gradient: 1e-4, direction: 2e-2 });

describe.each(['tfjs'])('backend parity: %s against cpu', (name) => {
  let kernels: Kernels;
  beforeAll(async () => {
    kernels = await useBackend(name);
  });

  // A network with skip connections across several levels, every activation, per interpretation.
  const networks: Array<[string, NetworkDocument]> = INTERPRETATIONS.map((interpretation) => [
    interpretation,
    randomNetwork({ interpretation, seed: 70, inputs: 4, hidden: 6, outputs: 3, density: 0.6, activations: ['sigmoid', 'tanh', 'linear'], affine: interpretation === 'square' }),
  ]);
  for (const [interpretation, doc] of networks) {
    it(`${interpretation}: loss, gradient and every method's direction`, () => {
      const model = createModel(doc);
      const data = randomData(doc, 12, 3);
      const batch = makeBatch(model.net, data);
      const tol = tolerance(kernels);
      for (const method of METHODS) {
        const spec = METHOD_SPECS[method];
        const run = (k: Kernels) => evaluateMethod(spec, k, new NetworkCache(model.net), model.params, batch, createWorkspace(model.net, batch.size), { epsilon: 1e-3, mcSamples: 2, rng: new Prng(5) });
        const reference = run(cpuKernels);
        const other = run(kernels);
        expect(Math.abs(other.lossNats - reference.lossNats) / Math.abs(reference.lossNats), `${method} loss`).toBeLessThan(tol.loss);
        expect(relative(other.gradient, reference.gradient), `${method} gradient`).toBeLessThan(tol.gradient);
        expect(relative(other.direction, reference.direction), `${method} direction`).toBeLessThan(tol.direction);
      }
    });
  }
});
