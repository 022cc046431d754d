import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextFile } from '../json/write-json.js';
import { stats } from '../replicate/summary.js';
import { keyStyle, lineChart, type Series } from '../replicate/svg.js';
import type { FinishedJob } from './aggregate.js';
import type { JobResult } from './job.js';
import type { PlannedTrainJob, TrainJob } from './train-spec.js';
import { dataLabel, networkLabel } from './train-sources.js';

/** The grid fields of a train sweep's table, each with how a job shows it. */
const FIELDS: Array<{ csv: string; title: string; of: (job: TrainJob) => string }> = [
  { csv: 'network', title: 'network', of: (j) => networkLabel(j.network) },
  { csv: 'data', title: 'data', of: (j) => dataLabel(j.data) },
  { csv: 'row', title: 'row', of: (j) => j.row },
  { csv: 'mode', title: 'mode', of: (j) => `${j.options.mode ?? 'batch'}${j.options.batchSize !== undefined ? ` ${j.options.batchSize}` : ''}` },
  { csv: 'lr', title: 'lr', of: (j) => num(j.options.lr ?? NaN) },
  { csv: 'epsilon', title: 'ε', of: (j) => num(j.options.epsilon ?? NaN) },
  { csv: 'budget', title: 'budget', of: (j) => ('iterations' in j.budget ? `${j.budget.iterations} iterations` : `${j.budget.seconds} s`) },
  { csv: 'backend', title: 'backend', of: (j) => j.options.backend ?? 'cpu' },
];

/** The recorded figures a table may show, in column order. */
const FIGURES: Array<{ csv: string; title: string; of: (r: JobResult) => number | undefined }> = [
  { csv: 'initial_loss', title: 'initial loss', of: (r) => r.initialLoss },
  { csv: 'final_loss', title: 'final loss', of: (r) => r.finalLoss },
  { csv: 'train_accuracy', title: 'train accuracy', of: (r) => r.trainAccuracy },
  { csv: 'validation_loss', title: 'validation loss', of: (r) => r.validationLoss },
  { csv: 'validation_accuracy', title: 'validation accuracy', of: (r) => r.validationAccuracy },
];
const RECORDED: Record<string, string> = { initial_loss: 'initial-loss', final_loss: 'final-loss', train_accuracy: 'train-accuracy', validation_loss: 'validation-loss', validation_accuracy: 'validation-accuracy' };

const num = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(6))) : '');

/** A grid point of a train sweep: its jobs over the runs. */
interface TrainGroup {
  job: TrainJob;
  jobs: FinishedJob[];
}

function groups(jobs: readonly FinishedJob[]): TrainGroup[] {
  const byPoint = new Map<number, TrainGroup>();
  for (const j of jobs) {
    const { point } = j.planned as PlannedTrainJob;
    if (!byPoint.has(point)) byPoint.set(point, { job: j.file.job as TrainJob, jobs: [] });
    byPoint.get(point)!.jobs.push(j);
  }
  return [...byPoint.values()];
}

/**
 * A train sweep's tables (no times: the same sweep gives the same bytes on any engine):
 * `table.csv`, every grid field and the mean and sd over runs of each recorded figure (losses
 * in bits per sample), and the mean iterations; `table.md`, the fields that vary and `mean ± sd`;
 * `timing.md`, seconds per job.
 */
