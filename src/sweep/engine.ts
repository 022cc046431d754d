import { NumericalError, problem } from '../errors.js';
import { runJobs } from '../replicate/pool.js';
import type { JobInput, JobOutcome } from './job.js';

/** Counts an engine reports while a sweep runs (this session's jobs only). */
export interface EngineCounts {
  /** Finished with a result. */
  done: number;
  /** Being run now (as far as the engine knows). */
  running: number;
  /** Failed for good (retries spent). */
  failed: number;
  /** Attempts that failed and were tried again, or taken over after their worker died. */
  retried: number;
}

/** A job that failed for good, with its last error. */
export interface FailedJob {
  digest: string;
  error: string;
}

/** Callbacks of {@link SweepEngine.run}. */
export interface EngineHooks {
  /** A job finished: write it now (the sweep's files are written by the process that runs the sweep). */
  onOutcome: (digest: string, outcome: JobOutcome) => void;
  onCounts?: (counts: EngineCounts) => void;
}

/** Where a sweep's jobs run: the local worker-thread pool, or a queue served by workers. */
export interface SweepEngine {
  /** Its name in messages (`local pool (2 threads)`, `queue redis://...`). */
  readonly name: string;
  /** Runs every input; resolves when each has finished or failed for good. */
  run(inputs: readonly JobInput[], hooks: EngineHooks): Promise<FailedJob[]>;
  /** Releases connections (no-op for the local pool). */
  close(): Promise<void>;
}

/**
 * The embedded engine: the worker-thread pool of `replicate` (`runJobs`), each job written as it
 * finishes. No checkpoints (a job killed with this process starts over when the sweep is
 * resumed). The first failure stops the pool and is thrown.
 */
export function localEngine(options: { workers?: number } = {}): SweepEngine {
  return {
    name: `local pool${options.workers !== undefined ? ` (${options.workers} worker thread${options.workers === 1 ? '' : 's'})` : ''}`,
    async run(inputs, hooks) {
      let done = 0;
      const running = (total: number) => Math.min(options.workers ?? total, total - done);
      hooks.onCounts?.({ done, running: running(inputs.length), failed: 0, retried: 0 });
      try {
        await runJobs<JobInput, JobOutcome>({ module: new URL('./job.js', import.meta.url).href, name: 'sweepPoolJob' }, [...inputs], {
          workers: options.workers,
          onJobResult: (index, outcome) => {
            hooks.onOutcome(inputs[index].digest, outcome);
            done++;
            hooks.onCounts?.({ done, running: running(inputs.length), failed: 0, retried: 0 });
          },
        });
      } catch (err) {
        if (err instanceof NumericalError) throw new NumericalError([problem('job-failed', `${err.message}; the jobs finished so far are kept: fix the cause and run the sweep again with --resume`)]);
        throw err;
      }
      return [];
    },
    async close() {},
  };
}

/**
 * The distributed engine on Redis at `url` (see `queueEngine`), loading BullMQ only now: a
 * second or so on a loaded machine, which the commands that do not use a queue do not pay.
 */
export async function openQueueEngine(url: string): Promise<import('./queue-engine.js').QueueEngine> {
  const { queueEngine } = await import('./queue-engine.js');
  return queueEngine(url);
}

/** Serves the queue at `url` (see `runWorker`), loading BullMQ only now. */
export async function serveQueue(url: string, options: import('./worker.js').WorkerOptions = {}): Promise<void> {
  const { runWorker } = await import('./worker.js');
  return runWorker(url, options);
}
