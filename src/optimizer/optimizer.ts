import { forwardPass, type DeviceBuffer, type Engine, type EngineWorkspace, type TransferStats } from '../backend/engine.js';
import { openEngine } from '../backend/registry.js';
import type { SerializedCurvature } from '../curvature/curvature.js';
import { UsageError, problem } from '../errors.js';
import { makeBatch, type Batch } from '../engine/batch.js';
import type { Model } from '../engine/model.js';
import { BITS_PER_NAT } from '../engine/propagate.js';
import { checkCurvatureMemory, curvatureCopies } from '../engine/size-guard.js';
import { baselineChoices, createMethod, type Method } from '../methods/methods.js';
import { MethodRunner } from '../methods/runner.js';
import type { DataDocument } from '../network/types.js';
import { Prng, type PrngState } from '../random/prng.js';
import { estimatorFor, type Estimator } from '../train/estimators.js';
import { adaptiveRate, fixedRate, rateFactor, type RateSchedule } from '../train/schedules.js';
import { resolveSettings, type TrainOptions, type TrainSettings } from '../train/settings.js';
import { batchProbabilities } from './probabilities.js';

/** What became of one iteration. */
export interface StepRecord {
  /** Loss of the batch at the parameters after the iteration (before it, if rejected), bits per sample. */
  loss: number;
  /** Loss of the same batch at the parameters the iteration started from, bits per sample (the first record's is the initial loss). */
  lossBefore: number;
  /** Learning rate the step was tried with. */
  lr: number;
  accepted: boolean;
  /** Why a step was rejected other than by the adaptive rate: 'non-finite direction' or 'non-finite loss'. */
  fault?: string;
}

/** An optimizer's state, JSON-ready: with the same network parameters it continues bit for bit. */
export interface OptimizerState {
  /** The base rate (the adaptive rate itself; step and cosine multiply it by their factor at `steps`). */
  lr: number;
  /** Steps tried so far (the step and cosine schedules' t); absent from states saved before them: 0. */
  steps?: number;
  rng: PrngState;
  curvature: SerializedCurvature | null;
}

/** Loss and output probabilities on a data set (see {@link Optimizer.evaluate}). */
export interface Evaluation {
  /** Mean loss, nats and bits per sample. */
  lossNats: number;
  lossBits: number;
  /** Per-sample loss, nats. */
  losses: Float64Array;
  /** [sample][output]: Bernoulli P(Y = 1), class probabilities, or Gaussian means (square). */
  probabilities: number[][];
}

/** One engine's buffers for batches of its size. */
interface Lane {
  engine: Engine;
  params: DeviceBuffer;
  candidate: DeviceBuffer;
  ws: EngineWorkspace;
  spare: EngineWorkspace;
  /** Parameter version the lane's `params` hold. */
  version: number;
  runner?: MethodRunner;
}

/**
 * A training method bound to a network: `step(batch)` takes one iteration (measure, fold the
 * curvature in by the estimator, solve, try w + η δw under the rate schedule) and keeps its
 * engines, curvature state and PRNG across calls. Parameters live on the backend; `params()`
 * reads them. Create with {@link createOptimizer}; `dispose()` frees the backend's memory.
 */
export class Optimizer {
  readonly method: Method;
  readonly estimator: Estimator;
  readonly schedule: RateSchedule;
  /** The PRNG of the Monte-Carlo draws; the trainer draws its sample order from it too. */
  readonly rng: Prng;
  lr: number;
  /** Steps tried so far: t of the step and cosine schedules. */
  steps = 0;
  private readonly lanes = new Map<number, Lane>();
  /** The lane holding the current parameters, and their version. */
  private owner: Lane | undefined;
  private version = 0;
  private host: Float64Array;
  /** The lane whose runner holds the curvature state. */
  private curvatureLane: Lane | undefined;
  private pendingCurvature: SerializedCurvature | null = null;
  private forwardValid: Batch | undefined;

  constructor(
    readonly model: Model,
    readonly settings: TrainSettings,
  ) {
    this.method = createMethod(settings.method, {
      online: settings.mode === 'online',
      epsilon: settings.epsilon,
      refreshEvery: settings.refreshEvery,
      groups: settings.groups,
      kroneckerDamping: settings.kroneckerDamping,
      kroneckerSolve: settings.kroneckerSolve,
      inverseEvery: settings.inverseEvery,
      ...baselineChoices(settings),
    });
    // Refuses, before any work, per-unit blocks that would not fit (naming the unit and its fan-in).
    checkCurvatureMemory(model.net, this.method.spec.reduction, { method: settings.method, copies: curvatureCopies(settings.mode, settings.metricDecay !== null) });
    this.estimator = estimatorFor(settings);
    this.schedule = settings.lrSchedule === 'adaptive' ? adaptiveRate : fixedRate;
    this.rng = new Prng(settings.seed);
    this.lr = settings.lr;
    this.host = model.params.slice();
  }

