import { backwardPass, forwardPass, type Engine } from '../backend/engine.js';
import type { Batch } from './batch.js';

/**
 * Forward propagation (Eq. 2) and the output layer (Eq. 3) of `params` on `batch` in a fresh
 * workspace of `engine`: mean loss in nats per sample.
 */
export function evaluateLoss(engine: Engine, params: Float64Array, batch: Batch): number {
  const p = engine.alloc(params.length);
  engine.upload(p, params);
  const ws = engine.workspace();
  engine.setBatch(ws, batch);
  forwardPass(engine, p, ws);
  engine.outputLayer(ws);
  const loss = engine.meanLoss(ws);
  engine.free(ws);
  engine.free(p);
  return loss;
}

/**
 * Forward, backward and the batch gradient G = E_x a_i b̃_k (Eq. 8, 19) into `gradient` (laid out
 * like params). Returns the mean loss in nats per sample.
 */
export function lossAndGradient(engine: Engine, params: Float64Array, batch: Batch, gradient: Float64Array): number {
  const p = engine.alloc(params.length);
  engine.upload(p, params);
  const ws = engine.workspace();
  engine.setBatch(ws, batch);
  forwardPass(engine, p, ws);
  engine.outputLayer(ws);
  const loss = engine.meanLoss(ws);
  backwardPass(engine, p, ws);
  const g = engine.alloc(params.length);
  engine.gradient(ws, g);
  gradient.set(engine.read(g));
  for (const b of [ws, g, p]) engine.free(b);
  return loss;
}

export const BITS_PER_NAT = 1 / Math.LN2;
