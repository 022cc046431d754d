import { backendInfo, useBackend } from '../backend/load.js';
import { createModel, type Model } from '../engine/model.js';
import { evaluateModel } from '../evaluate/evaluate.js';
import { generateAutoencoder } from '../generate/autoencoder.js';
import { generateBinaryData } from '../generate/data.js';
import { thin } from '../replicate/run.js';
import type { DataDocument } from '../network/types.js';
import type { TrainOptions } from '../train/settings.js';
import { backpropEquivalentSeconds, train, type TrainBudget, type TrainState } from '../train/trainer.js';
import { convertData, convertNetwork } from '../transform/convert.js';
import type { SweepJob } from './spec.js';
import { runTrainJob } from './train-job.js';
import type { TrainJob } from './train-spec.js';

/**
 * What a job computed, and nothing that depends on the machine or the moment: the same job
 * gives the same result, byte for byte once written, on any engine, resumed from a checkpoint
 * or not (under an iteration budget; a `time` budget depends on the machine's speed).
 */
export interface JobResult {
  iterations: number;
  /** Loss of the initial parameters and after the last iteration, bits per sample (a train job's: on the whole training set). */
  initialLoss: number;
  finalLoss: number;
  /** The thinned curve (see the replication's `thin`): [iteration, loss in bits per sample]; empty when a train job does not record it. */
  points: Array<[number, number]>;
  /** Train jobs, when recorded: accuracy on the training set, loss and accuracy on the validation data, of the final parameters. */
  trainAccuracy?: number;
  validationLoss?: number;
  validationAccuracy?: number;
}

/** How a job ran: its times, where and from what. Written beside the result, never compared. */
export interface JobRunInfo {
  /** Training seconds (evaluation excluded), and the elapsed seconds at each point of the curve. */
  seconds: number;
  pointSeconds: number[];
  /** Seconds a `time` budget gave the job (measured on its run's sigmoid network). */
  budgetSeconds?: number;
  /** The backend as the thread that ran the job reports it. */
  backend: string;
  /** The iteration of the checkpoint the job resumed from (absent: it ran from the start). */
  resumedFrom?: number;
}

/** A job's outcome: the result and how it ran. */
export interface JobOutcome {
  result: JobResult;
  run: JobRunInfo;
}

/**
 * A job's training state part way, JSON-ready (numbers round-trip exactly): the trainer's state
 * and parameters, and the curve so far. A job started again from it ends exactly as the
 * uninterrupted job would.
 */
export interface JobCheckpoint {
  digest: string;
  state: TrainState;
  params: number[];
  initialLoss: number;
  budgetSeconds?: number;
  /** Loss and elapsed seconds of every iteration so far. */
  losses: number[];
  elapsed: number[];
}

/** The input of a job on an engine: the job, its digest, and how to checkpoint and resume it. */
export interface JobInput {
  digest: string;
  job: SweepJob;
  /** Seconds between checkpoints (none: no checkpoints). */
  checkpointSeconds?: number;
  /** A checkpoint of this job to continue from. */
  checkpoint?: JobCheckpoint;
}

/** Where a job hands its checkpoints (the queue's job progress). */
export type CheckpointSink = (checkpoint: JobCheckpoint) => void | Promise<void>;

/**
 * Runs one sweep job (a train sweep's: {@link runTrainJob}): the run's seeded autoencoder and binary data (converted to the tanh twin
 * for a tanh job), the initial loss, then the row's training under its budget, resumed from
 * `input.checkpoint` when given (a checkpoint of another job is ignored).
 */
