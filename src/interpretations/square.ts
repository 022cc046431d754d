import type { OutputInterpretation } from './interpretation.js';
import { derivativeSeeds } from './classes.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Square loss: a Gaussian of variance 1 around the output activities (Example 1). The loss keeps
 * the normalising constant, ℓ = ½Σ(y-a)² + (n_out/2)·ln 2π, so that it really is -ln ω(y);
 * b̃ = r(y - a); Fisher metric (Eq. 15): σ = r, β = 1.
 */
export const squareInterpretation: OutputInterpretation = {
  outputLayer(net, pass, targets, loss, backReduced) {
    const S = pass.size;
    loss.fill(net.nOutputs * HALF_LOG_2PI);
    for (let j = 0; j < net.nOutputs; j++) {
      const row = net.outputUnits[j] * S;
      for (let s = 0; s < S; s++) {
        const diff = targets[j * S + s] - pass.act[row + s];
        loss[s] += 0.5 * diff * diff;
        backReduced[row + s] = pass.deriv[row + s] * diff;
      }
    }
  },
  metric: (net, pass) => ({ seeds: derivativeSeeds(net, pass), beta: new Float64Array(net.nOutputs * pass.size).fill(1), gamma: undefined, betaExtra: undefined }),
  probabilities(net, pass) {
    const S = pass.size;
    const means = new Float64Array(net.nOutputs * S);
    net.outputUnits.forEach((k, j) => means.set(pass.act.subarray(k * S, (k + 1) * S), j * S));
    return means;
  },
  drawNumbers(net, size, rng, out) {
    for (let i = 0; i < net.nOutputs * size; i++) out[i] = rng.normal();
  },
  sample(net, pass, draw, targets) {
    const S = pass.size;
    for (let j = 0; j < net.nOutputs; j++) for (let s = 0; s < S; s++) targets[j * S + s] = pass.act[net.outputUnits[j] * S + s] + draw[j * S + s];
  },
};
