import { METHOD_SPECS } from '../methods/methods.js';
import { PAPER_TABLE1, PAPER_TABLE2 } from '../methods/paper.js';
import { parseRows, rowTitle, type ReplicateRow } from './rows.js';
import { rowBudget, type Curve, type ReplicateBudget, type RowBudget, type RunResult } from './run.js';

export type ActivationName = 'sigmoid' | 'tanh';
export const ACTIVATION_NAMES: ActivationName[] = ['sigmoid', 'tanh'];

export interface Stats {
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** One row of Tables 1 and 2 (a method, or a method with an accumulated metric). */
export interface MethodSummary {
  /** The row's key: the method's name, or `METHOD@γ`. */
  method: string;
  row: ReplicateRow;
  title: string;
  /** What the row trained for (under `paper`, the time rule for methods outside Table 1). */
  budget: RowBudget;
  invariant: boolean;
  /** Final loss, bits per sample, over runs. */
  loss: Record<ActivationName, Stats>;
  /** Iterations done under the budget and seconds taken, means over runs. */
  iterations: Record<ActivationName, number>;
  seconds: Record<ActivationName, number>;
  /** The paper's figures for the row's method (the paper does not say whether its estimate was each batch's own). */
  paperLoss: Record<ActivationName, [number, number]> | null;
  paperIterations: [number, number] | null;
}

/** Mean ± std (sample standard deviation) and range. */
export function stats(values: number[]): Stats {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values) };
}

/** Per-row summaries over the runs, in the order of `methods` (row keys, see {@link ReplicateRow}). */
export function summarise(results: RunResult[], methods: readonly string[], budget: ReplicateBudget): MethodSummary[] {
  return parseRows(methods).map((row) => {
    const { method } = row;
    const curves = (a: ActivationName) => results.map((r) => (r.curves[row.key] as Record<ActivationName, Curve>)[a]);
    const per = <T>(f: (a: ActivationName) => T) => ({ sigmoid: f('sigmoid'), tanh: f('tanh') });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      method: row.key,
      row,
      title: rowTitle(row),
      budget: rowBudget(row, budget),
      invariant: METHOD_SPECS[method].invariant,
      loss: per((a) => stats(curves(a).map((c) => c.finalLoss))),
      iterations: per((a) => mean(curves(a).map((c) => c.iterations))),
      seconds: per((a) => mean(curves(a).map((c) => c.seconds))),
      paperLoss: PAPER_TABLE2[method] ?? null,
      paperIterations: PAPER_TABLE1[method] ?? null,
    };
  });
}

/**
 * Mean curve over runs on a common grid of `x` (0: iteration, 1: seconds): each run's loss is
 * interpolated linearly between its recorded points (and held past its last point). The grid
 * starts where every run has a point: at 0, the initial loss, for curves that record it (see
 * {@link hasInitialPoint}); for older curves at their first record, with nothing invented before it.
 */
export function meanCurve(curves: Curve[], x: 0 | 1, gridPoints = 80): Array<[number, number]> {
  const xMax = Math.max(...curves.map((c) => c.points[c.points.length - 1]?.[x] ?? 0));
  const xStart = Math.max(0, ...curves.map((c) => c.points[0]?.[x] ?? 0));
  const grid: Array<[number, number]> = [];
  for (let g = 0; g <= gridPoints; g++) {
    const t = xStart + ((xMax - xStart) * g) / gridPoints;
    const values = curves.map((c) => interpolate(c.points, x, t));
    grid.push([t, values.reduce((a, b) => a + b, 0) / values.length]);
  }
  return grid;
}

function interpolate(points: Array<[number, number, number]>, x: 0 | 1, t: number): number {
  if (points.length === 0) return NaN;
  if (t <= points[0][x]) return points[0][2];
  for (let i = 1; i < points.length; i++) {
    if (t <= points[i][x]) {
      const [a, b] = [points[i - 1], points[i]];
      const span = b[x] - a[x];
      return span > 0 ? a[2] + ((t - a[x]) / span) * (b[2] - a[2]) : b[2];
    }
  }
  return points[points.length - 1][2];
}
