import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { autoLogScale, plotRuns } from '../src/plot/plot-runs.js';
import { parseRunLog } from '../src/plot/read-log.js';
import { parseArgv, runLabels } from '../src/plot/run-labels.js';
import { repoRoot } from './helpers/documents.js';

const bin = join(repoRoot, 'bin/unitwise.js');
const header = (argv: string[]) => JSON.stringify({ header: { version: '0.1.0', commit: null, argv, seeds: {}, files: {} } });
const iteration = (i: number, loss: number) => JSON.stringify({ iteration: i, elapsed: i / 10, loss, lr: 0.01, accepted: true });
const validation = (i: number, loss: number, accuracy?: number) => JSON.stringify({ type: 'validation', iteration: i, elapsed: i / 10, loss, ...(accuracy !== undefined ? { accuracy } : {}) });
const trainArgv = (...extra: string[]) => ['train', 'net.json', '--data', 'd.json', '--iterations', '10', '--out', 'o.json', '--log', 'l.jsonl', ...extra];

/** Throws unless `f` throws a UsageError whose message matches every pattern. */
function usageError(f: () => unknown, ...patterns: RegExp[]): void {
  let caught: unknown;
  try {
    f();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UsageError);
  for (const p of patterns) expect((caught as Error).message).toMatch(p);
}

describe('reading training logs', () => {
  it('splits the header, iteration records and validation records; unknown types are skipped and counted', () => {
    const text = [header(trainArgv('--method', 'adam')), iteration(1, 9), validation(1, 10, 0.5), '', iteration(2, 8), JSON.stringify({ type: 'checkpoint', iteration: 2 }), validation(2, 9)].join('\n') + '\n';
    const log = parseRunLog(text, 'a.jsonl');
    expect(log.header?.argv).toContain('adam');
    expect(log.iterations).toEqual([{ iteration: 1, elapsed: 0.1, loss: 9 }, { iteration: 2, elapsed: 0.2, loss: 8 }]);
    expect(log.validations).toEqual([{ iteration: 1, elapsed: 0.1, loss: 10, accuracy: 0.5 }, { iteration: 2, elapsed: 0.2, loss: 9 }]);
    expect(log.skipped).toEqual({ checkpoint: 1 });
    expect(parseRunLog(iteration(1, 3), 'b.jsonl').header).toBeUndefined();
  });

  it('malformed lines are usage errors naming the file and line, all at once', () => {
    const text = [header(trainArgv()), iteration(1, 9), '{"iteration": 2, "loss": 8', JSON.stringify({ iteration: 3, elapsed: 0.3 }), '[1, 2]', JSON.stringify({ type: 'validation', iteration: 4 }), header(trainArgv())].join('\n');
    usageError(
      () => parseRunLog(text, 'bad.jsonl'),
      /bad\.jsonl:3: not a JSON record/,
      /bad\.jsonl:4: an iteration record needs numeric "loss"/,
      /bad\.jsonl:5: a record must be a JSON object/,
      /bad\.jsonl:6: a validation record needs numeric "loss"/,
      /bad\.jsonl:7: a run header must be the first line/,
    );
    usageError(() => parseRunLog(`${iteration(1, 9)}\n{"iteration": 2, "elap`, 'cut.jsonl'), /cut\.jsonl:2: .*cut off while written/);
  });
});

