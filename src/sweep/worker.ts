import { fileURLToPath } from 'node:url';
import { isNotConnectionError, Worker, type Job } from 'bullmq';
import type { JobInput, JobOutcome } from './job.js';
import type { PoolJobInput } from './pool-jobs.js';
import { progressCheckpoint } from './processor.js';
import { checkRedis, watchRedis, withTimeout } from './queue-engine.js';
import { QUEUE_DEFAULTS } from './queue-settings.js';
import { bullmqConnection } from './redis-client.js';
import type { QueueError } from '../errors.js';

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** Jobs run at once, each in its own worker thread (default 1). */
  concurrency?: number;
  /** BullMQ's lock duration and stalled-job check period, ms (defaults in {@link QUEUE_DEFAULTS}). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** One line per event (job started, resumed from a checkpoint, finished, failed). */
  log?: (line: string) => void;
  /** Aborting it stops the worker; its running jobs are left to the stalled-job check (another worker resumes them from their checkpoints). */
  signal?: AbortSignal;
}

const short = (job: Job | undefined) => (job?.id ?? '?').slice(0, 12);
const what = (job: Job<JobInput | PoolJobInput>) => ('pool' in job.data ? job.data.pool : [job.data.job.row, job.data.job.activation, `seed ${job.data.job.seed}`].filter((part) => part !== undefined).join(', '));

/**
 * Serves the sweep queue on Redis at `url` until stopped (`signal`) or until Redis goes away
 * (then it rejects with a QueueError naming the URL). Each job runs in a worker thread of its own
 * (BullMQ's sandboxed processor), its checkpoints go into the job's progress, and its outcome is
 * the job's return value, which the enqueuing `sweep` writes.
 */
export async function runWorker(url: string, options: WorkerOptions = {}): Promise<void> {
  await checkRedis(url);
  const log = options.log ?? (() => {});
  const processor = fileURLToPath(new URL('./processor.js', import.meta.url));
  const client = bullmqConnection(url);
  const worker = new Worker<JobInput | PoolJobInput, unknown>(QUEUE_DEFAULTS.name, processor, {
    connection: client,
    concurrency: options.concurrency ?? 1,
    useWorkerThreads: true,
    lockDuration: options.lockDurationMs ?? QUEUE_DEFAULTS.lockDurationMs,
    stalledInterval: options.stalledIntervalMs ?? QUEUE_DEFAULTS.stalledIntervalMs,
    maxStalledCount: QUEUE_DEFAULTS.maxStalledCount,
  });
  worker.on('active', (job) => {
    const checkpoint = progressCheckpoint(job.progress);
    log(`job ${short(job)} (${what(job)}) started${checkpoint ? `, resuming from its checkpoint at iteration ${checkpoint.state.iteration}` : ''} (attempt ${job.attemptsStarted})`);
  });
  worker.on('completed', (job, value) => {
    if ('pool' in job.data) return log(`job ${short(job)} (${what(job)}) finished`);
    const outcome = value as JobOutcome;
    log(`job ${short(job)} (${what(job)}) finished: ${outcome.result.iterations} iterations in ${outcome.run.seconds} s${outcome.run.resumedFrom !== undefined ? `, resumed from iteration ${outcome.run.resumedFrom}` : ''}`);
  });
  worker.on('failed', (job, err) => log(`job ${short(job)} failed (attempt ${job?.attemptsMade ?? '?'} of ${QUEUE_DEFAULTS.attempts}): ${err.message}`));
  worker.on('stalled', (id) => log(`job ${id.slice(0, 12)} stalled (its worker stopped renewing its lock): another worker takes it over from its checkpoint`));
  // NOTE: connection errors (each of the worker's connections reports each reconnection attempt) are not logged: the watch below reports Redis gone once, with the URL.
  worker.on('error', (err) => {
    if (isNotConnectionError(err)) log(`worker: ${err.message}`);
  });
  log(`worker serving ${url} (queue ${QUEUE_DEFAULTS.name}, concurrency ${options.concurrency ?? 1})`);
  const watch = watchRedis(url);
  const stopped = new Promise<void>((resolve) => {
    if (options.signal?.aborted) resolve();
    options.signal?.addEventListener('abort', () => resolve());
  });
  try {
    const outcome = await Promise.race([stopped.then(() => undefined), watch.lost]);
    if (outcome) throw outcome as QueueError;
  } finally {
    watch.stop();
    await withTimeout(worker.close(true), 3000).catch(() => undefined);
    client.disconnect();
  }
}
