import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SweepSpec } from '../src/sweep/spec.js';
import { jobResults, redisFixture, redisServerAvailable, startRedis, sweepFolder, TINY_SWEEP, unitwiseDone, waitFor, type RedisServer } from './helpers/sweep-processes.js';

if (!redisServerAvailable) console.warn('sweep-queue-faults tests skipped: redis-server is not installed (apt-get install redis-server; .ci/run installs it)');

/** Two long jobs (a few seconds each), so that a worker can be killed in the middle of one. */
const LONG_SWEEP: SweepSpec = { format: 'unitwise-sweep', experiment: 'autoencoder', seed: 3, runs: 1, methods: ['unitwise-natural'], budget: { kind: 'iterations', iterations: 6000 }, layers: [30, 10, 30], samples: 8 };
/** Short stalled-job detection for the tests (the defaults are 30 s). */
const FAST_STALL = ['--lock-duration', '2', '--stalled-interval', '1'];

const redisCli = (server: RedisServer, ...args: string[]) => spawnSync('redis-cli', ['-p', String(server.port), ...args], { encoding: 'utf8' }).stdout.trim();

// Real processes and a real Redis on a possibly loaded 2-core machine: timeouts far above what these need.
describe.skipIf(!redisServerAvailable)('sweep queue faults: a killed worker, a killed enqueuer, Redis unreachable or stopped', { timeout: 180_000 }, () => {
  const fixture = redisFixture();
  const start = fixture.start;
  let redis: RedisServer;
  beforeAll(() => {
    redis = fixture.redis();
  });

  it('a worker killed (SIGKILL) mid-job: another takes the job over from its checkpoint; every job once, results as the local pool’s', async () => {
    const { dir, spec } = sweepFolder(LONG_SWEEP);
    const killed = start(dir, 'worker', '--queue', redis.url, ...FAST_STALL);
    const sweep = start(dir, 'sweep', spec, '--out', 'queued', '--queue', redis.url, '--checkpoint-every', '0.2');
    await waitFor('the first job to start', () => /started/.test(killed.output()));
    await waitFor('a checkpoint', () => hasCheckpoint(redis));
    killed.child.kill('SIGKILL');
    await killed.exited;
    const other = start(dir, 'worker', '--queue', redis.url, ...FAST_STALL);
    expect(await sweep.exited, sweep.output()).toBe(0);
    const log = other.output();
    expect(log).toMatch(/resuming from its checkpoint at iteration [1-9]\d*/);
    expect(log.match(/finished: 6000 iterations/g)).toHaveLength(2);
    const resumed = readdirSync(join(dir, 'queued', 'jobs')).filter((f) => f.endsWith('.run.json')).map((f) => JSON.parse(readFileSync(join(dir, 'queued', 'jobs', f), 'utf8')) as { resumedFrom?: number });
    expect(resumed.filter((r) => r.resumedFrom !== undefined)).toHaveLength(1);
    other.child.kill('SIGTERM');
    const local = await unitwiseDone(dir, 'sweep', spec, '--out', 'local', '--quiet');
    expect(local.code, local.output).toBe(0);
    expect(jobResults(join(dir, 'queued'))).toEqual(jobResults(join(dir, 'local')));
  });

  it('an enqueuer killed mid-sweep reattaches with --resume and finishes; each job runs once', async () => {
    const { dir, spec } = sweepFolder({ ...LONG_SWEEP, methods: ['backprop', 'unitwise-natural'], budget: { kind: 'iterations', iterations: 1500 } });
    const worker = start(dir, 'worker', '--queue', redis.url);
    const first = start(dir, 'sweep', spec, '--out', 'out', '--queue', redis.url);
    await waitFor('a first result', () => existsSync(join(dir, 'out', 'jobs')) && jobResults(join(dir, 'out')).size >= 1);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await unitwiseDone(dir, 'sweep', spec, '--out', 'out', '--queue', redis.url, '--resume');
    expect(second.code, second.output).toBe(0);
    expect(jobResults(join(dir, 'out')).size).toBe(4);
    worker.child.kill('SIGTERM');
    await worker.exited;
    expect(worker.output().match(/started/g)).toHaveLength(4);
    expect(redisCli(redis, 'zcard', 'bull:unitwise-sweep:completed')).toBe('4');
  });

  it('Redis unreachable, or stopped mid-sweep: an error naming the URL; after a restart --resume finishes', async () => {
    const { dir, spec } = sweepFolder(TINY_SWEEP);
    const unreachable = await unitwiseDone(dir, 'sweep', spec, '--out', 'out', '--queue', 'redis://127.0.0.1:1');
    expect(unreachable.code).toBe(1);
    expect(unreachable.output).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1 /);
    const worker = await unitwiseDone(dir, 'worker', '--queue', 'redis://127.0.0.1:1');
    expect(worker.code).toBe(1);
    expect(worker.output).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1 /);

    const own = await startRedis();
    const sweep = start(dir, 'sweep', spec, '--out', 'out', '--queue', own.url); // no worker: it waits
    await waitFor('the jobs to be enqueued', () => /0\/8 done/.test(sweep.output()));
    await own.stop();
    expect(await sweep.exited).toBe(1);
    expect(sweep.output()).toMatch(new RegExp(`Redis at ${own.url.replace(/[/.]/g, '\\$&')} went away .*--resume`));
    const back = await startRedis(own.port);
    const helper = start(dir, 'worker', '--queue', back.url);
    const resumed = await unitwiseDone(dir, 'sweep', spec, '--out', 'out', '--queue', back.url, '--resume', '--quiet');
    helper.child.kill('SIGTERM');
    await back.stop();
    expect(resumed.code, resumed.output).toBe(0);
    expect(jobResults(join(dir, 'out')).size).toBe(8);
  });
});

/** Whether some job of the queue holds a checkpoint in its progress. */
function hasCheckpoint(server: RedisServer): boolean {
  const keys = spawnSync('redis-cli', ['-p', String(server.port), '--scan', '--pattern', 'bull:unitwise-sweep:*'], { encoding: 'utf8' }).stdout.split('\n').filter((k) => /:[0-9a-f]{64}$/.test(k));
  return keys.some((k) => spawnSync('redis-cli', ['-p', String(server.port), 'hget', k, 'progress'], { encoding: 'utf8' }).stdout.includes('checkpoint'));
}
