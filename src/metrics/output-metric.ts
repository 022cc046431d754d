import { ActivationCode, type CompiledNetwork } from '../engine/compiled-network.js';
import type { Workspace } from '../engine/workspace.js';
import type { Prng } from '../random/prng.js';

/**
 * The Fisher metric of the output distribution ω, written on the output pre-activations V, per
 * sample, in the form the rest of the engine uses. Everything is in reduced variables
 * (multiplied by r_k, as b̃ = rb), so saturated outputs give zeros rather than 0/0.
 *
 * Transfer rates are backpropagated from output o with seed σ_o (Def. 2 with J_o^o := 1, then
 * multiplied through by r: J̃_k^o = r_k J_k^o σ_o / r_o). The pairwise Fisher modulus of
 * Prop. 27 (Eq. 102) then reads, for units k, k' (reduced: r_k r_k' Φ_kk'):
 *   Σ_o β_o J̃_k^o J̃_k'^o + β_x (Σ_o γ_o J̃_k^o)(Σ_o γ_o J̃_k'^o)
 * with, per interpretation:
 * - square (Eq. 15):      σ = r,   β = 1,                 no extra term;
 * - bernoulli (Eq. 14):   σ = √r,  β = 1,                 no extra term. With σ = √r the division
 *   by a(1-a) disappears: the Fisher information of V_o is r_o for sigmoid outputs (a(1-a)) and
 *   for tanh outputs read as p = (1+a)/2 (4p(1-p) = 1-a²), so both are exact and finite;
 * - softmax (Eq. 16):     σ = r,   β = p_o,   γ = p_o,    β_x = -1;
 * - spherical (Eq. 17):   σ = r,   β = 4/S,   γ = a_o,    β_x = -4/S²  (S = Σ a²).
 * The Fisher modulus (Def. 3, reduced: φ̃_k = r_k² Φ_k) is the case k = k'.
 */
export interface OutputMetric {
  /** Seeds σ_o per sample: [nOutputs × size]. */
  seeds: Float64Array;
  /** β_o per sample: [nOutputs × size]. */
  beta: Float64Array;
  /** γ_o per sample, or undefined when there is no extra term: [nOutputs × size]. */
  gamma: Float64Array | undefined;
  /** β_x per sample, or undefined: [size]. */
  betaExtra: Float64Array | undefined;
}

/** Builds {@link OutputMetric} from a forward pass held in `ws`. */
export function outputMetric(net: CompiledNetwork, ws: Workspace): OutputMetric {
  const S = ws.size;
  const nOut = net.nOutputs;
  const seeds = new Float64Array(nOut * S);
  const beta = new Float64Array(nOut * S).fill(1);
  let gamma: Float64Array | undefined;
  let betaExtra: Float64Array | undefined;
  const { act, deriv } = ws;
  for (let j = 0; j < nOut; j++) {
    const row = net.outputUnits[j] * S;
    for (let s = 0; s < S; s++) seeds[j * S + s] = net.interpretation === 'bernoulli' ? Math.sqrt(deriv[row + s]) : deriv[row + s];
  }
  if (net.interpretation === 'softmax' || net.interpretation === 'spherical') {
    gamma = new Float64Array(nOut * S);
    betaExtra = new Float64Array(S);
    const p = classProbabilities(net, ws);
    for (let s = 0; s < S; s++) {
      let norm2 = 0;
      for (let j = 0; j < nOut; j++) norm2 += act[net.outputUnits[j] * S + s] ** 2;
      for (let j = 0; j < nOut; j++) {
        const i = j * S + s;
        if (net.interpretation === 'softmax') {
          beta[i] = p[i];
          gamma[i] = p[i];
        } else {
          beta[i] = 4 / norm2;
          gamma[i] = act[net.outputUnits[j] * S + s];
        }
      }
      betaExtra[s] = net.interpretation === 'softmax' ? -1 : -4 / (norm2 * norm2);
    }
  }
  return { seeds, beta, gamma, betaExtra };
}

/**
 * Reduced backpropagated modulus of the output units, m̃_o = r_o² m_o (Eq. 27): the diagonal of
 * the output metric. Bernoulli r_o (r²/(a(1-a)) for sigmoid; 1-a² for tanh read as (1+a)/2),
 * square r², softmax r² p(1-p), spherical r² (4/S)(1 - a²/S). Writes the output rows of `out`
 * ([nUnits × size]).
 */
