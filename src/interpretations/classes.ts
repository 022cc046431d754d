import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { Prng } from '../random/prng.js';
import type { OutputPass } from './interpretation.js';

/** Class probabilities of softmax (e^a/Σe^a) or spherical (a²/Σa²) outputs: [nOutputs × size]. */
export function classProbabilities(net: CompiledNetwork, pass: Pick<OutputPass, 'size' | 'act'>, softmax: boolean): Float64Array {
  const S = pass.size;
  const nOut = net.nOutputs;
  const p = new Float64Array(nOut * S);
  for (let s = 0; s < S; s++) {
    let max = -Infinity;
    for (let j = 0; j < nOut; j++) max = Math.max(max, pass.act[net.outputUnits[j] * S + s]);
    let sum = 0;
    for (let j = 0; j < nOut; j++) {
      const a = pass.act[net.outputUnits[j] * S + s];
      const v = softmax ? Math.exp(a - max) : a * a;
      p[j * S + s] = v;
      sum += v;
    }
    for (let j = 0; j < nOut; j++) p[j * S + s] /= sum;
  }
  return p;
}

/** One uniform per sample (row 0): the random numbers of a class draw. */
export function classDrawNumbers(_net: CompiledNetwork, size: number, rng: Prng, out: Float64Array): void {
  for (let s = 0; s < size; s++) out[s] = rng.uniform();
}

/** One-hot targets: the class whose cumulative probability first exceeds the sample's uniform. */
export function sampleClasses(net: CompiledNetwork, p: Float64Array, size: number, draw: Float64Array, targets: Float64Array): void {
  const nOut = net.nOutputs;
  targets.fill(0);
  for (let s = 0; s < size; s++) {
    let u = draw[s];
    let j = 0;
    while (j < nOut - 1 && u >= p[j * size + s]) u -= p[j++ * size + s];
    targets[j * size + s] = 1;
  }
}

/** σ = r per output and sample (square, softmax and spherical outputs). */
export function derivativeSeeds(net: CompiledNetwork, pass: OutputPass): Float64Array {
  const S = pass.size;
  const seeds = new Float64Array(net.nOutputs * S);
  for (let j = 0; j < net.nOutputs; j++) seeds.set(pass.deriv.subarray(net.outputUnits[j] * S, (net.outputUnits[j] + 1) * S), j * S);
  return seeds;
}
