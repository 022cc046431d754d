import { useBackend } from '../backend/load.js';
import { createModel } from '../engine/model.js';
import type { DataDocument, NetworkDocument } from '../network/types.js';
import type { TrainOptions } from '../train/settings.js';
import { train, type TrainBudget } from '../train/trainer.js';

/** A training run as a pool job: a network, its data, options and budget (all structured-cloneable). */
export interface TrainJob {
  document: NetworkDocument;
  data: DataDocument;
  options: TrainOptions;
  budget: TrainBudget;
}

/** What a training job returns: its final parameters and loss per iteration (bits per sample). */
export interface TrainJobResult {
  params: number[];
  losses: number[];
}

/** Runs one {@link TrainJob} (for `runJobs({ module, name: 'trainJob' }, jobs)`). */
export async function trainJob(job: TrainJob): Promise<TrainJobResult> {
  await useBackend(job.options.backend ?? 'cpu');
  const model = createModel(job.document);
  const losses: number[] = [];
  await train(model, job.data, job.options, job.budget, { onIteration: (r) => losses.push(r.loss) });
  return { params: Array.from(model.params), losses };
}
