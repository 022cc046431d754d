import type { CompiledNetwork } from '../engine/compiled-network.js';
import { bernoulliProbability, classProbabilities } from '../metrics/output-metric.js';

/**
 * The output distribution ω(x) of every sample of a batch, as numbers comparable across
 * parametrisations: Bernoulli, P(Y_k = 1) (a for sigmoid, (1 + a)/2 for tanh outputs); softmax
 * and spherical, the class probabilities; square loss, the Gaussian means a_k. `act` is the
 * batch's activities [nUnits × size]. Returns [sample][output].
 */
export function batchProbabilities(net: CompiledNetwork, act: Float64Array, size: number): number[][] {
  const classes = net.interpretation === 'softmax' || net.interpretation === 'spherical' ? classProbabilities(net, { act, size }) : undefined;
  const rows: number[][] = [];
  for (let s = 0; s < size; s++) {
    rows.push(
      Array.from(net.outputUnits, (k, j) => {
        if (classes) return classes[j * size + s];
        const a = act[k * size + s];
        return net.interpretation === 'bernoulli' ? bernoulliProbability(net, k, a) : a;
      }),
    );
  }
  return rows;
}
