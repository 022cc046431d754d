import { createHash } from 'node:crypto';
import { UsageError, problem, type Problem } from '../errors.js';
import { makeBatch } from '../engine/batch.js';
import type { Model } from '../engine/model.js';
import type { DataDocument } from '../network/types.js';
import { Optimizer, type OptimizerState, type StepRecord } from '../optimizer/optimizer.js';
import { Prng } from '../random/prng.js';
import { resolveSettings, withScheduleHorizon, type TrainOptions, type TrainSettings } from './settings.js';

/** One line of the training log. */
export interface IterationRecord extends StepRecord {
  /** 1-based iteration number: one batch, one mini-batch or one sample according to the mode. */
  iteration: number;
  /** Seconds since training started (resumed runs continue the count). */
  elapsed: number;
}

/** Everything needed to continue a run bit for bit (see `--resume`), with the network's parameters. */
export interface TrainState {
  version: 2;
  settings: TrainSettings;
  dataDigest: string;
  iteration: number;
  elapsedSeconds: number;
  /** Sample order of the current epoch and the position in it (mini-batch and online modes). */
  order: number[];
  cursor: number;
  /** Rate, PRNG and curvature state. */
  optimizer: OptimizerState;
}

export interface TrainBudget {
  /** Total iterations (a resumed run counts those already done). */
  iterations?: number;
  /** Total wall-clock seconds. */
  seconds?: number;
}

export interface TrainCallbacks {
  onIteration?: (record: IterationRecord) => void;
  onWarning?: (warning: Problem) => void;
  /** Polled after every iteration; true stops the run there (e.g. on SIGINT). */
  shouldStop?: () => boolean;
  /** Aborting it stops the run after the current iteration, like `shouldStop`. */
  signal?: AbortSignal;
  /**
   * Called every `checkpointEvery` with the state and the parameters it goes with (written by
   * the model's params too), so that a killed run can resume from there.
   */
  onCheckpoint?: (state: TrainState) => void;
  /** Checkpoint period: `{ iterations: N }` or `{ seconds: S }` (default: none). */
  checkpointEvery?: { iterations?: number; seconds?: number };
  /**
   * Called with a copy of the current parameters at the initial point (iteration 0 of a fresh
   * run), after every `evaluateEvery` iterations, and at the end of a run that spent its budget
   * (unless just called). An interrupted run is not evaluated at its stopping point, so that a
   * resumed run calls it exactly where the uninterrupted one would. Its time is not counted: it
   * is excluded from `elapsed`, from the time budget and from the saved state's elapsed seconds.
   * It cannot change training (the parameters are a copy).
   */
  onEvaluate?: (point: EvaluationPoint) => void;
  /** Evaluation period in iterations (default {@link DEFAULT_EVALUATE_EVERY}). */
  evaluateEvery?: number;
}

/** Default period of `onEvaluate`, in iterations. */
export const DEFAULT_EVALUATE_EVERY = 100;

/** Where `onEvaluate` is called: after `iteration` iterations, `elapsed` training seconds. */
export interface EvaluationPoint {
  iteration: number;
  elapsed: number;
  /** A copy of the parameters, laid out like `CompiledNetwork` params. */
  params: Float64Array;
}

export interface TrainResult {
  state: TrainState;
  stoppedBy: 'budget' | 'interrupt';
}

/** SHA-256 of a data set, to refuse resuming on other data. */
export function dataDigest(data: DataDocument): string {
  return createHash('sha256').update(JSON.stringify(data)).digest('hex');
}

/**
 * Trains `model` (its params are updated at checkpoints and at the end) with a method in batch,
 * mini-batch or online mode until the budget is spent or the run is stopped (`shouldStop`,
 * `signal`). Reports through callbacks and never prints. It yields to the event loop every
 * 50 ms so that signal handlers can run. With `resume`, continues that state from the model's
 * parameters; the same inputs, seed and iteration budget give bit-identical parameters and
 * records (but for elapsed times), interrupted and resumed or not.
 */
