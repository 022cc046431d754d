import { Queue, type JobsOptions } from 'bullmq';
import { NumericalError, QueueError, UnitwiseError, UsageError, problem } from '../errors.js';
import type { JobFunction } from '../replicate/pool.js';
import { jobDigest } from './digest.js';
import { POOL_JOBS, type PoolJobInput } from './pool-jobs.js';
import type { EngineCounts, FailedJob, SweepEngine } from './engine.js';
import type { JobInput, JobOutcome } from './job.js';
import { QUEUE_DEFAULTS } from './queue-settings.js';
import { bullmqConnection, parseRedisUrl, probeConnection } from './redis-client.js';

/** BullMQ options of every sweep job: the digest is the job id, so enqueuing a job twice adds nothing. */
export function jobOptions(digest: string): JobsOptions {
  return { jobId: digest, attempts: QUEUE_DEFAULTS.attempts, backoff: { type: 'exponential', delay: QUEUE_DEFAULTS.backoffMs }, removeOnComplete: false, removeOnFail: false };
}

/** Pings Redis at `url` once; a QueueError naming the URL when it does not answer within `timeoutMs`. */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  const client = probeConnection(url, timeoutMs);
  const { host, port } = parseRedisUrl(url);
  try {
    await withTimeout(
      client.connect().then(() => client.ping()),
      timeoutMs,
    );
  } catch (err) {
    throw new QueueError([problem('queue', `cannot reach Redis at ${url} (${host}:${port}): ${(err as Error).message}; start redis-server there (see the README's "Sweeps on many machines") or give another --queue URL`)]);
  } finally {
    client.disconnect();
  }
}

/**
 * Watches Redis at `url`: `lost()` resolves with a QueueError naming the URL once Redis has not
 * answered a PING for `lostAfterSeconds`. `stop()` ends the watch.
 */
export function watchRedis(url: string, lostAfterSeconds: number = QUEUE_DEFAULTS.lostAfterSeconds): { lost: Promise<QueueError>; stop: () => void } {
  let client = probeConnection(url, 1000);
  let stopped = false;
  let lastAnswer = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const lost = new Promise<QueueError>((resolve) => {
    const tick = async () => {
      if (stopped) return;
      try {
        if (client.status !== 'ready') {
          // A probe client never reconnects by itself: a new one per attempt while Redis is away.
          client.disconnect();
          client = probeConnection(url, 1000);
          await withTimeout(client.connect(), 1000);
        }
        await withTimeout(client.ping(), 1000);
        lastAnswer = performance.now();
      } catch {
        if (performance.now() - lastAnswer > lostAfterSeconds * 1000) {
          resolve(new QueueError([problem('queue', `Redis at ${url} went away (no answer for ${lostAfterSeconds} s); the finished jobs are written: start Redis again and run the same command with --resume to continue`)]));
          return;
        }
      }
      if (!stopped) timer = setTimeout(() => void tick(), 500);
    };
    void tick();
  });
  return {
    lost,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      client.disconnect();
    },
  };
}

/** A queue that also runs named pool jobs (see `pool-jobs.ts`), as `runJobs` runs them on threads. */
export interface QueueEngine extends SweepEngine {
  /**
   * Runs `fn` (one of {@link POOL_JOBS}) on every input on the queue's workers and returns the
   * outputs in input order; each input is one BullMQ job, its id the digest of the function's
   * name and the input. A job failing for good fails the call (NumericalError) once the others ended.
   */
  runPool<I, O>(fn: JobFunction, inputs: readonly I[], options?: { onJobDone?: (done: number, total: number) => void }): Promise<O[]>;
}

/**
 * The distributed engine: BullMQ on Redis at `url`. `run` enqueues one job per digest (one
 * already in the queue, waiting, running or finished, is not added again; one that failed for
 * good before is retried), then follows them until each has finished or failed for good, and
 * hands each result over (workers return results through the queue; this process writes
 * them). A restarted enqueuer reattaches: finished jobs' results are taken from the queue.
 */
