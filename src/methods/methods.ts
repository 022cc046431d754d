import { metricLayout, type Kernels, type MetricLayout } from '../backend/kernels.js';
import { UsageError, problem } from '../errors.js';
import type { Batch } from '../engine/batch.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { Workspace } from '../engine/workspace.js';
import { backwardLevels, forward, meanLoss } from '../engine/propagate.js';
import { computeModulus, type MetricName, type ModulusContext } from '../metrics/moduli.js';
import { outputBackpropagatedModulus } from '../metrics/output-metric.js';
import { buildTransferPlan, type TransferPlan } from '../metrics/transfer-plan.js';
import { Prng } from '../random/prng.js';
import { solveReduction, unitwiseLeastSquares, type LeastSquaresSamples, type MetricEstimate, type ReductionName } from '../reductions/reductions.js';
import { wholeNetworkFisher } from '../reductions/whole-network.js';

/** A training method: a metric combined with a reduction (Section 1, Table 2 of Section 4). */
export interface MethodSpec {
  metric: MetricName;
  reduction: ReductionName;
  /** Invariant under affine reparametrisation of activities (Prop. 30), e.g. sigmoid <-> tanh. */
  invariant: boolean;
  /** Invariant under affine recombination of incoming signals (Prop. 31). */
  recombinationInvariant: boolean;
  /** The paper's name. */
  title: string;
}

const spec = (metric: MetricName, reduction: ReductionName, title: string): MethodSpec => ({
  metric,
  reduction,
  invariant: metric !== 'euclidean' && (reduction === 'full' || reduction === 'quasi-diagonal' || reduction === 'whole-network'),
  recombinationInvariant: metric !== 'euclidean' && (reduction === 'full' || reduction === 'whole-network'),
  title,
});

/** Every method; the names are part of the CLI and the library API. */
export const METHOD_SPECS = {
  backprop: spec('euclidean', 'none', 'Backpropagation'),
  'unitwise-natural': spec('fisher', 'full', 'Unitwise natural gradient'),
  'quasi-diagonal-natural': spec('fisher', 'quasi-diagonal', 'Quasi-diagonal natural gradient'),
  'backpropagated-metric': spec('backpropagated', 'full', 'Backpropagated metric'),
  'quasi-diagonal-backpropagated-metric': spec('backpropagated', 'quasi-diagonal', 'Quasi-diagonal backpropagated metric'),
  'unitwise-op': spec('outer-product', 'full', 'Unitwise OP gradient'),
  'quasi-diagonal-op': spec('outer-product', 'quasi-diagonal', 'Quasi-diagonal OP gradient'),
  'mc-unitwise-natural': spec('mc-fisher', 'full', 'Monte Carlo unitwise natural gradient'),
  'mc-quasi-diagonal-natural': spec('mc-fisher', 'quasi-diagonal', 'Monte Carlo quasi-diagonal natural gradient'),
  'diagonal-gauss-newton': spec('backpropagated', 'diagonal', 'Diagonal Gauss-Newton'),
  adagrad: spec('outer-product', 'diagonal-root', 'AdaGrad (batch)'),
  natural: spec('fisher', 'whole-network', 'Natural gradient'),
} as const satisfies Record<string, MethodSpec>;

export type MethodName = keyof typeof METHOD_SPECS;
export const METHODS = Object.keys(METHOD_SPECS) as MethodName[];

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(METHOD_SPECS, name);
}

/** Options of a direction computation. */
export interface DirectionOptions {
  /** ε added to the metric before solving (default 1e-4, Section 4). */
  epsilon?: number;
  /** Draws per sample for the Monte-Carlo Fisher metric (default 1). */
  mcSamples?: number;
  /** Randomness for the Monte-Carlo Fisher metric (default: seed 1). */
  rng?: Prng;
}

/** Topology-derived structures built once per network and reused across steps. */
export class NetworkCache {
  private plan: TransferPlan | undefined;
  private layout: MetricLayout | undefined;
  constructor(readonly net: CompiledNetwork) {}
  transferPlan(): TransferPlan {
    return (this.plan ??= buildTransferPlan(this.net));
  }
  metricLayout(): MetricLayout {
    return (this.layout ??= metricLayout(this.net));
  }

  private readonly buffers = new Map<string, Float64Array>();

  /**
   * A work array reused across steps (contents unspecified).
   * NOTE: per-unit blocks hold Σ_k n_k² numbers (10^8 bytes at 10^6 edges and fan-in 8);
   * allocating and zeroing them, and a copy for the factorisation, on every step cost more than
   * the arithmetic on large networks, so they live here.
   */
  scratch(name: string, length: number): Float64Array {
    let buffer = this.buffers.get(name);
    if (!buffer || buffer.length !== length) {
      buffer = new Float64Array(length);
      this.buffers.set(name, buffer);
    }
    return buffer;
  }
}

/** What one measurement of a method on a batch gives. */
export interface MethodMeasurement {
  /** Mean loss on the batch, nats per sample. */
  lossNats: number;
  /** G = E_x a_i b̃_k, laid out like params. */
  gradient: Float64Array;
  /**
   * The batch's metric estimate; undefined for the Euclidean metric (or when not requested).
   * Per-unit blocks live in a work array of the NetworkCache, overwritten by the next measurement.
   */
  estimate: MetricEstimate | undefined;
  /** Per-sample reduced modulus ψ̃ [nUnits × size] of per-unit metrics (online estimators build rank-one terms from it). */
  modulus?: Float64Array;
}

