import { createHash } from 'node:crypto';
import { getBackend } from '../backend/index.js';
import { UsageError, problem, type Problem } from '../errors.js';
import { makeBatch, type Batch } from '../engine/batch.js';
import type { Model } from '../engine/model.js';
import { BITS_PER_NAT, evaluateLoss } from '../engine/propagate.js';
import { createWorkspace } from '../engine/workspace.js';
import { measureMethod, METHOD_SPECS, NetworkCache } from '../methods/methods.js';
import type { DataDocument } from '../network/types.js';
import { Prng, type PrngState } from '../random/prng.js';
import { batchEstimator, decayedEstimator, onlineEstimator, type EstimatorContext, type EstimatorState, type MetricEstimator } from './estimators.js';
import { adaptiveRate, fixedRate } from './schedules.js';
import { resolveSettings, type TrainOptions, type TrainSettings } from './settings.js';

/** One line of the training log. */
export interface IterationRecord {
  /** 1-based iteration number: one batch, one mini-batch or one sample according to the mode. */
  iteration: number;
  /** Seconds since training started (resumed runs continue the count). */
  elapsed: number;
  /** Loss of this iteration's batch at the parameters after the iteration, bits per sample. */
  loss: number;
  /** Learning rate the step was tried with. */
  lr: number;
  accepted: boolean;
  /** Why a step was rejected other than by the adaptive rate: 'non-finite direction' or 'non-finite loss'. */
  fault?: string;
}

