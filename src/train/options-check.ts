import type { BaselineChoices } from '../curvature/baselines.js';
import { UsageError, problem, type Problem } from '../errors.js';
import { isMethodName, METHOD_SPECS, type KroneckerChoices } from '../methods/methods.js';
import type { TrainOptions } from './settings.js';

/**
 * The mode-specific training options, by their command-line names, and the modes they apply to.
 * Giving one in another mode is a usage error, so that an option is never silently ignored.
 */
export const MODE_OPTIONS = {
  batchSize: { flag: '--batch-size', modes: ['minibatch'] },
  metricDecay: { flag: '--metric-decay', modes: ['batch', 'minibatch'] },
  onlineDecay: { flag: '--online-decay', modes: ['online'] },
  nInit: { flag: '--n-init', modes: ['online'] },
  refreshEvery: { flag: '--refresh-every', modes: ['online'] },
} as const satisfies Partial<Record<keyof TrainOptions, { flag: string; modes: readonly string[] }>>;

/** A count: a positive integer (or, with `zero`, ≥ 0). Undefined when `value` is undefined or fine. */
export function countProblem(flag: string, value: number | undefined, what: string, options: { zero?: boolean } = {}): Problem | undefined {
  if (value === undefined) return undefined;
  const min = options.zero ? 0 : 1;
  if (Number.isInteger(value) && value >= min) return undefined;
  return problem(flag.replace(/^--/, ''), `${flag} ${value}: give ${options.zero ? 'an integer ≥ 0' : 'a positive integer'} (${what})`);
}

/** A positive finite number (or, with `zero`, ≥ 0). Undefined when `value` is undefined or fine. */
export function amountProblem(flag: string, value: number | undefined, what: string, options: { zero?: boolean } = {}): Problem | undefined {
  if (value === undefined) return undefined;
  if (Number.isFinite(value) && (value > 0 || (options.zero === true && value === 0))) return undefined;
  return problem(flag.replace(/^--/, ''), `${flag} ${value}: give ${options.zero ? 'a finite number ≥ 0' : 'a positive finite number'} (${what})`);
}

/** A fraction γ in (0, 1] (or (0, 1) with `open`). */
function fractionProblem(flag: string, value: number | undefined, what: string, open = false): Problem | undefined {
  if (value === undefined || (value > 0 && (open ? value < 1 : value <= 1))) return undefined;
  return problem(flag.replace(/^--/, ''), `${flag} ${value}: give γ in (0, 1${open ? ')' : ']'} (${what})`);
}

/** A decay rate in [0, 1) (Adam's β, the momentum μ). */
function decayRateProblem(flag: string, value: number | undefined, what: string): Problem | undefined {
  if (value === undefined || (value >= 0 && value < 1)) return undefined;
  return problem(flag.replace(/^--/, ''), `${flag} ${value}: give a number in [0, 1) (${what})`);
}

/** The method each baseline choice belongs to. */
const BASELINE_OWNERS = { adamBeta1: 'adam', adamBeta2: 'adam', adamEpsilon: 'adam', momentum: 'momentum', nesterov: 'momentum' } as const;

/**
 * The baselines' options (`--adam-*`, `--momentum`, `--nesterov`) given with a method they do
 * not concern; `method` may list several (the commands that compare methods): an option is
 * then misplaced when its method is not among them.
 */
export function baselineChoiceProblems(options: BaselineChoices & { method?: string | readonly string[] }): Problem[] {
  const listed: readonly string[] = options.method === undefined ? [] : typeof options.method === 'string' ? [options.method] : options.method;
  const misplaced = (Object.keys(BASELINE_OWNERS) as Array<keyof typeof BASELINE_OWNERS>).filter((k) => options[k] !== undefined && !listed.includes(BASELINE_OWNERS[k]));
  const several = typeof options.method === 'object';
  return misplaced.map((k) => problem('baseline-option', `${BASELINE_FLAGS[k]} applies to the ${BASELINE_OWNERS[k]} method only, not ${listed.join(', ') || 'no method'}; drop it or ${several ? `add ${BASELINE_OWNERS[k]} to the methods` : `give --method ${BASELINE_OWNERS[k]}`}`));
}

