import { FileFormatError, problem } from '../errors.js';
import { parseJson } from '../json/parse-json.js';
import type { TrainBudget, TrainState } from './trainer.js';

/** What `train` writes beside its network so that `--resume` can continue: the state and the budget. */
export interface SavedRun {
  state: TrainState;
  budget: TrainBudget;
}

/** JSON-ready form of a saved run (every number round-trips exactly). */
export function serialiseRun(run: SavedRun): unknown {
  return { format: 'unitwise-train-state', ...run };
}

/** Reads a saved run written by {@link serialiseRun}. */
export function parseRun(text: string, file: string): SavedRun {
  const value = parseJson(text, file) as Record<string, unknown>;
  if (value === null || typeof value !== 'object' || value.format !== 'unitwise-train-state') {
    throw new FileFormatError([problem('state-format', 'not a unitwise training state (written by `unitwise train` beside its --out network)')], file);
  }
  const state = value.state as TrainState;
  if (state?.version !== 2) throw new FileFormatError([problem('state-format', `training state version ${String(state?.version)} was written by an older unitwise (this one reads version 2); start the run again without --resume`)], file);
  return { state, budget: (value.budget ?? {}) as TrainBudget };
}
