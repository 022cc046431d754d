import { Ajv } from 'ajv';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateBinaryData } from '../src/generate/data.js';
import { generateMlp } from '../src/generate/mlp.js';
import { runSweepJob, type JobCheckpoint } from '../src/sweep/job.js';
import { expandSweep, parseSweepSpec, type SweepSpec } from '../src/sweep/spec.js';
import type { PlannedTrainJob, TrainSweepSpec } from '../src/sweep/train-spec.js';
import { repoRoot } from './helpers/documents.js';
import { jobResults, redisFixture, redisServerAvailable, unitwiseDone } from './helpers/sweep-processes.js';

/** 2 runs × 2 networks (generated, file) × 2 rows × 2 modes, 20 iterations on 4-6-4 networks and 8 binary strings. */
const TINY_TRAIN: TrainSweepSpec = {
  format: 'unitwise-sweep',
  experiment: 'train',
  seed: 1,
  runs: 2,
  networks: [{ generate: 'mlp', layers: [4, 6, 4], activation: 'tanh' }, 'net.json'],
  data: [{ generate: 'binary', samples: 8, validation: 8 }],
  methods: ['backprop', 'unitwise-natural'],
  modes: ['batch', { mode: 'minibatch', batchSize: 4 }],
  lr: [0.05],
  budgets: [{ iterations: 20 }],
};

/** A folder with the sweep file, its network file and a data file. */
function trainFolder(spec: object = TINY_TRAIN): string {
  const dir = mkdtempSync(join(tmpdir(), 'unitwise-sweep-train-'));
  writeFileSync(join(dir, 'net.json'), JSON.stringify(generateMlp({ layers: [4, 5, 4], activation: 'sigmoid', seed: 9 })));
  writeFileSync(join(dir, 'data.json'), JSON.stringify(generateBinaryData({ samples: 8, length: 4, seed: 9 })));
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(spec, null, 2));
  return dir;
}

const parse = (dir: string, spec: object = TINY_TRAIN) => parseSweepSpec(JSON.stringify(spec), join(dir, 'sweep.json'));

