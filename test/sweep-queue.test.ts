import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

});
