import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringifyJson } from '../src/json/stringify-json.js';
import { repoRoot } from './helpers/documents.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

const bin = join(repoRoot, 'bin/unitwise.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, 'invariance', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const net = join(repoRoot, 'networks/autoencoder-seed1-sigmoid.json');
const data = join(repoRoot, 'networks/autoencoder-seed1.data.json');

// Real processes on a possibly loaded 2-core machine: a timeout far above what these need (a few seconds here).
describe('unitwise invariance (real binary)', { timeout: 240_000 }, () => {
  it('sigmoid↔tanh on the autoencoder with ε = 0: an invariant method agrees step by step (exit 0)', () => {
    const r = run(net, '--data', data, '--method', 'backpropagated-metric');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/singular and are solved in the least-squares sense/);
    expect(r.stdout.match(/^\s+\d+ +[\d.]+ +[\d.]+ +\d\.\d+e-1[5-9]$/gm)).toHaveLength(5);
    expect(r.stdout).toMatch(/agree within 1e-8 over 5 steps/);
  });

  it('backprop parts at step 1 (exit 3)', () => {
    const r = run(net, '--data', data, '--method', 'backprop');
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/parted at step 1: difference \d\.\d+e-4 > 1e-8/);
  });

  it('--all-methods: every verdict matches the paper on the autoencoder (ε = 0)', () => {
    const r = run(net, '--data', data, '--all-methods');
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout.match(/as expected/g)).toHaveLength(11);
    expect(r.stdout).not.toMatch(/UNEXPECTED/);
  });

  it('with ε > 0 the trajectories of an invariant method drift apart (Figure 4)', () => {
    const r = run(net, '--data', data, '--method', 'unitwise-natural', '--epsilon', '1e-4', '--lr', '0.01', '--steps', '5');
    expect(r.status).toBe(3);
  });

  it('--reparametrize random and --recombine random on a network with invertible blocks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-inv-'));
    const doc = randomNetwork({ interpretation: 'bernoulli', seed: 3, activations: ['sigmoid', 'tanh'], inputs: 3, hidden: 3, outputs: 3, density: 0.8 });
    writeFileSync(join(dir, 'n.json'), stringifyJson(doc));
    writeFileSync(join(dir, 'd.json'), stringifyJson(randomData(doc, 40, 3)));
    // natural is left out: with ε = 0 its whole-network steps saturate this random network's outputs at once.
    const methods = 'backprop,unitwise-natural,quasi-diagonal-natural,backpropagated-metric,quasi-diagonal-backpropagated-metric,unitwise-op,quasi-diagonal-op,mc-unitwise-natural,mc-quasi-diagonal-natural,diagonal-gauss-newton,adagrad';
    const args = [join(dir, 'n.json'), '--data', join(dir, 'd.json'), '--all-methods', '--methods', methods, '--lr', '0.01', '--steps', '3', '--seed', '2'];
    for (const twin of [['--reparametrize', 'random'], ['--recombine', 'random']]) {
      const r = run(...args, ...twin);
      expect(r.status, r.stdout).toBe(0);
      expect(r.stdout.match(/as expected/g)).toHaveLength(11);
    }
    expect(run(...args, '--recombine', 'random').stdout).toMatch(/quasi-diagonal-natural +no .*not invariant, as expected/);
  });
});