/** The baseline choices that concern `method` (the others left out), e.g. for one of several methods compared. */
export function baselineChoicesFor(method: string, choices: BaselineChoices): BaselineChoices {
  return Object.fromEntries((Object.keys(BASELINE_OWNERS) as Array<keyof typeof BASELINE_OWNERS>).filter((k) => choices[k] !== undefined && BASELINE_OWNERS[k] === method).map((k) => [k, choices[k]]));
}

/**
 * Every problem of the baselines' options on a command that takes a method: values out of range
 * (β1, β2 and μ in [0, 1), Adam's ε > 0) and options given with a method they do not concern.
 */
export function baselineProblems(options: BaselineChoices & { method?: string | readonly string[] }): Problem[] {
  const ranges = [
    decayRateProblem('--adam-beta1', options.adamBeta1, "Adam's first-moment decay β1"),
    decayRateProblem('--adam-beta2', options.adamBeta2, "Adam's second-moment decay β2"),
    amountProblem('--adam-epsilon', options.adamEpsilon, "Adam's ε added to √v̂"),
    decayRateProblem('--momentum', options.momentum, 'the momentum coefficient μ'),
  ].filter((p): p is Problem => p !== undefined);
  return [...ranges, ...baselineChoiceProblems(options)];
}

/** The command-line flag of each baseline choice. */
export const BASELINE_FLAGS = { adamBeta1: '--adam-beta1', adamBeta2: '--adam-beta2', adamEpsilon: '--adam-epsilon', momentum: '--momentum', nesterov: '--nesterov' } as const;

/** `--lr-step-every`/`--lr-step-factor` without the step schedule, `--lr-horizon` without cosine. */
function scheduleChoiceProblems(options: TrainOptions): Problem[] {
  const problems: Problem[] = [];
  const schedule = options.lrSchedule ?? 'the default schedule';
  for (const [key, flag] of [['lrStepEvery', '--lr-step-every'], ['lrStepFactor', '--lr-step-factor']] as const) {
    if (options[key] !== undefined && options.lrSchedule !== 'step') problems.push(problem('lr-schedule', `${flag} applies to --lr-schedule step only, not ${schedule}; drop it or give --lr-schedule step`));
  }
  if (options.lrHorizon !== undefined && options.lrSchedule !== 'cosine') problems.push(problem('lr-schedule', `--lr-horizon applies to --lr-schedule cosine only, not ${schedule}; drop it or give --lr-schedule cosine`));
  return problems;
}

/** Throws one {@link UsageError} listing every problem found, if any. */
export function refuse(problems: Array<Problem | undefined>): void {
  const found = problems.filter((p): p is Problem => p !== undefined);
  if (found.length > 0) throw new UsageError(found);
}

/**
 * Every problem of training options that needs neither the network nor the data: rates and
 * counts out of range, options of another mode than the chosen one (named with the mode), and
 * the adaptive rate outside batch mode (it judges a step by the loss of its own batch before
 * and after; on mini-batches or single samples that comparison says nothing about the data,
 * the rate keeps growing and training diverges). Bounds that depend on the data (batch size,
 * n_init) are checked by `resolveSettings`.
 */
