import { openEngine } from '../backend/registry.js';
import { UsageError, problem, type Problem } from '../errors.js';
import { makeBatch } from '../engine/batch.js';
import type { Model } from '../engine/model.js';
import { isMethodName, kroneckerChoices, METHOD_SPECS, METHODS, type MethodName } from '../methods/methods.js';
import type { DataDocument } from '../network/types.js';
import { createOptimizer } from '../optimizer/optimizer.js';
import { lineChart } from '../replicate/svg.js';
import { amountProblem, countProblem, refuse } from '../train/options-check.js';
import { checkComparisonSize, compareDirectionsAt, compareOptionProblems, comparedMethods, type CompareOptions, type DirectionComparison, type DirectionsAt } from './compare.js';

/** Options of {@link compareAlong}: the comparison's, and the training run it follows. */
export interface AlongOptions extends CompareOptions {
  /** The method trained (batch mode, the library optimizer's default adaptive rate). */
  along: MethodName;
  /** Iterations of the run (rejected steps count, as in `unitwise train`). */
  iterations: number;
  /** Compare every this many iterations (default 1). */
  every?: number;
  /** Initial learning rate of the run (default 0.01, as `train`). */
  lr?: number;
}

/** One checkpoint of {@link compareAlong}: the comparison at the parameters after `iteration` iterations. */
export interface AlongRecord extends DirectionsAt {
  iteration: number;
}

/** The problems of {@link AlongOptions} that need neither the network nor the data. */
export function alongOptionProblems(options: AlongOptions): Problem[] {
  const problems: Array<Problem | undefined> = [
    ...compareOptionProblems(options, [options.along]),
    isMethodName(options.along) ? undefined : problem('along', `--along: unknown method '${options.along}'; available: ${METHODS.join(', ')}`),
    countProblem('--iterations', options.iterations, 'iterations of the run'),
    countProblem('--every', options.every, 'iterations between comparisons'),
    amountProblem('--lr', options.lr, 'the initial learning rate η'),
  ];
  return problems.filter((p): p is Problem => p !== undefined);
}

/** The iterations at which {@link compareAlong} compares: 0, K, 2K, ... and the last one, N. */
export function alongCheckpoints(iterations: number, every: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < iterations; i += every) out.push(i);
  out.push(iterations);
  return out;
}

/**
 * Trains `model` (a copy of its parameters) with `options.along` in batch mode on the whole data
 * set for `options.iterations` iterations (library optimizer: adaptive rate from `lr`, same ε,
 * Monte-Carlo draws and seed) and compares the chosen methods' directions with the natural
 * gradient (see `compareDirections`) at iterations 0, K, 2K, ... and N (K = `every`), calling
 * `onRecord` with each checkpoint as it is made. Each compared method draws from its own
 * `Prng(seed)` along the whole run. Refuses networks above the whole-network size limit.
 */
export function compareAlong(model: Model, data: DataDocument, options: AlongOptions, onRecord?: (record: AlongRecord) => void): AlongRecord[] {
  refuse(alongOptionProblems(options));
  checkComparisonSize(model.net);
  const batch = makeBatch(model.net, data);
  const epsilon = options.epsilon ?? 1e-4;
  const mcSamples = options.mcSamples ?? 1;
  const kronecker = METHOD_SPECS[options.along].reduction === 'kronecker';
  const optimizer = createOptimizer(
    model,
    { method: options.along, mode: 'batch', lr: options.lr, epsilon, mcSamples, seed: options.seed, backend: options.backend, ...(kronecker ? kroneckerChoices(options) : {}) },
    batch.size,
  );
  const engine = openEngine(options.backend ?? 'cpu', model.net, batch.size);
  const methods = comparedMethods(options);
  const checkpoints = new Set(alongCheckpoints(options.iterations, options.every ?? 1));
  const records: AlongRecord[] = [];
  try {
    for (let iteration = 0; ; iteration++) {
      if (checkpoints.has(iteration)) {
        const record = { iteration, ...compareDirectionsAt(engine, optimizer.params(), batch, methods, { epsilon, mcSamples }) };
        records.push(record);
        onRecord?.(record);
      }
      if (iteration === options.iterations) break;
      optimizer.step(batch);
    }
  } finally {
    engine.dispose();
    optimizer.dispose();
  }
  return records;
}

/** Quantities {@link alongChart} can plot against the iteration. */
export const ALONG_PLOTS = ['cos-fisher', 'fraction', 'cos-euclid'] as const;
export type AlongPlot = (typeof ALONG_PLOTS)[number];

const PLOTTED: Record<AlongPlot, { key: keyof DirectionComparison; label: string }> = {
  'cos-fisher': { key: 'cosFisher', label: 'Fisher cosine cos_F(δ, δ*)' },
  fraction: { key: 'fraction', label: 'fraction of δ*’s 2nd-order decrease' },
  'cos-euclid': { key: 'cosEuclid', label: 'Euclidean cosine cos(δ, δ*)' },
};

/** An SVG line chart of one quantity per method against the iteration (undefined values leave gaps out). */
export function alongChart(records: readonly AlongRecord[], options: { plot?: AlongPlot; title?: string } = {}): string {
  const { key, label } = PLOTTED[options.plot ?? 'cos-fisher'];
  const names = [...new Set(records.flatMap((r) => Object.keys(r.methods)))] as MethodName[];
  if (names.length === 0) throw new UsageError([problem('chart', 'no comparison to plot')]);
  return lineChart({
    title: options.title ?? `${label} against δ* = F_ε⁻¹G along training`,
    xLabel: 'iteration',
    yLabel: label,
    series: names.map((name) => ({
      name,
      points: records.flatMap((r): Array<[number, number]> => {
        const v = r.methods[name]?.[key];
        return typeof v === 'number' ? [[r.iteration, v]] : [];
      }),
    })),
  });
}