export async function train(model: Model, data: DataDocument, options: TrainOptions, budget: TrainBudget, callbacks: TrainCallbacks = {}, resume?: TrainState): Promise<TrainResult> {
  const { net } = model;
  const samples = data.inputs.length;
  const { settings, warnings } = resolveSettings(withScheduleHorizon(options, budget.iterations), net, samples);
  warnings.forEach((w) => callbacks.onWarning?.(w));
  if (budget.iterations === undefined && budget.seconds === undefined) throw new UsageError([problem('budget', 'give a budget: --iterations, --time or --backprop-equivalent')]);
  const digest = dataDigest(data);
  if (resume) checkResumable(resume, settings, digest);
  const optimizer = new Optimizer(model, settings);
  const state: TrainState = resume ? structuredClone(resume) : initialState(settings, digest, samples);
  if (resume) optimizer.restore(resume.optimizer);
  const size = settings.mode === 'batch' ? samples : settings.mode === 'minibatch' ? settings.batchSize : 1;
  const full = settings.mode === 'batch' ? makeBatch(net, data) : undefined;
  if (optimizer.needsInitialization) optimizer.initialize(makeBatch(net, data, Array.from({ length: settings.nInit }, (_, i) => i)));

  const nextIndices = (count: number): number[] => {
    const out: number[] = [];
    while (out.length < count) {
      if (state.cursor >= state.order.length) {
        state.order = shuffle(samples, optimizer.rng);
        state.cursor = 0;
      }
      out.push(state.order[state.cursor++]);
    }
    return out;
  };

  let started = performance.now() - state.elapsedSeconds * 1000;
  let lastYield = performance.now();
  let lastCheckpoint = performance.now();
  let checkpointIteration = state.iteration;
  let stoppedBy: TrainResult['stoppedBy'] = 'budget';
  const elapsed = () => (performance.now() - started) / 1000;
  const snapshot = (): TrainState => {
    model.params = optimizer.params();
    return { ...structuredClone(state), elapsedSeconds: elapsed(), optimizer: optimizer.state() };
  };
  const every = callbacks.evaluateEvery ?? DEFAULT_EVALUATE_EVERY;
  let evaluatedAt = resume ? state.iteration : -1; // a resumed run was evaluated where it stopped, if it had to be
  const evaluate = () => {
    if (!callbacks.onEvaluate) return;
    const begun = performance.now();
    callbacks.onEvaluate({ iteration: state.iteration, elapsed: elapsed(), params: optimizer.params() });
    started += performance.now() - begun; // not counted as training time
    evaluatedAt = state.iteration;
  };
  try {
    if (!resume) evaluate();
    while ((budget.iterations === undefined || state.iteration < budget.iterations) && (budget.seconds === undefined || elapsed() < budget.seconds)) {
      if (callbacks.shouldStop?.() || callbacks.signal?.aborted) {
        stoppedBy = 'interrupt';
        break;
      }
      const record = optimizer.step(full ?? makeBatch(net, data, nextIndices(size)));
      state.iteration++;
      callbacks.onIteration?.({ iteration: state.iteration, elapsed: elapsed(), ...record });
      if (state.iteration % every === 0) evaluate();
      const period = callbacks.checkpointEvery;
      if (callbacks.onCheckpoint && period) {
        const due = (period.iterations !== undefined && state.iteration - checkpointIteration >= period.iterations) || (period.seconds !== undefined && performance.now() - lastCheckpoint >= period.seconds * 1000);
        if (due) {
          callbacks.onCheckpoint(snapshot());
          lastCheckpoint = performance.now();
          checkpointIteration = state.iteration;
        }
      }
      if (performance.now() - lastYield > 50) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    if (stoppedBy === 'budget' && evaluatedAt !== state.iteration) evaluate();
    return { state: snapshot(), stoppedBy };
  } finally {
    optimizer.dispose();
  }
}

function initialState(settings: TrainSettings, digest: string, samples: number): TrainState {
  return { version: 2, settings, dataDigest: digest, iteration: 0, elapsedSeconds: 0, order: [], cursor: samples, optimizer: { lr: settings.lr, steps: 0, rng: new Prng(settings.seed).state(), curvature: null } };
}

/** Settings that states saved before the Kronecker methods do not carry. */
const ADDED_SETTINGS = new Set<keyof TrainSettings>(['groups', 'kroneckerDamping', 'kroneckerSolve', 'inverseEvery', 'lrStepEvery', 'lrStepFactor', 'lrHorizon', 'clipNorm', 'adamBeta1', 'adamBeta2', 'adamEpsilon', 'momentum', 'nesterov']);

function checkResumable(state: TrainState, settings: TrainSettings, digest: string): void {
  // Settings added since a state was saved (absent from it) are those of a method they do not concern.
  const differs = (Object.keys(settings) as Array<keyof TrainSettings>).filter((k) => k !== 'backend' && (k in state.settings || !ADDED_SETTINGS.has(k)) && state.settings[k] !== settings[k]);
  if (differs.length > 0) {
    throw new UsageError([problem('resume', `cannot resume: the saved run used different settings (${differs.map((k) => `${k}: ${state.settings[k]} vs ${settings[k]}`).join(', ')}); give the same options`)]);
  }
  if (state.dataDigest !== digest) throw new UsageError([problem('resume', 'cannot resume: the data differ from the saved run’s')]);
}

/** A seeded permutation of 0 .. n-1 (Fisher-Yates). */
function shuffle(n: number, rng: Prng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Section 4's way of placing methods on an equal footing: the wall-clock seconds that
 * `iterations` iterations of backprop take on this network and data, in the same mode and
 * with the same schedule (on a copy of the model).
 */
export async function backpropEquivalentSeconds(model: Model, data: DataDocument, options: TrainOptions, iterations: number): Promise<number> {
  const backprop = { ...options, method: 'backprop' as const };
  // Warm the JIT up first, so that the budget measures steady-state iterations as the methods run them.
  await train({ ...model, params: model.params.slice() }, data, backprop, { iterations: Math.min(1000, Math.ceil(iterations / 10)) });
  const { state } = await train({ ...model, params: model.params.slice() }, data, backprop, { iterations });
  return state.elapsedSeconds;
}
