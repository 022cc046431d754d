import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModel, type Model } from '../src/engine/model.js';
import type { DataDocument, NetworkDocument } from '../src/network/types.js';
import { reconcileLog, RunLog } from '../src/train/run-files.js';
import type { TrainOptions } from '../src/train/settings.js';
import type { SavedRun } from '../src/train/state-file.js';
import { trainSummary } from '../src/train/summary.js';
import { train, type IterationRecord, type TrainState } from '../src/train/trainer.js';
import { checkValidationChoices, measure, validationCallbacks, type ValidationRecord } from '../src/train/validation.js';
import { repoRoot } from './helpers/documents.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

const doc = randomNetwork({ interpretation: 'softmax', seed: 11, activations: ['tanh', 'sigmoid'], inputs: 3, hidden: 5, outputs: 3 });
const data = randomData(doc, 24, 11);
const held = randomData(doc, 10, 12);

interface Run {
  model: Model;
  records: IterationRecord[];
  validation: ValidationRecord[];
  state: TrainState;
  stoppedBy: string;
}

async function run(network: NetworkDocument, options: TrainOptions, iterations: number, opts: { validate?: DataDocument; every?: number; stopAt?: number; model?: Model; resume?: TrainState } = {}): Promise<Run> {
  const model = opts.model ?? createModel(network);
  const records: IterationRecord[] = [];
  const validation: ValidationRecord[] = [];
  const callbacks = opts.validate ? validationCallbacks(model, opts.validate, { every: opts.every, onRecord: (r) => validation.push(r) }) : {};
  const result = await train(model, data, options, { iterations }, { ...callbacks, onIteration: (r) => records.push(r), shouldStop: () => opts.stopAt !== undefined && records.length >= opts.stopAt }, opts.resume);
  return { model, records, validation, state: result.state, stoppedBy: result.stoppedBy };
}

const withoutTime = <T extends { elapsed: number }>(records: T[]) => records.map(({ elapsed: _elapsed, ...rest }) => rest);

describe('validation during training', () => {
  const cases: Array<[string, TrainOptions]> = [
    ['batch, adaptive rate', { method: 'unitwise-natural' }],
    ['mini-batch, Monte-Carlo draws', { method: 'mc-unitwise-natural', mode: 'minibatch', batchSize: 5, lrSchedule: 'fixed', lr: 0.05 }],
    ['online', { method: 'quasi-diagonal-natural', mode: 'online', lr: 0.02, nInit: 10 }],
  ];
  for (const [name, options] of cases) {
    it(`${name}: does not perturb the trajectory; measured at 0, every N and at the end`, async () => {
      const plain = await run(doc, options, 53);
      const validated = await run(doc, options, 53, { validate: held, every: 10 });
      expect(Array.from(validated.model.params)).toEqual(Array.from(plain.model.params));
      expect(withoutTime(validated.records)).toEqual(withoutTime(plain.records));
      expect(validated.validation.map((r) => r.iteration)).toEqual([0, 10, 20, 30, 40, 50, 53]);
      expect(validated.validation.every((r) => r.type === 'validation' && r.accuracy !== undefined && r.accuracy >= 0 && r.accuracy <= 1)).toBe(true);
      // The first is the initial network's, the last the final network's.
      expect(validated.validation[0]).toMatchObject(measure(createModel(doc), held));
      expect(validated.validation[6]).toMatchObject(measure(plain.model, held));
    });
  }

  it('an interrupted then resumed run makes the validation records of the uninterrupted one', async () => {
    const options: TrainOptions = { method: 'backpropagated-metric', mode: 'minibatch', batchSize: 7, lrSchedule: 'fixed', lr: 0.05 };
    const whole = await run(doc, options, 60, { validate: held, every: 10 });
    for (const stopAt of [20, 27]) {
      const first = await run(doc, options, 60, { validate: held, every: 10, stopAt });
      expect(first.stoppedBy).toBe('interrupt');
      expect(first.validation.at(-1)?.iteration).toBe(20); // not measured where it was stopped
      const resumed = { ...first.model, params: Float64Array.from(first.model.params) };
      const rest = await run(doc, options, 60, { validate: held, every: 10, model: resumed, resume: first.state });
      expect(Array.from(rest.model.params)).toEqual(Array.from(whole.model.params));
      expect(withoutTime([...first.validation, ...rest.validation])).toEqual(withoutTime(whole.validation));
    }
  });

  it('square-loss outputs have a loss and no accuracy; the summary measures the final network', async () => {
    const square = randomNetwork({ interpretation: 'square', seed: 3, activations: ['tanh'], inputs: 2, hidden: 3, outputs: 2 });
    const squareData = randomData(square, 12, 3);
    const model = createModel(square);
    const validation: ValidationRecord[] = [];
    const result = await train(model, squareData, { method: 'backprop' }, { iterations: 5 }, validationCallbacks(model, squareData, { onRecord: (r) => validation.push(r) }));
    expect(validation.map((r) => r.iteration)).toEqual([0, 5]);
    expect(validation[1].accuracy).toBeUndefined();
    const summary = trainSummary({ header: { version: 'x', commit: null, argv: [], seeds: {}, files: {} }, options: { method: 'backprop' }, result, model, data: squareData, validation: squareData });
    expect(summary).toMatchObject({ method: 'backprop', mode: 'batch', iterations: 5, stoppedBy: 'budget' });
    expect(summary.train.loss).toBe(validation[1].loss);
    expect(summary.validation).toEqual(summary.train);
  });
});

