import { evaluateModel } from '../evaluate/evaluate.js';
import type { Model } from '../engine/model.js';
import { UsageError, problem } from '../errors.js';
import type { DataDocument } from '../network/types.js';
import type { EvaluationPoint, TrainCallbacks } from './trainer.js';

/** A network's mean loss and accuracy on a data set, as the log and `summary.json` record them. */
export interface LossAccuracy {
  /** Mean loss, bits per sample (as the iteration records' `loss`). */
  loss: number;
  /**
   * Softmax and spherical: fraction of samples whose most probable class is the target's.
   * Bernoulli: mean over samples and outputs of the agreement of P(Y = 1) ≥ 0.5 with target ≥ 0.5.
   * Absent for square-loss outputs, which have no accuracy.
   */
  accuracy?: number;
}

/**
 * A line of the JSONL training log recording held-out loss and accuracy after `iteration`
 * iterations (0: the initial point). Told apart from iteration records by its `type`, which
 * they lack.
 */
export interface ValidationRecord extends LossAccuracy {
  type: 'validation';
  iteration: number;
  /** Training seconds at that point (evaluation time is not counted). */
  elapsed: number;
}

/** True for a parsed log line that is a {@link ValidationRecord}. */
export function isValidationRecord(record: unknown): record is ValidationRecord {
  return typeof record === 'object' && record !== null && (record as { type?: unknown }).type === 'validation';
}

/**
 * Loss and accuracy of `model` with `params` (default: its own) on the whole of `data`, one
 * forward pass on `backend` (default `cpu`; see `evaluateModel`).
 */
export function measure(model: Model, data: DataDocument, options: { params?: Float64Array; backend?: string } = {}): LossAccuracy {
  const evaluation = evaluateModel(options.params ? { ...model, params: options.params } : model, data, { backend: options.backend });
  const a = evaluation.accuracy;
  const accuracy = a.kind === 'class' ? a.accuracy : a.kind === 'bernoulli' ? a.perOutput : undefined;
  return accuracy === undefined ? { loss: evaluation.lossBits } : { loss: evaluation.lossBits, accuracy };
}

/** A measurement in words: `NAME loss L bits/sample, accuracy A%`. */
export function describeMeasurement(name: string, m: LossAccuracy): string {
  return `${name} loss ${m.loss.toFixed(4)} bits/sample${m.accuracy === undefined ? '' : `, accuracy ${(100 * m.accuracy).toFixed(1)}%`}`;
}

/** Options of {@link validationCallbacks}. */
export interface ValidationOptions {
  /** Evaluation period in iterations (see `TrainCallbacks.evaluateEvery`). */
  every?: number;
  backend?: string;
  /** Receives each record (to log and show it). */
  onRecord: (record: ValidationRecord) => void;
}

/**
 * The trainer callbacks that measure `model`'s network on held-out `data` at the initial point,
 * every `every` iterations and at the end (see `TrainCallbacks.onEvaluate`: the evaluation time
 * is not counted against the run's time budget, and the trajectory is that of a run without
 * validation). `data` must have been validated against the network (`loadDataFile` does).
 */
export function validationCallbacks(model: Model, data: DataDocument, options: ValidationOptions): Pick<TrainCallbacks, 'onEvaluate' | 'evaluateEvery'> {
  return {
    evaluateEvery: options.every,
    onEvaluate: (point: EvaluationPoint) => {
      options.onRecord({ type: 'validation', iteration: point.iteration, elapsed: point.elapsed, ...measure(model, data, { params: point.params, backend: options.backend }) });
    },
  };
}

/** The validation options of `train` as given on its command line. */
export interface ValidationChoices {
  valData?: string;
  valTargetsData?: string;
  evalEvery?: number;
  /** `--targets-data` (the training targets in their own file). */
  targetsData?: string;
}

/**
 * Refuses (UsageError) validation options that cannot work: `--eval-every` not a whole number
 * ≥ 1, `--eval-every` or `--val-targets-data` without `--val-data`, and `--val-targets-data`
 * given exactly when `--targets-data` is not (the validation file is read like the training one).
 */
export function checkValidationChoices(c: ValidationChoices): void {
  if (c.evalEvery !== undefined && !(Number.isInteger(c.evalEvery) && c.evalEvery >= 1)) {
    throw new UsageError([problem('eval-every', `--eval-every ${c.evalEvery}: give a whole number of iterations ≥ 1 between validation measurements`)]);
  }
  if (c.valData === undefined) {
    const stray = c.valTargetsData !== undefined ? '--val-targets-data' : c.evalEvery !== undefined ? '--eval-every' : undefined;
    if (stray) throw new UsageError([problem('val-data', `${stray} applies to validation data: give --val-data`)]);
    return;
  }
  if (c.targetsData !== undefined && c.valTargetsData === undefined) {
    throw new UsageError([problem('val-targets-data', `--targets-data holds the training targets: give --val-targets-data with the targets of --val-data ${c.valData}`)]);
  }
  if (c.targetsData === undefined && c.valTargetsData !== undefined) {
    throw new UsageError([problem('val-targets-data', '--val-targets-data goes with --targets-data (targets in their own file); without it, --val-data holds its targets')]);
  }
}
