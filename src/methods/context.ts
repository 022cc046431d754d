import { backwardPass, type DeviceBuffer, type Engine, type EngineWorkspace } from '../backend/engine.js';
import { openEngine } from '../backend/registry.js';
import { makeBatch, type Batch } from '../engine/batch.js';
import type { Model } from '../engine/model.js';
import { forwardLoss, loadBatch } from '../engine/propagate.js';
import type { DataDocument } from '../network/types.js';

/** A batch after forward and backward propagation on an engine: what `inspect` reports on. */
export interface PreparedBatch {
  engine: Engine;
  batch: Batch;
  params: DeviceBuffer;
  ws: EngineWorkspace;
  /** G = E_x a_i b̃_k, laid out like params. */
  gradient: Float64Array;
  /** Mean loss, nats per sample. */
  lossNats: number;
}

/** Runs forward and backward propagation of `model` on the whole of `data` (dispose the engine when done). */
export function prepareBatch(model: Model, data: DataDocument, options: { backend?: string } = {}): PreparedBatch {
  const { net } = model;
  const batch = makeBatch(net, data);
  const engine = openEngine(options.backend ?? 'cpu', net, batch.size);
  const { params, ws } = loadBatch(engine, model.params, batch);
  const lossNats = forwardLoss(engine, params, ws);
  backwardPass(engine, params, ws);
  const g = engine.alloc(net.nParams);
  engine.gradient(ws, g);
  return { engine, batch, params, ws, gradient: engine.read(g).slice(), lossNats };
}
