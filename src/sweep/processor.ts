import { runSweepJob, type JobCheckpoint, type JobInput, type JobOutcome } from './job.js';
import { runPoolJob, type PoolJobInput } from './pool-jobs.js';

/** The part of a BullMQ job (sandboxed: a worker thread of `unitwise worker`) that the processor uses. */
interface QueuedJob {
  data: JobInput | PoolJobInput;
  /** The job's progress: `{ checkpoint }` once the job checkpointed (JSON text in a sandbox). */
  progress: unknown;
  updateProgress(progress: object): Promise<void>;
}

/** The checkpoint a job's progress carries, if any (a taken-over job resumes from it). */
export function progressCheckpoint(progress: unknown): JobCheckpoint | undefined {
  const value = typeof progress === 'string' ? (JSON.parse(progress) as unknown) : progress;
  const checkpoint = (value as { checkpoint?: JobCheckpoint } | null)?.checkpoint;
  return checkpoint && typeof checkpoint === 'object' && typeof checkpoint.digest === 'string' ? checkpoint : undefined;
}

/**
 * BullMQ's sandboxed processor of sweep jobs (loaded by `unitwise worker` in worker threads), and
 * of the pool jobs of `pool-jobs.ts` (the benchmark's):
 * runs the job from its last checkpoint when it has one, and puts a new checkpoint into the
 * job's progress every `checkpointSeconds`, dropped when the job is done. The outcome is the
 * job's return value.
 */
export default async function processSweepJob(job: QueuedJob): Promise<unknown> {
  const { data } = job;
  if ('pool' in data) return runPoolJob(data);
  const checkpoint = progressCheckpoint(job.progress);
  const outcome: JobOutcome = await runSweepJob({ ...data, ...(checkpoint ? { checkpoint } : {}) }, (c) => job.updateProgress({ checkpoint: c }));
  // NOTE: the last checkpoint (the curve so far: hundreds of kB for a long job) is dropped from Redis once the job is done.
  if (checkpoint || data.checkpointSeconds !== undefined) await job.updateProgress({ finished: true });
  return outcome;
}
