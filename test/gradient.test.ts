import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { evaluateLoss, lossAndGradient } from '../src/engine/propagate.js';
import { checkNetwork } from '../src/network/load.js';
import { INTERPRETATIONS, type Activation } from '../src/network/types.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

/** max |G - G_fd| / max |G| with G_fd = -(L(w+h) - L(w-h)) / 2h, Richardson-extrapolated. */
function finiteDifferenceError(seed: number, interpretation: (typeof INTERPRETATIONS)[number], activations: Activation[], affine = false): number {
  const doc = randomNetwork({ interpretation, activations, seed, density: 0.6, affine });
  checkNetwork(doc); // the generator must produce valid networks
  const model = createModel(doc);
  const data = randomData(doc, 5, seed + 1000);
  const batch = makeBatch(model.net, data);
  const engine = cpuBackend.open(model.net, batch.size);
  const gradient = new Float64Array(model.net.nParams);
  lossAndGradient(engine, model.params, batch, gradient);
  const loss = (p: Float64Array) => evaluateLoss(engine, p, batch);
  const central = (i: number, h: number) => {
    const p = model.params.slice();
    p[i] += h;
    const up = loss(p);
    p[i] = model.params[i] - h;
    return -(up - loss(p)) / (2 * h);
  };
  let maxDiff = 0;
  let maxG = 0;
  for (let i = 0; i < gradient.length; i++) {
    const h = 1e-4;
    const fd = (4 * central(i, h / 2) - central(i, h)) / 3;
    maxDiff = Math.max(maxDiff, Math.abs(fd - gradient[i]));
    maxG = Math.max(maxG, Math.abs(gradient[i]));
  }
  return maxDiff / maxG;
}

describe('gradient G = E_x a_i b̃_k against central finite differences', () => {
  const activationSets: Activation[][] = [['sigmoid'], ['tanh'], ['linear', 'sigmoid'], ['sigmoid', 'tanh', 'linear'], ['relu', 'sigmoid'], ['softplus', 'tanh'], ['relu', 'softplus', 'linear']];
  for (const interpretation of INTERPRETATIONS) {
    for (const activations of activationSets) {
      it(`${interpretation}, ${activations.join('/')} units, random DAGs with skip connections`, () => {
        for (let seed = 1; seed <= 6; seed++) {
          expect(finiteDifferenceError(seed * 17 + activations.length, interpretation, activations)).toBeLessThan(1e-6);
        }
      });
    }
    it(`${interpretation}, hidden units with gain/scale/shift (Def. 29)`, () => {
      for (let seed = 1; seed <= 4; seed++) expect(finiteDifferenceError(seed * 13, interpretation, ['sigmoid', 'tanh', 'linear'], true)).toBeLessThan(1e-6);
      for (let seed = 1; seed <= 4; seed++) expect(finiteDifferenceError(seed * 19, interpretation, ['relu', 'softplus', 'sigmoid'], true)).toBeLessThan(1e-6);
    });
  }
});
