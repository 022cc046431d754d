import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModel } from '../src/engine/model.js';
import { UsageError } from '../src/errors.js';
import { generateAutoencoder } from '../src/generate/autoencoder.js';
import { generateBinaryData } from '../src/generate/data.js';
import { runReplication } from '../src/replicate/pool.js';
import { writeReplicationReport } from '../src/replicate/report.js';
import { parseRow, parseRowList, rowLabel, rowTitle } from '../src/replicate/rows.js';
import { checkReplicateSpec, paperIterations, rowBudget, runAutoencoder, type ReplicateSpec } from '../src/replicate/run.js';
import { train } from '../src/train/trainer.js';

// A small autoencoder (fan 5 fits these layers) and 4 samples: runs take well under a second.
const layers = [10, 6, 5, 6, 10];
const small = { seed: 1, layers, samples: 4 };

/** Final loss of one training run on run 0's sigmoid network, as `runAutoencoder` sets it up. */
async function finalLoss(options: Record<string, unknown>, iterations: number): Promise<number> {
  const document = generateAutoencoder({ seed: 1, activation: 'sigmoid', layers });
  const data = generateBinaryData({ seed: 1, samples: 4, length: 10 });
  let last = NaN;
  await train(createModel(document), data, { method: 'backprop', epsilon: 1e-4, lr: 0.01, seed: 1, ...options }, { iterations }, { onIteration: (r) => (last = r.loss) });
  return last;
}

describe('replication rows', () => {
  it('METHOD or METHOD@γ, keyed by a canonical text, titled for the tables', () => {
    expect(parseRow('kfac')).toEqual({ key: 'kfac', method: 'kfac' });
    expect(parseRow(' kfac@0.050 ')).toEqual({ key: 'kfac@0.05', method: 'kfac', metricDecay: 0.05 });
    expect(parseRow('mc-unitwise-natural@1')).toEqual({ key: 'mc-unitwise-natural@1', method: 'mc-unitwise-natural', metricDecay: 1 });
    expect(parseRow('kflr@5e-2')).toMatchObject({ key: 'kflr@0.05' });
    expect(rowTitle(parseRowList('kfac@0.05')[0])).toBe('K-FAC (accumulated, γ = 0.05)');
    expect(rowTitle(parseRowList('mc-unitwise-natural@0.05')[0])).toBe('Monte Carlo unitwise natural gradient (accumulated, γ = 0.05)');
    expect(rowTitle(parseRowList('kfac')[0])).toBe('K-FAC (Monte-Carlo Kronecker-factored Fisher)');
    expect(rowLabel(parseRowList('kfra@0.1')[0])).toBe('kfra (accumulated, γ = 0.1)');
  });

  it('bad rows are usage errors naming each row, all at once', () => {
    const refused = (text: string) => {
      try {
        parseRowList(text);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as UsageError).problems.map((p) => p.message);
      }
      throw new Error(`${text} was accepted`);
    };
    expect(refused('kfac@0,kflr@1.5,kfra@-1,kflr@0x1,backprop@0.1,nope@0.1,kfac@0.05@0.1')).toEqual([
      expect.stringMatching(/row 'kfac@0': γ = 0 is outside \(0, 1\]/),
      expect.stringMatching(/row 'kflr@1\.5': γ = 1\.5 is outside/),
      expect.stringMatching(/row 'kfra@-1': '-1' after '@' is not a number/),
      expect.stringMatching(/row 'kflr@0x1': '0x1' after '@' is not a number/),
      expect.stringMatching(/row 'backprop@0\.1': 'backprop' keeps no metric/),
      expect.stringMatching(/row 'nope@0\.1': unknown method 'nope'/),
      expect.stringMatching(/row 'kfac@0\.05@0\.1': '0\.05@0\.1' after '@' is not a number/),
    ]);
    expect(refused('kfac,kfac@0.05,kfac')).toEqual([expect.stringMatching(/row 'kfac' is given twice/)]);
  });

  it("the paper budget: Table 1's midpoint, else the time of 10,000 backprop iterations; accumulated rows of Table 1 methods keep its count", () => {
    const paper = { kind: 'paper' } as const;
    expect(rowBudget({ method: 'backprop' }, paper)).toEqual({ kind: 'iterations', iterations: 10000 });
    expect(rowBudget({ method: 'mc-unitwise-natural' }, paper)).toEqual({ kind: 'iterations', iterations: 2850 });
    expect(rowBudget(parseRowList('mc-unitwise-natural@0.05')[0], paper)).toEqual({ kind: 'iterations', iterations: 2850 });
    expect(paperIterations('natural')).toBe(10);
    for (const method of ['kflr', 'kfac', 'kfra', 'quasi-diagonal-op'] as const) {
      expect(paperIterations(method)).toBeUndefined();
      expect(rowBudget({ method }, paper)).toEqual({ kind: 'time', backpropIterations: 10000 });
    }
    expect(rowBudget({ method: 'kflr' }, { kind: 'iterations', iterations: 7 })).toEqual({ kind: 'iterations', iterations: 7 });
    expect(rowBudget({ method: 'backprop' }, { kind: 'time', backpropIterations: 500 })).toEqual({ kind: 'time', backpropIterations: 500 });
  });
});

