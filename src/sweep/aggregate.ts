import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeReplicationReport } from '../replicate/report.js';
import type { Curve, RunResult } from '../replicate/run.js';
import { stats, type ActivationName } from '../replicate/summary.js';
import { keyStyle, lineChart, type Series } from '../replicate/svg.js';
import { writeTextFile } from '../json/write-json.js';
import type { JobFile } from './store.js';
import type { JobRunInfo } from './job.js';
import type { AutoencoderJob, AutoencoderSweepSpec, PlannedJob, SweepSpec } from './spec.js';
import { writeTrainAggregates } from './train-aggregate.js';

/** One finished job for aggregation: its place in the grid, result and how it ran. */
export interface FinishedJob {
  planned: PlannedJob;
  file: JobFile;
  run: JobRunInfo | undefined;
}

/** One line of the sweep's table: the jobs that differ only by run. */
export interface SweepGroup {
  row: string;
  activation: ActivationName;
  lr: number;
  epsilon: number;
  backend: string;
  jobs: FinishedJob[];
}

/** The jobs grouped by everything but the run, in grid order. */
export function groupJobs(jobs: readonly FinishedJob[]): SweepGroup[] {
  const groups = new Map<string, SweepGroup>();
  for (const j of jobs) {
    const job = j.planned.job as AutoencoderJob;
    const g = { row: job.row, activation: job.activation, lr: job.options.lr as number, epsilon: job.options.epsilon as number, backend: job.options.backend ?? 'cpu' };
    const key = JSON.stringify(g);
    if (!groups.has(key)) groups.set(key, { ...g, jobs: [] });
    groups.get(key)!.jobs.push(j);
  }
  return [...groups.values()];
}

const num = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(6))) : '');

/**
 * The sweep's tables from its jobs' results (no times: the same sweep gives the same bytes on
 * any engine): `table.csv` (one line per group: final loss mean, std, min, max over runs, mean
 * iterations) and `table.md`; then `timing.md` (seconds per job, which differ from run to run).
 */
export function sweepTables(groups: readonly SweepGroup[]): { csv: string; markdown: string; timing: string } {
  const head = ['row', 'activation', 'lr', 'epsilon', 'backend', 'runs', 'loss_mean', 'loss_std', 'loss_min', 'loss_max', 'iterations_mean'];
  const lines = groups.map((g) => {
    const s = stats(g.jobs.map((j) => j.file.result.finalLoss));
    const iterations = g.jobs.reduce((a, j) => a + j.file.result.iterations, 0) / g.jobs.length;
    return [g.row, g.activation, num(g.lr), num(g.epsilon), g.backend, String(g.jobs.length), num(s.mean), num(s.std), num(s.min), num(s.max), num(iterations)];
  });
  const csv = [head, ...lines].map((l) => l.join(',')).join('\n') + '\n';
  const markdown = [
    'Final loss (bits per sample) over runs, by row, activation, initial rate, ε and backend',
    '',
    '| row | activation | lr | ε | backend | runs | final loss (mean ± std) | min | max | iterations (mean) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...lines.map((l) => `| ${l.slice(0, 6).join(' | ')} | ${l[6]} ± ${l[7]} | ${l[8]} | ${l[9]} | ${l[10]} |`),
    '',
  ].join('\n');
  const timing = [
    'Training seconds per job (mean over runs; these depend on the machine and its load)',
    '',
    '| row | activation | lr | ε | backend | seconds (mean) | resumed from a checkpoint |',
    '|---|---|---|---|---|---|---|',
    ...groups.map((g) => {
      const seconds = g.jobs.map((j) => j.run?.seconds ?? NaN);
      const resumed = g.jobs.filter((j) => j.run?.resumedFrom !== undefined).length;
      return `| ${g.row} | ${g.activation} | ${num(g.lr)} | ${num(g.epsilon)} | ${g.backend} | ${num(seconds.reduce((a, b) => a + b, 0) / seconds.length)} | ${resumed} |`;
    }),
    '',
  ].join('\n');
  return { csv, markdown, timing };
}