  /** Whether the estimator still needs {@link initialize} (online: the n_init batch of Eq. 36). */
  get needsInitialization(): boolean {
    return this.estimator.initSamples > 0 && this.curvatureUpdates() === 0;
  }

  /** Folds a batch into the curvature without stepping: the online estimator's A⁽⁰⁾ (Eq. 36). */
  initialize(batch: Batch): void {
    if (!this.needsInitialization) {
      throw new UsageError([problem('initialize', this.estimator.initSamples > 0 ? 'the online estimator is initialised already (Eq. 36 happens once)' : `the ${this.estimator.kind} estimator has no initial batch: call step(batch)`)]);
    }
    const lane = this.lane(batch.size);
    const runner = this.runnerOn(lane);
    lane.engine.setBatch(lane.ws, batch);
    this.forwardValid = undefined;
    runner.measure(lane.params, lane.ws, 1, this.random());
  }

  /** One iteration on `batch`; the model's parameters follow only through {@link params}. */
  step(batch: Batch): StepRecord {
    if (this.needsInitialization) {
      throw new UsageError([problem('initialize', `the online estimator starts from the metric of ${this.estimator.initSamples} samples (Eq. 36): call initialize(batch) first`)]);
    }
    if (this.estimator.kind === 'online' && batch.size !== 1) {
      throw new UsageError([problem('batch-size', `online steps take one sample at a time (Eq. 37-38), not ${batch.size}`)]);
    }
    const reuse = this.forwardValid === batch && this.owner !== undefined && this.owner.engine.size === batch.size && this.owner.version === this.version;
    const lane = this.lane(batch.size);
    const runner = this.runnerOn(lane);
    const { engine } = lane;
    if (!reuse) engine.setBatch(lane.ws, batch);
    const lossBefore = runner.measure(lane.params, lane.ws, this.estimator.decay, this.random(), reuse);
    this.forwardValid = this.settings.mode === 'batch' ? batch : undefined;
    const direction = runner.solve(this.settings.epsilon, this.settings.clipNorm);
    const base = this.lr;
    const lr = base * rateFactor(this.settings, this.steps);
    this.steps++;
    const reject = (fault?: string): StepRecord => {
      this.lr = this.schedule.update(base, fault ? 'fault' : 'worse');
      return { loss: lossBefore * BITS_PER_NAT, lossBefore: lossBefore * BITS_PER_NAT, lr, accepted: false, ...(fault ? { fault } : {}) };
    };
    if (!engine.allFinite(direction)) return reject('non-finite direction');
    engine.combine(lane.candidate, 1, lane.params, lr, direction);
    engine.setBatch(lane.spare, batch);
    forwardPass(engine, lane.candidate, lane.spare);
    engine.outputLayer(lane.spare);
    const lossAfter = engine.meanLoss(lane.spare);
    if (!Number.isFinite(lossAfter) || !engine.allFinite(lane.candidate)) return reject('non-finite loss');
    if (this.schedule.judges && lossAfter > lossBefore) return reject();
    [lane.params, lane.candidate] = [lane.candidate, lane.params];
    [lane.ws, lane.spare] = [lane.spare, lane.ws]; // ws holds the forward pass of the accepted parameters
    lane.version = ++this.version;
    this.lr = this.schedule.update(base, 'accepted');
    return { loss: lossAfter * BITS_PER_NAT, lossBefore: lossBefore * BITS_PER_NAT, lr, accepted: true };
  }

  /** Loss per sample and output probabilities of the current parameters on `data`. */
  evaluate(data: DataDocument): Evaluation {
    const batch = makeBatch(this.model.net, data);
    const lane = this.lane(batch.size);
    lane.engine.setBatch(lane.spare, batch);
    forwardPass(lane.engine, lane.params, lane.spare);
    lane.engine.outputLayer(lane.spare);
    const losses = lane.engine.read(lane.spare.loss).slice();
    const lossNats = losses.reduce((a, b) => a + b, 0) / losses.length;
    return { lossNats, lossBits: lossNats * BITS_PER_NAT, losses, probabilities: batchProbabilities(this.model.net, lane.engine.read(lane.spare.act), batch.size) };
  }

  /** The current parameters (read from the backend; laid out like `CompiledNetwork` params). */
  params(): Float64Array {
    if (this.owner && this.owner.version === this.version) this.host = this.owner.engine.read(this.owner.params).slice();
    return this.host.slice();
  }

