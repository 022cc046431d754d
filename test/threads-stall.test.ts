import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { randomNetwork } from './helpers/random-network.js';

// The worker threads import compiled modules, so this suite uses dist/ (built by `npm test`).
const dist = (path: string) => new URL(`../dist/${path}`, import.meta.url).href;
const { createModel } = (await import(dist('index.js'))) as typeof import('../src/index.js');
const { KernelThreads } = (await import(dist('backend/cpu/kernel-threads.js'))) as typeof import('../src/backend/cpu/kernel-threads.js');
const { awaitChunks, chunkTag, DONE_SLOT } = (await import(dist('backend/cpu/thread-protocol.js'))) as typeof import('../src/backend/cpu/thread-protocol.js');

const chunkWords = () => new BigInt64Array(new SharedArrayBuffer(16));

describe('threaded CPU engine: a worker that never finishes its chunk', () => {
  it('awaitChunks gives up once no chunk has finished for the stall time', () => {
    const chunks = chunkWords();
    const tag = chunkTag(1);
    Atomics.store(chunks, DONE_SLOT, tag + 2n);
    expect(awaitChunks(chunks, tag + 3n, 50)).toBe(false);
    expect(Atomics.load(chunks, DONE_SLOT)).toBe(tag + 2n);
  });

  it('awaitChunks returns once another thread finishes the last chunk', async () => {
    const chunks = chunkWords();
    const tag = chunkTag(7);
    Atomics.store(chunks, DONE_SLOT, tag);
    const finisher = new Worker(
      `const { workerData } = require('node:worker_threads');
       const { chunks, slot } = workerData;
       for (let i = 0; i < 2; i++) {
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
         Atomics.add(chunks, slot, 1n);
         Atomics.notify(chunks, slot);
       }`,
      { eval: true, workerData: { chunks, slot: DONE_SLOT } },
    );
    expect(awaitChunks(chunks, tag + 2n, 60_000)).toBe(true);
    await new Promise((resolve) => finisher.once('exit', resolve));
  });

  it('a worker that exited leaves its chunks to the others: calls still complete, with the same numbers', async () => {
    const doc = randomNetwork({ interpretation: 'square', seed: 3, inputs: 3, hidden: 5, outputs: 2, density: 0.5 });
    const pool = new KernelThreads(createModel(doc).net, 3, 5_000);
    const workers = (pool as unknown as { workers: Worker[] }).workers;
    await workers[0].terminate();
    const n = 10_000;
    const shared = () => new Float64Array(new SharedArrayBuffer(8 * n));
    const [x, y, out] = [shared(), shared(), shared()];
    for (let i = 0; i < n; i++) [x[i], y[i]] = [i, 2 * i + 1];
    const ranges = Int32Array.from({ length: 9 }, (_, i) => Math.round((i * n) / 8));
    pool.run({ op: 'combine', out, alpha: 2, x, beta: -1, y, start: 0, end: n }, ranges);
    for (let i = 0; i < n; i++) if (out[i] !== -1) expect.fail(`entry ${i}: ${out[i]}, expected -1`);
    pool.close();
    await pool.exited;
  });
});
