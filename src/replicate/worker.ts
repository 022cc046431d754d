import { parentPort } from 'node:worker_threads';
import { runAutoencoder, type ReplicateSpec } from './run.js';

/** Worker thread of the replication pool: runs the runs it is sent, one at a time. */
parentPort?.on('message', (message: { run: number; spec: ReplicateSpec }) => {
  runAutoencoder(message.run, message.spec).then(
    (result) => parentPort?.postMessage({ ok: true, result }),
    (err: Error) => parentPort?.postMessage({ ok: false, run: message.run, error: err.message }),
  );
});
