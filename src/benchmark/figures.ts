import { METHOD_SPECS } from '../methods/methods.js';
import type { Figure } from '../replicate/report.js';
import { lineChart } from '../replicate/svg.js';
import type { EvalPoint, MethodRun } from './job.js';
import type { BenchmarkResult } from './run.js';
import { benchmarkSetup } from './spec.js';

/** A quantity of the evaluation points that the figures plot. */
type Quantity = 'trainLoss' | 'testLoss' | 'testAccuracy';

/**
 * The mean over runs of `y` against `x` (iterations or seconds): on the union of the runs' x
 * values, each run interpolated linearly between its points and held after its last. One run:
 * its own points.
 */
export function meanPoints(runs: readonly MethodRun[], x: 'iteration' | 'seconds', y: Quantity): Array<[number, number]> {
  return meanCurves(runs.map((r) => r.points.filter((p) => p[y] !== undefined).map((p): [number, number] => [p[x], value(p, y)])));
}

/** The mean of curves [x, y] on the union of their x values (see {@link meanPoints}). */
export function meanCurves(curves: ReadonlyArray<ReadonlyArray<[number, number]>>): Array<[number, number]> {
  if (curves.length === 1) return [...curves[0]];
  const grid = [...new Set(curves.flat().map(([gx]) => gx))].sort((a, b) => a - b);
  return grid.map((g): [number, number] => [g, curves.reduce((sum, c) => sum + interpolate(c, g), 0) / curves.length]);
}

function value(p: EvalPoint, y: Quantity): number {
  const v = p[y];
  return typeof v === 'number' ? v : NaN; // JSON writes NaN as null
}

function interpolate(points: ReadonlyArray<[number, number]>, x: number): number {
  if (points.length === 0) return NaN;
  if (x <= points[0][0]) return points[0][1];
  for (let i = 1; i < points.length; i++) {
    if (x <= points[i][0]) {
      const [a, b] = [points[i - 1], points[i]];
      return b[0] > a[0] ? a[1] + ((x - a[0]) / (b[0] - a[0])) * (b[1] - a[1]) : b[1];
    }
  }
  return points[points.length - 1][1];
}

/** The benchmark's title, e.g. "MNIST autoencoder 196-250-100-30-100-250-196 (dense)". */
export function benchmarkTitle(result: Pick<BenchmarkResult, 'spec'>): string {
  const s = benchmarkSetup(result.spec.benchmark, result.spec);
  const kind = result.spec.benchmark === 'mnist-autoencoder' ? 'MNIST autoencoder' : 'MNIST classifier';
  return `${kind} ${s.layers.join('-')} (${s.fanIn === 'dense' ? 'dense' : `fan-in ${s.fanIn}`})`;
}

/**
 * Figures like seed 002's Figure 2: training loss against time and against iterations (log
 * scale: the methods' iteration counts differ by orders of magnitude), test loss against time,
 * and, for the classifier, test accuracy against time. Means over runs; one line per method
 * that ran, styled by its place in the list (colour, marker and dash of `styleFor`), the same in every figure.
 */
export function benchmarkFigures(result: BenchmarkResult): Figure[] {
  const ran = result.methods.filter((m) => m.status === 'ran');
  const n = result.spec.runs;
  const mean = n > 1 ? `mean over ${n} runs` : 'one run';
  const short = `${result.spec.benchmark === 'mnist-autoencoder' ? 'MNIST autoencoder' : 'MNIST classifier'}, ${result.spec.sparse ? 'fan-in 20' : 'dense'}${result.spec.fullSize ? ', full size' : ''}`;
  const chart = (x: 'iteration' | 'seconds', y: Quantity, label: string, logY: boolean) =>
    lineChart({
      title: `${label.replace(/ \(.*/, '')} vs ${x === 'seconds' ? 'time' : 'iterations'} (${short})`,
      xLabel: x === 'seconds' ? 'training time (seconds, evaluation excluded)' : 'iterations (the initial point is left out)',
      yLabel: label,
      logY,
      ...(x === 'iteration' ? { logX: true } : {}),
      series: ran.map((m) => ({ name: METHOD_SPECS[m.method].title, points: meanPoints(m.runs, x, y) })),
    });
  const figures: Figure[] = [
    { file: 'train-loss-vs-time.svg', caption: `${benchmarkTitle(result)}. Training loss (bits per image, on the first ${result.spec.trainEval} training images) against training time, ${mean}; each method had ${result.spec.budgetSeconds} s (cf. seed 002's Figure 2, right).`, svg: chart('seconds', 'trainLoss', 'training loss (bits per image)', true) },
    { file: 'train-loss-vs-iterations.svg', caption: `Training loss against iterations (mini-batches of ${result.spec.batchSize}), ${mean} (cf. seed 002's Figure 2, left).`, svg: chart('iteration', 'trainLoss', 'training loss (bits per image)', true) },
    {
      file: 'batch-loss-vs-iterations.svg',
      caption: `Running mini-batch loss (each batch's loss after its step, averaged over the iterations since the previous point; points at iterations 1, 2, 3, 4, 5, 7, 9, 12, … ×1.25) against iterations, ${mean}: the first iterations, which the evaluations spaced in time miss.`,
      svg: lineChart({
        title: `Mini-batch loss vs iterations (${short})`,
        xLabel: 'iterations',
        yLabel: 'mini-batch loss (bits per image)',
        logY: true,
        logX: true,
        series: ran.map((m) => ({ name: METHOD_SPECS[m.method].title, points: meanCurves(m.runs.map((r) => r.batchLoss.map(([i, , l]): [number, number] => [i, l]))) })),
      }),
    },
    { file: 'test-loss-vs-time.svg', caption: `Test loss (bits per image, ${result.spec.test} test images) against training time, ${mean}.`, svg: chart('seconds', 'testLoss', 'test loss (bits per image)', true) },
  ];
  if (result.spec.benchmark === 'mnist-classifier') {
    figures.push({ file: 'test-accuracy-vs-time.svg', caption: `Test accuracy against training time, ${mean}.`, svg: chart('seconds', 'testAccuracy', 'test accuracy', false) });
  }
  return figures;
}
