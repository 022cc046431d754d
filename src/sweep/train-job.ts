import { backendInfo, useBackend } from '../backend/load.js';
import { createModel } from '../engine/model.js';
import { thin } from '../replicate/run.js';
import { measure } from '../train/validation.js';
import { trainCheckpointed, type CheckpointSink, type JobInput, type JobOutcome, type JobResult } from './job.js';
import type { TrainJob } from './train-spec.js';
import { buildData, buildNetwork } from './train-sources.js';

/**
 * Runs one job of a train sweep with the library's `train` (as `unitwise train` does): the
 * job's network (read, or generated with the run's seed) and data, the initial loss on the whole
 * training set, training under the budget (resumed from `input.checkpoint` when it is this
 * job's), then the recorded figures of the final parameters: loss and accuracy on the whole
 * training set and on the validation data. Under an iteration budget the result is a pure
 * function of the job.
 */
export async function runTrainJob(input: JobInput & { job: TrainJob }, onCheckpoint?: CheckpointSink): Promise<JobOutcome> {
  const { job } = input;
  const backendName = job.options.backend ?? 'cpu';
  await useBackend(backendName);
  const model = createModel(buildNetwork(job.network));
  const data = buildData(job.data, model.net);
  const validation = job.validation ? buildData(job.validation, model.net) : undefined;
  const resume = input.checkpoint?.digest === input.digest ? input.checkpoint : undefined;
  const initialLoss = resume ? resume.initialLoss : measure(model, data, { backend: backendName }).loss;
  const { state, losses, elapsed } = await trainCheckpointed(model, data, job.options, job.budget, input, onCheckpoint, { initialLoss });
  const curve = thin(initialLoss, losses.map((loss, i) => ({ iteration: i + 1, elapsed: elapsed[i], loss })), state.elapsedSeconds);
  const final = measure(model, data, { backend: backendName });
  const held = validation ? measure(model, validation, { backend: backendName }) : undefined;
  const wants = (name: TrainJob['record'][number]) => job.record.includes(name);
  const result: JobResult = {
    iterations: curve.iterations,
    initialLoss,
    finalLoss: final.loss,
    points: wants('curve') ? curve.points.map(([i, , loss]) => [i, loss]) : [],
    ...(wants('train-accuracy') && final.accuracy !== undefined ? { trainAccuracy: final.accuracy } : {}),
    ...(wants('validation-loss') && held ? { validationLoss: held.loss } : {}),
    ...(wants('validation-accuracy') && held?.accuracy !== undefined ? { validationAccuracy: held.accuracy } : {}),
  };
  const backend = backendInfo(backendName).detail;
  return { result, run: { seconds: curve.seconds, pointSeconds: wants('curve') ? curve.points.map(([, s]) => s) : [], backend, ...(resume ? { resumedFrom: resume.state.iteration } : {}) } };
}
