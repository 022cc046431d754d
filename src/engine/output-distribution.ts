import { getBackend } from '../backend/index.js';
import { bernoulliProbability, classProbabilities } from '../metrics/output-metric.js';
import type { DataDocument } from '../network/types.js';
import { makeBatch } from './batch.js';
import type { Model } from './model.js';
import { forward } from './propagate.js';
import { createWorkspace } from './workspace.js';

/**
 * The output distribution ω(x) of every sample, as numbers comparable across
 * parametrisations: Bernoulli, P(Y_k = 1) (a for sigmoid, (1 + a)/2 for tanh outputs);
 * softmax and spherical, the class probabilities; square loss, the Gaussian means a_k.
 * Returns [sample][output].
 */
export function outputDistribution(model: Model, data: DataDocument, backend = 'cpu'): number[][] {
  const { net } = model;
  const batch = makeBatch(net, data);
  const ws = createWorkspace(net, batch.size);
  forward(getBackend(backend), net, model.params, batch, ws);
  const S = batch.size;
  const classes = net.interpretation === 'softmax' || net.interpretation === 'spherical' ? classProbabilities(net, ws) : undefined;
  const rows: number[][] = [];
  for (let s = 0; s < S; s++) {
    rows.push(
      Array.from(net.outputUnits, (k, j) => {
        if (classes) return classes[j * S + s];
        const a = ws.act[k * S + s];
        return net.interpretation === 'bernoulli' ? bernoulliProbability(net, k, a) : a;
      }),
    );
  }
  return rows;
}

/** Largest absolute difference between two output distributions of the same shape. */
export function maxDistributionGap(p: number[][], q: number[][]): number {
  let gap = 0;
  p.forEach((row, s) => row.forEach((v, j) => (gap = Math.max(gap, Math.abs(v - q[s][j])))));
  return gap;
}
