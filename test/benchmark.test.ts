import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { machineInfo, writeBenchmarkReport } from '../src/benchmark/report.js';
import { chooseRate, runBenchmark, type BenchmarkResult } from '../src/benchmark/run.js';
import { benchmarkData, benchmarkModel, benchmarkOptions, refusals, SECOND_ORDER_DEFAULTS } from '../src/benchmark/setup.js';
import { BENCHMARK_METHODS, benchmarkSpec, LR_CANDIDATES } from '../src/benchmark/spec.js';
import { UsageError } from '../src/errors.js';
import { runHeader } from '../src/json/run-header.js';
import { METHODS } from '../src/methods/methods.js';

const bin = new URL('../bin/unitwise.js', import.meta.url).pathname;

// Tiny settings: 40 training images, mini-batches of 8, fractions of a second per method.
const tiny = { train: 40, test: 20, trainEval: 10, batchSize: 8, budgetSeconds: 0.4, searchSeconds: 0.1, evalPoints: 3 };

describe('benchmark spec', () => {
  it('defaults: every method, the paper’s first, the baselines last; bad options refused all at once', () => {
    expect([...BENCHMARK_METHODS].sort()).toEqual([...METHODS].sort());
    expect(BENCHMARK_METHODS.slice(-6)).toEqual(['kflr', 'kfac', 'kfra', 'adam', 'momentum', 'backprop']);
    const spec = benchmarkSpec('mnist-autoencoder');
    expect(spec.methods).toEqual(BENCHMARK_METHODS);
    let problems: string[] = [];
    try {
      benchmarkSpec('mnist-classifier', { budgetSeconds: -1, train: 9000, test: 2000, batchSize: 0, methods: ['adam', 'adam'] });
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      problems = (e as UsageError).problems.map((p) => p.message);
    }
    expect(problems).toEqual([expect.stringMatching(/--budget -1/), expect.stringMatching(/--batch-size 0/), expect.stringMatching(/10,000 together/), expect.stringMatching(/given twice/)]);
  });

  it('options: mini-batch for all; each second-order family its benchmark’s ε and rate; the baselines no ε', () => {
    for (const benchmark of ['mnist-autoencoder', 'mnist-classifier'] as const) {
      const spec = benchmarkSpec(benchmark, tiny);
      const d = SECOND_ORDER_DEFAULTS[benchmark];
      expect(benchmarkOptions(spec, 'kfra', 3)).toEqual({ method: 'kfra', mode: 'minibatch', batchSize: 8, seed: 3, ...d.kronecker });
      expect(benchmarkOptions(spec, 'quasi-diagonal-op', 3, 0.5)).toEqual({ method: 'quasi-diagonal-op', mode: 'minibatch', batchSize: 8, seed: 3, epsilon: d.ollivier.epsilon, lr: 0.5 });
      expect(benchmarkOptions(spec, 'adam', 3, 0.002)).toEqual({ method: 'adam', mode: 'minibatch', batchSize: 8, seed: 3, lr: 0.002 });
    }
  });

  it('the rate search keeps the lowest finite training loss, the smaller rate on ties, the smallest rate when all diverged', () => {
    expect(chooseRate([{ lr: 0.1, iterations: 5, trainLoss: NaN }, { lr: 0.01, iterations: 5, trainLoss: 3 }, { lr: 0.03, iterations: 5, trainLoss: 2 }])).toBe(0.03);
    expect(chooseRate([{ lr: 0.1, iterations: 5, trainLoss: 2 }, { lr: 0.01, iterations: 5, trainLoss: 2 }])).toBe(0.01);
    expect(chooseRate([{ lr: 0.1, iterations: 5, trainLoss: NaN }, { lr: 0.3, iterations: 5, trainLoss: Infinity }])).toBe(0.1);
  });

  it('run data: a seeded split per run, the evaluated training images its head; the network per run', () => {
    const spec = benchmarkSpec('mnist-autoencoder', tiny);
    const a = benchmarkData(spec, 0);
    expect(a.train.inputs).toHaveLength(40);
    expect(a.test.inputs[0]).toHaveLength(196);
    expect(a.trainEval.inputs).toEqual(a.train.inputs.slice(0, 10));
    expect(benchmarkData(spec, 1).train.inputs).not.toEqual(a.train.inputs);
    const m = benchmarkModel(spec, 0);
    expect(m.net.nInputs).toBe(196);
    m.params[0] += 1; // each job gets its own copy of the initial parameters
    expect(benchmarkModel(spec, 0).params[0]).toBe(m.params[0] - 1);
  });

  it('skips what cannot run: natural above 4096 parameters, the classifier’s 785-parameter blocks; runs the autoencoder’s', () => {
    const methods = ['unitwise-natural', 'quasi-diagonal-natural', 'natural', 'kfac'] as const;
    const classifier = refusals(benchmarkSpec('mnist-classifier', { ...tiny, methods: [...methods] }));
    expect(Object.keys(classifier)).toEqual(['unitwise-natural', 'natural']);
    expect(classifier['unitwise-natural']).toMatch(/2\.9 GiB per iteration \(largest unit: fan-in 784\), above the 1 GiB/);
    expect(Object.keys(refusals(benchmarkSpec('mnist-autoencoder', { ...tiny, methods: [...methods] })))).toEqual(['natural']);
  });
});

