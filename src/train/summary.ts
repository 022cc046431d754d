import type { Model } from '../engine/model.js';
import type { RunHeader } from '../json/run-header.js';
import { writeJsonFile } from '../json/write-json.js';
import type { DataDocument } from '../network/types.js';
import type { TrainOptions } from './settings.js';
import type { TrainResult } from './trainer.js';
import { measure, type LossAccuracy } from './validation.js';

/** The summary file beside a trained network (as `OUT.state.json` is: see `statePathOf`). */
export const summaryPathOf = (out: string): string => `${out}.summary.json`;

/** What `OUT.summary.json` records at the end of a `train` run (also when it was interrupted). */
export interface RunSummary {
  /** The command that wrote it (a resumed run: the resuming command). */
  header: RunHeader;
  method: TrainOptions['method'];
  mode: NonNullable<TrainOptions['mode']>;
  /** Iterations done in all (a resumed run counts those before it). */
  iterations: number;
  /** Training seconds in all (validation time not counted). */
  elapsed: number;
  /** `budget`: the run spent its budget; `interrupt`: stopped by a signal (resume with --resume). */
  stoppedBy: TrainResult['stoppedBy'];
  /** Loss and accuracy of the final network on the whole training data (one evaluation at the end). */
  train: LossAccuracy;
  /** The same on the validation data, when given. */
  validation?: LossAccuracy;
}

/** Inputs of {@link trainSummary}. */
export interface SummaryInputs {
  header: RunHeader;
  options: TrainOptions;
  result: TrainResult;
  /** The trained model (its final parameters). */
  model: Model;
  data: DataDocument;
  validation?: DataDocument;
  backend?: string;
}

/** Measures the final network on the training (and validation) data and assembles the run summary. */
export function trainSummary(inputs: SummaryInputs): RunSummary {
  const { result, model, backend } = inputs;
  return {
    header: inputs.header,
    method: inputs.options.method,
    mode: inputs.options.mode ?? 'batch',
    iterations: result.state.iteration,
    elapsed: result.state.elapsedSeconds,
    stoppedBy: result.stoppedBy,
    train: measure(model, inputs.data, { backend }),
    ...(inputs.validation ? { validation: measure(model, inputs.validation, { backend }) } : {}),
  };
}

/** Writes `summary` to {@link summaryPathOf}(`out`) atomically. */
export function writeSummary(out: string, summary: RunSummary): void {
  writeJsonFile(summaryPathOf(out), summary);
}
