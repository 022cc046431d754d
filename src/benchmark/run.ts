import { runJobs, type JobFunction } from '../replicate/pool.js';
import { METHOD_SPECS, type MethodName } from '../methods/methods.js';
import { benchmarkJob, type BenchmarkJob, type MethodRun } from './job.js';
import { benchmarkOptions, refusals } from './setup.js';
import { isSearched, LR_CANDIDATES, type BenchmarkSpec } from './spec.js';

/** One candidate of the learning-rate search: its final loss on the evaluated training images. */
export interface SearchTrial {
  lr: number;
  iterations: number;
  /** Bits per sample; NaN when training diverged or failed. */
  trainLoss: number;
}

/** A method's outcome over the runs. */
export interface MethodResult {
  method: MethodName;
  /** The paper's or the related work's name. */
  title: string;
  /** skipped: the library refuses it on this network (see `reason`); no run was made. */
  status: 'ran' | 'skipped';
  reason?: string;
  /** The rate of the runs: the search's choice for the searched baselines, else the default. */
  lr?: number;
  /** The search's candidates, for the searched baselines. */
  search?: SearchTrial[];
  /** The other settings the runs used (ε, rate, mode, batch size). */
  options?: Record<string, unknown>;
  runs: MethodRun[];
}

/** What {@link runBenchmark} returns. */
export interface BenchmarkResult {
  spec: BenchmarkSpec;
  methods: MethodResult[];
}

/** Where the benchmark's jobs run: the worker-thread pool (`runJobs`, the default) or a queue (`QueueEngine.runPool`). */
export type JobRunner = <I, O>(fn: JobFunction, inputs: readonly I[], options: { onJobDone?: (done: number, total: number) => void }) => Promise<O[]>;

/** Progress of the benchmark's jobs (search first, then the runs). */
export type BenchmarkProgress = (phase: 'search' | 'runs', done: number, total: number) => void;

/**
 * The benchmark: methods the library refuses on this network are skipped with the reason; the
 * searched baselines (adam, momentum, backprop) try each of their {@link LR_CANDIDATES} for
 * `searchSeconds` on run 0 and keep the rate with the lowest final loss on the evaluated
 * training images (never the test set); then every method trains for `budgetSeconds` in each
 * run. All jobs go to the worker pool (or `runner`, e.g. a queue's workers); results do not
 * depend on the number of workers but through timing.
 */
export async function runBenchmark(spec: BenchmarkSpec, options: { workers?: number; onProgress?: BenchmarkProgress; runner?: JobRunner } = {}): Promise<BenchmarkResult> {
  const run: JobRunner = options.runner ?? ((fn, inputs, o) => runJobs(fn, [...inputs], { workers: options.workers, onJobDone: o.onJobDone }));
  const refused = refusals(spec);
  const running = spec.methods.filter((m) => refused[m] === undefined);
  const fn = { module: import.meta.url, name: 'benchmarkPoolJob' };
  const searchJobs: BenchmarkJob[] = running.filter(isSearched).flatMap((method) => LR_CANDIDATES[method].map((lr) => ({ spec, method, run: 0, lr, seconds: spec.searchSeconds, purpose: 'search' as const })));
  const searched = searchJobs.length ? await run<BenchmarkJob, MethodRun>(fn, searchJobs, { onJobDone: (d, t) => options.onProgress?.('search', d, t) }) : [];
  const trials = new Map<MethodName, SearchTrial[]>();
  for (const r of searched) {
    const last = r.points[r.points.length - 1];
    const loss = r.status === 'done' && last !== undefined ? last.trainLoss : NaN;
    trials.set(r.method, [...(trials.get(r.method) ?? []), { lr: r.lr, iterations: r.iterations, trainLoss: loss }]);
  }
  const rate = (m: MethodName): number => (isSearched(m) ? chooseRate(trials.get(m) ?? []) : (benchmarkOptions(spec, m, spec.seed).lr as number));
  const finalJobs: BenchmarkJob[] = [];
  for (let run = 0; run < spec.runs; run++) for (const method of running) finalJobs.push({ spec, method, run, lr: rate(method), seconds: spec.budgetSeconds, purpose: 'final' });
  const finals = await run<BenchmarkJob, MethodRun>(fn, finalJobs, { onJobDone: (d, t) => options.onProgress?.('runs', d, t) });
  const methods = spec.methods.map((method): MethodResult => {
    const title = METHOD_SPECS[method].title;
    if (refused[method] !== undefined) return { method, title, status: 'skipped', reason: refused[method], runs: [] };
    const settings: Record<string, unknown> = { ...benchmarkOptions(spec, method, spec.seed, rate(method)) };
    delete settings.method;
    delete settings.seed;
    return {
      method,
      title,
      status: 'ran',
      lr: rate(method),
      ...(trials.has(method) ? { search: trials.get(method) } : {}),
      options: settings,
      runs: finals.filter((r) => r.method === method),
    };
  });
  return { spec, methods };
}

/** One benchmark job on the pool (see {@link benchmarkJob}); exported from this module so that the pool's workers import it. */
export function benchmarkPoolJob(job: BenchmarkJob): Promise<MethodRun> {
  return benchmarkJob(job);
}

/** The rate with the lowest finite loss (the smaller rate on ties); with none finite, the smallest candidate. */
export function chooseRate(trials: readonly SearchTrial[]): number {
  const finite = trials.filter((t) => Number.isFinite(t.trainLoss));
  if (finite.length === 0) return Math.min(...trials.map((t) => t.lr));
  return finite.reduce((best, t) => (t.trainLoss < best.trainLoss || (t.trainLoss === best.trainLoss && t.lr < best.lr) ? t : best)).lr;
}
