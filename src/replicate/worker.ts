import { parentPort } from 'node:worker_threads';
import type { JobFunction } from './pool.js';

/** Worker thread of the job pool: imports the job's function and runs the jobs it is sent, one at a time. */
parentPort?.on('message', (message: { index: number; fn: JobFunction; input: unknown }) => {
  import(message.fn.module)
    .then((module: Record<string, (input: unknown) => Promise<unknown>>) => module[message.fn.name](message.input))
    .then(
      (output) => parentPort?.postMessage({ ok: true, index: message.index, output }),
      // A typed error's problems without their formatted 'error:' prefixes: the pool wraps them in its own.
      (err: Error & { problems?: Array<{ message: string }> }) => parentPort?.postMessage({ ok: false, index: message.index, error: err.problems ? err.problems.map((p) => p.message).join('; ') : err.message }),
    );
});