describe('train sweeps: spec, expansion and digests', () => {
  it('expands the grid, one digest per job; digests follow seeds and file contents, not where the files are', () => {
    const dir = trainFolder();
    const spec = parse(dir);
    const jobs = expandSweep(spec, dir) as PlannedTrainJob[];
    expect(jobs).toHaveLength(16);
    expect(new Set(jobs.map((j) => j.digest)).size).toBe(16);
    expect(jobs[0].job).toMatchObject({ kind: 'train', seed: 1, row: 'backprop', activation: 'tanh', network: { generate: 'mlp', seed: 1 }, data: { generate: 'binary', samples: 8, seed: 1 }, budget: { iterations: 20 } });
    expect(jobs[0].job.options).toMatchObject({ method: 'backprop', lr: 0.05, epsilon: 1e-4, seed: 1, mode: 'batch', backend: 'cpu' });
    expect(jobs[3].job.options).toMatchObject({ method: 'unitwise-natural', mode: 'minibatch', batchSize: 4 });
    expect(jobs[0].job.record).toEqual(['final-loss', 'curve', 'validation-loss', 'validation-accuracy']);
    expect(jobs.map((j) => j.point)).toEqual([...Array(8).keys(), ...Array(8).keys()]);
    // run 1 of seed 1 is run 0 of seed 2
    expect((expandSweep({ ...spec, seed: 2 }, dir)).slice(0, 8).map((j) => j.digest)).toEqual(jobs.slice(8).map((j) => j.digest));
    // the same files elsewhere: the same jobs (the path on this machine is only in `located`)
    const elsewhere = mkdtempSync(join(tmpdir(), 'unitwise-sweep-train-'));
    cpSync(dir, elsewhere, { recursive: true });
    const moved = expandSweep(spec, elsewhere) as PlannedTrainJob[];
    expect(moved.map((j) => j.digest)).toEqual(jobs.map((j) => j.digest));
    expect(moved[4].job.network).toEqual({ file: 'net.json', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(moved[4].located.network).toMatchObject({ at: join(elsewhere, 'net.json') });
    // another network file: other jobs for it, the same for the generated network
    writeFileSync(join(elsewhere, 'net.json'), JSON.stringify(generateMlp({ layers: [4, 5, 4], activation: 'sigmoid', seed: 10 })));
    const changed = expandSweep(spec, elsewhere);
    expect(changed.slice(0, 4).map((j) => j.digest)).toEqual(jobs.slice(0, 4).map((j) => j.digest));
    expect(changed.slice(4, 8).some((j, i) => j.digest === jobs[4 + i].digest)).toBe(false);
  });

  it('the shipped schema accepts the train sweeps and the example; the example parses to 12 jobs', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const schema = ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'schema/sweep.schema.json'), 'utf8')));
    const example = JSON.parse(readFileSync(join(repoRoot, 'sweeps/mlp-lr.json'), 'utf8')) as SweepSpec;
    for (const spec of [TINY_TRAIN, example]) expect(schema(spec), ajv.errorsText(schema.errors)).toBe(true);
    expect(schema({ ...TINY_TRAIN, budgets: [{ iterations: 0 }] })).toBe(false);
    expect(schema({ ...TINY_TRAIN, budget: { kind: 'paper' } })).toBe(false);
    expect(expandSweep(parseSweepSpec(JSON.stringify(example), join(repoRoot, 'sweeps/mlp-lr.json')), join(repoRoot, 'sweeps'))).toHaveLength(12);
  });

  it('refuses a bad train sweep naming the file and every bad field', () => {
    const dir = trainFolder();
    const file = join(dir, 'sweep.json');
    const message = (spec: object) => {
      try {
        parse(dir, spec);
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    const bad = message({
      ...TINY_TRAIN,
      networks: [{ generate: 'mlp', layers: [4] }, { generate: 'lstm' }, 'missing.json'],
      data: [{ generate: 'binary', samples: 0 }],
      modes: ['stochastic'],
      budgets: [{ iterations: 0 }],
      record: ['loss'],
      colour: 'red',
    });
    expect(bad).toContain(file);
    expect(bad).toMatch(/field 'networks\[0\]'.*--layers 4: give at least two/);
    expect(bad).toMatch(/field 'networks\[1\]' is \{"generate":"lstm"\}/);
    expect(bad).toMatch(/field 'networks\[2\]' names missing\.json, which is not found/);
    expect(bad).toMatch(/field 'data\[0\]'.*samples 0: give a positive integer/);
    expect(bad).toMatch(/field 'modes\[0\]' is "stochastic"/);
    expect(bad).toMatch(/field 'budgets\[0\]' is \{"iterations":0\}/);
    expect(bad).toMatch(/field 'record\[0\]' is "loss"/);
    expect(bad).toMatch(/unknown field 'colour'/);
    // checks that need the network and data: a batch larger than the data, data that does not fit the network
    expect(message({ ...TINY_TRAIN, modes: [{ mode: 'minibatch', batchSize: 9 }] })).toMatch(/field 'networks\[0\]' with field 'data\[0\]', row backprop, mode minibatch \(batch size 9\): .*--batch-size 9/);
    const misfit = message({ ...TINY_TRAIN, networks: [{ generate: 'mlp', layers: [5, 3, 5] }], data: ['data.json'] });
    expect(misfit).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: field 'networks\\[0\\]' with field 'data\\[0\\]': ${join(dir, 'data.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    expect(misfit).not.toMatch(/, row /); // reported for the pair, not for each row and mode
    expect(message({ ...TINY_TRAIN, networks: ['net.json'], data: ['data.json'], record: ['final-loss', 'train-accuracy'] })).toBe('accepted');
  });

  it('a job resumed from a checkpoint of the trainer’s state ends exactly as the uninterrupted job', async () => {
    const dir = trainFolder();
    const [planned] = expandSweep(parse(dir, { ...TINY_TRAIN, methods: ['unitwise-natural'], modes: [{ mode: 'minibatch', batchSize: 4 }], budgets: [{ iterations: 40 }] }), dir) as PlannedTrainJob[];
    const checkpoints: JobCheckpoint[] = [];
    const whole = await runSweepJob({ digest: planned.digest, job: planned.located, checkpointSeconds: 1e-9 }, (c) => void checkpoints.push(c));
    const middle = checkpoints.find((c) => c.state.iteration >= 15 && c.state.iteration < 40);
    expect(middle).toBeDefined();
    const resumed = await runSweepJob({ digest: planned.digest, job: planned.located, checkpoint: middle });
    expect(resumed.run.resumedFrom).toBe(middle!.state.iteration);
    expect(resumed.result).toEqual(whole.result);
    expect(whole.result.iterations).toBe(40);
    expect(whole.result.validationLoss).toBeGreaterThan(0);
  });
});

// Real processes on a possibly loaded 2-core machine: a timeout far above what these need.
describe('unitwise sweep of a train grid (real binary, local pool)', { timeout: 180_000 }, () => {
  it('writes the table, does nothing on a re-run, and --resume after a lost job gives the same bytes', async () => {
    const dir = trainFolder();
    const first = await unitwiseDone(dir, 'sweep', 'sweep.json', '--out', 'out', '--workers', '2');
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/16 jobs run on the local pool \(2 worker threads\)/);
    const results = jobResults(join(dir, 'out'));
    expect(results.size).toBe(16);
    const table = readFileSync(join(dir, 'out', 'table.md'), 'utf8');
    const csv = readFileSync(join(dir, 'out', 'table.csv'), 'utf8');
    expect(table).toMatch(/\| network \| row \| mode \| runs \| final loss \(mean ± sd\) \| validation loss \(mean ± sd\) \| validation accuracy \(mean ± sd\) \| iterations \(mean\) \|/);
    expect(table).toMatch(/\| net\.json \| unitwise-natural \| minibatch 4 \| 2 \| [0-9.e-]+ ± [0-9.e-]+ \| [0-9.e-]+ ± [0-9.e-]+ \| [0-9.e-]+ ± [0-9.e-]+ \| 20 \|/);
    expect(csv.split('\n')[0]).toBe('network,data,row,mode,lr,epsilon,budget,backend,runs,final_loss_mean,final_loss_std,validation_loss_mean,validation_loss_std,validation_accuracy_mean,validation_accuracy_std,iterations_mean');
    expect(csv.trim().split('\n')).toHaveLength(9);

    const again = await unitwiseDone(dir, 'sweep', 'sweep.json', '--out', 'out');
    expect(again.code, again.output).toBe(0);
    expect(again.output).toMatch(/nothing to do: all 16 jobs of this sweep are finished/);

    rmSync(join(dir, 'out', 'jobs', [...results.keys()][5]));
    const refused = await unitwiseDone(dir, 'sweep', 'sweep.json', '--out', 'out');
    expect(refused.code).toBe(2);
    expect(refused.output).toMatch(/holds this sweep part way \(15 of 16 jobs finished\); give --resume/);
    const resumed = await unitwiseDone(dir, 'sweep', 'sweep.json', '--out', 'out', '--resume', '--workers', '1');
    expect(resumed.code, resumed.output).toBe(0);
    expect(resumed.output).toMatch(/1 jobs run on the local pool \(1 worker thread\), 15 finished before/);
    expect(jobResults(join(dir, 'out'))).toEqual(results);
    expect(readFileSync(join(dir, 'out', 'table.md'), 'utf8')).toBe(table);
    expect(readFileSync(join(dir, 'out', 'table.csv'), 'utf8')).toBe(csv);
  });
});

describe.skipIf(!redisServerAvailable)('unitwise sweep of a train grid on a queue (BullMQ on a redis-server of the test)', { timeout: 180_000 }, () => {
  const fixture = redisFixture();
  it('a worker gives the local pool’s job results and tables byte for byte', async () => {
    const dir = trainFolder({ ...TINY_TRAIN, runs: 1 });
    const local = await unitwiseDone(dir, 'sweep', 'sweep.json', '--out', 'local', '--quiet');
    expect(local.code, local.output).toBe(0);
    const worker = fixture.start(dir, 'worker', '--queue', fixture.redis().url, '--concurrency', '2');
    const queued = await unitwiseDone(dir, 'sweep', 'sweep.json', '--out', 'queued', '--queue', fixture.redis().url, '--quiet');
    worker.child.kill('SIGTERM');
    expect(queued.code, queued.output).toBe(0);
    expect(queued.output).toMatch(/8 jobs run on the queue/);
    expect(jobResults(join(dir, 'queued'))).toEqual(jobResults(join(dir, 'local')));
    for (const file of ['table.md', 'table.csv']) expect(readFileSync(join(dir, 'queued', file), 'utf8')).toBe(readFileSync(join(dir, 'local', file), 'utf8'));
  });
});
