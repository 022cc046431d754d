import type { CompiledNetwork } from '../engine/compiled-network.js';
import { outputProbabilities } from '../metrics/output-metric.js';

/**
 * The output distribution ω(x) of every sample of a batch, as numbers comparable across
 * parametrisations: Bernoulli, P(Y_k = 1) (a for sigmoid, (1 + a)/2 for tanh outputs); softmax
 * and spherical, the class probabilities; square loss, the Gaussian means a_k. `act` is the
 * batch's activities [nUnits × size]. Returns [sample][output].
 */
export function batchProbabilities(net: CompiledNetwork, act: Float64Array, size: number): number[][] {
  const p = outputProbabilities(net, { act, size });
  return Array.from({ length: size }, (_, s) => Array.from({ length: net.nOutputs }, (_, j) => p[j * size + s]));
}
