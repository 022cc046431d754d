import { adamCurvature, momentumCurvature, type BaselineChoices } from '../curvature/baselines.js';
import type { Curvature } from '../curvature/curvature.js';
import { identityCurvature } from '../curvature/identity.js';
import type { KroneckerDamping } from '../curvature/kronecker/factor-inverse.js';
import type { FactorKind } from '../curvature/kronecker/factors.js';
import type { KroneckerSolve } from '../curvature/kronecker/group-solve.js';
import type { Grouping } from '../curvature/kronecker/groups.js';
import { kroneckerCurvature } from '../curvature/kronecker/kronecker-curvature.js';
import { onlineBlockCurvature } from '../curvature/online-blocks.js';
import { diagonalCurvature, diagonalRootCurvature, quasiDiagonalCurvature } from '../curvature/quasi-diagonal.js';
import { unitBlockCurvature } from '../curvature/unit-blocks.js';
import { wholeNetworkCurvature } from '../curvature/whole-network.js';
import { UsageError, problem } from '../errors.js';
import { SOURCES, type MetricSource, type SourceName } from './sources.js';

/**
 * How a metric becomes a step (Section 1 and 2.3): the curvature structure a method keeps.
 * - none: the gradient itself (Euclidean metric, backprop);
 * - full: the per-unit block A^(k) over the incoming parameters, solved (Eq. 20, 30);
 * - quasi-diagonal: only A_00, A_0i, A_ii (Eq. 22-23, 32-33);
 * - diagonal: only A_00, A_ii (diagonal Gauss-Newton: QD with A_0i = 0);
 * - diagonal-root: G / √(A_ii + ε), Section 4's batch AdaGrad with the OP metric;
 * - whole-network: the full matrix over all parameters (Prop. 27), one solve;
 * - kronecker: per group of units, A_g ⊗ G_g restricted to the parameters that exist (seeds
 *   001/004 K-FAC, 002 KFLR and KFRA), the factor G_g measured as the method's `factor` says;
 * - adam, momentum: first-order baselines on the Euclidean gradient with per-parameter moments
 *   (Adam's m and v, the heavy-ball velocity), not invariant.
 */
export const REDUCTIONS = ['none', 'full', 'quasi-diagonal', 'diagonal', 'diagonal-root', 'whole-network', 'kronecker', 'adam', 'momentum'] as const;
export type ReductionName = (typeof REDUCTIONS)[number];
export type MetricName = SourceName;

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
  /** Kronecker methods: how G_g is measured (exact KFLR, Monte-Carlo K-FAC, recursive KFRA). */
  factor?: FactorKind;
}

const spec = (metric: MetricName, reduction: ReductionName, title: string, factor?: FactorKind): MethodSpec => ({
  metric,
  reduction,
  // Kronecker methods: ā maps affinely and pre-activations scale per unit under Def. 29, so the
  // exact restricted solve is invariant; under Prop. 31 only complete groups are (see invariance).
  invariant: metric !== 'euclidean' && (reduction === 'full' || reduction === 'quasi-diagonal' || reduction === 'whole-network' || reduction === 'kronecker'),
  recombinationInvariant: metric !== 'euclidean' && (reduction === 'full' || reduction === 'whole-network'),
  title,
  ...(factor ? { factor } : {}),
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
  kflr: spec('fisher', 'kronecker', 'KFLR (exact Kronecker-factored Gauss-Newton)', 'exact'),
  kfac: spec('mc-fisher', 'kronecker', 'K-FAC (Monte-Carlo Kronecker-factored Fisher)', 'monte-carlo'),
  kfra: spec('fisher', 'kronecker', 'KFRA (recursive Kronecker-factored Gauss-Newton)', 'recursive'),
  adam: spec('euclidean', 'adam', 'Adam (Kingma & Ba)'),
  momentum: spec('euclidean', 'momentum', 'SGD with momentum (heavy ball or Nesterov)'),
} as const satisfies Record<string, MethodSpec>;

export type MethodName = keyof typeof METHOD_SPECS;
export const METHODS = Object.keys(METHOD_SPECS) as MethodName[];

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(METHOD_SPECS, name);
}

