import { ActivationCode, type CompiledNetwork } from '../engine/compiled-network.js';
import type { OutputInterpretation } from './interpretation.js';

/** P(Y_o = 1) of a Bernoulli output unit k with activity a: a for sigmoid, (1 + a)/2 for tanh (Section 3.2). */
export function bernoulliProbability(net: CompiledNetwork, k: number, a: number): number {
  return net.activation[k] === ActivationCode.Tanh ? (1 + a) / 2 : a;
}

/**
 * Bernoulli outputs (Example 1): sigmoid outputs read as p = a, tanh outputs as p = (1+a)/2 =
 * sigm(2V). ℓ = y·softplus(-z) + (1-y)·softplus(z) with z = V (or 2V), written with one log of
 * the more probable side (NOTE: one log instead of exp + log1p per output: the output layer was
 * a third of a backprop iteration); b̃ = y - a (sigmoid: r(y-a)/(a(1-a)) simplified) or
 * 2y - 1 - a (tanh). Fisher metric (Eq. 14): σ = √r, β = 1: the Fisher information of V is r
 * for both readings (a(1-a) and 4p(1-p) = 1-a²), exact and finite.
 */
export const bernoulliInterpretation: OutputInterpretation = {
  outputLayer(net, pass, targets, loss, backReduced) {
    const S = pass.size;
    const { pre, act } = pass;
    loss.fill(0);
    for (let j = 0; j < net.nOutputs; j++) {
      const k = net.outputUnits[j];
      const row = k * S;
      const tanh = net.activation[k] === ActivationCode.Tanh;
      for (let s = 0; s < S; s++) {
        const y = targets[j * S + s];
        const a = act[row + s];
        // ℓ = -ln p + (1-y)z for z ≥ 0, ℓ = -ln(1-p) - yz for z < 0 (p = sigm(z)).
        const z = tanh ? 2 * pre[row + s] : pre[row + s];
        if (z >= 0) loss[s] += (1 - y) * z - Math.log(tanh ? 0.5 * (1 + a) : a);
        else loss[s] -= y * z + Math.log(tanh ? 0.5 * (1 - a) : 1 - a);
        backReduced[row + s] = tanh ? 2 * y - 1 - a : y - a;
      }
    }
  },
  metric(net, pass) {
    const S = pass.size;
    const seeds = new Float64Array(net.nOutputs * S);
    for (let j = 0; j < net.nOutputs; j++) for (let s = 0; s < S; s++) seeds[j * S + s] = Math.sqrt(pass.deriv[net.outputUnits[j] * S + s]);
    return { seeds, beta: new Float64Array(net.nOutputs * S).fill(1), gamma: undefined, betaExtra: undefined };
  },
  outputModulus(net, pass, out) {
    // β σ² with β = 1 and σ = √r, in the metric's arithmetic (the same values).
    const S = pass.size;
    const { deriv } = pass;
    for (let j = 0; j < net.nOutputs; j++) {
      const row = net.outputUnits[j] * S;
      for (let s = 0; s < S; s++) {
        const sigma = Math.sqrt(deriv[row + s]);
        out[row + s] = sigma * sigma;
      }
    }
  },
  probabilities(net, pass) {
    const S = pass.size;
    const p = new Float64Array(net.nOutputs * S);
    net.outputUnits.forEach((k, j) => {
      for (let s = 0; s < S; s++) p[j * S + s] = bernoulliProbability(net, k, pass.act[k * S + s]);
    });
    return p;
  },
  drawNumbers(net, size, rng, out) {
    for (let i = 0; i < net.nOutputs * size; i++) out[i] = rng.uniform();
  },
  sample(net, pass, draw, targets) {
    const S = pass.size;
    for (let j = 0; j < net.nOutputs; j++) {
      const k = net.outputUnits[j];
      for (let s = 0; s < S; s++) targets[j * S + s] = draw[j * S + s] < bernoulliProbability(net, k, pass.act[k * S + s]) ? 1 : 0;
    }
  },
};
