import { FileFormatError, problem } from '../errors.js';
import { parseJson } from '../json/parse-json.js';
import { deserialiseEstimator, serialiseEstimator } from './estimators.js';
import type { TrainBudget, TrainState } from './trainer.js';

/** What `train` writes beside its network so that `--resume` can continue: the state and the budget. */
export interface SavedRun {
  state: TrainState;
  budget: TrainBudget;
}

/** JSON-ready form of a saved run (every number round-trips exactly). */
export function serialiseRun(run: SavedRun): unknown {
  return { format: 'unitwise-train-state', ...run, state: { ...run.state, estimator: serialiseEstimator(run.state.estimator) } };
}

/** Reads a saved run written by {@link serialiseRun}. */
export function parseRun(text: string, file: string): SavedRun {
  const value = parseJson(text, file) as Record<string, unknown>;
  if (value === null || typeof value !== 'object' || value.format !== 'unitwise-train-state') {
    throw new FileFormatError([problem('state-format', 'not a unitwise training state (written by `unitwise train` beside its --out network)')], file);
  }
  const state = value.state as TrainState & { estimator: unknown };
  if (state?.version !== 1) throw new FileFormatError([problem('state-format', `unsupported training state version ${String(state?.version)}`)], file);
  return { state: { ...state, estimator: deserialiseEstimator(state.estimator) }, budget: (value.budget ?? {}) as TrainBudget };
}