describe('benchmark (library)', () => {
  it('searches the baselines’ rates, runs every method, skips natural with the reason, and writes the report', async () => {
    const spec = benchmarkSpec('mnist-autoencoder', { ...tiny, methods: ['diagonal-gauss-newton', 'natural', 'adam'] });
    const result = await runBenchmark(spec, { workers: 1 });
    const [dgn, natural, adam] = result.methods;
    expect(natural).toMatchObject({ method: 'natural', status: 'skipped', runs: [] });
    expect(natural.reason).toMatch(/at most 4096 parameters; this network has \d+/);
    expect(adam.search?.map((t) => t.lr)).toEqual(LR_CANDIDATES.adam);
    expect(LR_CANDIDATES.adam).toContain(adam.lr);
    expect(dgn.search).toBeUndefined();
    for (const m of [dgn, adam]) {
      expect(m.status).toBe('ran');
      expect(m.runs).toHaveLength(1);
      const [run] = m.runs;
      expect(run.status).toBe('done');
      expect(run.iterations).toBeGreaterThan(0);
      expect(run.points[0]).toMatchObject({ iteration: 0, seconds: 0 });
      expect(run.points[run.points.length - 1].iteration).toBe(run.iterations);
      const its = run.points.map((p) => p.iteration);
      expect(its).toEqual([...its].sort((x, y) => x - y));
      expect(new Set(its).size).toBe(its.length);
      const batchIts = run.batchLoss.map(([i]) => i);
      expect(batchIts.slice(0, 3)).toEqual([1, 2, 3].slice(0, batchIts.length));
      expect(batchIts[batchIts.length - 1]).toBe(run.iterations);
      expect(new Set(batchIts).size).toBe(batchIts.length);
      expect(run.batchLoss.every(([i, , l], k) => Number.isFinite(l) && (k === 0 || i > batchIts[k - 1]))).toBe(true);
      for (const p of run.points) {
        expect(Number.isFinite(p.trainLoss) && Number.isFinite(p.testLoss)).toBe(true);
        expect(p.testAccuracy).toBeUndefined(); // autoencoder: no class accuracy
      }
    }
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-bench-'));
    const { table, figures } = writeBenchmarkReport(dir, { result, header: runHeader({ argv: ['benchmark', 'test'] }), machine: { ...machineInfo(), loadEnd: 0 }, wallSeconds: 1 });
    expect(table).toMatch(/\| Natural gradient \(`natural`\) \|.*skipped: the whole-network Fisher matrix/);
    expect(figures.map((f) => f.file)).toEqual(['train-loss-vs-time.svg', 'train-loss-vs-iterations.svg', 'batch-loss-vs-iterations.svg', 'test-loss-vs-time.svg']);
    for (const f of figures) {
      const svg = readFileSync(join(dir, f.file), 'utf8');
      for (const m of ['Diagonal Gauss-Newton', 'Adam (Kingma &amp; Ba)']) expect(svg).toContain(`data-name="${m}"`);
      expect(svg).not.toContain('>natural<');
    }
    const saved = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as BenchmarkResult & { machine: { cores: number }; header: { argv: string[] } };
    expect(saved.methods.map((m) => m.method)).toEqual(['diagonal-gauss-newton', 'natural', 'adam']);
    expect(saved.spec).toEqual(spec);
    expect(saved.machine.cores).toBeGreaterThan(0);
    expect(saved.header.argv).toEqual(['benchmark', 'test']);
    const page = readFileSync(join(dir, 'index.html'), 'utf8');
    for (const f of figures) expect(page).toContain(`src="${f.file}"`);
    expect(page).toMatch(/Learning-rate search/);
  }, 60_000);
});

describe('unitwise benchmark (binary)', () => {
  it('runs the classifier on the worker pool and writes the folder; bad options are usage errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-bench-cli-'));
    const args = ['benchmark', 'mnist-classifier', '--out', 'out', '--methods', 'backprop,natural', '--budget', '0.4', '--search-budget', '0.1', '--train', '40', '--test', '20', '--train-eval', '10', '--batch-size', '8', '--eval-points', '2', '--workers', '2', '--quiet'];
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\| Backpropagation \(`backprop`\) \| [\d.e-]+ \|/);
    expect(r.stdout).toMatch(/\| Natural gradient \(`natural`\) \|.*skipped/);
    for (const f of ['results.json', 'table.md', 'report.md', 'index.html', 'train-loss-vs-time.svg', 'train-loss-vs-iterations.svg', 'batch-loss-vs-iterations.svg', 'test-loss-vs-time.svg', 'test-accuracy-vs-time.svg']) expect(existsSync(join(dir, 'out', f))).toBe(true);
    const saved = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as BenchmarkResult & { header: { argv: string[] } };
    expect(saved.header.argv).toEqual(args);
    const backprop = saved.methods[0];
    expect(backprop.search).toHaveLength(LR_CANDIDATES.backprop.length);
    const last = backprop.runs[0].points[backprop.runs[0].points.length - 1];
    expect(last.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(last.testAccuracy).toBeLessThanOrEqual(1);
    const bad = spawnSync(process.execPath, [bin, 'benchmark', 'mnist-classifier', '--out', 'x', '--budget', '-1', '--methods', 'nope'], { cwd: dir, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown nope/);
  }, 60_000);
});
