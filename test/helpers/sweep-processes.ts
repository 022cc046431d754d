import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SweepSpec } from '../../src/sweep/spec.js';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { repoRoot } from './documents.js';

/** A small sweep: 2 runs × 2 rows × 2 activations, 30 iterations on a 20-8-20 autoencoder. */
export const TINY_SWEEP: SweepSpec = {
  format: 'unitwise-sweep',
  experiment: 'autoencoder',
  seed: 1,
  runs: 2,
  methods: ['backprop', 'unitwise-natural'],
  budget: { kind: 'iterations', iterations: 30 },
  layers: [20, 8, 20],
  samples: 8,
};

/** The built CLI (`npm test` builds dist/ first). */
export const bin = join(repoRoot, 'bin/unitwise.js');

/** Whether Debian's redis-server is installed (the queue tests skip without it). */
export const redisServerAvailable = spawnSync('redis-server', ['--version']).status === 0;

/** A process of the test with its output so far. */
export interface Proc {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/** Starts `unitwise ARGS` in `cwd`, collecting stdout and stderr together. */
export function unitwise(cwd: string, ...args: string[]): Proc {
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => text, exited };
}

/** Runs `unitwise ARGS` to the end. */
export async function unitwiseDone(cwd: string, ...args: string[]): Promise<{ code: number | string; output: string }> {
  const p = unitwise(cwd, ...args);
  const code = await p.exited;
  return { code, output: p.output() };
}

/** Waits until `test()` holds (polling every 100 ms), or fails after `ms`. */
export async function waitFor(what: string, test: () => boolean, ms = 60_000): Promise<void> {
  const start = Date.now();
  while (!test()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of the test on a loopback port, without persistence. */
export interface RedisServer {
  url: string;
  port: number;
  stop: () => Promise<void>;
}

/** Starts `redis-server --port P --save '' --appendonly no` on a free port (or `port`) and waits until it answers. */
export async function startRedis(port?: number): Promise<RedisServer> {
  const p = port ?? (await freePort());
  const child = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await waitFor(`redis-server on port ${p}`, () => spawnSync('redis-cli', ['-p', String(p), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG', 10_000);
  return {
    url: `redis://127.0.0.1:${p}`,
    port: p,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A scratch folder with a sweep file written into it. */
export function sweepFolder(spec: object, name = 'sweep.spec.json'): { dir: string; spec: string } {
  const dir = mkdtempSync(join(tmpdir(), 'unitwise-sweep-'));
  writeFileSync(join(dir, name), JSON.stringify(spec, null, 2));
  return { dir, spec: name };
}

/** The result files of a sweep folder (`jobs/<digest>.json`) by name, with their bytes. */
export function jobResults(dir: string): Map<string, string> {
  const jobs = join(dir, 'jobs');
  return new Map(readdirSync(jobs).filter((f) => /^[0-9a-f]{64}\.json$/.test(f)).sort().map((f) => [f, readFileSync(join(jobs, f), 'utf8')]));
}

/**
 * A redis-server for a test file (started before its tests, flushed before each, stopped after
 * them) and a way to start `unitwise` processes that are killed at the end if still running.
 */
export function redisFixture(): { redis: () => RedisServer; start: (cwd: string, ...args: string[]) => Proc } {
  let redis: RedisServer | undefined;
  const procs: Proc[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  beforeEach(() => {
    spawnSync('redis-cli', ['-p', String(redis!.port), 'flushall']);
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await redis?.stop();
  });
  return {
    redis: () => redis!,
    start: (cwd, ...args) => {
      const p = unitwise(cwd, ...args);
      procs.push(p);
      return p;
    },
  };
}
