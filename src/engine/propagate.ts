import type { Kernels } from '../backend/kernels.js';
import type { Batch } from './batch.js';
import { levelCount, type CompiledNetwork } from './compiled-network.js';
import type { Workspace } from './workspace.js';

/**
 * Forward propagation (Eq. 2) level by level: copies the batch inputs into the input rows of
 * `ws.act`, then runs one forward kernel per level.
 */
export function forward(kernels: Kernels, net: CompiledNetwork, params: Float64Array, batch: Batch, ws: Workspace): void {
  ws.act.set(batch.inputs, 0);
  for (let l = 1; l < levelCount(net); l++) kernels.forwardLevel(net, params, ws, net.levelOffsets[l], net.levelOffsets[l + 1]);
}

/**
 * Loss and backpropagation (Eq. 3-10) after {@link forward}: output layer, then one backward
 * kernel per level from the top down to level 1 (input units need no b).
 */
export function backward(kernels: Kernels, net: CompiledNetwork, params: Float64Array, batch: Batch, ws: Workspace): void {
  kernels.outputLayer(net, ws, batch.targets);
  backwardLevels(kernels, net, params, ws);
}

/**
 * The backward kernels from the top level down to level 1, after the output layer; with
 * `modulus` (output rows set), the backpropagated modulus (Eq. 26) on the same pass.
 */
export function backwardLevels(kernels: Kernels, net: CompiledNetwork, params: Float64Array, ws: Workspace, modulus?: Float64Array): void {
  for (let l = levelCount(net) - 1; l >= 1; l--) kernels.backwardLevel(net, params, ws, net.levelOffsets[l], net.levelOffsets[l + 1], modulus);
}

/** Forward propagation and the output layer only: mean loss in nats per sample (b̃ of outputs as a by-product). */
export function evaluateLoss(kernels: Kernels, net: CompiledNetwork, params: Float64Array, batch: Batch, ws: Workspace): number {
  forward(kernels, net, params, batch, ws);
  kernels.outputLayer(net, ws, batch.targets);
  return meanLoss(ws);
}

/** Mean loss over the batch, in nats per sample. */
export function meanLoss(ws: Workspace): number {
  let sum = 0;
  for (let s = 0; s < ws.size; s++) sum += ws.loss[s];
  return sum / ws.size;
}

/**
 * Forward, backward and the batch gradient G = E_x a_i b̃_k (Eq. 8, 19) into `gradient`
 * (laid out like params). Returns the mean loss in nats per sample.
 */
export function lossAndGradient(kernels: Kernels, net: CompiledNetwork, params: Float64Array, batch: Batch, ws: Workspace, gradient: Float64Array): number {
  forward(kernels, net, params, batch, ws);
  backward(kernels, net, params, batch, ws);
  kernels.gradient(net, ws, gradient);
  return meanLoss(ws);
}

export const BITS_PER_NAT = 1 / Math.LN2;
