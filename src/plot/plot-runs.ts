import { basename } from 'node:path';
import { UsageError, problem, type Problem } from '../errors.js';
import { lineChart, type Series } from '../replicate/svg.js';
import type { RunLogData } from './read-log.js';
import { runLabels } from './run-labels.js';

export const PLOT_X = ['iteration', 'time'] as const;
export const PLOT_Y = ['loss', 'val-loss', 'accuracy'] as const;
export const LOG_SCALES = ['auto', 'on', 'off'] as const;
export type PlotX = (typeof PLOT_X)[number];
export type PlotY = (typeof PLOT_Y)[number];
export type LogScale = (typeof LOG_SCALES)[number];

export interface PlotOptions {
  x: PlotX;
  y: PlotY;
  logX?: boolean;
  /** `auto`: a log y axis when every value is positive and they span more than a decade (default). */
  logY?: LogScale;
  title?: string;
}

/** A chart of runs: the SVG, its series and the scales chosen. */
export interface RunsPlot {
  svg: string;
  series: Series[];
  logY: boolean;
}

const Y_LABEL: Record<PlotY, string> = { loss: 'training loss (bits per sample)', 'val-loss': 'validation loss (bits per sample)', accuracy: 'validation accuracy' };
const X_LABEL: Record<PlotX, string> = { iteration: 'iteration', time: 'time (seconds)' };

/** The [x, y] points of one run: iteration records for `loss`, validation records for `val-loss` and `accuracy`; throws when the log has none. */
export function runPoints(log: RunLogData, x: PlotX, y: PlotY): Array<[number, number]> {
  const name = basename(log.path);
  const xOf = (r: { iteration: number; elapsed: number }) => (x === 'iteration' ? r.iteration : r.elapsed);
  if (y === 'loss') {
    if (log.iterations.length === 0) throw new UsageError([problem('log', `${log.path}: no iteration records to plot (an empty or header-only log: did the run stop before its first iteration?)`)]);
    return log.iterations.map((r) => [xOf(r), r.loss]);
  }
  if (log.validations.length === 0) {
    throw new UsageError([problem('log', `${log.path}: --y ${y} needs validation records and ${name} has none; train with --val-data FILE (and --eval-every N) to log the held-out loss and accuracy`)]);
  }
  if (y === 'val-loss') return log.validations.map((r) => [xOf(r), r.loss]);
  const withAccuracy = log.validations.filter((r) => r.accuracy !== undefined);
  if (withAccuracy.length === 0) throw new UsageError([problem('log', `${log.path}: its validation records have no accuracy (a square-loss network has none); plot --y val-loss instead`)]);
  return withAccuracy.map((r) => [xOf(r), r.accuracy as number]);
}

/** Whether `auto` puts the y axis on a log scale: every value positive and the largest more than ten times the smallest. */
export function autoLogScale(values: readonly number[]): boolean {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0 || finite.some((v) => v <= 0)) return false;
  return Math.max(...finite) > 10 * Math.min(...finite);
}

/**
 * One SVG comparing runs read from their logs: a series per log (legend from the run headers,
 * see {@link runLabels}), `y` against `x`. Problems of every log come in one {@link UsageError}.
 */
export function plotRuns(logs: readonly RunLogData[], options: PlotOptions): RunsPlot {
  if (logs.length === 0) throw new UsageError([problem('log', 'give at least one log file to plot')]);
  const problems: Problem[] = [];
  const points = logs.map((l) => {
    try {
      return runPoints(l, options.x, options.y);
    } catch (err) {
      if (err instanceof UsageError) problems.push(...err.problems);
      else throw err;
      return [];
    }
  });
  if (problems.length > 0) throw new UsageError(problems);
  const ys = points.flat().map(([, y]) => y);
  const mode = options.logY ?? 'auto';
  if (mode === 'on' && ys.some((y) => y <= 0)) throw new UsageError([problem('log-y', `--log-y on: some ${options.y} values are 0 or negative and cannot go on a log scale; use --log-y off`)]);
  if (options.logX && options.x === 'iteration' && points.every((p) => p.every(([x]) => x <= 0))) throw new UsageError([problem('log-x', '--log-x: no positive x to plot')]);
  const logY = mode === 'on' || (mode === 'auto' && autoLogScale(ys));
  const labels = runLabels(logs);
  const series: Series[] = logs.map((_, i) => ({ name: labels[i], points: points[i] }));
  const title = options.title ?? `${Y_LABEL[options.y].split(' (')[0]} by ${options.x === 'time' ? 'time' : 'iteration'}`;
  const svg = lineChart({ title, xLabel: X_LABEL[options.x], yLabel: Y_LABEL[options.y], logY, ...(options.logX ? { logX: true } : {}), series });
  return { svg, series, logY };
}
