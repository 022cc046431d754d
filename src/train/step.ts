import { getBackend } from '../backend/index.js';
import { NumericalError, UsageError, problem } from '../errors.js';
import { makeBatch } from '../engine/batch.js';
import type { Model } from '../engine/model.js';
import { BITS_PER_NAT, evaluateLoss, lossAndGradient } from '../engine/propagate.js';
import { createWorkspace } from '../engine/workspace.js';
import type { DataDocument } from '../network/types.js';

/** Training methods available to `step`. */
export const METHODS = ['backprop'] as const;
export type MethodName = (typeof METHODS)[number];

export interface StepOptions {
  method: MethodName;
  /** Learning rate η. */
  lr: number;
  backend?: string;
}

export interface StepResult {
  /** Mean loss before and after the step, bits per sample. */
  lossBefore: number;
  lossAfter: number;
}

/**
 * One batch step on the whole data set: w ← w + η δw, with δw = G for backprop (Eq. 12).
 * Updates `model.params` in place; refuses (NumericalError) to write a non-finite parameter.
 */
export function stepModel(model: Model, data: DataDocument, options: StepOptions): StepResult {
  if (!(METHODS as readonly string[]).includes(options.method)) {
    throw new UsageError([problem('unknown-method', `unknown method '${options.method}'; available: ${METHODS.join(', ')}`)]);
  }
  if (!Number.isFinite(options.lr)) throw new UsageError([problem('lr', `learning rate ${options.lr} is not a finite number`)]);
  const kernels = getBackend(options.backend ?? 'cpu');
  const { net } = model;
  const batch = makeBatch(net, data);
  const ws = createWorkspace(net, batch.size);
  const direction = new Float64Array(net.nParams);
  const before = lossAndGradient(kernels, net, model.params, batch, ws, direction);
  const next = model.params.slice();
  for (let p = 0; p < next.length; p++) next[p] += options.lr * direction[p];
  if (!next.every(Number.isFinite)) {
    throw new NumericalError([problem('non-finite-step', `the ${options.method} step gives non-finite parameters (loss before: ${before * BITS_PER_NAT} bits); lower the learning rate`)]);
  }
  const after = evaluateLoss(kernels, net, next, batch, ws);
  model.params = next;
  return { lossBefore: before * BITS_PER_NAT, lossAfter: after * BITS_PER_NAT };
}