/** Figure: every group's mean loss by iteration (log scale), one series per group. */
export function sweepFigure(groups: readonly SweepGroup[]): string {
  const series: Series[] = groups.map((g, i) => {
    const style = keyStyle(i);
    const curves = g.jobs.map((j) => j.file.result.points);
    const length = Math.min(...curves.map((c) => c.length));
    const points = Array.from({ length }, (_, k): [number, number] => [curves[0][k][0], curves.reduce((a, c) => a + c[k][1], 0) / curves.length]);
    const name = [g.row, g.activation, groups.some((o) => o.lr !== g.lr) ? `lr ${num(g.lr)}` : '', groups.some((o) => o.epsilon !== g.epsilon) ? `ε ${num(g.epsilon)}` : '', groups.some((o) => o.backend !== g.backend) ? g.backend : ''].filter(Boolean).join(', ');
    return { name, color: style.color, marker: style.marker, dash: g.activation === 'tanh' ? style.dashed : style.solid, points };
  });
  return lineChart({ title: 'Sweep: mean training loss by iteration', xLabel: 'iteration', yLabel: 'loss (bits per sample)', logY: true, series });
}

/**
 * Writes the sweep's aggregates into `dir`: `table.csv`, `table.md`, `timing.md`,
 * `figure.svg`; and, when the grid is Section 4's (both activations, one rate, one ε, one
 * backend), the replication's report too (`table1`/`table2`, curves, figures, `report.md`,
 * `index.html`), exactly as `replicate autoencoder` writes it. A train sweep's aggregates are
 * its own (`writeTrainAggregates`: one line per grid point). Returns the Markdown table.
 */
export function writeSweepAggregates(dir: string, spec: SweepSpec, jobs: readonly FinishedJob[], wallSeconds: number): { table: string; replication: boolean } {
  if (spec.experiment === 'train') return { table: writeTrainAggregates(dir, jobs), replication: false };
  const groups = groupJobs(jobs);
  const { csv, markdown, timing } = sweepTables(groups);
  writeTextFile(join(dir, 'table.csv'), csv);
  writeTextFile(join(dir, 'table.md'), markdown);
  writeTextFile(join(dir, 'timing.md'), timing);
  writeFileSync(join(dir, 'figure.svg'), sweepFigure(groups));
  const replication = isReplicationGrid(spec);
  if (replication) writeReplicationReport(dir, { results: runResults(spec, jobs), methods: spec.methods, budget: spec.budget, seed: spec.seed, wallSeconds, ...(spec.kronecker ? { kronecker: spec.kronecker } : {}) });
  return { table: markdown, replication };
}

/** Whether a sweep's grid is the replication's: both activations, one rate, one ε and one backend. */
export function isReplicationGrid(spec: AutoencoderSweepSpec): boolean {
  const activations = spec.activations ?? ['sigmoid', 'tanh'];
  return activations.includes('sigmoid') && activations.includes('tanh') && (spec.lr ?? [0]).length === 1 && (spec.epsilon ?? [0]).length === 1 && (spec.backends ?? ['cpu']).length === 1;
}

/** The replication's per-run results from a Section-4-shaped sweep's jobs (see `runAutoencoder`). */
export function runResults(spec: AutoencoderSweepSpec, jobs: readonly FinishedJob[]): RunResult[] {
  const results: RunResult[] = [];
  for (let run = 0; run < spec.runs; run++) {
    const mine = jobs.filter((j) => j.planned.run === run);
    const curves: RunResult['curves'] = {};
    for (const j of mine) {
      const { result } = j.file;
      const seconds = j.run?.pointSeconds ?? result.points.map(() => NaN);
      const curve: Curve = { iterations: result.iterations, seconds: j.run?.seconds ?? NaN, initialLoss: result.initialLoss, finalLoss: result.finalLoss, points: result.points.map(([i, loss], k) => [i, seconds[k], loss]) };
      const job = j.planned.job as AutoencoderJob;
      curves[job.row] = { ...(curves[job.row] ?? {}), [job.activation]: curve } as { sigmoid: Curve; tanh: Curve };
    }
    const budgetSeconds = mine.find((j) => j.run?.budgetSeconds !== undefined)?.run?.budgetSeconds;
    const result: RunResult = { run, seed: spec.seed + run, backend: mine[0]?.run?.backend ?? '', ...(budgetSeconds !== undefined ? { budgetSeconds } : {}), curves };
    results.push(result);
  }
  return results;
}