export function trainSweepTables(jobs: readonly FinishedJob[]): { csv: string; markdown: string; timing: string } {
  const gs = groups(jobs);
  const figures = FIGURES.filter((f) => gs.some((g) => g.job.record.includes(RECORDED[f.csv] as TrainJob['record'][number]) && g.jobs.some((j) => f.of(j.file.result) !== undefined)));
  const cells = gs.map((g) => ({
    fields: FIELDS.map((f) => f.of(g.job)),
    figures: figures.map((f) => {
      const values = g.jobs.map((j) => f.of(j.file.result)).filter((v): v is number => v !== undefined);
      return values.length ? stats(values) : undefined;
    }),
    iterations: g.jobs.reduce((a, j) => a + j.file.result.iterations, 0) / g.jobs.length,
    runs: g.jobs.length,
  }));
  const head = [...FIELDS.map((f) => f.csv), 'runs', ...figures.flatMap((f) => [`${f.csv}_mean`, `${f.csv}_std`]), 'iterations_mean'];
  const csvLines = cells.map((c) => [...c.fields.map(csvCell), String(c.runs), ...c.figures.flatMap((s) => (s ? [num(s.mean), num(s.std)] : ['', ''])), num(c.iterations)]);
  const csv = [head, ...csvLines].map((l) => l.join(',')).join('\n') + '\n';
  const varying = FIELDS.map((_, i) => i).filter((i) => i === 2 || new Set(cells.map((c) => c.fields[i])).size > 1);
  const titles = [...varying.map((i) => FIELDS[i].title), 'runs', ...figures.map((f) => `${f.title} (mean ± sd)`), 'iterations (mean)'];
  const fixed = FIELDS.map((f, i) => (varying.includes(i) ? '' : `${f.title} ${cells[0]?.fields[i] ?? ''}`)).filter(Boolean);
  const markdown = [
    `Recorded figures over runs by grid point (losses in bits per sample)${fixed.length ? `; ${fixed.join(', ')}` : ''}`,
    '',
    `| ${titles.join(' | ')} |`,
    `|${titles.map(() => '---').join('|')}|`,
    ...cells.map((c) => `| ${[...varying.map((i) => c.fields[i]), String(c.runs), ...c.figures.map((s) => (s ? `${num(s.mean)} ± ${num(s.std)}` : '')), num(c.iterations)].join(' | ')} |`),
    '',
  ].join('\n');
  const timing = [
    'Training seconds per job (mean over runs; these depend on the machine and its load)',
    '',
    `| ${[...varying.map((i) => FIELDS[i].title), 'seconds (mean)'].join(' | ')} |`,
    `|${[...varying, 0].map(() => '---').join('|')}|`,
    ...gs.map((g, k) => `| ${[...varying.map((i) => cells[k].fields[i]), num(g.jobs.reduce((a, j) => a + (j.run?.seconds ?? NaN), 0) / g.jobs.length)].join(' | ')} |`),
    '',
  ].join('\n');
  return { csv, markdown, timing };
}

function csvCell(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Figure: each grid point's mean training loss by iteration (log scale), for the jobs that record their curve. */
export function trainSweepFigure(jobs: readonly FinishedJob[]): string | undefined {
  const gs = groups(jobs).filter((g) => g.jobs.every((j) => j.file.result.points.length > 0));
  if (gs.length === 0) return undefined;
  const varying = FIELDS.filter((f) => new Set(gs.map((g) => f.of(g.job))).size > 1);
  const series: Series[] = gs.map((g, i) => {
    const style = keyStyle(i);
    const curves = g.jobs.map((j) => j.file.result.points);
    const length = Math.min(...curves.map((c) => c.length));
    const points = Array.from({ length }, (_, k): [number, number] => [curves[0][k][0], curves.reduce((a, c) => a + c[k][1], 0) / curves.length]);
    return { name: (varying.length ? varying : [FIELDS[2]]).map((f) => f.of(g.job)).join(', '), color: style.color, marker: style.marker, dash: style.solid, points };
  });
  return lineChart({ title: 'Sweep: mean training loss by iteration', xLabel: 'iteration', yLabel: 'loss (bits per sample)', logY: true, series });
}

/** Writes a train sweep's `table.csv`, `table.md`, `timing.md` and (when curves are recorded) `figure.svg` into `dir`; returns the Markdown table. */
export function writeTrainAggregates(dir: string, jobs: readonly FinishedJob[]): string {
  const { csv, markdown, timing } = trainSweepTables(jobs);
  writeTextFile(join(dir, 'table.csv'), csv);
  writeTextFile(join(dir, 'table.md'), markdown);
  writeTextFile(join(dir, 'timing.md'), timing);
  const figure = trainSweepFigure(jobs);
  if (figure !== undefined) writeFileSync(join(dir, 'figure.svg'), figure);
  return markdown;
}