export async function runSweepJob(input: JobInput, onCheckpoint?: CheckpointSink): Promise<JobOutcome> {
  const { job } = input;
  if (job.kind === 'train') return runTrainJob({ ...input, job: job as TrainJob }, onCheckpoint);
  const backendName = job.options.backend ?? 'cpu';
  await useBackend(backendName);
  const sigmoid = generateAutoencoder({ seed: job.seed, activation: 'sigmoid', layers: job.layers });
  const sigmoidData = generateBinaryData({ seed: job.seed, samples: job.samples, length: (job.layers ?? [100])[0] });
  const document = job.activation === 'tanh' ? convertNetwork(sigmoid, 'tanh').document : sigmoid;
  const data = job.activation === 'tanh' ? convertData(sigmoidData, 'tanh') : sigmoidData;
  const model = createModel(document);
  const resume = input.checkpoint?.digest === input.digest ? input.checkpoint : undefined;
  const initialLoss = resume ? resume.initialLoss : evaluateModel(model, data, { backend: backendName }).lossBits;
  const budgetSeconds =
    job.budget.kind === 'iterations' ? undefined : (resume?.budgetSeconds ?? (await backpropEquivalentSeconds(createModel(sigmoid), sigmoidData, { method: 'backprop', epsilon: 1e-4, lr: 0.01, seed: job.seed }, job.budget.backpropIterations)));
  const budget = job.budget.kind === 'iterations' ? { iterations: job.budget.iterations } : { seconds: budgetSeconds };
  const { state, losses, elapsed } = await trainCheckpointed(model, data, job.options, budget, input, onCheckpoint, { initialLoss, ...(budgetSeconds !== undefined ? { budgetSeconds } : {}) });
  const curve = thin(initialLoss, losses.map((loss, i) => ({ iteration: i + 1, elapsed: elapsed[i], loss })), state.elapsedSeconds);
  const backend = backendInfo(backendName).detail;
  return {
    result: { iterations: curve.iterations, initialLoss: curve.initialLoss, finalLoss: curve.finalLoss, points: curve.points.map(([i, , loss]) => [i, loss]) },
    run: { seconds: curve.seconds, pointSeconds: curve.points.map(([, s]) => s), ...(budgetSeconds !== undefined ? { budgetSeconds } : {}), backend, ...(resume ? { resumedFrom: resume.state.iteration } : {}) },
  };
}

/**
 * A job's training with the library's `train`: from `input.checkpoint` when it is this job's
 * (parameters, trainer state and the curve so far), and, with a sink and
 * `input.checkpointSeconds`, a checkpoint to the sink every so often (written in order; all
 * written when this returns). Returns the final state and the whole curve's losses and times.
 */
export async function trainCheckpointed(
  model: Model,
  data: DataDocument,
  options: TrainOptions,
  budget: TrainBudget,
  input: JobInput,
  onCheckpoint: CheckpointSink | undefined,
  fixed: Pick<JobCheckpoint, 'initialLoss' | 'budgetSeconds'>,
): Promise<{ state: TrainState; losses: number[]; elapsed: number[] }> {
  const resume = input.checkpoint?.digest === input.digest ? input.checkpoint : undefined;
  const losses = resume ? resume.losses.slice() : [];
  const elapsed = resume ? resume.elapsed.slice() : [];
  if (resume) model.params = Float64Array.from(resume.params);
  let pending: Promise<void> = Promise.resolve();
  const { state } = await train(
    model,
    data,
    options,
    budget,
    {
      onIteration: (r) => {
        losses.push(r.loss);
        elapsed.push(r.elapsed);
      },
      ...(onCheckpoint && input.checkpointSeconds !== undefined
        ? {
            checkpointEvery: { seconds: input.checkpointSeconds },
            onCheckpoint: (s: TrainState) => {
              const checkpoint: JobCheckpoint = { digest: input.digest, state: s, params: Array.from(model.params), ...fixed, losses: losses.slice(), elapsed: elapsed.slice() };
              pending = pending.then(() => onCheckpoint(checkpoint));
            },
          }
        : {}),
    },
    resume?.state,
  );
  await pending;
  return { state, losses, elapsed };
}

/** One sweep job on the worker-thread pool (`runJobs({ module, name: 'sweepPoolJob' }, inputs)`): no checkpoints. */
export function sweepPoolJob(input: JobInput): Promise<JobOutcome> {
  return runSweepJob(input);
}
