import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openEngine } from '../src/backend/registry.js';
import { alongCheckpoints } from '../src/directions/along.js';
import { compareDirections } from '../src/directions/compare.js';
import { UsageError } from '../src/errors.js';
import { METHODS } from '../src/methods/methods.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { lossAndGradient } from '../src/engine/propagate.js';
import { createMethod, type MethodName } from '../src/methods/methods.js';
import { evaluateMethodOnce } from '../src/methods/runner.js';
import type { NetworkDocument } from '../src/network/types.js';
import { Prng } from '../src/random/prng.js';
import { convertData, convertNetwork } from '../src/transform/convert.js';
import { bruteForceFisher } from './helpers/brute-force.js';
import { repoRoot } from './helpers/documents.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

/** x = A⁻¹b by Gaussian elimination with partial pivoting (A: n × n row-major, copied). */
function solve(A: Float64Array, b: Float64Array): Float64Array {
  const n = b.length;
  const M = A.slice();
  const x = b.slice();
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[p * n + c])) p = r;
    for (let j = 0; j < n; j++) [M[c * n + j], M[p * n + j]] = [M[p * n + j], M[c * n + j]];
    [x[c], x[p]] = [x[p], x[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r * n + c] / M[c * n + c];
      for (let j = c; j < n; j++) M[r * n + j] -= f * M[c * n + j];
      x[r] -= f * x[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let j = r + 1; j < n; j++) s -= M[r * n + j] * x[j];
    x[r] = s / M[r * n + r];
  }
  return x;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

const doc = randomNetwork({ interpretation: 'bernoulli', seed: 7, inputs: 3, hidden: 4, outputs: 2, activations: ['sigmoid', 'tanh'] });
const data = randomData(doc, 24, 3);