/** Everything needed to continue a run bit for bit (see `--resume`). */
export interface TrainState {
  version: 1;
  settings: TrainSettings;
  dataDigest: string;
  iteration: number;
  lr: number;
  elapsedSeconds: number;
  rng: PrngState;
  /** Sample order of the current epoch and the position in it (mini-batch and online modes). */
  order: number[];
  cursor: number;
  estimator: EstimatorState;
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
 * Trains `model` (its params are updated in place) with a method in batch, mini-batch or online
 * mode until the budget is spent or `shouldStop` says so. Reports through callbacks and never
 * prints. It yields to the event loop every 50 ms so that signal handlers can run. With
 * `resume`, continues that state; the same inputs, seed and iteration budget give bit-identical
 * parameters and records (but for elapsed times), interrupted and resumed or not.
 */
export async function train(model: Model, data: DataDocument, options: TrainOptions, budget: TrainBudget, callbacks: TrainCallbacks = {}, resume?: TrainState): Promise<TrainResult> {
  const { net } = model;
  const samples = data.inputs.length;
  const { settings, warnings } = resolveSettings(options, net, samples);
  warnings.forEach((w) => callbacks.onWarning?.(w));
  if (budget.iterations === undefined && budget.seconds === undefined) throw new UsageError([problem('budget', 'give a budget: --iterations, --time or --backprop-equivalent')]);
  const digest = dataDigest(data);
  const spec = METHOD_SPECS[settings.method];
  const kernels = getBackend(settings.backend);
  const cache = new NetworkCache(net);
  const ectx: EstimatorContext = { spec, kernels, cache, epsilon: settings.epsilon };
  const state: TrainState = resume ? structuredClone(resume) : initialState(settings, digest, samples);
  if (resume) checkResumable(resume, settings, digest);
  const rng = new Prng(state.rng);
  const direction = { rng, mcSamples: settings.mcSamples, epsilon: settings.epsilon };
  const size = settings.mode === 'batch' ? samples : settings.mode === 'minibatch' ? settings.batchSize : 1;
  let [ws, spare] = [createWorkspace(net, size), createWorkspace(net, size)];
  const full = settings.mode === 'batch' ? makeBatch(net, data) : undefined;
  let forwardValid = false;
  const estimator: MetricEstimator =
    settings.mode === 'online' ? onlineEstimator(settings.onlineDecay, settings.refreshEvery) : settings.mode === 'minibatch' && settings.metricDecay !== null ? decayedEstimator(settings.metricDecay) : batchEstimator;
  const schedule = settings.lrSchedule === 'adaptive' ? adaptiveRate : fixedRate;
  if (!resume) {
    const first = () => measureMethod(spec, kernels, cache, model.params, makeBatch(net, data, Array.from({ length: settings.nInit }, (_, i) => i)), createWorkspace(net, settings.nInit), direction);
    state.estimator = estimator.init(ectx, settings.mode === 'online' ? first : undefined);
  }

  const nextIndices = (count: number): number[] => {
    const out: number[] = [];
    while (out.length < count) {
      if (state.cursor >= state.order.length) {
        state.order = shuffle(samples, rng);
        state.cursor = 0;
      }
      out.push(state.order[state.cursor++]);
    }
    return out;
  };

  /** Tries w + lr·δw on `batch`; accepts or rejects per the schedule; returns the record's fields. */
  const step = (lossBefore: number, dw: Float64Array, batch: Batch): Omit<IterationRecord, 'iteration' | 'elapsed'> => {
    const lr = state.lr;
    const reject = (fault?: string) => {
      state.lr = schedule.update(lr, fault ? 'fault' : 'worse');
      return { loss: lossBefore * BITS_PER_NAT, lr, accepted: false, ...(fault ? { fault } : {}) };
    };
    if (!dw.every(Number.isFinite)) return reject('non-finite direction');
    const candidate = model.params.slice();
    for (let p = 0; p < candidate.length; p++) candidate[p] += lr * dw[p];
    const lossAfter = evaluateLoss(kernels, net, candidate, batch, spare);
    if (!Number.isFinite(lossAfter) || !candidate.every(Number.isFinite)) return reject('non-finite loss');
    if (schedule.judges && lossAfter > lossBefore) return reject();
    model.params = candidate;
    [ws, spare] = [spare, ws]; // ws now holds the forward pass of the accepted parameters
    forwardValid = settings.mode === 'batch';
    state.lr = schedule.update(lr, 'accepted');
    return { loss: lossAfter * BITS_PER_NAT, lr, accepted: true };
  };

  const iterate = (): Omit<IterationRecord, 'iteration' | 'elapsed'> => {
    const batch = full ?? makeBatch(net, data, nextIndices(size));
    const online = settings.mode === 'online';
    const m = measureMethod(spec, kernels, cache, model.params, batch, ws, { ...direction, forwardDone: forwardValid, withEstimate: !(online && spec.reduction === 'full') });
    forwardValid = settings.mode === 'batch';
    const { direction: dw, state: next } = estimator.update(ectx, state.estimator, m, ws);
    state.estimator = next;
    return step(m.lossNats, dw, batch);
  };

  const started = performance.now() - state.elapsedSeconds * 1000;
  let lastYield = performance.now();
  let stoppedBy: TrainResult['stoppedBy'] = 'budget';
  const elapsed = () => (performance.now() - started) / 1000;
  while ((budget.iterations === undefined || state.iteration < budget.iterations) && (budget.seconds === undefined || elapsed() < budget.seconds)) {
    if (callbacks.shouldStop?.()) {
      stoppedBy = 'interrupt';
      break;
    }
    const fields = iterate();
    state.iteration++;
    callbacks.onIteration?.({ iteration: state.iteration, elapsed: elapsed(), ...fields });
    if (performance.now() - lastYield > 50) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  }
  state.elapsedSeconds = elapsed();
  state.rng = rng.state();
  return { state, stoppedBy };
}

function initialState(settings: TrainSettings, digest: string, samples: number): TrainState {
  const estimator: EstimatorState = { kind: 'batch' }; // replaced by the estimator's init
  return { version: 1, settings, dataDigest: digest, iteration: 0, lr: settings.lr, elapsedSeconds: 0, rng: new Prng(settings.seed).state(), order: [], cursor: samples, estimator };
}

function checkResumable(state: TrainState, settings: TrainSettings, digest: string): void {
  const differs = (Object.keys(settings) as Array<keyof TrainSettings>).filter((k) => k !== 'backend' && state.settings[k] !== settings[k]);
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
