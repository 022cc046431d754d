import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRows } from '../src/replicate/rows.js';
import { checkReplicateSpec, rowOptions } from '../src/replicate/run.js';
import { repoRoot } from './helpers/documents.js';

const bin = join(repoRoot, 'bin/unitwise.js');
const net = join(repoRoot, 'networks/tiny-bernoulli.json');
const data = join(repoRoot, 'networks/tiny-bernoulli.data.json');
let dir: string;

/** Runs the real binary (built by `npm test`'s pretest step). */
function run(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(...args: string[]): string {
  const r = run(...args);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unitwise-baseline-options-'));
});

// One step of Adam is sign-like, m̂/(√v̂ + ε) = G/(|G| + ε) with the bias corrections: β1 and β2
// cancel there, ε does not. One heavy-ball step is G whatever μ; Nesterov's is G + μG.
describe('adam and momentum options on every command that takes a method (real binary)', { timeout: 240_000 }, () => {
  it('step: --adam-epsilon and --momentum with --nesterov reach the method; bad or misplaced values are usage errors', () => {
    const step = (...extra: string[]) => ok('step', net, '--data', data, '--lr', '0.5', '--out', '-', ...extra);
    expect(step('--method', 'adam', '--adam-epsilon', '1')).not.toBe(step('--method', 'adam'));
    expect(step('--method', 'adam', '--adam-epsilon', '1e-8')).toBe(step('--method', 'adam'));
    expect(step('--method', 'momentum', '--nesterov', '--momentum', '0.5')).not.toBe(step('--method', 'momentum', '--nesterov'));
    const bad = run('step', net, '--data', data, '--method', 'adam', '--adam-beta1', '1.5', '--out', '-');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--adam-beta1 1\.5: give a number in \[0, 1\)/);
    const misplaced = run('step', net, '--data', data, '--method', 'backprop', '--momentum', '0.5', '--out', '-');
    expect(misplaced.status).toBe(2);
    expect(misplaced.stderr).toMatch(/--momentum applies to the momentum method only, not backprop; drop it or give --method momentum/);
  });

  it('inspect: --adam-epsilon changes the printed direction; --nesterov without momentum is refused', () => {
    const direction = (...extra: string[]) => JSON.stringify(JSON.parse(ok('inspect', net, '--data', data, '--method', 'adam', ...extra)).direction);
    expect(direction('--adam-epsilon', '0.5')).not.toBe(direction());
    const r = run('inspect', net, '--data', data, '--method', 'kfac', '--nesterov');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--nesterov applies to the momentum method only, not kfac/);
  });

  it('compare-directions: the options reach the compared baseline (and the --along run); without it they are refused', () => {
    const cosines = (...extra: string[]) => JSON.stringify(JSON.parse(ok('compare-directions', net, '--data', data, '--methods', 'adam,momentum', '--json', ...extra)).methods);
    const plain = cosines();
    expect(cosines('--adam-epsilon', '0.5')).not.toBe(plain);
    const along = (...extra: string[]) => ok('compare-directions', net, '--data', data, '--methods', 'backprop', '--along', 'adam', '--iterations', '3', '--lr', '0.1', '--log', '-', '--quiet', ...extra);
    expect(along('--adam-beta1', '0.5')).not.toBe(along());
    const r = run('compare-directions', net, '--data', data, '--methods', 'backprop,kfac', '--adam-beta2', '0.9');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--adam-beta2 applies to the adam method only, not backprop, kfac; drop it or add adam to the methods/);
  });

  it('invariance: --adam-beta1 changes adam’s steps after the first; a bad value is a usage error', () => {
    const table = (...extra: string[]) => {
      const r = run('invariance', net, '--data', data, '--method', 'adam', '--steps', '3', '--lr', '0.01', ...extra);
      expect(r.status, r.stderr).toBe(3); // adam is not invariant (exit 3: the twins parted)
      return r.stdout.split('\n').filter((l) => /^\s+[0-3] /.test(l));
    };
    const plain = table();
    const changed = table('--adam-beta1', '0.5');
    expect(changed[1]).toBe(plain[1]); // step 1: β1 cancels (see above)
    expect(changed[3]).not.toBe(plain[3]);
    const r = run('invariance', net, '--data', data, '--all-methods', '--methods', 'adam,backprop', '--momentum', '-1');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--momentum -1: give a number in \[0, 1\)/);
    expect(r.stderr).toMatch(/--momentum applies to the momentum method only, not adam, backprop/);
  });

  it('replicate: the spec carries the options to the adam rows only (worker threads included)', () => {
    const [adam, backprop] = parseRows(['adam', 'backprop']);
    expect(rowOptions(adam, { baselines: { adamBeta1: 0.5, momentum: 0.7 } }, 1)).toMatchObject({ method: 'adam', adamBeta1: 0.5 });
    expect(rowOptions(adam, { baselines: { adamBeta1: 0.5, momentum: 0.7 } }, 1)).not.toHaveProperty('momentum');
    expect(rowOptions(backprop, { baselines: { adamBeta1: 0.5 } }, 1)).not.toHaveProperty('adamBeta1');
    expect(() => checkReplicateSpec({ methods: ['backprop'], budget: { kind: 'iterations', iterations: 1 }, seed: 1, baselines: { momentum: 0.5 } })).toThrow(/--momentum applies to the momentum method only, not backprop/);
    const curve = (out: string, ...extra: string[]) => {
      ok('replicate', 'autoencoder', '--runs', '1', '--workers', '1', '--budget', 'iterations:5', '--methods', 'adam', '--out', out, '--quiet', ...extra);
      return JSON.parse(readFileSync(join(dir, out, 'curves/run-00.json'), 'utf8')).curves.adam.sigmoid.finalLoss as number;
    };
    expect(curve('rep-beta', '--adam-beta1', '0.5')).not.toBe(curve('rep-default'));
    const r = run('replicate', 'autoencoder', '--runs', '1', '--methods', 'backprop', '--adam-epsilon', '0', '--out', 'rep-bad');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--adam-epsilon 0: /);
  });
});
