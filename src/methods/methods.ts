import { metricLayout, type Kernels, type MetricLayout } from '../backend/kernels.js';
import { UsageError, problem } from '../errors.js';
import type { Batch } from '../engine/batch.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { Workspace } from '../engine/workspace.js';
import { computeModulus, type MetricName } from '../metrics/moduli.js';
import { buildTransferPlan, type TransferPlan } from '../metrics/transfer-plan.js';
import { Prng } from '../random/prng.js';
import { reduceUnitwise, type ReductionName } from '../reductions/reductions.js';
import { wholeNetworkDirection } from '../reductions/whole-network.js';

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
}

/**
 * The direction δw of a method (laid out like params) on a batch whose forward and backward
 * passes are in `ws` and whose gradient G is `gradient`. The step is then w ← w + η δw.
 */
export function methodDirection(
  method: MethodSpec,
  kernels: Kernels,
  cache: NetworkCache,
  params: Float64Array,
  batch: Batch,
  ws: Workspace,
  gradient: Float64Array,
  options: DirectionOptions = {},
): Float64Array {
  const epsilon = options.epsilon ?? 1e-4;
  const { net } = cache;
  if (method.reduction === 'none' || method.metric === 'euclidean') return gradient.slice();
  const ctx = { kernels, net, params, batch, ws, plan: cache.transferPlan(), rng: options.rng ?? new Prng(1), mcSamples: options.mcSamples ?? 1 };
  if (method.reduction === 'whole-network') {
    if (method.metric !== 'fisher') throw new UsageError([problem('method', `the whole-network reduction is implemented for the Fisher metric only, not '${method.metric}'`)]);
    return wholeNetworkDirection(ctx, gradient, epsilon);
  }
  const modulus = computeModulus(method.metric, ctx);
  return reduceUnitwise(method.reduction, { kernels, net, layout: cache.metricLayout(), ws, modulus, gradient, epsilon });
}