/** How a method keeps its curvature across batches: each batch's own, or online (Section 1.3). */
export interface CurvatureOptions extends KroneckerChoices, BaselineChoices {
  /** Online Sherman-Morrison blocks for the full reduction (Eq. 36-38). */
  online?: boolean;
  /** ε added once to the online blocks' A⁽⁰⁾. */
  epsilon?: number;
  /** Online: re-invert every block every this many updates (0: never). */
  refreshEvery?: number;
}

/** The choices of the Kronecker methods (see `KroneckerOptions`): groups, damping, solve and inverse period. */
export interface KroneckerChoices {
  groups?: Grouping;
  kroneckerDamping?: KroneckerDamping;
  kroneckerSolve?: KroneckerSolve;
  inverseEvery?: number;
}

/** The curvature object of each reduction (the full reduction online: Sherman-Morrison blocks). */
const CURVATURES: Record<ReductionName, (o: CurvatureOptions, spec: MethodSpec) => Curvature> = {
  none: () => identityCurvature,
  full: (o) => (o.online ? (onlineBlockCurvature({ epsilon: o.epsilon ?? 1e-4, refreshEvery: o.refreshEvery ?? 1000 }) as Curvature) : (unitBlockCurvature as Curvature)),
  'quasi-diagonal': () => quasiDiagonalCurvature as Curvature,
  diagonal: () => diagonalCurvature as Curvature,
  'diagonal-root': () => diagonalRootCurvature as Curvature,
  'whole-network': () => wholeNetworkCurvature as Curvature,
  adam: (o) => adamCurvature(o) as unknown as Curvature,
  momentum: (o) => momentumCurvature(o) as unknown as Curvature,
  kronecker: (o, spec) => kroneckerCurvature({ factor: spec.factor ?? 'exact', groups: o.groups, damping: o.kroneckerDamping, solve: o.kroneckerSolve, inverseEvery: o.inverseEvery }) as unknown as Curvature,
};

/** The Kronecker choices of a larger options object (what `createMethod` needs of it). */
export function kroneckerChoices(o: KroneckerChoices): KroneckerChoices {
  return { groups: o.groups, kroneckerDamping: o.kroneckerDamping, kroneckerSolve: o.kroneckerSolve, inverseEvery: o.inverseEvery };
}

/** The baseline choices of a larger options object (what `createMethod` needs of it). */
export function baselineChoices(o: BaselineChoices): BaselineChoices {
  return { adamBeta1: o.adamBeta1, adamBeta2: o.adamBeta2, adamEpsilon: o.adamEpsilon, momentum: o.momentum, nesterov: o.nesterov };
}

/** A method as a composition: a per-sample source × a curvature (the estimator is chosen by the trainer). */
export interface Method {
  readonly name: MethodName;
  readonly spec: MethodSpec;
  readonly source: MetricSource;
  readonly curvature: Curvature;
  /** Whether the source computes its per-unit modulus (not for the Euclidean metric, nor for the whole-network Fisher, which measures its own). */
  readonly needsModulus: boolean;
}

/** Composes a method by name; an unknown name is a UsageError listing the methods. */
export function createMethod(name: string, options: CurvatureOptions = {}): Method {
  if (!isMethodName(name)) throw new UsageError([problem('unknown-method', `unknown method '${name}'; available: ${METHODS.join(', ')}`)]);
  const spec: MethodSpec = METHOD_SPECS[name];
  const source = SOURCES[spec.metric];
  const curvature = CURVATURES[spec.reduction](options, spec);
  return { name, spec, source, curvature, needsModulus: source.hasModulus && curvature.usesModulus };
}
