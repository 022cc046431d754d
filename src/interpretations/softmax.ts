import { classDrawNumbers, classProbabilities, derivativeSeeds, sampleClasses } from './classes.js';
import type { OutputInterpretation } from './interpretation.js';

/**
 * Softmax outputs (Example 1): p_k = e^{a_k}/Σe^a, ℓ = -Σ y_k ln p_k by log-sum-exp with the
 * maximum subtracted; b̃ = r(y - p). Fisher metric (Eq. 16): σ = r, β = p_o, γ = p_o, β_x = -1.
 */
export const softmaxInterpretation: OutputInterpretation = {
  outputLayer(net, pass, targets, loss, backReduced) {
    const S = pass.size;
    const { act, deriv } = pass;
    for (let s = 0; s < S; s++) {
      let max = -Infinity;
      for (let j = 0; j < net.nOutputs; j++) max = Math.max(max, act[net.outputUnits[j] * S + s]);
      let sum = 0;
      for (let j = 0; j < net.nOutputs; j++) sum += Math.exp(act[net.outputUnits[j] * S + s] - max);
      const logSumExp = max + Math.log(sum);
      let l = 0;
      for (let j = 0; j < net.nOutputs; j++) {
        const i = net.outputUnits[j] * S + s;
        const y = targets[j * S + s];
        const logP = act[i] - logSumExp;
        if (y !== 0) l -= y * logP;
        backReduced[i] = deriv[i] * (y - Math.exp(logP));
      }
      loss[s] = l;
    }
  },
  metric(net, pass) {
    const p = classProbabilities(net, pass, true);
    return { seeds: derivativeSeeds(net, pass), beta: p, gamma: p.slice(), betaExtra: new Float64Array(pass.size).fill(-1) };
  },
  probabilities: (net, pass) => classProbabilities(net, pass, true),
  drawNumbers: classDrawNumbers,
  sample: (net, pass, draw, targets) => sampleClasses(net, classProbabilities(net, pass, true), pass.size, draw, targets),
};