describe('validation options', () => {
  it('refuses a bad period, options without --val-data, and targets files given for one set only', () => {
    expect(() => checkValidationChoices({ valData: 'v.json', evalEvery: 2.5 })).toThrow(/--eval-every 2.5: give a whole number/);
    expect(() => checkValidationChoices({ evalEvery: 10 })).toThrow(/--eval-every applies to validation data: give --val-data/);
    expect(() => checkValidationChoices({ valTargetsData: 't.csv' })).toThrow(/--val-targets-data applies to validation data/);
    expect(() => checkValidationChoices({ valData: 'v.csv', targetsData: 't.csv' })).toThrow(/give --val-targets-data with the targets of --val-data v\.csv/);
    expect(() => checkValidationChoices({ valData: 'v.csv', valTargetsData: 'vt.csv' })).toThrow(/goes with --targets-data/);
    expect(() => checkValidationChoices({ valData: 'v.csv', valTargetsData: 'vt.csv', targetsData: 't.csv', evalEvery: 1 })).not.toThrow();
  });
});

describe('logs with validation records on --resume', () => {
  it('reconcileLog keeps the validation records up to the state, drops those past it, and refuses misplaced ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-val-log-'));
    const path = join(dir, 'a.jsonl');
    const log = RunLog.fresh(path, { version: 'x', commit: null, argv: ['train'], seeds: {}, files: {} });
    const v = (iteration: number): ValidationRecord => ({ type: 'validation', iteration, elapsed: 0, loss: 2, accuracy: 0.5 });
    log.add(v(0));
    for (let i = 1; i <= 4; i++) {
      log.add({ iteration: i, elapsed: 0, loss: 1, lossBefore: 1, lr: 0.1, accepted: true });
      if (i % 2 === 0) log.add(v(i));
    }
    log.flush();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    const saved = { state: { iteration: 2 }, budget: {}, log: path } as unknown as SavedRun;
    expect(reconcileLog(saved, path, 's.json')).toMatch(/dropped 3 records past iteration 2/);
    // header, v0, 1, 2, v2
    expect(readFileSync(path, 'utf8').trim().split('\n')).toEqual(lines.slice(0, 5));
    writeFileSync(path, [lines[0], lines[1], lines[2], lines[4]].join('\n') + '\n');
    expect(() => reconcileLog(saved, path, 's.json')).toThrow(/line 4 is a validation record of iteration 2 after iteration 1/);
  });
});