/** A measurement and the direction δw (laid out like params); the step is w ← w + η δw. */
export interface MethodEvaluation extends MethodMeasurement {
  direction: Float64Array;
}

/**
 * Runs a method's measurements on a batch, phase by phase: forward (unless `forwardDone`: `ws`
 * already holds the forward pass of `params`); output layer and loss; backward (with the
 * backpropagated modulus on the same pass when the metric is `backpropagated`); the Fisher,
 * Monte-Carlo or OP modulus; the gradient (with the quasi-diagonal entries on the same pass for
 * the quasi-diagonal and diagonal reductions); the per-unit blocks or the whole Fisher matrix.
 */
export function measureMethod(
  method: MethodSpec,
  kernels: Kernels,
  cache: NetworkCache,
  params: Float64Array,
  batch: Batch,
  ws: Workspace,
  options: DirectionOptions & { forwardDone?: boolean; withEstimate?: boolean } = {},
): MethodMeasurement {
  const { net } = cache;
  if (!options.forwardDone) forward(kernels, net, params, batch, ws);
  kernels.outputLayer(net, ws, batch.targets);
  const lossNats = meanLoss(ws);
  const gradient = new Float64Array(net.nParams);
  if (method.metric === 'euclidean' || method.reduction === 'none') {
    backwardLevels(kernels, net, params, ws);
    kernels.gradient(net, ws, gradient);
    return { lossNats, gradient, estimate: undefined };
  }
  if (method.reduction === 'whole-network') {
    if (method.metric !== 'fisher') throw new UsageError([problem('method', `the whole-network reduction is implemented for the Fisher metric only, not '${method.metric}'`)]);
    backwardLevels(kernels, net, params, ws);
    kernels.gradient(net, ws, gradient);
    return { lossNats, gradient, estimate: { kind: 'matrix', matrix: wholeNetworkFisher(modulusContext(kernels, cache, params, batch, ws, options)) } };
  }
  let modulus: Float64Array | undefined;
  if (method.metric === 'backpropagated') {
    modulus = new Float64Array(net.nUnits * ws.size);
    outputBackpropagatedModulus(net, ws, modulus);
  }
  backwardLevels(kernels, net, params, ws, modulus);
  modulus ??= computeModulus(method.metric, modulusContext(kernels, cache, params, batch, ws, options));
  if (method.reduction === 'full' || options.withEstimate === false) {
    kernels.gradient(net, ws, gradient);
    if (options.withEstimate === false) return { lossNats, gradient, estimate: undefined, modulus };
    const layout = cache.metricLayout();
    const blocks = cache.scratch('blocks', layout.matrixOffsets[net.nUnits]);
    kernels.accumulateUnitBlocks(net, layout, ws, modulus, blocks);
    return { lossNats, gradient, estimate: { kind: 'blocks', blocks }, modulus };
  }
  const entries = { modulus, diagonal: new Float64Array(net.nParams), cross: method.reduction === 'quasi-diagonal' ? new Float64Array(net.nParams) : undefined };
  kernels.gradient(net, ws, gradient, entries);
  return { lossNats, gradient, estimate: { kind: 'entries', diagonal: entries.diagonal, cross: entries.cross }, modulus };
}

/**
 * The direction of a method from a measurement (or from a metric estimate averaged across
 * batches). With ε = 0, full blocks and the batch's `samples`, the step is solved as the
 * least-squares fit on the samples (Section 3.3) instead of on the normal equations.
 */
export function methodDirection(method: MethodSpec, kernels: Kernels, cache: NetworkCache, gradient: Float64Array, estimate: MetricEstimate | undefined, epsilon = 1e-4, samples?: LeastSquaresSamples): Float64Array {
  if (!estimate || method.reduction === 'none') return gradient.slice();
  if (method.reduction === 'full' && epsilon === 0 && samples) return unitwiseLeastSquares(cache.net, samples);
  const work = estimate.kind === 'blocks' ? cache.scratch('factors', estimate.blocks.length) : undefined;
  return solveReduction(method.reduction, kernels, cache.net, cache.metricLayout(), estimate, gradient, epsilon, work);
}

/** {@link measureMethod} then {@link methodDirection}: one batch evaluation of a method. */
export function evaluateMethod(
  method: MethodSpec,
  kernels: Kernels,
  cache: NetworkCache,
  params: Float64Array,
  batch: Batch,
  ws: Workspace,
  options: DirectionOptions & { forwardDone?: boolean } = {},
): MethodEvaluation {
  const measurement = measureMethod(method, kernels, cache, params, batch, ws, options);
  const samples = measurement.modulus ? { ws, modulus: measurement.modulus } : undefined;
  return { ...measurement, direction: methodDirection(method, kernels, cache, measurement.gradient, measurement.estimate, options.epsilon ?? 1e-4, samples) };
}

function modulusContext(kernels: Kernels, cache: NetworkCache, params: Float64Array, batch: Batch, ws: Workspace, options: DirectionOptions): ModulusContext {
  return { kernels, net: cache.net, params, batch, ws, plan: cache.transferPlan(), rng: options.rng ?? new Prng(1), mcSamples: options.mcSamples ?? 1 };
}