describe('replicating with Kronecker rows and accumulated rows (library)', () => {
  it('each row trains as `train` would with its γ and, for Kronecker rows only, the Kronecker choices', { timeout: 60_000 }, async () => {
    const spec: ReplicateSpec = { ...small, methods: ['backprop', 'kflr', 'kfac@0.05', 'mc-unitwise-natural@0.05'], budget: { kind: 'iterations', iterations: 3 }, kronecker: { kroneckerSolve: 'masked' } };
    const result = await runAutoencoder(0, spec);
    expect(Object.keys(result.curves)).toEqual(spec.methods);
    expect(result.budgetSeconds).toBeUndefined();
    for (const m of spec.methods) expect(result.curves[m]?.sigmoid.iterations).toBe(3);
    const final = (key: string) => result.curves[key]?.sigmoid.finalLoss;
    expect(final('backprop')).toBe(await finalLoss({}, 3));
    expect(final('kflr')).toBe(await finalLoss({ method: 'kflr', kroneckerSolve: 'masked' }, 3));
    expect(final('kflr')).not.toBe(await finalLoss({ method: 'kflr' }, 3)); // the groups are sparse: masked is not the restricted solve
    expect(final('kfac@0.05')).toBe(await finalLoss({ method: 'kfac', kroneckerSolve: 'masked', metricDecay: 0.05 }, 3));
    expect(final('kfac@0.05')).not.toBe(await finalLoss({ method: 'kfac', kroneckerSolve: 'masked' }, 3));
    expect(final('mc-unitwise-natural@0.05')).toBe(await finalLoss({ method: 'mc-unitwise-natural', metricDecay: 0.05 }, 3));

    const dir = mkdtempSync(join(tmpdir(), 'unitwise-replicate-'));
    const { table1, table2 } = writeReplicationReport(dir, { results: [result], methods: spec.methods, budget: spec.budget, kronecker: spec.kronecker, seed: 1, wallSeconds: 1 });
    expect(table2).toMatch(/\| K-FAC \(accumulated, γ = 0\.05\) \| yes \| /);
    expect(table1).not.toMatch(/budget \|/); // one kind of budget: the caption says it
    const json = JSON.parse(readFileSync(join(dir, 'table1.json'), 'utf8'));
    expect(json.kronecker).toEqual({ kroneckerSolve: 'masked' });
    expect(json.methods.map((m: Record<string, unknown>) => Object.keys(m))).toEqual([
      ['method', 'iterations', 'seconds', 'paperIterations'],
      ['method', 'iterations', 'seconds', 'paperIterations'],
      ['method', 'metricDecay', 'iterations', 'seconds', 'paperIterations'],
      ['method', 'metricDecay', 'iterations', 'seconds', 'paperIterations'],
    ]);
  });

  it('the paper budget gives a method outside Table 1 the measured time of 10,000 backprop iterations, and the tables say so', { timeout: 60_000 }, async () => {
    const spec: ReplicateSpec = { ...small, methods: ['natural', 'kflr'], budget: { kind: 'paper' } };
    const result = await runAutoencoder(0, spec);
    const seconds = result.budgetSeconds as number;
    expect(seconds).toBeGreaterThan(0);
    expect(result.curves.natural?.tanh.iterations).toBe(10);
    for (const a of ['sigmoid', 'tanh'] as const) {
      const curve = result.curves.kflr?.[a];
      expect(curve?.iterations).toBeGreaterThan(0);
      expect(curve?.seconds).toBeGreaterThanOrEqual(seconds);
    }
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-replicate-'));
    const { table1, table2 } = writeReplicationReport(dir, { results: [result], methods: spec.methods, budget: spec.budget, seed: 1, wallSeconds: 1 });
    expect(table1).toMatch(/a method the paper's Table 1 does not list gets the time of 10000 backprop iterations \([\d.]+ s\), measured in each run/);
    expect(table1).toMatch(/\| Natural gradient \| 10 iterations \| 10 \| 10 \|/);
    expect(table1).toMatch(/\| KFLR \(exact Kronecker-factored Gauss-Newton\) \| time of 10000 backprop iterations \| \d+ \|/);
    expect(table2).toMatch(/\| method \| invariant \| budget \| sigmoid \|/);
    const json = JSON.parse(readFileSync(join(dir, 'table2.json'), 'utf8'));
    expect(json.budgetSecondsPerRun).toEqual([seconds]);
    expect(json.methods.map((m: { budget: unknown }) => m.budget)).toEqual([
      { kind: 'iterations', iterations: 10 },
      { kind: 'time', backpropIterations: 10000 },
    ]);
  });

  it('a replication is checked before any run: Kronecker choices without a Kronecker row, groups the network lacks, bad rows', async () => {
    const base: ReplicateSpec = { ...small, methods: ['backprop'], budget: { kind: 'iterations', iterations: 1 } };
    expect(() => checkReplicateSpec({ ...base, kronecker: { inverseEvery: 3, groups: 'units' } })).toThrow(/--groups, --inverse-every apply to the Kronecker-factored rows/);
    expect(() => checkReplicateSpec({ ...base, methods: ['kfra@0.05'], kronecker: { groups: 'attribute' } })).toThrow(UsageError);
    expect(() => checkReplicateSpec({ ...base, methods: ['kflr'], kronecker: { inverseEvery: 0 } })).toThrow(/--inverse-every 0: give a positive integer/);
    await expect(runReplication(1, { ...base, methods: ['kfac@0'] }, { workers: 1 })).rejects.toThrow(/γ = 0 is outside/);
    expect(checkReplicateSpec({ ...base, methods: ['kfra', 'kflr@0.5'], kronecker: { groups: 'units', kroneckerSolve: 'masked' } }).map((r) => r.key)).toEqual(['kfra', 'kflr@0.5']);
  });
});
