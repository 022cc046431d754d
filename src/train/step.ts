import { openEngine } from '../backend/registry.js';
import { NumericalError, UsageError, problem } from '../errors.js';
import { makeBatch } from '../engine/batch.js';
import type { Model } from '../engine/model.js';
import { BITS_PER_NAT, evaluateLoss } from '../engine/propagate.js';
import type { BaselineChoices } from '../curvature/baselines.js';
import { baselineChoices, createMethod, isMethodName, kroneckerChoices, METHODS, type KroneckerChoices, type MethodName } from '../methods/methods.js';
import { baselineProblems, kroneckerChoiceProblems } from './options-check.js';
import { evaluateMethodOnce } from '../methods/runner.js';
import type { DataDocument } from '../network/types.js';
import { Prng } from '../random/prng.js';

export interface StepOptions extends KroneckerChoices, BaselineChoices {
  method: MethodName;
  /** Learning rate η. */
  lr: number;
  /** Regularisation ε (default 1e-4). */
  epsilon?: number;
  /** Monte-Carlo draws per sample (default 1). */
  mcSamples?: number;
  /** Seed of the Monte-Carlo draws (default 1). */
  seed?: number;
  backend?: string;
}

export interface StepResult {
  /** Mean loss before and after the step, bits per sample. */
  lossBefore: number;
  lossAfter: number;
  /** The direction δw, laid out like params. */
  direction: Float64Array;
}

/** Checks step options, throwing {@link UsageError} with what to change. */
export function checkStepOptions(options: StepOptions): void {
  if (!isMethodName(options.method)) throw new UsageError([problem('unknown-method', `unknown method '${options.method}'; available: ${METHODS.join(', ')}`)]);
  if (!Number.isFinite(options.lr)) throw new UsageError([problem('lr', `learning rate ${options.lr} is not a finite number`)]);
  if (options.epsilon !== undefined && !(options.epsilon >= 0)) throw new UsageError([problem('epsilon', `--epsilon ${options.epsilon}: give a number ≥ 0`)]);
  if (options.mcSamples !== undefined && !(Number.isInteger(options.mcSamples) && options.mcSamples >= 1)) {
    throw new UsageError([problem('mc-samples', `--mc-samples ${options.mcSamples}: give a positive integer`)]);
  }
  const choices = [...kroneckerChoiceProblems(options.method, options), ...baselineProblems(options)];
  if (choices.length > 0) throw new UsageError(choices);
}

/**
 * One batch step on the whole data set: w ← w + η δw with δw the method's direction
 * (backprop: G, Eq. 12; metric methods: A⁻¹G, Eq. 20-34; natural: F⁻¹G, Prop. 27).
 * Updates `model.params` in place; refuses (NumericalError) to write a non-finite parameter.
 */
export function stepModel(model: Model, data: DataDocument, options: StepOptions): StepResult {
  checkStepOptions(options);
  const { net } = model;
  const batch = makeBatch(net, data);
  const engine = openEngine(options.backend ?? 'cpu', net, batch.size);
  try {
    const method = createMethod(options.method, { ...kroneckerChoices(options), ...baselineChoices(options) });
    const { lossNats: before, direction } = evaluateMethodOnce(engine, method, model.params, batch, { epsilon: options.epsilon ?? 1e-4, mcSamples: options.mcSamples ?? 1, rng: new Prng(options.seed ?? 1) });
    const next = model.params.slice();
    for (let p = 0; p < next.length; p++) next[p] += options.lr * direction[p];
    if (!next.every(Number.isFinite)) {
      throw new NumericalError([problem('non-finite-step', `the ${options.method} step gives non-finite parameters (loss before: ${before * BITS_PER_NAT} bits); lower the learning rate or raise --epsilon`)]);
    }
    const after = evaluateLoss(engine, next, batch);
    model.params = next;
    return { lossBefore: before * BITS_PER_NAT, lossAfter: after * BITS_PER_NAT, direction };
  } finally {
    engine.dispose();
  }
}

export { METHODS, type MethodName };
