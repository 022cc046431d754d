import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateRandomDag } from '../src/generate/random-dag.js';
import { Prng } from '../src/random/prng.js';
import { repoRoot } from './helpers/documents.js';

const bin = join(repoRoot, 'bin/unitwise.js');
let dir: string;

/** Runs the real binary (built by `npm test`'s pretest step). */
function run(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unitwise-threads-'));
  // Just above the 10⁵ edges where the threads engage: 12,750 non-input units of fan-in 8, some edges skipping levels
  // (most hidden units reach no output: the CLI warns about each, alike on any number of threads).
  const doc = generateRandomDag({ units: 17_000, fanIn: 8, outputs: 6, levels: 4, skip: 0.2, seed: 3 });
  writeFileSync(join(dir, 'big.json'), JSON.stringify(doc));
  const nIn = doc.nodes.filter((n) => n.attributes.role === 'input').length;
  const rng = new Prng(5);
  const bits = (n: number) => Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 1 : 0));
  writeFileSync(join(dir, 'data.json'), JSON.stringify({ inputs: Array.from({ length: 5 }, () => bits(nIn)), targets: Array.from({ length: 5 }, () => bits(6)) }));
});

// Real processes on a possibly loaded 2-core machine: a timeout far above what these need.
describe('unitwise --threads (real binary)', { timeout: 240_000 }, () => {
  it('a step on a network of ≥ 10⁵ edges writes the same file on 2 threads as on 1', () => {
    const one = run('step', 'big.json', '--data', 'data.json', '--method', 'unitwise-natural', '--threads', '1', '--out', 'one.json');
    expect(one.status, one.stderr).toBe(0);
    const two = run('step', 'big.json', '--data', 'data.json', '--method', 'unitwise-natural', '--threads', '2', '--out', 'two.json');
    expect(two.status, two.stderr).toBe(0);
    expect(two.stderr).toBe(one.stderr);
    const [a, b] = ['one.json', 'two.json'].map((f) => readFileSync(join(dir, f), 'utf8'));
    expect(b === a, 'the two networks differ').toBe(true);
    expect(a).not.toBe(readFileSync(join(dir, 'big.json'), 'utf8'));
  });

  it('--threads is a positive integer, and only the cpu backend takes more than 1', () => {
    const zero = run('evaluate', 'big.json', '--data', 'data.json', '--threads', '0');
    expect(zero.status).not.toBe(0);
    expect(zero.stderr).toMatch(/--threads 0: give a positive integer/);
    const tfjs = run('evaluate', 'big.json', '--data', 'data.json', '--backend', 'tfjs', '--threads', '2');
    expect(tfjs.status).not.toBe(0);
    expect(tfjs.stderr).toMatch(/--threads 2 applies to --backend cpu, not 'tfjs'/);
    expect(run('step', '--help').stdout).toMatch(/--threads/);
  });
});
