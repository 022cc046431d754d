import { FileFormatError, problem } from '../errors.js';
import { parseJson } from '../json/parse-json.js';
import type { TrainBudget, TrainState } from './trainer.js';

/** What `train` writes beside its network so that `--resume` can continue: the state and the budget. */
export interface SavedRun {
  state: TrainState;
  budget: TrainBudget;
  /** The JSONL log the run appends to, as given (`null`: none). Absent in files of older versions. */
  log?: string | null;
  /** 'budget': the run is finished; 'interrupt' (or a periodic 'checkpoint'): it can be continued with --resume. */
  stoppedBy?: 'budget' | 'interrupt' | 'checkpoint';
  /** SHA-256 of the parameters of the network written with this state (a network and a state of different moments are refused). */
  paramsDigest?: string;
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
  if (state?.version === 2 && !hasTrainStateShape(state)) throw new FileFormatError([problem('state-format', 'the training state is incomplete (settings, iteration, sample order or optimizer state missing); start the run again without --resume')], file);
  if (state?.version !== 2) throw new FileFormatError([problem('state-format', `training state version ${String(state?.version)} was written by an older unitwise (this one reads version 2); start the run again without --resume`)], file);
  const extra = { log: value.log, stoppedBy: value.stoppedBy, paramsDigest: value.paramsDigest } as Pick<SavedRun, 'log' | 'stoppedBy' | 'paramsDigest'>;
  return { state, budget: (value.budget ?? {}) as TrainBudget, ...extra };
}

/** Whether a version-2 state has the fields `train` reads (their contents are checked when used). */
function hasTrainStateShape(state: TrainState): boolean {
  const o = state.optimizer as Partial<TrainState['optimizer']> | undefined;
  return (
    typeof state.settings === 'object' &&
    state.settings !== null &&
    typeof state.dataDigest === 'string' &&
    Number.isInteger(state.iteration) &&
    typeof state.elapsedSeconds === 'number' &&
    Array.isArray(state.order) &&
    Number.isInteger(state.cursor) &&
    typeof o === 'object' &&
    o !== null &&
    typeof o.lr === 'number' &&
    Array.isArray(o.rng) &&
    o.rng.length === 4 &&
    (o.curvature === null || typeof o.curvature === 'object')
  );
}