export async function queueEngine(url: string): Promise<QueueEngine> {
  await checkRedis(url);
  // NOTE: BullMQ leaves a client it was given open (it is the caller's): close() closes it.
  const client = bullmqConnection(url);
  const queue = new Queue(QUEUE_DEFAULTS.name, { connection: client });
  // NOTE: connection errors are reported once, by the watch below (with the URL and what to do), not by BullMQ's events.
  queue.on('error', () => {});
  const watch = watchRedis(url);
  let lost: QueueError | undefined;
  void watch.lost.then((err) => (lost = err));
  // A command that fails while Redis is away is tried again until the watch gives Redis up.
  const retrying = async <T>(step: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await step();
      } catch (err) {
        if (err instanceof UnitwiseError) throw err;
        if (lost) throw lost;
        await new Promise((r) => setTimeout(r, QUEUE_DEFAULTS.pollMs));
      }
    }
  };
  /** Enqueues the jobs (each once), then polls them until every one finished or failed for good. */
  const follow = (items: ReadonlyArray<{ digest: string; data: object }>, onResult: (digest: string, value: unknown) => void, onCounts?: (counts: EngineCounts) => void): Promise<FailedJob[]> => {
    const failed: FailedJob[] = [];
    const open = new Set(items.map((i) => i.digest));
    const work = async () => {
      for (const item of items) {
        await retrying(async () => {
          const existing = await queue.getJob(item.digest);
          if (existing && (await existing.getState()) === 'failed') await existing.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
          else if (!existing) await queue.add('job', item.data, jobOptions(item.digest));
        });
      }
      let done = 0;
      while (open.size > 0) {
        const counts: EngineCounts = { done, running: 0, failed: failed.length, retried: 0 };
        // NOTE: the state first, then the job: a job read before its state could miss the return value of a job that completed in between.
        const jobs = await retrying(() => Promise.all([...open].map((id) => queue.getJobState(id).then(async (state) => ({ id, state, job: await queue.getJob(id) })))));
        for (const { id, job, state } of jobs) {
          if (!job || state === 'unknown') throw new QueueError([problem('queue', `job ${id.slice(0, 12)} vanished from the queue at ${url} (was Redis flushed?); run the same command with --resume to enqueue it again`)]);
          counts.retried += Math.max(0, (job.attemptsStarted ?? 0) - 1);
          if (state === 'completed') {
            onResult(id, job.returnvalue);
            open.delete(id);
            counts.done = ++done;
          } else if (state === 'failed') {
            failed.push({ digest: id, error: job.failedReason ?? 'unknown error' });
            open.delete(id);
            counts.failed = failed.length;
          } else if (state === 'active') counts.running++;
        }
        onCounts?.(counts);
        if (open.size > 0) await new Promise((r) => setTimeout(r, QUEUE_DEFAULTS.pollMs));
      }
      return failed;
    };
    return Promise.race([work(), watch.lost.then((err) => Promise.reject(err))]);
  };
  return {
    name: `queue ${url}`,
    run(inputs, hooks) {
      const items = inputs.map((i) => ({ digest: i.digest, data: { digest: i.digest, job: i.job, checkpointSeconds: i.checkpointSeconds } satisfies JobInput }));
      return follow(items, (digest, value) => hooks.onOutcome(digest, value as JobOutcome), hooks.onCounts);
    },
    async runPool<I, O>(fn: JobFunction, inputs: readonly I[], options: { onJobDone?: (done: number, total: number) => void } = {}): Promise<O[]> {
      if (!Object.hasOwn(POOL_JOBS, fn.name)) throw new UsageError([problem('queue', `${fn.name} is not a job the queue's workers run; they run ${Object.keys(POOL_JOBS).join(', ')}`)]);
      const digests = inputs.map((input) => jobDigest({ pool: fn.name, input }));
      const items = [...new Map(inputs.map((input, i): [string, { digest: string; data: PoolJobInput }] => [digests[i], { digest: digests[i], data: { digest: digests[i], pool: fn.name, input } }])).values()];
      const outputs = new Map<string, O>();
      let reported = -1;
      const failed = await follow(items, (digest, value) => outputs.set(digest, value as O), (c) => {
        if (c.done !== reported) options.onJobDone?.((reported = c.done), items.length);
      });
      if (failed.length > 0) throw new NumericalError(failed.map((f) => problem('job-failed', `job ${f.digest.slice(0, 12)} (${fn.name}) failed after its retries: ${f.error.replace(/^error: /, '')}`)));
      return digests.map((d) => outputs.get(d) as O);
    },
    async close() {
      watch.stop();
      await withTimeout(queue.close(), 2000).catch(() => undefined);
      client.disconnect();
    },
  };
}

/** `promise`, or a rejection after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
