import { forwardPass } from '../backend/engine.js';
import { openEngine } from '../backend/registry.js';
import { batchProbabilities } from '../optimizer/probabilities.js';
import type { DataDocument } from '../network/types.js';
import { makeBatch } from './batch.js';
import type { Model } from './model.js';
import { loadBatch } from './propagate.js';

/**
 * The output distribution ω(x) of every sample (see `batchProbabilities`), as numbers comparable
 * across parametrisations. Returns [sample][output].
 */
export function outputDistribution(model: Model, data: DataDocument, backend = 'cpu'): number[][] {
  const { net } = model;
  const batch = makeBatch(net, data);
  const engine = openEngine(backend, net, batch.size);
  try {
    const { params, ws } = loadBatch(engine, model.params, batch);
    forwardPass(engine, params, ws);
    return batchProbabilities(net, engine.read(ws.act), batch.size);
  } finally {
    engine.dispose();
  }
}

/** Largest absolute difference between two output distributions of the same shape. */
export function maxDistributionGap(p: number[][], q: number[][]): number {
  let gap = 0;
  p.forEach((row, s) => row.forEach((v, j) => (gap = Math.max(gap, Math.abs(v - q[s][j])))));
  return gap;
}