export function outputBackpropagatedModulus(net: CompiledNetwork, ws: Workspace, out: Float64Array): void {
  const S = ws.size;
  const metric = outputMetric(net, ws);
  for (let j = 0; j < net.nOutputs; j++) {
    const row = net.outputUnits[j] * S;
    for (let s = 0; s < S; s++) {
      const i = j * S + s;
      const sigma = metric.seeds[i];
      let m = metric.beta[i] * sigma * sigma;
      if (metric.gamma && metric.betaExtra) m += metric.betaExtra[s] * (metric.gamma[i] * sigma) ** 2;
      out[row + s] = m;
    }
  }
}

/** P(Y_o = 1) of a Bernoulli output unit k with activity a: a for sigmoid, (1 + a)/2 for tanh (Section 3.2). */
export function bernoulliProbability(net: CompiledNetwork, k: number, a: number): number {
  return net.activation[k] === ActivationCode.Tanh ? (1 + a) / 2 : a;
}

/** Class probabilities of softmax (e^a/Σe^a) or spherical (a²/Σa²) outputs: [nOutputs × size]. */
export function classProbabilities(net: CompiledNetwork, ws: Pick<Workspace, 'act' | 'size'>): Float64Array {
  const S = ws.size;
  const nOut = net.nOutputs;
  const p = new Float64Array(nOut * S);
  for (let s = 0; s < S; s++) {
    let max = -Infinity;
    for (let j = 0; j < nOut; j++) max = Math.max(max, ws.act[net.outputUnits[j] * S + s]);
    let sum = 0;
    for (let j = 0; j < nOut; j++) {
      const a = ws.act[net.outputUnits[j] * S + s];
      const v = net.interpretation === 'softmax' ? Math.exp(a - max) : a * a;
      p[j * S + s] = v;
      sum += v;
    }
    for (let j = 0; j < nOut; j++) p[j * S + s] /= sum;
  }
  return p;
}

/**
 * The host's random numbers for K Monte-Carlo draws of the outputs (Eq. 100), in the order the
 * PRNG has always been consumed: [K × nOutputs × size]; per draw, softmax and spherical outputs
 * take one uniform per sample (row 0), Bernoulli outputs one uniform and square outputs one
 * standard normal per output and sample.
 */
export function outputDraws(net: CompiledNetwork, size: number, rng: Prng, draws: number): Float64Array {
  const perDraw = net.nOutputs * size;
  const out = new Float64Array(draws * perDraw);
  const classes = net.interpretation === 'softmax' || net.interpretation === 'spherical';
  for (let d = 0; d < draws; d++) {
    if (classes) for (let s = 0; s < size; s++) out[d * perDraw + s] = rng.uniform();
    else for (let i = 0; i < perDraw; i++) out[d * perDraw + i] = net.interpretation === 'square' ? rng.normal() : rng.uniform();
  }
  return out;
}

/**
 * Outputs y ~ ω(x) per sample from one draw of {@link outputDraws} ([nOutputs × size]) into
 * `targets` ([nOutputs × size]): Bernoulli bits with P(1) = p; one-hot classes for softmax and
 * spherical; a + N(0, 1) for square loss.
 */
export function targetsFromDraws(net: CompiledNetwork, ws: Pick<Workspace, 'act' | 'size'>, draw: Float64Array, targets: Float64Array): void {
  const S = ws.size;
  const nOut = net.nOutputs;
  if (net.interpretation === 'softmax' || net.interpretation === 'spherical') {
    const p = classProbabilities(net, ws);
    targets.fill(0);
    for (let s = 0; s < S; s++) {
      let u = draw[s];
      let j = 0;
      while (j < nOut - 1 && u >= p[j * S + s]) u -= p[j++ * S + s];
      targets[j * S + s] = 1;
    }
    return;
  }
  for (let j = 0; j < nOut; j++) {
    const k = net.outputUnits[j];
    for (let s = 0; s < S; s++) {
      const a = ws.act[k * S + s];
      const u = draw[j * S + s];
      if (net.interpretation === 'square') targets[j * S + s] = a + u;
      else targets[j * S + s] = u < bernoulliProbability(net, k, a) ? 1 : 0;
    }
  }
}
