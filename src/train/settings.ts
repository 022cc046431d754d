import { UsageError, problem, warning, type Problem } from '../errors.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import { KRONECKER_DAMPINGS, type KroneckerDamping } from '../curvature/kronecker/factor-inverse.js';
import { KRONECKER_SOLVES, type KroneckerSolve } from '../curvature/kronecker/group-solve.js';
import { GROUPINGS, type Grouping } from '../curvature/kronecker/groups.js';
import { isMethodName, METHOD_SPECS, METHODS, type MethodName } from '../methods/methods.js';
import { checkTrainOptions } from './options-check.js';

export const MODES = ['batch', 'minibatch', 'online'] as const;
export type TrainMode = (typeof MODES)[number];
export const LR_SCHEDULES = ['adaptive', 'fixed', 'step', 'cosine'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** What the user may set for training (every field has a default but `method`). */
export interface TrainOptions {
  method: MethodName;
  mode?: TrainMode;
  /** Initial learning rate (Section 4: 0.01). */
  lr?: number;
  /**
   * adaptive (Section 4: cancel a worsening step and halve, else ×1.1), fixed, step (×f every N
   * steps) or cosine (½(1 + cos πt/T) over the horizon T). Default: adaptive in batch mode, fixed
   * otherwise. A numerical fault halves the base rate under every schedule.
   */
  lrSchedule?: LrSchedule;
  /** Step decay: steps between multiplications by `lrStepFactor` (default 1000). */
  lrStepEvery?: number;
  /** Step decay: the factor f in (0, 1] (default 0.1). */
  lrStepFactor?: number;
  /** Cosine: the horizon T in steps (default: the iteration budget; required with a time budget). */
  lrHorizon?: number;
  /** Scales the gradient G so that ‖G‖ ≤ c before the curvature's solve (default: no clipping). */
  clipNorm?: number;
  /** adam: β1 (default 0.9). */
  adamBeta1?: number;
  /** adam: β2 (default 0.999). */
  adamBeta2?: number;
  /** adam: ε added to √v̂ (default 1e-8). */
  adamEpsilon?: number;
  /** momentum: μ (default 0.9). */
  momentum?: number;
  /** momentum: Nesterov's variant (default false). */
  nesterov?: boolean;
  epsilon?: number;
  mcSamples?: number;
  seed?: number;
  /** Mini-batch size (default min(16, samples)). */
  batchSize?: number;
  /**
   * Batch and mini-batch: the metric accumulated across iterations, A ← (1-γ)A + γA_batch
   * (Section 2.5: each new term added "to the current estimate"); default: each batch's own,
   * except the Kronecker methods in mini-batch mode, γ = 0.05 (the anchors' decay 0.95 on the
   * old estimate).
   */
  metricDecay?: number;
  /** Online discount γ of Eq. 37 (default 0.1 / largest n_k). */
  onlineDecay?: number;
  /** Online initialisation sample count n_init of Eq. 36 (default 2 × largest n_k, at most the data size). */
  nInit?: number;
  /** Online: recompute each inverse from its matrix every this many updates (0: never; default 1000). */
  refreshEvery?: number;
  /** Kronecker methods: groups of units (default levels). */
  groups?: Grouping;
  /** Kronecker methods: damping by ε, factored (default) or exact. */
  kroneckerDamping?: KroneckerDamping;
  /** Kronecker methods: restricted (default: exact on the parameters that exist) or masked. */
  kroneckerSolve?: KroneckerSolve;
  /** Kronecker methods: recompute the inverses every T updates (default 1 in batch mode, 20 in mini-batch). */
  inverseEvery?: number;
  backend?: string;
}

/** Default γ of the Kronecker methods' factor averages in mini-batch mode (the anchors' 0.95 on the old estimate). */
export const KRONECKER_METRIC_DECAY = 0.05;

/** Options with every default filled in; stored in the training state and checked on resume. */
export type TrainSettings = Required<Omit<TrainOptions, 'metricDecay' | 'lrHorizon' | 'clipNorm'>> & { metricDecay: number | null; lrHorizon: number | null; clipNorm: number | null };

/**
 * The options with the cosine schedule's horizon taken from an iteration budget when not given
 * (a time budget gives none: `resolveSettings` then refuses cosine without `lrHorizon`).
 */
export function withScheduleHorizon(options: TrainOptions, iterations: number | undefined): TrainOptions {
  return options.lrSchedule === 'cosine' && options.lrHorizon === undefined && iterations !== undefined ? { ...options, lrHorizon: iterations } : options;
}

/** Fills defaults and checks options against the network and data size; returns warnings for doubtful online settings. */
export function resolveSettings(options: TrainOptions, net: CompiledNetwork, samples: number): { settings: TrainSettings; warnings: Problem[] } {
  const fail = (code: string, message: string): never => {
    throw new UsageError([problem(code, message)]);
  };
  if (!isMethodName(options.method)) fail('unknown-method', `unknown method '${options.method}'; available: ${METHODS.join(', ')}`);
  checkTrainOptions(options);
  const mode = options.mode ?? 'batch';
  if (!(MODES as readonly string[]).includes(mode)) fail('mode', `--mode ${mode}: use one of ${MODES.join(', ')}`);
  const kronecker = METHOD_SPECS[options.method].reduction === 'kronecker';
  let nMax = 1;
  for (let k = net.nInputs; k < net.nUnits; k++) nMax = Math.max(nMax, net.blockOffsets[k + 1] - net.blockOffsets[k]);
  const settings: TrainSettings = {
    method: options.method,
    mode,
    lr: options.lr ?? 0.01,
    lrSchedule: options.lrSchedule ?? (mode === 'batch' ? 'adaptive' : 'fixed'),
    lrStepEvery: options.lrStepEvery ?? 1000,
    lrStepFactor: options.lrStepFactor ?? 0.1,
    lrHorizon: options.lrHorizon ?? null,
    clipNorm: options.clipNorm ?? null,
    adamBeta1: options.adamBeta1 ?? 0.9,
    adamBeta2: options.adamBeta2 ?? 0.999,
    adamEpsilon: options.adamEpsilon ?? 1e-8,
    momentum: options.momentum ?? 0.9,
    nesterov: options.nesterov ?? false,
    epsilon: options.epsilon ?? 1e-4,
    mcSamples: options.mcSamples ?? 1,
    seed: options.seed ?? 1,
    batchSize: options.batchSize ?? Math.min(16, samples),
    metricDecay: options.metricDecay ?? (kronecker && mode === 'minibatch' ? KRONECKER_METRIC_DECAY : null),
    onlineDecay: options.onlineDecay ?? 0.1 / nMax,
    nInit: options.nInit ?? Math.min(samples, 2 * nMax),
    refreshEvery: options.refreshEvery ?? 1000,
    groups: options.groups ?? 'levels',
    kroneckerDamping: options.kroneckerDamping ?? 'factored',
    kroneckerSolve: options.kroneckerSolve ?? 'restricted',
    inverseEvery: options.inverseEvery ?? (mode === 'minibatch' ? 20 : 1),
    backend: options.backend ?? 'cpu',
  };
  const positive = (name: string, v: number) => (Number.isFinite(v) && v > 0) || fail(name, `--${name} ${v}: give a positive number`);
  positive('lr', settings.lr);
  if (!(settings.epsilon >= 0)) fail('epsilon', `--epsilon ${settings.epsilon}: give a number ≥ 0`);
  if (!Number.isInteger(settings.mcSamples) || settings.mcSamples < 1) fail('mc-samples', `--mc-samples ${settings.mcSamples}: give a positive integer`);
  if (!(LR_SCHEDULES as readonly string[]).includes(settings.lrSchedule)) fail('lr-schedule', `--lr-schedule ${settings.lrSchedule}: use one of ${LR_SCHEDULES.join(', ')}`);
  if (!Number.isInteger(settings.batchSize) || settings.batchSize < 1 || settings.batchSize > samples) fail('batch-size', `--batch-size ${settings.batchSize}: give an integer between 1 and the ${samples} samples`);
  if (settings.metricDecay !== null && !(settings.metricDecay > 0 && settings.metricDecay <= 1)) fail('metric-decay', `--metric-decay ${settings.metricDecay}: give γ in (0, 1]`);
  if (!(settings.onlineDecay > 0 && settings.onlineDecay < 1)) fail('online-decay', `--online-decay ${settings.onlineDecay}: give γ in (0, 1)`);
  if (!Number.isInteger(settings.nInit) || settings.nInit < 1 || settings.nInit > samples) fail('n-init', `--n-init ${settings.nInit}: give an integer between 1 and the ${samples} samples`);
  if (!Number.isInteger(settings.refreshEvery) || settings.refreshEvery < 0) fail('refresh-every', `--refresh-every ${settings.refreshEvery}: give an integer ≥ 0`);
  if (!(GROUPINGS as readonly string[]).includes(settings.groups)) fail('groups', `--groups ${settings.groups}: use one of ${GROUPINGS.join(', ')}`);
  if (!(KRONECKER_DAMPINGS as readonly string[]).includes(settings.kroneckerDamping)) fail('kronecker-damping', `--kronecker-damping ${settings.kroneckerDamping}: use one of ${KRONECKER_DAMPINGS.join(', ')}`);
  if (!(KRONECKER_SOLVES as readonly string[]).includes(settings.kroneckerSolve)) fail('kronecker-solve', `--kronecker-solve ${settings.kroneckerSolve}: use one of ${KRONECKER_SOLVES.join(', ')}`);
  if (!Number.isInteger(settings.inverseEvery) || settings.inverseEvery < 1) fail('inverse-every', `--inverse-every ${settings.inverseEvery}: give a positive integer`);
  if (settings.lrSchedule === 'cosine' && settings.lrHorizon === null) fail('lr-horizon', '--lr-schedule cosine needs its horizon: give --iterations, or --lr-horizon N with a time budget');
  const warnings: Problem[] = [];
  if (mode === 'online') {
    if (settings.lrSchedule === 'adaptive') fail('lr-schedule', 'the adaptive rate compares the loss before and after a batch step (Section 4) and has no meaning online; use --lr-schedule fixed');
    if (METHOD_SPECS[settings.method].reduction === 'whole-network') fail('mode', `'natural' keeps the whole-network Fisher matrix, which has no O(d²) online update; use unitwise-natural online, or batch mode`);
    const hasMetric = METHOD_SPECS[settings.method].reduction !== 'none'; // backprop keeps no metric: γ and n_init do nothing
    if (hasMetric && settings.onlineDecay * nMax > 0.5) {
      warnings.push(warning('online-decay', `--online-decay ${settings.onlineDecay} is not well below 1/n_k = ${(1 / nMax).toPrecision(3)} (the largest unit has ${nMax} parameters): the online metric stays close to low rank (Section 1.3)`));
    }
    if (hasMetric && settings.nInit <= nMax) {
      warnings.push(warning('n-init', `--n-init ${settings.nInit} is not above the ${nMax} parameters of the largest unit: A⁽⁰⁾ is singular but for ε (Section 1.3)`));
    }
  }
  return { settings, warnings };
}
