import { Ajv } from 'ajv';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, jobDigest } from '../src/sweep/digest.js';
import { expandSweep, parseSweepSpec, type SweepSpec } from '../src/sweep/spec.js';
import { repoRoot } from './helpers/documents.js';
import { jobResults, sweepFolder, TINY_SWEEP, unitwiseDone } from './helpers/sweep-processes.js';

describe('sweep spec and digests', () => {
  it('canonical JSON does not depend on key order; the digest changes with any field, seeds included', () => {
    expect(canonicalJson({ b: [1, -0, 0.1], a: { d: 'x', c: null } })).toBe('{"a":{"c":null,"d":"x"},"b":[1,-0,0.1]}');
    expect(jobDigest({ a: 1, b: 2 })).toBe(jobDigest({ b: 2, a: 1 }));
    const jobs = expandSweep(TINY_SWEEP);
    expect(jobs).toHaveLength(8);
    expect(new Set(jobs.map((j) => j.digest)).size).toBe(8);
    const reseeded = expandSweep({ ...TINY_SWEEP, seed: 2 });
    // run 1 of seed 1 is run 0 of seed 2: the same jobs, the same digests
    expect(reseeded.slice(0, 4).map((j) => j.digest)).toEqual(jobs.slice(4).map((j) => j.digest));
    expect(jobs[0].job.options).toMatchObject({ method: 'backprop', lr: 0.01, epsilon: 1e-4, seed: 1, backend: 'cpu' });
  });

  it('the shipped JSON Schema accepts the example sweep and the test sweeps, and rejects what the code rejects on shape', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const schema = ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'schema/sweep.schema.json'), 'utf8')));
    const table2 = JSON.parse(readFileSync(join(repoRoot, 'sweeps/table2.json'), 'utf8')) as SweepSpec;
    for (const spec of [table2, TINY_SWEEP]) expect(schema(spec), ajv.errorsText(schema.errors)).toBe(true);
    expect(parseSweepSpec(JSON.stringify(table2), 'table2.json')).toMatchObject({ runs: 20, budget: { kind: 'paper' } });
    expect(expandSweep(table2)).toHaveLength(400);
    for (const bad of [{ ...TINY_SWEEP, runs: 0 }, { ...TINY_SWEEP, budget: { kind: 'iterations' } }, { ...TINY_SWEEP, colour: 'red' }, { ...TINY_SWEEP, activations: ['relu'] }]) {
      expect(schema(bad)).toBe(false);
      expect(() => parseSweepSpec(JSON.stringify(bad), 'bad.json')).toThrow();
    }
  });

  it('refuses a bad sweep file naming the file and every bad field', () => {
    const bad = JSON.stringify({ ...TINY_SWEEP, runs: 0, lr: [], activations: ['relu'], colour: 'red' });
    let message = '';
    try {
      parseSweepSpec(bad, 'bad.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/bad\.json: .*--runs 0|runs 0/);
    expect(message).toMatch(/field 'lr'.*non-empty list/);
    expect(message).toMatch(/"relu" is not sigmoid or tanh/);
    expect(message).toMatch(/unknown field 'colour'/);
    expect(() => parseSweepSpec(JSON.stringify({ ...TINY_SWEEP, methods: ['adagrad@0.5x'] }), 'rows.json')).toThrow(/row 'adagrad@0\.5x'/);
  });
});

