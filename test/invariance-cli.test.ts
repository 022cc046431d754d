import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringifyJson } from '../src/json/stringify-json.js';
import { METHODS } from '../src/methods/methods.js';
import { repoRoot } from './helpers/documents.js';
import { layeredNetwork } from './helpers/layered-network.js';
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
    expect(r.stdout).toMatch(/parted at step 1: difference \d\.\d+e-5 > 1e-8/);
  });

  it('--all-methods: every verdict matches the paper on the autoencoder (ε = 0)', () => {
    const r = run(net, '--data', data, '--all-methods');
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout.match(/as expected/g)).toHaveLength(METHODS.length - 1); // every method but natural (refused on the autoencoder), adam and momentum included
    expect(r.stdout).not.toMatch(/UNEXPECTED/);
  });

  // The autoencoder's levels are sparse groups (each unit fed by a few units of the level below).
  it('kflr, kfac, kfra on the autoencoder: invariant under sigmoid↔tanh with restricted solves, with why', () => {
    const r = run(net, '--data', data, '--all-methods', '--methods', 'kflr,kfac,kfra', '--steps', '2');
    expect(r.status, r.stdout).toBe(0);
    for (const m of ['kflr', 'kfac', 'kfra']) expect(r.stdout).toMatch(new RegExp(`^${m} +yes +\\d\\.\\d+e-1\\d +\\d\\.\\d+e-1\\d +- +invariant, as expected$`, 'm'));
    expect(r.stdout).toMatch(/^note: kflr: .*restricted solves on the parameters of 4 of 4 groups/m);
    expect(r.stdout).toMatch(/^note: kfac: .*K·S = 16 draws for up to 100 units/m);
  });

  it('--kronecker-solve masked on the sparse groups: not invariant, as expected', () => {
    const r = run(net, '--data', data, '--all-methods', '--methods', 'kflr,kfac,kfra', '--kronecker-solve', 'masked', '--steps', '1');
    expect(r.status, r.stdout).toBe(0);
    for (const m of ['kflr', 'kfac', 'kfra']) expect(r.stdout).toMatch(new RegExp(`^${m} +no +\\d\\.\\d+e-[1-4] .* 1  not invariant, as expected$`, 'm'));
    expect(r.stdout).toMatch(/^note: kflr: the masked solve puts zeros on the grid/m);
  });

  it('--recombine random: the Kronecker methods are invariant on complete groups (one T_g per group), not on sparse ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-inv-'));
    const complete = layeredNetwork([5, 4, 3], { interpretation: 'bernoulli', activation: 'sigmoid', seed: 3 });
    const sparse = layeredNetwork([5, 4, 3], { interpretation: 'bernoulli', activation: 'sigmoid', density: 0.5, seed: 12 });
    const args = (name: string) => [join(dir, `${name}.json`), '--data', join(dir, `${name}.data.json`), '--all-methods', '--methods', 'kflr,kfac,kfra,unitwise-natural', '--recombine', 'random', '--steps', '2', '--lr', '1e-3'];
    for (const [name, doc] of [['complete', complete], ['sparse', sparse]] as const) {
      writeFileSync(join(dir, `${name}.json`), stringifyJson(doc));
      writeFileSync(join(dir, `${name}.data.json`), stringifyJson(randomData(doc, 12, 5)));
    }
    const c = run(...args('complete'));
    expect(c.status, c.stdout).toBe(0);
    for (const m of ['kflr', 'kfac', 'kfra']) expect(c.stdout).toMatch(new RegExp(`^${m} +yes .* invariant, as expected$`, 'm'));
    expect(c.stdout).toMatch(/^note: kflr: all 2 groups are complete and the twin recombines each one's signals with one transform/m);
    const s = run(...args('sparse'));
    expect(s.status, s.stdout).toBe(0);
    for (const m of ['kflr', 'kfac', 'kfra']) expect(s.stdout).toMatch(new RegExp(`^${m} +no .* 1  not invariant, as expected$`, 'm'));
    expect(s.stdout).toMatch(/^unitwise-natural +yes .* invariant, as expected$/m);
    expect(s.stdout).toMatch(/^note: kflr: 2 of 2 groups .* are sparse/m);
  });

  it('refuses Kronecker options without a Kronecker method, and bad groups before any output (exit 2)', () => {
    const tiny = join(repoRoot, 'networks/tiny-bernoulli.json');
    const tinyData = join(repoRoot, 'networks/tiny-bernoulli.data.json');
    const single = run(tiny, '--data', tinyData, '--method', 'backprop', '--groups', 'units');
    expect(single.status).toBe(2);
    expect(single.stderr).toMatch(/--groups applies to the Kronecker-factored methods .* not backprop/);
    const list = run(tiny, '--data', tinyData, '--all-methods', '--methods', 'backprop,adagrad', '--kronecker-solve', 'masked');
    expect(list.status).toBe(2);
    expect(list.stderr).toMatch(/--kronecker-solve applies .* not --methods backprop,adagrad/);
    const attribute = run(tiny, '--data', tinyData, '--method', 'kflr', '--groups', 'attribute');
    expect(attribute.status).toBe(2);
    expect(attribute.stdout).toBe('');
    expect(attribute.stderr).toMatch(/no "group" attribute/);
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
