import type { Kernels } from '../backend/kernels.js';
import type { Batch } from '../engine/batch.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import { backward, backwardLevels } from '../engine/propagate.js';
import type { Workspace } from '../engine/workspace.js';
import type { Prng } from '../random/prng.js';
import { outputBackpropagatedModulus, outputDraws, outputMetric, targetsFromDraws } from './output-metric.js';
import type { TransferPlan } from './transfer-plan.js';

/** The per-sample metrics of the paper; `euclidean` has no modulus (plain gradient). */
export const METRICS = ['euclidean', 'fisher', 'mc-fisher', 'backpropagated', 'outer-product'] as const;
export type MetricName = (typeof METRICS)[number];

/** What the moduli need: a forward and backward pass already done in `ws` for `batch`. */
export interface ModulusContext {
  kernels: Kernels;
  net: CompiledNetwork;
  params: Float64Array;
  batch: Batch;
  ws: Workspace;
  /** Transfer-rate plan (Fisher metrics); built once per network. */
  plan: TransferPlan;
  /** Randomness of the Monte-Carlo Fisher metric. */
  rng: Prng;
  /** Draws per sample of the Monte-Carlo Fisher metric (K of Eq. 100). */
  mcSamples: number;
}

/**
 * Per-sample reduced modulus ψ̃_k(x) = r_k² ψ_k(x) of every non-input unit, [nUnits × size], so
 * that the metric blocks are A_ij = E_x a_i a_j ψ̃_k (Eq. 18, 28):
 * - fisher: the Fisher modulus Φ (Def. 3, Eq. 14-17) by n_out transfer-rate backpropagations;
 * - mc-fisher: (1/K) Σ_s b̃_k(x, y_s)², y_s ~ ω(x) (Eq. 100);
 * - backpropagated: the backpropagated modulus m (Def. 7, Eq. 26-27), one backward pass;
 * - outer-product: b̃_k² with the data's target (Def. 14; Prop. 32's OP case).
 */
export function computeModulus(metric: Exclude<MetricName, 'euclidean'>, ctx: ModulusContext): Float64Array {
  switch (metric) {
    case 'fisher':
      return fisherModulus(ctx);
    case 'mc-fisher':
      return monteCarloFisherModulus(ctx);
    case 'backpropagated':
      return backpropagatedModulus(ctx);
    case 'outer-product':
      return squaredReducedBackprop(ctx.net, ctx.ws.backReduced, ctx.ws.size);
  }
}

/** Fisher modulus (Def. 3) from the transfer rates of every output (Def. 2). */
export function fisherModulus(ctx: ModulusContext): Float64Array {
  const { kernels, net, params, ws, plan } = ctx;
  const modulus = new Float64Array(net.nUnits * ws.size);
  kernels.fisherModulus(net, plan, params, ws, outputMetric(net, ws), modulus);
  return modulus;
}

/** Backpropagated modulus (Def. 7): output values from the output metric, then Eq. 26 level by level. */
export function backpropagatedModulus(ctx: ModulusContext): Float64Array {
  const { kernels, net, params, ws } = ctx;
  const modulus = new Float64Array(net.nUnits * ws.size);
  outputBackpropagatedModulus(net, ws, modulus);
  backwardLevels(kernels, net, params, ws, modulus); // recomputes b̃ unchanged, alongside m̃
  return modulus;
}

/** Monte-Carlo Fisher modulus (Eq. 100): K backpropagations per sample from outputs drawn from ω(x). */
export function monteCarloFisherModulus(ctx: ModulusContext): Float64Array {
  const { kernels, net, params, ws, rng, mcSamples } = ctx;
  const S = ws.size;
  const draw: Workspace = { ...ws, back: new Float64Array(ws.back.length), backReduced: new Float64Array(ws.backReduced.length), loss: new Float64Array(S) };
  const targets = new Float64Array(net.nOutputs * S);
  const modulus = new Float64Array(net.nUnits * S);
  for (let d = 0; d < mcSamples; d++) {
    targetsFromDraws(net, ws, outputDraws(net, S, rng, 1), targets);
    backward(kernels, net, params, { size: S, inputs: ctx.batch.inputs, targets }, draw);
    for (let i = net.nInputs * S; i < modulus.length; i++) modulus[i] += draw.backReduced[i] ** 2 / mcSamples;
  }
  return modulus;
}

function squaredReducedBackprop(net: CompiledNetwork, backReduced: Float64Array, S: number): Float64Array {
  const modulus = new Float64Array(backReduced.length);
  for (let i = net.nInputs * S; i < modulus.length; i++) modulus[i] = backReduced[i] * backReduced[i];
  return modulus;
}