// Real processes on a possibly loaded 2-core machine: a timeout far above what these need.
describe('unitwise sweep on the local pool (real binary)', { timeout: 180_000 }, () => {
  it('writes one result per job, then does nothing on a re-run; --resume runs only the missing jobs, byte for byte', async () => {
    const { dir, spec } = sweepFolder(TINY_SWEEP);
    const first = await unitwiseDone(dir, 'sweep', spec, '--out', 'out', '--workers', '2');
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/8 jobs run on the local pool \(2 worker threads\)/);
    const results = jobResults(join(dir, 'out'));
    expect(results.size).toBe(8);
    const table = readFileSync(join(dir, 'out', 'table.md'), 'utf8');
    expect(table).toMatch(/\| unitwise-natural \| tanh \| 0\.01 \| 0\.0001 \| cpu \| 2 \|/);
    const tableTime = statSync(join(dir, 'out', 'table.md')).mtimeMs;

    const again = await unitwiseDone(dir, 'sweep', spec, '--out', 'out');
    expect(again.code, again.output).toBe(0);
    expect(again.output).toMatch(/nothing to do: all 8 jobs of this sweep are finished/);
    expect(statSync(join(dir, 'out', 'table.md')).mtimeMs).toBe(tableTime);

    // A sweep cut short: three results missing.
    const names = [...results.keys()];
    for (const name of names.slice(2, 5)) rmSync(join(dir, 'out', 'jobs', name));
    const refused = await unitwiseDone(dir, 'sweep', spec, '--out', 'out');
    expect(refused.code).toBe(2);
    expect(refused.output).toMatch(/holds this sweep part way \(5 of 8 jobs finished\); give --resume/);
    const resumed = await unitwiseDone(dir, 'sweep', spec, '--out', 'out', '--resume', '--workers', '1');
    expect(resumed.code, resumed.output).toBe(0);
    expect(resumed.output).toMatch(/3 jobs run on the local pool \(1 worker thread\), 5 finished before/);
    expect(jobResults(join(dir, 'out'))).toEqual(results);
    expect(readFileSync(join(dir, 'out', 'table.md'), 'utf8')).toBe(table);
  });

  it('refuses another sweep in the same folder, and queue options without a queue', async () => {
    const { dir, spec } = sweepFolder(TINY_SWEEP);
    expect((await unitwiseDone(dir, 'sweep', spec, '--out', 'out', '--quiet')).code).toBe(0);
    const other = sweepFolder({ ...TINY_SWEEP, runs: 1 });
    const r = await unitwiseDone(other.dir, 'sweep', other.spec, '--out', join(dir, 'out'));
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/holds another sweep/);
    const local = await unitwiseDone(dir, 'sweep', spec, '--out', 'other', '--checkpoint-every', '2');
    expect(local.code).toBe(2);
    expect(local.output).toMatch(/--checkpoint-every applies to jobs on a queue/);
    const both = await unitwiseDone(dir, 'sweep', spec, '--out', 'other', '--queue', 'redis://127.0.0.1:1', '--workers', '2');
    expect(both.code).toBe(2);
    expect(both.output).toMatch(/--workers sets the local pool’s threads; with --queue/);
  });

  it('a Section 4 grid gives the replication report of `replicate autoencoder`, Table 2 byte for byte', async () => {
    const { dir, spec } = sweepFolder({ ...TINY_SWEEP, layers: undefined, samples: undefined, budget: { kind: 'iterations', iterations: 20 } });
    const sweep = await unitwiseDone(dir, 'sweep', spec, '--out', 'sweep', '--quiet');
    expect(sweep.code, sweep.output).toBe(0);
    const replicate = await unitwiseDone(dir, 'replicate', 'autoencoder', '--runs', '2', '--seed', '1', '--budget', 'iterations:20', '--methods', 'backprop,unitwise-natural', '--out', 'replicate', '--quiet');
    expect(replicate.code, replicate.output).toBe(0);
    expect(readFileSync(join(dir, 'sweep', 'table2.md'), 'utf8')).toBe(readFileSync(join(dir, 'replicate', 'table2.md'), 'utf8'));
    const losses = (file: string) => {
      const run = JSON.parse(readFileSync(file, 'utf8')) as { curves: Record<string, Record<string, { points: number[][] }>> };
      return Object.values(run.curves).flatMap((c) => Object.values(c).map((curve) => curve.points.map((p) => [p[0], p[2]])));
    };
    expect(losses(join(dir, 'sweep', 'curves', 'run-01.json'))).toEqual(losses(join(dir, 'replicate', 'curves', 'run-01.json')));
  });
});
