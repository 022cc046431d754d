import { getBackend } from '../backend/index.js';
import { makeBatch } from '../engine/batch.js';
import type { Model } from '../engine/model.js';
import { lossAndGradient } from '../engine/propagate.js';
import { createWorkspace } from '../engine/workspace.js';
import type { ModulusContext } from '../metrics/moduli.js';
import type { DataDocument } from '../network/types.js';
import { Prng } from '../random/prng.js';
import { NetworkCache } from './methods.js';

/** A batch after forward and backward propagation: what the metrics and reductions consume. */
export interface PreparedBatch {
  ctx: ModulusContext;
  cache: NetworkCache;
  /** G = E_x a_i b̃_k, laid out like params. */
  gradient: Float64Array;
  /** Mean loss, nats per sample. */
  lossNats: number;
}

/** Runs forward and backward propagation of `model` on the whole of `data`. */
export function prepareBatch(model: Model, data: DataDocument, options: { backend?: string; seed?: number; mcSamples?: number; cache?: NetworkCache } = {}): PreparedBatch {
  const kernels = getBackend(options.backend ?? 'cpu');
  const { net, params } = model;
  const cache = options.cache ?? new NetworkCache(net);
  const batch = makeBatch(net, data);
  const ws = createWorkspace(net, batch.size);
  const gradient = new Float64Array(net.nParams);
  const lossNats = lossAndGradient(kernels, net, params, batch, ws, gradient);
  const ctx: ModulusContext = { kernels, net, params, batch, ws, plan: cache.transferPlan(), rng: new Prng(options.seed ?? 1), mcSamples: options.mcSamples ?? 1 };
  return { ctx, cache, gradient, lossNats };
}
