import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { NumericalError, problem } from '../errors.js';
import { runAutoencoder, type ReplicateSpec, type RunResult } from './run.js';

/**
 * Runs `runs` replication runs on `workers` worker threads (default: the number of cores).
 * Each run depends only on its index and the spec, so results do not depend on the number of
 * workers; they are returned in run order. With one worker the runs execute in this thread.
 */
export async function runReplication(runs: number, spec: ReplicateSpec, options: { workers?: number; onRunDone?: (done: number, total: number) => void } = {}): Promise<RunResult[]> {
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), runs));
  const results: RunResult[] = new Array(runs);
  let done = 0;
  const finish = (result: RunResult) => {
    results[result.run] = result;
    options.onRunDone?.(++done, runs);
  };
  if (workers === 1) {
    for (let r = 0; r < runs; r++) finish(await runAutoencoder(r, spec));
    return results;
  }
  let next = 0;
  const script = new URL('./worker.js', import.meta.url);
  await Promise.all(
    Array.from({ length: workers }, () => {
      const worker = new Worker(script);
      return new Promise<void>((resolve, reject) => {
        const send = () => {
          if (next >= runs) {
            void worker.terminate().then(() => resolve());
            return;
          }
          worker.postMessage({ run: next++, spec });
        };
        worker.on('message', (m: { ok: true; result: RunResult } | { ok: false; run: number; error: string }) => {
          if (!m.ok) {
            void worker.terminate();
            reject(new NumericalError([problem('run-failed', `replication run ${m.run} failed: ${m.error}`)]));
            return;
          }
          finish(m.result);
          send();
        });
        worker.on('error', reject);
        send();
      });
    }),
  );
  return results;
}