describe('compare-directions: the quantities', () => {
  it('natural gives 1, 1, 1 at step 1; fraction = cos_fisher² for every method', () => {
    const report = compareDirections(createModel(doc), data);
    expect(Object.keys(report.methods)).toHaveLength(METHODS.length);
    const natural = report.methods.natural!;
    for (const v of [natural.cosEuclid, natural.cosFisher, natural.fraction, natural.step]) expect(v).toBeCloseTo(1, 10);
    for (const [name, c] of Object.entries(report.methods)) {
      expect(c.fraction, name).toBeCloseTo(c.cosFisher! ** 2, 12);
      expect(Math.abs(c.cosFisher!), name).toBeLessThanOrEqual(1 + 1e-12);
      expect(Math.abs(c.cosEuclid!), name).toBeLessThanOrEqual(1 + 1e-12);
    }
  });

  it('match an independent computation: brute-force Fisher (Eq. 99), Gaussian elimination; the natural method’s own direction is δ*', () => {
    const model = createModel(doc);
    const epsilon = 1e-3;
    const P = model.net.nParams;
    const F = bruteForceFisher(model, data);
    for (let i = 0; i < P; i++) F[i * P + i] += epsilon;
    const batch = makeBatch(model.net, data);
    const engine = openEngine('cpu', model.net, batch.size);
    const G = new Float64Array(P);
    lossAndGradient(engine, model.params, batch, G);
    const star = solve(F, G);
    const Fv = (v: Float64Array) => Float64Array.from({ length: P }, (_, i) => dot(F.subarray(i * P, (i + 1) * P), v));
    const methods: MethodName[] = ['backprop', 'unitwise-natural', 'kflr', 'natural'];
    const report = compareDirections(model, data, { methods, epsilon });
    for (const name of methods) {
      const d = evaluateMethodOnce(engine, createMethod(name), model.params, batch, { epsilon, rng: new Prng(1), mcSamples: 1 }).direction;
      const quad = dot(d, Fv(d));
      const got = report.methods[name]!;
      expect(got.cosEuclid, name).toBeCloseTo(dot(d, star) / Math.sqrt(dot(d, d) * dot(star, star)), 9);
      expect(got.cosFisher, name).toBeCloseTo(dot(G, d) / Math.sqrt(quad * dot(G, star)), 9);
      expect(got.step, name).toBeCloseTo(dot(G, d) / quad, 8);
    }
    engine.dispose();
  });

  it('the Fisher cosine is invariant under sigmoid↔tanh (ε = 0); the Euclidean cosine is not', () => {
    const sig = randomNetwork({ interpretation: 'bernoulli', seed: 11, inputs: 3, hidden: 3, outputs: 2, activations: ['sigmoid'] });
    const sigData = randomData(sig, 200, 5);
    const methods: MethodName[] = ['backprop', 'unitwise-natural', 'quasi-diagonal-natural', 'natural'];
    const a = compareDirections(createModel(sig), sigData, { methods, epsilon: 0 });
    const b = compareDirections(createModel(convertNetwork(sig, 'tanh').document), convertData(sigData, 'tanh'), { methods, epsilon: 0 });
    expect(Math.abs(a.naturalDecrease - b.naturalDecrease)).toBeLessThan(1e-10 * a.naturalDecrease);
    for (const m of ['unitwise-natural', 'quasi-diagonal-natural', 'natural'] as const) {
      expect(Math.abs(a.methods[m]!.cosFisher! - b.methods[m]!.cosFisher!), m).toBeLessThan(1e-8);
      expect(Math.abs(a.methods[m]!.step! - b.methods[m]!.step!), m).toBeLessThan(1e-8);
    }
    expect(Math.abs(a.methods['unitwise-natural']!.cosEuclid! - b.methods['unitwise-natural']!.cosEuclid!)).toBeGreaterThan(1e-3);
    expect(Math.abs(a.methods.backprop!.cosEuclid! - b.methods.backprop!.cosEuclid!)).toBeGreaterThan(1e-3);
    expect(Math.abs(a.methods.backprop!.cosFisher! - b.methods.backprop!.cosFisher!)).toBeGreaterThan(1e-3);
  });

  it('Monte-Carlo methods: seeded, each from its own PRNG (independent of the other methods listed)', () => {
    const model = createModel(doc);
    const alone = compareDirections(model, data, { methods: ['kfac'], seed: 3 });
    const listed = compareDirections(model, data, { methods: ['mc-unitwise-natural', 'kfac'], seed: 3 });
    const other = compareDirections(model, data, { methods: ['kfac'], seed: 4 });
    expect(listed.methods.kfac).toEqual(alone.methods.kfac);
    expect(other.methods.kfac).not.toEqual(alone.methods.kfac);
  });

  it('refuses a network above the whole-network limit, naming the count, the limit and what to do', () => {
    const nodes: NetworkDocument['nodes'] = [];
    const edges: NetworkDocument['edges'] = [];
    for (let i = 0; i < 65; i++) nodes.push({ key: `x${i}`, attributes: { role: 'input' } });
    for (let j = 0; j < 64; j++) {
      nodes.push({ key: `y${j}`, attributes: { role: 'output', bias: 0 } });
      for (let i = 0; i < 65; i++) edges.push({ source: `x${i}`, target: `y${j}`, attributes: { weight: 0 } });
    }
    const big = createModel({ options: { type: 'directed' }, attributes: { interpretation: 'bernoulli', activation: 'sigmoid' }, nodes, edges });
    const bigData = { inputs: [Array(65).fill(0)], targets: [Array(64).fill(0)] };
    expect(() => compareDirections(big, bigData)).toThrow(UsageError);
    expect(() => compareDirections(big, bigData)).toThrow(/4224 parameters, above the limit of 4096.*smaller network/);
  });

  it('checkpoints: 0, K, 2K, ... and N', () => {
    expect(alongCheckpoints(5, 2)).toEqual([0, 2, 4, 5]);
    expect(alongCheckpoints(4, 2)).toEqual([0, 2, 4]);
    expect(alongCheckpoints(3, 1)).toEqual([0, 1, 2, 3]);
  });
});