describe('series and labels', () => {
  const log = (path: string, argv: string[] | undefined, lines: string[]) => parseRunLog([...(argv ? [header(argv)] : []), ...lines].join('\n'), path);

  it("labels runs by the paper's method name and the settings that differ, else by file name", () => {
    const a = log('runs/a.jsonl', trainArgv('--method', 'unitwise-natural', '--lr', '0.1'), [iteration(1, 5)]);
    const b = log('runs/b.jsonl', trainArgv('--method', 'unitwise-natural', '--lr=0.01'), [iteration(1, 5)]);
    const c = log('runs/c.jsonl', trainArgv('--lr', '0.1'), [iteration(1, 5)]);
    const d = log('runs/d.jsonl', undefined, [iteration(1, 5)]);
    expect(runLabels([a, b, c, d])).toEqual(['Unitwise natural gradient, lr 0.1', 'Unitwise natural gradient, lr 0.01', 'Backpropagation, lr 0.1', 'd.jsonl']);
    // Nothing tells two runs apart: the file names do.
    expect(runLabels([a, log('runs/a2.jsonl', trainArgv('--method', 'unitwise-natural', '--lr', '0.1'), [iteration(1, 5)])])).toEqual(['Unitwise natural gradient [a.jsonl]', 'Unitwise natural gradient [a2.jsonl]']);
    expect(runLabels([a])).toEqual(['Unitwise natural gradient']);
    expect(parseArgv(['train', 'n.json', '--nesterov', '--no-quiet', '--lr', '0.1', '--mode=minibatch']).options).toEqual(
      new Map([
        ['nesterov', 'true'],
        ['quiet', 'false'],
        ['lr', '0.1'],
        ['mode', 'minibatch'],
      ]),
    );
  });

  it('plots iteration records for the loss and validation records for val-loss and accuracy, by iteration or time', () => {
    const a = log('a.jsonl', trainArgv('--method', 'adam'), [iteration(1, 100), validation(1, 120, 0.25), iteration(2, 50), iteration(3, 5), validation(3, 30, 0.75)]);
    const loss = plotRuns([a], { x: 'iteration', y: 'loss' });
    expect(loss.series[0].points).toEqual([[1, 100], [2, 50], [3, 5]]);
    expect(loss.logY).toBe(true); // 100 to 5: more than a decade
    expect(plotRuns([a], { x: 'time', y: 'val-loss' }).series[0].points).toEqual([[0.1, 120], [0.3, 30]]);
    const accuracy = plotRuns([a], { x: 'iteration', y: 'accuracy' });
    expect(accuracy.series[0].points).toEqual([[1, 0.25], [3, 0.75]]);
    expect(accuracy.logY).toBe(false);
    expect(plotRuns([a], { x: 'iteration', y: 'loss', logY: 'off' }).logY).toBe(false);
    expect(plotRuns([a], { x: 'iteration', y: 'accuracy', logY: 'on' }).logY).toBe(true);
    expect(autoLogScale([3, 20])).toBe(false);
    expect(autoLogScale([0, 100])).toBe(false);
    expect(autoLogScale([3, 31])).toBe(true);
  });

  it('a metric the log lacks is a usage error saying how to get it, for every log at fault', () => {
    const plain = log('plain.jsonl', trainArgv(), [iteration(1, 5)]);
    const other = log('other.jsonl', trainArgv(), [iteration(1, 5)]);
    usageError(() => plotRuns([plain, other], { x: 'iteration', y: 'val-loss' }), /plain\.jsonl: --y val-loss needs validation records.*--val-data/, /other\.jsonl/);
    const square = log('square.jsonl', trainArgv(), [iteration(1, 5), validation(1, 6)]);
    usageError(() => plotRuns([square], { x: 'iteration', y: 'accuracy' }), /square\.jsonl: its validation records have no accuracy/);
    usageError(() => plotRuns([log('empty.jsonl', trainArgv(), [])], { x: 'iteration', y: 'loss' }), /empty\.jsonl: no iteration records/);
    usageError(() => plotRuns([log('z.jsonl', trainArgv(), [iteration(1, 0)])], { x: 'iteration', y: 'loss', logY: 'on' }), /--log-y on/);
  });
});

describe('unitwise plot (CLI)', { timeout: 120_000 }, () => {
  let dir: string;
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'unitwise-plot-'));
    const net = join(repoRoot, 'networks/tiny-bernoulli.json');
    const data = join(repoRoot, 'networks/tiny-bernoulli.data.json');
    for (const [method, lr] of [['backprop', '0.1'], ['unitwise-natural', '0.1'], ['unitwise-natural', '0.5']]) {
      execFileSync(process.execPath, [bin, 'train', net, '--data', data, '--method', method, '--lr', lr, '--iterations', '20', '--out', `${method}-${lr}.json`, '--log', `${method}-${lr}.jsonl`, '--quiet'], { cwd: dir });
    }
  });

  it('draws one series per log with a legend entry each, labelled from the run headers', () => {
    const r = run('plot', 'backprop-0.1.jsonl', 'unitwise-natural-0.1.jsonl', 'unitwise-natural-0.5.jsonl', '--x', 'time', '--out', 'fig.svg', '--title', 'three runs');
    expect(r.stderr).toMatch(/wrote fig\.svg/);
    expect(r.status).toBe(0);
    const svg = readFileSync(join(dir, 'fig.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('three runs');
    expect(svg.match(/class="series"/g)).toHaveLength(3);
    expect(svg.match(/class="legend-entry"/g)).toHaveLength(3);
    for (const name of ['Backpropagation, lr 0.1', 'Unitwise natural gradient, lr 0.1', 'Unitwise natural gradient, lr 0.5']) expect(svg).toContain(`data-name="${name}"`);
    // 20 records each: 20 points per line.
    for (const d of svg.match(/<path d="[^"]*"/g) ?? []) expect(d.match(/[ML]/g)).toHaveLength(20);
  });

  it('errors: malformed log (exit 2, file and line), missing validation records, missing file, bad choice', () => {
    writeFileSync(join(dir, 'broken.jsonl'), `${readFileSync(join(dir, 'backprop-0.1.jsonl'), 'utf8')}{"iteration": 21,\n`);
    const broken = run('plot', 'broken.jsonl', '--out', 'b.svg');
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/broken\.jsonl:22: not a JSON record/);
    const val = run('plot', 'backprop-0.1.jsonl', '--y', 'val-loss', '--out', 'v.svg');
    expect(val.status).toBe(2);
    expect(val.stderr).toMatch(/--val-data/);
    const missing = run('plot', 'nope.jsonl', '--out', 'n.svg');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.jsonl: error: cannot read the file: no such file/);
    expect(run('plot', 'backprop-0.1.jsonl', '--y', 'speed', '--out', 's.svg').status).toBe(2);
  });
});
