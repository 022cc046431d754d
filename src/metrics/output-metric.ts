import type { CompiledNetwork } from '../engine/compiled-network.js';
import { INTERPRETATION_OBJECTS, type OutputMetric, type OutputPass } from '../interpretations/index.js';
import type { Prng } from '../random/prng.js';

export type { OutputMetric } from '../interpretations/index.js';
export { bernoulliProbability } from '../interpretations/index.js';

/**
 * The Fisher metric of the output distribution (Example 1, Eq. 14-17) on a forward pass, in the
 * form the engine uses (see `OutputMetric`): the network's interpretation object computes it.
 */
export function outputMetric(net: CompiledNetwork, pass: OutputPass): OutputMetric {
  return INTERPRETATION_OBJECTS[net.interpretation].metric(net, pass);
}

/**
 * Reduced backpropagated modulus of the output units, m̃_o = r_o² m_o (Eq. 27): the diagonal of
 * the output metric, β σ² + β_x (γ σ)². Bernoulli r_o (r²/(a(1-a)) for sigmoid; 1-a² for tanh
 * read as (1+a)/2), square r², softmax r² p(1-p), spherical r² (4/S)(1 - a²/S). Writes the output
 * rows of `out` ([nUnits × size]).
 */
export function outputBackpropagatedModulus(net: CompiledNetwork, pass: OutputPass, out: Float64Array): void {
  const direct = INTERPRETATION_OBJECTS[net.interpretation].outputModulus;
  if (direct) return direct(net, pass, out);
  const S = pass.size;
  const metric = outputMetric(net, pass);
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

/** Class probabilities of softmax or spherical outputs, P(Y = 1) of Bernoulli ones, means of square ones: [nOutputs × size]. */
export function outputProbabilities(net: CompiledNetwork, pass: Pick<OutputPass, 'act' | 'size'>): Float64Array {
  return INTERPRETATION_OBJECTS[net.interpretation].probabilities(net, pass);
}

/**
 * The host's random numbers for K Monte-Carlo draws of the outputs (Eq. 100), in the order the
 * PRNG has always been consumed: [K × nOutputs × size] (see `OutputInterpretation.drawNumbers`).
 */
export function outputDraws(net: CompiledNetwork, size: number, rng: Prng, draws: number): Float64Array {
  const perDraw = net.nOutputs * size;
  const out = new Float64Array(draws * perDraw);
  for (let d = 0; d < draws; d++) INTERPRETATION_OBJECTS[net.interpretation].drawNumbers(net, size, rng, out.subarray(d * perDraw, (d + 1) * perDraw));
  return out;
}

/** Outputs y ~ ω(x) per sample from one draw of {@link outputDraws} ([nOutputs × size]) into `targets`. */
export function targetsFromDraws(net: CompiledNetwork, pass: Pick<OutputPass, 'act' | 'size'>, draw: Float64Array, targets: Float64Array): void {
  INTERPRETATION_OBJECTS[net.interpretation].sample(net, pass, draw, targets);
}