  /** Replaces the parameters. */
  setParams(params: Float64Array): void {
    if (params.length !== this.model.net.nParams) throw new UsageError([problem('params', `${params.length} parameters given to a network of ${this.model.net.nParams}`)]);
    this.host = params.slice();
    this.version++;
    this.owner = undefined;
    this.forwardValid = undefined;
  }

  /** The rate, PRNG and curvature state, JSON-ready. */
  state(): OptimizerState {
    const lane = this.curvatureLane;
    // NOTE: each batch's own curvature (decay 1) is replaced by the next update: nothing to save
    // (per-unit blocks can be gigabytes, and checkpoints are frequent), unless the curvature
    // solves with factors of an earlier refresh (periodic inverses).
    const carried = this.estimator.decay !== 1 || this.method.curvature.carriesState === true;
    const curvature = !carried ? null : lane?.runner ? this.method.curvature.serialize(lane.engine, lane.runner.state) : this.pendingCurvature;
    return { lr: this.lr, steps: this.steps, rng: this.rng.state(), curvature };
  }

  /** Continues from a {@link state} (with the parameters it was taken at, see {@link setParams}). */
  restore(state: OptimizerState): void {
    this.lr = state.lr;
    this.steps = state.steps ?? 0;
    this.rng.setState(state.rng);
    for (const lane of this.lanes.values()) {
      lane.runner?.dispose();
      lane.runner = undefined;
    }
    this.curvatureLane = undefined;
    this.pendingCurvature = state.curvature;
    this.forwardValid = undefined;
  }

  /** Host↔device traffic of every engine so far. */
  transfers(): TransferStats {
    const total = { uploads: 0, uploadBytes: 0, reads: 0, readBytes: 0 };
    for (const { engine } of this.lanes.values()) {
      const t = engine.transfers.snapshot();
      total.uploads += t.uploads;
      total.uploadBytes += t.uploadBytes;
      total.reads += t.reads;
      total.readBytes += t.readBytes;
    }
    return total;
  }

  /** Frees every engine (the optimizer cannot be used afterwards). */
  dispose(): void {
    for (const lane of this.lanes.values()) {
      lane.runner?.dispose();
      lane.engine.dispose();
    }
    this.lanes.clear();
  }

  private random() {
    return { rng: this.rng, mcSamples: this.settings.mcSamples };
  }

  private curvatureUpdates(): number {
    const lane = this.curvatureLane;
    return lane?.runner ? lane.runner.state.updates : (this.pendingCurvature?.updates ?? 0);
  }

  /** The engine for batches of `size`, with the current parameters on it. */
  private lane(size: number): Lane {
    let lane = this.lanes.get(size);
    if (!lane) {
      const engine = openEngine(this.settings.backend, this.model.net, size);
      lane = { engine, params: engine.alloc(this.model.net.nParams), candidate: engine.alloc(this.model.net.nParams), ws: engine.workspace(), spare: engine.workspace(), version: -1 };
      this.lanes.set(size, lane);
    }
    if (lane.version !== this.version) {
      if (this.owner && this.owner !== lane && this.owner.version === this.version) this.host = this.owner.engine.read(this.owner.params).slice();
      lane.engine.upload(lane.params, this.host);
      lane.version = this.version;
    }
    this.owner = lane;
    return lane;
  }

  /** The method's runner on `lane`, moving the curvature state there (through its serialised form) if it lives elsewhere. */
  private runnerOn(lane: Lane): MethodRunner {
    if (lane.runner) return lane.runner;
    const from = this.curvatureLane;
    const { curvature } = this.method;
    let serialized = this.pendingCurvature;
    if (from?.runner) {
      serialized = curvature.serialize(from.engine, from.runner.state);
      from.runner.dispose();
      from.runner = undefined;
      // NOTE: the lane the curvature leaves (the online n_init batch) is not needed again: free it.
      if (from !== lane && this.owner !== from) {
        from.engine.dispose();
        this.lanes.delete(from.engine.size);
      }
    }
    lane.runner = new MethodRunner(lane.engine, this.method, serialized ? curvature.restore(lane.engine, serialized) : undefined);
    this.pendingCurvature = null;
    this.curvatureLane = lane;
    return lane.runner;
  }
}

/**
 * An optimizer for `model` (its parameters are copied; read them back with `params()`). Options
 * as for training (`TrainOptions`): method, mode, rate and schedule, ε, Monte-Carlo draws, seed,
 * mini-batch size, metric decay, online settings, backend (loaded already: see `useBackend`).
 * `samples` (the data set's size) checks the batch-size and n_init options against it.
 */
export function createOptimizer(model: Model, options: TrainOptions, samples = Number.POSITIVE_INFINITY): Optimizer {
  const { settings } = resolveSettings(options, model.net, samples);
  return new Optimizer(model, settings);
}