export function trainOptionProblems(options: TrainOptions): Problem[] {
  const mode = options.mode ?? 'batch';
  const problems: Array<Problem | undefined> = [
    amountProblem('--lr', options.lr, 'the learning rate η'),
    amountProblem('--epsilon', options.epsilon, 'the regularisation ε', { zero: true }),
    countProblem('--mc-samples', options.mcSamples, 'Monte-Carlo draws per sample'),
    countProblem('--batch-size', options.batchSize, 'samples per mini-batch'),
    fractionProblem('--metric-decay', options.metricDecay, 'weight of each batch in the accumulated metric'),
    countProblem('--inverse-every', options.inverseEvery, 'updates between recomputations of the Kronecker inverses'),
    fractionProblem('--online-decay', options.onlineDecay, 'the discount of Eq. 37', true),
    countProblem('--n-init', options.nInit, 'samples for A⁽⁰⁾'),
    countProblem('--refresh-every', options.refreshEvery, 'updates between re-inversions; 0: never', { zero: true }),
    amountProblem('--clip-norm', options.clipNorm, 'the largest norm of the gradient G'),
    countProblem('--lr-step-every', options.lrStepEvery, 'steps between rate decays'),
    fractionProblem('--lr-step-factor', options.lrStepFactor, 'the factor of each rate decay'),
    countProblem('--lr-horizon', options.lrHorizon, 'steps of the cosine schedule'),
  ];
  for (const [key, { flag, modes }] of Object.entries(MODE_OPTIONS)) {
    if (options[key as keyof typeof MODE_OPTIONS] !== undefined && !(modes as readonly string[]).includes(mode)) {
      problems.push(problem('mode', `${flag} applies to ${modes.join(' and ')} mode only, not ${mode} mode; drop it, or give --mode ${modes[0]}`));
    }
  }
  problems.push(...kroneckerChoiceProblems(options.method, options), ...baselineProblems(options), ...scheduleChoiceProblems(options));
  if (mode === 'online' && isMethodName(options.method) && METHOD_SPECS[options.method].reduction === 'kronecker') {
    problems.push(problem('mode', `'${options.method}' keeps Kronecker factors A_g ⊗ G_g, whose inverse has no rank-one (Sherman-Morrison) update: a sample changes both factors, and (A + uuᵀ) ⊗ (G + vvᵀ) is not A ⊗ G plus a rank-one term; use --mode minibatch (factor averages, periodic inverses) or batch`));
  }
  if (options.lrSchedule === 'adaptive' && mode === 'online') {
    problems.push(problem('lr-schedule', 'the adaptive rate compares the loss before and after a batch step (Section 4) and has no meaning online; use --lr-schedule fixed'));
  }
  if (options.lrSchedule === 'adaptive' && mode === 'minibatch') {
    problems.push(problem('lr-schedule', '--lr-schedule adaptive judges each step on its own mini-batch, so the rate keeps growing and training diverges in minibatch mode; use --lr-schedule fixed (the minibatch default), or --mode batch'));
  }
  return problems.filter((p): p is Problem => p !== undefined);
}

/** The Kronecker options (`--groups`, `--kronecker-*`, `--inverse-every`) given with a method they do not concern. */
export function kroneckerChoiceProblems(method: string | undefined, choices: KroneckerChoices): Problem[] {
  const given = (Object.keys(KRONECKER_FLAGS) as Array<keyof KroneckerChoices>).filter((k) => choices[k] !== undefined);
  if (given.length === 0 || (method !== undefined && isMethodName(method) && METHOD_SPECS[method].reduction === 'kronecker')) return [];
  return [problem('kronecker-option', `${given.map((k) => KRONECKER_FLAGS[k]).join(', ')} appl${given.length > 1 ? 'y' : 'ies'} to the Kronecker-factored methods (kflr, kfac, kfra) only, not ${method ?? 'no method'}; drop ${given.length > 1 ? 'them' : 'it'} or choose one of those methods`)];
}

/** The command-line flag of each Kronecker choice. */
export const KRONECKER_FLAGS: Record<keyof KroneckerChoices, string> = { groups: '--groups', kroneckerDamping: '--kronecker-damping', kroneckerSolve: '--kronecker-solve', inverseEvery: '--inverse-every' };

/** Throws a {@link UsageError} listing every problem of {@link trainOptionProblems}. */
export function checkTrainOptions(options: TrainOptions): void {
  refuse(trainOptionProblems(options));
}

/** A training budget as given on the command line. */
export interface BudgetOptions {
  iterations?: number;
  seconds?: number;
  /** `--backprop-equivalent N`: the time N backprop iterations take. */
  backpropEquivalent?: number;
}

/** Refuses budgets that would train nothing or cannot be met: zero, negative, fractional or non-finite. */
export function checkTrainBudget(budget: BudgetOptions): void {
  refuse([
    countProblem('--iterations', budget.iterations, 'iterations to run'),
    amountProblem('--time', budget.seconds, 'wall-clock seconds'),
    countProblem('--backprop-equivalent', budget.backpropEquivalent, 'backprop iterations whose time is the budget'),
  ]);
}
