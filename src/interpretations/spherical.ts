import { classDrawNumbers, classProbabilities, derivativeSeeds, sampleClasses } from './classes.js';
import type { OutputInterpretation } from './interpretation.js';

/**
 * Spherical outputs (Example 1): p_k = a_k²/Σa², ℓ = -Σ y_k ln p_k; b̃ = r(2y/a - 2a/Σa²), the
 * y/a term taken as 0 where y = 0. Fisher metric (Eq. 17): σ = r, β = 4/S, γ = a_o,
 * β_x = -4/S² (S = Σ a²).
 */
export const sphericalInterpretation: OutputInterpretation = {
  outputLayer(net, pass, targets, loss, backReduced) {
    const S = pass.size;
    const { act, deriv } = pass;
    for (let s = 0; s < S; s++) {
      let norm2 = 0;
      for (let j = 0; j < net.nOutputs; j++) {
        const a = act[net.outputUnits[j] * S + s];
        norm2 += a * a;
      }
      const logNorm2 = Math.log(norm2);
      let l = 0;
      for (let j = 0; j < net.nOutputs; j++) {
        const i = net.outputUnits[j] * S + s;
        const y = targets[j * S + s];
        const a = act[i];
        let b = (-2 * a) / norm2;
        if (y !== 0) {
          l -= y * (Math.log(a * a) - logNorm2);
          b += (2 * y) / a;
        }
        backReduced[i] = deriv[i] * b;
      }
      loss[s] = l;
    }
  },
  metric(net, pass) {
    const S = pass.size;
    const nOut = net.nOutputs;
    const beta = new Float64Array(nOut * S);
    const gamma = new Float64Array(nOut * S);
    const betaExtra = new Float64Array(S);
    for (let s = 0; s < S; s++) {
      let norm2 = 0;
      for (let j = 0; j < nOut; j++) norm2 += pass.act[net.outputUnits[j] * S + s] ** 2;
      for (let j = 0; j < nOut; j++) {
        beta[j * S + s] = 4 / norm2;
        gamma[j * S + s] = pass.act[net.outputUnits[j] * S + s];
      }
      betaExtra[s] = -4 / (norm2 * norm2);
    }
    return { seeds: derivativeSeeds(net, pass), beta, gamma, betaExtra };
  },
  probabilities: (net, pass) => classProbabilities(net, pass, false),
  drawNumbers: classDrawNumbers,
  sample: (net, pass, draw, targets) => sampleClasses(net, classProbabilities(net, pass, false), pass.size, draw, targets),
};
