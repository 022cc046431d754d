import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expandSweep } from '../src/sweep/spec.js';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jobResults, redisFixture, redisServerAvailable, sweepFolder, TINY_SWEEP, unitwiseDone, waitFor, type RedisServer } from './helpers/sweep-processes.js';

if (!redisServerAvailable) console.warn('sweep-queue tests skipped: redis-server is not installed (apt-get install redis-server; .ci/run installs it)');

const redisCli = (server: RedisServer, ...args: string[]) => spawnSync('redis-cli', ['-p', String(server.port), ...args], { encoding: 'utf8' }).stdout.trim();

// Real processes and a real Redis on a possibly loaded 2-core machine: timeouts far above what these need.
describe.skipIf(!redisServerAvailable)('unitwise sweep --queue and unitwise worker (BullMQ on a redis-server of the test)', { timeout: 180_000 }, () => {
  const fixture = redisFixture();
  const start = fixture.start;
  let redis: RedisServer;
  beforeAll(() => {
    redis = fixture.redis();
  });

  it('two workers give the local pool’s job results and tables byte for byte; enqueuing again adds nothing', async () => {
    const { dir, spec } = sweepFolder(TINY_SWEEP);
    const local = await unitwiseDone(dir, 'sweep', spec, '--out', 'local', '--workers', '2', '--quiet');
    expect(local.code, local.output).toBe(0);
    const workers = [start(dir, 'worker', '--queue', redis.url), start(dir, 'worker', '--queue', redis.url)];
    const queued = await unitwiseDone(dir, 'sweep', spec, '--out', 'queued', '--queue', redis.url);
    expect(queued.code, queued.output).toBe(0);
    expect(queued.output).toMatch(/8 jobs run on the queue redis:\/\/127\.0\.0\.1:\d+/);
    expect(queued.output).toMatch(/8\/8 done {2}0 running {2}0 failed {2}0 retried/);
    expect(jobResults(join(dir, 'queued'))).toEqual(jobResults(join(dir, 'local')));
    for (const file of ['table.md', 'table.csv', 'table2.md']) expect(readFileSync(join(dir, 'queued', file), 'utf8')).toBe(readFileSync(join(dir, 'local', file), 'utf8'));
    // Both workers served the queue.
    await waitFor('worker logs', () => workers.every((w) => /finished: 30 iterations/.test(w.output())));
    // The same jobs enqueued again (another folder, no worker needed): the queue's results, nothing added.
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    const again = await unitwiseDone(dir, 'sweep', spec, '--out', 'again', '--queue', redis.url, '--quiet');
    expect(again.code, again.output).toBe(0);
    expect(jobResults(join(dir, 'again'))).toEqual(jobResults(join(dir, 'local')));
    expect(redisCli(redis, 'zcard', 'bull:unitwise-sweep:completed')).toBe('8');
  });

  it('replicate autoencoder --queue: the replication as a sweep on the workers, Table 2 as the local replication’s byte for byte', async () => {
    const { dir } = sweepFolder(TINY_SWEEP);
    const args = ['replicate', 'autoencoder', '--runs', '2', '--budget', 'iterations:20', '--methods', 'backprop,unitwise-natural', '--quiet'];
    const worker = start(dir, 'worker', '--queue', redis.url, '--concurrency', '2');
    const queued = await unitwiseDone(dir, ...args, '--out', 'queued', '--queue', redis.url);
    worker.child.kill('SIGTERM');
    expect(queued.code, queued.output).toBe(0);
    expect(queued.output).toMatch(/8 jobs run on the queue/);
    const local = await unitwiseDone(dir, ...args, '--out', 'local');
    expect(local.code, local.output).toBe(0);
    expect(readFileSync(join(dir, 'queued', 'table2.md'), 'utf8')).toBe(readFileSync(join(dir, 'local', 'table2.md'), 'utf8'));
    expect(jobResults(join(dir, 'queued')).size).toBe(8);
  });


  it('a job that fails on every attempt is retried with backoff up to the limit, then reported with its error; the others finish', async () => {
    const { dir, spec } = sweepFolder(TINY_SWEEP);
    const sweep = start(dir, 'sweep', spec, '--out', 'out', '--queue', redis.url);
    await waitFor('the jobs to be enqueued', () => /0\/8 done/.test(sweep.output()));
    // A checkpoint that cannot be resumed (other settings): every attempt of that job fails.
    const digest = expandSweep(TINY_SWEEP)[3].digest;
    const bad = { checkpoint: { digest, state: { version: 2, settings: { method: 'adagrad' } }, params: [], initialLoss: 1, losses: [], elapsed: [] } };
    redisCli(redis, 'hset', `bull:unitwise-sweep:${digest}`, 'progress', JSON.stringify(bad));
    const worker = start(dir, 'worker', '--queue', redis.url);
    expect(await sweep.exited, sweep.output()).toBe(1);
    worker.child.kill('SIGTERM');
    expect(sweep.output()).toMatch(new RegExp(`job ${digest.slice(0, 12)} \\(unitwise-natural, tanh, seed 1, lr 0\\.01, ε 0\\.0001\\) failed after its retries: cannot resume: the saved run used different settings`));
    expect(sweep.output()).toMatch(/1 of 8 jobs failed; the 7 finished are kept/);
    expect(sweep.output()).toMatch(/7\/8 done {2}0 running {2}1 failed {2}2 retried/);
    expect(worker.output().match(new RegExp(`job ${digest.slice(0, 12)} failed \\(attempt \\d of 3\\)`, 'g'))).toHaveLength(3);
    expect(jobResults(join(dir, 'out')).size).toBe(7);
  });

  it('benchmark --queue: the MNIST benchmark’s jobs on the workers, the same report', async () => {
    const { dir } = sweepFolder(TINY_SWEEP);
    const worker = start(dir, 'worker', '--queue', redis.url, '--concurrency', '2');
    const args = ['benchmark', 'mnist-classifier', '--out', 'out', '--methods', 'backprop,natural', '--budget', '0.4', '--search-budget', '0.1', '--train', '40', '--test', '20', '--train-eval', '10', '--batch-size', '8', '--eval-points', '2', '--quiet'];
    const r = await unitwiseDone(dir, ...args, '--queue', redis.url);
    worker.child.kill('SIGTERM');
    expect(r.code, r.output).toBe(0);
    const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as { methods: Array<{ method: string; status: string; search?: unknown[]; runs: Array<{ status: string }> }> };
    expect(results.methods.map((m) => [m.method, m.status])).toEqual([['backprop', 'ran'], ['natural', 'skipped']]);
    expect(results.methods[0].search).toHaveLength(4);
    expect(results.methods[0].runs.map((run) => run.status)).toEqual(['done']);
    expect(worker.output().match(/\(benchmarkPoolJob\) finished/g)).toHaveLength(5);
  });
});
