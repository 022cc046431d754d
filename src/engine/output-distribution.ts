import { getBackend } from '../backend/index.js';
import type { DataDocument } from '../network/types.js';
import { makeBatch } from './batch.js';
import { ActivationCode } from './compiled-network.js';
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
  const rows: number[][] = [];
  for (let s = 0; s < S; s++) {
    const a = Array.from(net.outputUnits, (k) => ws.act[k * S + s]);
    if (net.interpretation === 'bernoulli') {
      rows.push(a.map((v, j) => (net.activation[net.outputUnits[j]] === ActivationCode.Tanh ? (1 + v) / 2 : v)));
    } else if (net.interpretation === 'softmax') {
      const max = Math.max(...a);
      const e = a.map((v) => Math.exp(v - max));
      const sum = e.reduce((x, y) => x + y, 0);
      rows.push(e.map((v) => v / sum));
    } else if (net.interpretation === 'spherical') {
      const sum = a.reduce((x, v) => x + v * v, 0);
      rows.push(a.map((v) => (v * v) / sum));
    } else {
      rows.push(a);
    }
  }
  return rows;
}

/** Largest absolute difference between two output distributions of the same shape. */
export function maxDistributionGap(p: number[][], q: number[][]): number {
  let gap = 0;
  p.forEach((row, s) => row.forEach((v, j) => (gap = Math.max(gap, Math.abs(v - q[s][j])))));
  return gap;
}
