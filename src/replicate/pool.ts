import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { NumericalError, UnitwiseError, UsageError, problem } from '../errors.js';
import { checkReplicateSpec, runAutoencoder, type ReplicateSpec, type RunResult } from './run.js';

/**
 * A job the pool can run: an exported async function of one structured-cloneable input, named
 * by its module's URL and export name, so that a worker thread can import it by itself.
 */
export interface JobFunction {
  /** `import.meta.url` of the module that exports the function. */
  module: string;
  /** Its export name. */
  name: string;
}

/**
 * Runs `fn` on every input on `workers` worker threads (default: the number of cores), and
 * returns the outputs in input order. Each job must depend only on its input, so that results
 * do not depend on the number of workers. With one worker the jobs run in this thread.
 * `onJobResult` receives each output as its job finishes (e.g. to write it at once).
 */
export async function runJobs<I, O>(fn: JobFunction, inputs: I[], options: { workers?: number; onJobDone?: (done: number, total: number) => void; onJobResult?: (index: number, output: O) => void } = {}): Promise<O[]> {
  const total = inputs.length;
  const requested = options.workers ?? availableParallelism();
  if (!(Number.isInteger(requested) && requested >= 1)) throw new UsageError([problem('workers', `workers ${requested}: give a positive integer`)]);
  const workers = Math.max(1, Math.min(requested, total));
  const results: O[] = new Array(total);
  let done = 0;
  const finish = (index: number, output: O) => {
    results[index] = output;
    options.onJobResult?.(index, output);
    options.onJobDone?.(++done, total);
  };
  if (workers === 1) {
    const run = (await import(fn.module))[fn.name] as (input: I) => Promise<O>;
    for (let i = 0; i < total; i++) finish(i, await run(inputs[i]));
    return results;
  }
  let next = 0;
  let failed = false;
  const script = new URL('./worker.js', import.meta.url);
  const pool = Array.from({ length: workers }, () => new Worker(script));
  // NOTE: the first failure stops every worker: no job is started after it.
  const stopAll = () => {
    failed = true;
    for (const w of pool) void w.terminate();
  };
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let busy = -1;
            const fail = (error: UnitwiseError) => {
              stopAll();
              reject(error);
            };
            const send = () => {
              if (failed || next >= total) {
                busy = -1;
                void worker.terminate().then(() => resolve());
                return;
              }
              busy = next++;
              worker.postMessage({ index: busy, fn, input: inputs[busy] });
            };
            worker.on('message', (m: { ok: true; index: number; output: O } | { ok: false; index: number; error: string }) => {
              if (!m.ok) return fail(new NumericalError([problem('job-failed', `job ${m.index} (${fn.name}) failed: ${m.error}`)]));
              finish(m.index, m.output);
              send();
            });
            worker.on('error', (err) => fail(new NumericalError([problem('job-failed', `a worker running ${fn.name} failed: ${err.message}`)])));
            worker.on('exit', (code) => {
              if (busy >= 0 && !failed) fail(new NumericalError([problem('job-failed', `the worker running job ${busy} (${fn.name}) exited (code ${code}) without a result`)]));
              resolve();
            });
            send();
          }),
      ),
    );
  } finally {
    if (failed) stopAll();
  }
  return results;
}

/** The input of one replication run. */
export interface ReplicationJob {
  run: number;
  spec: ReplicateSpec;
}

/** One replication run as a pool job. */
export function replicationJob(job: ReplicationJob): Promise<RunResult> {
  return runAutoencoder(job.run, job.spec);
}

/**
 * Runs `runs` replication runs of Section 4 on the pool; results in run order, independent of
 * the number of workers. The spec is checked first ({@link checkReplicateSpec}): a bad row or
 * option is a UsageError before any run starts.
 */
export async function runReplication(runs: number, spec: ReplicateSpec, options: { workers?: number; onRunDone?: (done: number, total: number) => void } = {}): Promise<RunResult[]> {
  checkReplicateSpec(spec);
  const jobs = Array.from({ length: runs }, (_, run): ReplicationJob => ({ run, spec }));
  return runJobs<ReplicationJob, RunResult>({ module: import.meta.url, name: 'replicationJob' }, jobs, { workers: options.workers, onJobDone: options.onRunDone });
}
