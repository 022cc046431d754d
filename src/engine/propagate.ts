import { backwardPass, forwardPass, type DeviceBuffer, type Engine, type EngineWorkspace } from '../backend/engine.js';
import type { Batch } from './batch.js';

/** Uploads `params` and `batch` to a fresh buffer and workspace of `engine`. */
export function loadBatch(engine: Engine, params: Float64Array, batch: Batch): { params: DeviceBuffer; ws: EngineWorkspace } {
  const p = engine.alloc(params.length);
  engine.upload(p, params);
  const ws = engine.workspace();
  engine.setBatch(ws, batch);
  return { params: p, ws };
}

/** Forward propagation (Eq. 2) and the output layer (Eq. 3) of the batch in `ws`: mean loss in nats per sample. */
export function forwardLoss(engine: Engine, params: DeviceBuffer, ws: EngineWorkspace): number {
  forwardPass(engine, params, ws);
  engine.outputLayer(ws);
  return engine.meanLoss(ws);
}

/** {@link forwardLoss} of `params` on `batch` in a fresh workspace of `engine`. */
export function evaluateLoss(engine: Engine, params: Float64Array, batch: Batch): number {
  const loaded = loadBatch(engine, params, batch);
  const loss = forwardLoss(engine, loaded.params, loaded.ws);
  engine.free(loaded.ws);
  engine.free(loaded.params);
  return loss;
}

/**
 * Forward, backward and the batch gradient G = E_x a_i b̃_k (Eq. 8, 19) into `gradient` (laid out
 * like params). Returns the mean loss in nats per sample.
 */
export function lossAndGradient(engine: Engine, params: Float64Array, batch: Batch, gradient: Float64Array): number {
  const { params: p, ws } = loadBatch(engine, params, batch);
  const loss = forwardLoss(engine, p, ws);
  backwardPass(engine, p, ws);
  const g = engine.alloc(params.length);
  engine.gradient(ws, g);
  gradient.set(engine.read(g));
  for (const b of [ws, g, p]) engine.free(b);
  return loss;
}

export const BITS_PER_NAT = 1 / Math.LN2;