describe('train --val-data (real binary)', { timeout: 120_000 }, () => {
  const bin = join(repoRoot, 'bin/unitwise.js');
  const cli = (dir: string, ...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  it('logs validation records, writes OUT.summary.json, and refuses validation data of another shape naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-val-cli-'));
    writeFileSync(join(dir, 'net.json'), JSON.stringify(doc));
    writeFileSync(join(dir, 'train.json'), JSON.stringify(data));
    writeFileSync(join(dir, 'val.json'), JSON.stringify(held));
    const r = cli(dir, 'train', 'net.json', '--data', 'train.json', '--val-data', 'val.json', '--eval-every', '4', '--iterations', '10', '--out', 'out.json', '--log', 'log.jsonl');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/val loss \d+\.\d{4} acc \d+\.\d%/);
    const records = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { type?: string; iteration: number });
    expect(records.filter((x) => x.type === 'validation').map((x) => x.iteration)).toEqual([0, 4, 8, 10]);
    expect(records.filter((x) => x.type === undefined).map((x) => x.iteration)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const summary = JSON.parse(readFileSync(join(dir, 'out.json.summary.json'), 'utf8'));
    expect(summary).toMatchObject({ method: 'backprop', mode: 'batch', iterations: 10, stoppedBy: 'budget', header: { argv: expect.arrayContaining(['--val-data', 'val.json']) } });
    expect(Object.keys(summary.header.files)).toEqual(['net.json', 'train.json', 'val.json']);
    const last = records.at(-1) as unknown as ValidationRecord;
    expect(summary.validation).toEqual({ loss: last.loss, accuracy: last.accuracy });
    expect(summary.train.accuracy).toBeGreaterThanOrEqual(0);

    writeFileSync(join(dir, 'wide.json'), JSON.stringify({ inputs: held.inputs.map((x) => [...x, 0]), targets: held.targets }));
    const bad = cli(dir, 'train', 'net.json', '--data', 'train.json', '--val-data', 'wide.json', '--iterations', '3', '--out', 'o2.json', '--force');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^wide\.json: error: inputs\[0\] has 4 values but the network has 3 input units/m);
    const usage = cli(dir, 'train', 'net.json', '--data', 'train.json', '--eval-every', '5', '--iterations', '3', '--out', 'o2.json', '--force');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--eval-every applies to validation data: give --val-data/);
  });

  it('SIGTERM: OUT.summary.json says interrupt, and its validation figures are those of the saved network; a summary path taken by a folder is refused first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-val-int-'));
    writeFileSync(join(dir, 'net.json'), JSON.stringify(doc));
    writeFileSync(join(dir, 'train.json'), JSON.stringify(data));
    writeFileSync(join(dir, 'val.json'), JSON.stringify(held));
    mkdirSync(join(dir, 'taken.json.summary.json'));
    const taken = cli(dir, 'train', 'net.json', '--data', 'train.json', '--iterations', '3', '--out', 'taken.json');
    expect(taken.status).toBe(1);
    expect(taken.stderr).toMatch(/--out \(its summary\)/);

    const child = spawn(process.execPath, [bin, 'train', 'net.json', '--data', 'train.json', '--val-data', 'val.json', '--eval-every', '50', '--iterations', '100000000', '--out', 'int.json', '--log', 'int.jsonl'], { cwd: dir });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d) => (stderr += d) && /stops after the current iteration and saves/.test(stderr) && resolve());
      child.on('exit', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(143);
    const summary = JSON.parse(readFileSync(join(dir, 'int.json.summary.json'), 'utf8'));
    const state = JSON.parse(readFileSync(join(dir, 'int.json.state.json'), 'utf8'));
    expect(summary.stoppedBy).toBe('interrupt');
    expect(summary.iterations).toBe(state.state.iteration);
    const saved = createModel(JSON.parse(readFileSync(join(dir, 'int.json'), 'utf8')) as NetworkDocument);
    expect(summary.validation).toEqual(measure(saved, held));
    expect(summary.train).toEqual(measure(saved, data));
  });
});