const bin = join(repoRoot, 'bin/unitwise.js');
const net = join(repoRoot, 'networks/tiny-bernoulli.json');
const netData = join(repoRoot, 'networks/tiny-bernoulli.data.json');
let dir: string;
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unitwise-compare-'));
});

describe('unitwise compare-directions (real binary)', { timeout: 120_000 }, () => {
  it('prints a table, and JSON with --json', () => {
    const table = run('compare-directions', net, '--data', netData);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^method\s+cos euclid\s+cos fisher\s+fraction\s+best step$/m);
    expect(table.stdout).toMatch(/^natural\s+1\.000000\s+1\.000000\s+1\.000000\s+1\.000e\+0$/m);
    expect(table.stdout.trim().split('\n').filter((l) => /^[a-z-]+\s+-?\d/.test(l))).toHaveLength(METHODS.length);
    const json = run('compare-directions', net, '--data', netData, '--methods', 'backprop,kfac,natural', '--json', '--epsilon', '0');
    expect(json.status, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ parameters: 13, samples: 4, epsilon: 0 });
    expect(Object.keys(report.methods)).toEqual(['backprop', 'kfac', 'natural']);
    expect(report.methods.natural.cosFisher).toBeCloseTo(1, 10);
  });

  it('--along writes one JSONL record per checkpoint and an SVG', () => {
    const r = run('compare-directions', net, '--data', netData, '--methods', 'backprop,unitwise-natural,natural', '--along', 'backprop', '--iterations', '5', '--every', '2', '--log', 'a.jsonl', '--svg', 'a.svg', '--lr', '0.5');
    expect(r.status, r.stderr).toBe(0);
    const records = readFileSync(join(dir, 'a.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((x) => x.iteration)).toEqual([0, 2, 4, 5]);
    expect(Object.keys(records[0].methods)).toEqual(['backprop', 'unitwise-natural', 'natural']);
    expect(records[3].loss).toBeLessThan(records[0].loss);
    const svg = readFileSync(join(dir, 'a.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg.match(/<path /g)).toHaveLength(3);
    expect(svg).toContain('unitwise-natural');
    const stdout = run('compare-directions', net, '--data', netData, '--methods', 'kflr', '--along', 'kfac', '--groups', 'units', '--iterations', '2', '--log', '-', '--quiet');
    expect(stdout.status, stdout.stderr).toBe(0);
    expect(stdout.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('usage errors (exit 2): along options without --along, --along without output, too large a network', () => {
    const noAlong = run('compare-directions', net, '--data', netData, '--iterations', '3');
    expect(noAlong.status).toBe(2);
    expect(noAlong.stderr).toMatch(/--iterations applies to a training run only; give --along/);
    const noOut = run('compare-directions', net, '--data', netData, '--along', 'backprop', '--iterations', '3');
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/--along needs --log/);
    const groups = run('compare-directions', net, '--data', netData, '--methods', 'backprop', '--groups', 'units');
    expect(groups.status).toBe(2);
    const nodes = [...Array.from({ length: 65 }, (_, i) => ({ key: `x${i}`, attributes: { role: 'input' } })), ...Array.from({ length: 64 }, (_, j) => ({ key: `y${j}`, attributes: { role: 'output', bias: 0 } }))];
    const edges = Array.from({ length: 65 * 64 }, (_, e) => ({ source: `x${e % 65}`, target: `y${Math.floor(e / 65)}`, attributes: { weight: 0 } }));
    writeFileSync(join(dir, 'big.json'), JSON.stringify({ options: { type: 'directed' }, attributes: { interpretation: 'bernoulli', activation: 'sigmoid' }, nodes, edges }));
    writeFileSync(join(dir, 'big.data.json'), JSON.stringify({ inputs: [Array(65).fill(0)], targets: [Array(64).fill(0)] }));
    const big = run('compare-directions', 'big.json', '--data', 'big.data.json');
    expect(big.status).toBe(2);
    expect(big.stderr).toMatch(/4224 parameters, above the limit of 4096/);
  });
});
