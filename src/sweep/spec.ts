import type { BaselineChoices } from '../curvature/baselines.js';
import { FileFormatError, UsageError, problem, show, type Problem } from '../errors.js';
import { parseJson } from '../json/parse-json.js';
import type { KroneckerChoices } from '../methods/methods.js';
import { parseRows } from '../replicate/rows.js';
import { checkReplicateSpec, rowBudget, rowOptions, type ReplicateBudget, type RowBudget } from '../replicate/run.js';
import { ACTIVATION_NAMES, type ActivationName } from '../replicate/summary.js';
import type { TrainOptions } from '../train/settings.js';
import { amountProblem, countProblem } from '../train/options-check.js';
import { dirname, resolve } from 'node:path';
import { jobDigest } from './digest.js';
import { checkTrainJobs, expandTrainSweep, TRAIN_KEYS, trainSpecProblems, type PlannedTrainJob, type TrainJob, type TrainSweepSpec } from './train-spec.js';

/** A sweep file (`schema/sweep.schema.json`): Section 4's experiment, or any training ({@link TrainSweepSpec}). */
export type SweepSpec = AutoencoderSweepSpec | TrainSweepSpec;

/** A job of either kind. */
export type SweepJob = AutoencoderJob | TrainJob;

/**
 * A sweep file of `experiment: "autoencoder"`: the grid of Section 4's experiment. Every
 * combination of run (seed `seed + r`, r < runs), row, activation, learning rate, ε and backend
 * is one job: a fresh seeded autoencoder and its binary data (the tanh job trains the converted
 * twin), one row trained under the budget.
 */
export interface AutoencoderSweepSpec {
  format: 'unitwise-sweep';
  /** What each job trains; `autoencoder`: Section 4's generated network and data. */
  experiment: 'autoencoder';
  /** Base seed: run r uses seed + r for its network and data (and the training's own draws). */
  seed: number;
  runs: number;
  /** Rows: `METHOD` or `METHOD@γ` (see `replicate --methods`). */
  methods: string[];
  /** Default both, sigmoid first. */
  activations?: ActivationName[];
  /** Initial learning rates (default [0.01], Section 4's). */
  lr?: number[];
  /** Metric regularisations ε (default [1e-4], Section 4's). */
  epsilon?: number[];
  /** `paper` (Table 1's iteration counts), `time` (the time of N backprop iterations, measured in each job) or `iterations`. */
  budget: ReplicateBudget;
  /** Layer sizes of the generated autoencoder (default 100-30-10-30-100). */
  layers?: number[];
  /** Binary strings per data set (default 16). */
  samples?: number;
  /** Compute backends (default ['cpu']). */
  backends?: string[];
  kronecker?: KroneckerChoices;
  baselines?: BaselineChoices;
}

/**
 * One job of a sweep: everything its result depends on, seeds included. Its digest
 * ({@link jobDigest}) names its result file and its queue job, so the same job in two sweeps is
 * the same job.
 */
export interface AutoencoderJob {
  kind: 'autoencoder';
  /** Bumped when the job's computation changes, so that old results are not taken for new ones. */
  version: 1;
  seed: number;
  layers?: number[];
  samples: number;
  activation: ActivationName;
  /** The row's key (`METHOD` or `METHOD@γ`). */
  row: string;
  /** The training options in full (method, rate, ε, seed, γ, backend, Kronecker and baseline choices). */
  options: TrainOptions;
  budget: RowBudget;
}

/** A job with its digest and its place in the grid. */
export type PlannedJob = PlannedAutoencoderJob | PlannedTrainJob;

/** An autoencoder job with its digest and its place in the grid. */
export interface PlannedAutoencoderJob {
  digest: string;
  job: AutoencoderJob;
  /** Run index r (seed = spec.seed + r). */
  run: number;
}

const KEYS = ['$schema', 'format', 'experiment', 'seed', 'runs', 'methods', 'activations', 'lr', 'epsilon', 'budget', 'layers', 'samples', 'backends', 'kronecker', 'baselines'];
const BACKEND_NAMES = ['cpu', 'gpujs', 'tfjs', 'tfjs-cpu', 'tfjs-wasm', 'tfjs-tensorflow', 'tfjs-webgpu', 'webgpu'];

/** Reads and checks a sweep file: a FileFormatError for bad JSON, a UsageError listing every bad field. */
export function parseSweepSpec(text: string, file: string): SweepSpec {
  const value = parseJson(text, file) as Record<string, unknown>;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FileFormatError([problem('sweep-format', 'a sweep file is a JSON object (see schema/sweep.schema.json)')], file);
  const spec = { ...value };
  delete spec.$schema;
  return checkSweepSpec(spec as unknown as SweepSpec, file, dirname(file));
}

/**
 * Checks a sweep before any job runs: the fields (every problem at once), then the rows and
 * their options on the first run's network ({@link checkReplicateSpec}); a train sweep's
 * files are found under `base` (the sweep file's folder) and its first run's jobs are checked
 * on their networks and data ({@link checkTrainJobs}). Returns the spec.
 */
export function checkSweepSpec(spec: SweepSpec, file?: string, base = '.'): SweepSpec {
  const at = (field: string) => `${file ? '' : 'sweep: '}field '${field}'`;
  const refuse = (found: Problem[]) => {
    if (found.length > 0) throw new UsageError(file ? found.map((p) => ({ ...p, message: `${file}: ${p.message}` })) : found);
  };
  if (spec.experiment === 'train') {
    refuse(
      [
        ...Object.keys(spec).filter((k) => !TRAIN_KEYS.includes(k)).map((k) => problem('sweep-field', `unknown field '${k}'; a train sweep has ${TRAIN_KEYS.slice(1).join(', ')}`, `/${k}`)),
        ...commonProblems(spec, at),
        ...trainSpecProblems(spec, base, at),
      ].filter((p): p is Problem => p !== undefined),
    );
    try {
      checkTrainJobs(spec, expandTrainSweep({ ...spec, runs: 1 }, resolve(base), jobDigest), at);
    } catch (err) {
      if (err instanceof UsageError) refuse(err.problems);
      throw err;
    }
    return spec;
  }
  const problems: Array<Problem | undefined> = [
    ...Object.keys(spec).filter((k) => !KEYS.includes(k)).map((k) => problem('sweep-field', `unknown field '${k}'; a sweep has ${KEYS.slice(1).join(', ')}`, `/${k}`)),
    ...(spec.experiment === 'autoencoder' ? [] : [problem('experiment', `${at('experiment')} is ${show((spec as { experiment: unknown }).experiment)}: the experiment is "autoencoder" (Section 4's generated network and data) or "train" (networks, data and modes of your choosing)`, '/experiment')]),
    ...commonProblems(spec, at),
    ...(Array.isArray(spec.methods) && spec.methods.length > 0 ? [] : [problem('methods', `${at('methods')} is ${show(spec.methods)}: list the rows (METHOD or METHOD@γ)`, '/methods')]),
    ...list(at, 'activations', spec.activations, (a) => (ACTIVATION_NAMES.includes(a as ActivationName) ? undefined : problem('activations', `${at('activations')}: ${show(a)} is not sigmoid or tanh`, '/activations'))),
    budgetProblem(spec.budget, at('budget')),
    countProblem('samples', spec.samples, 'binary strings per data set'),
    ...list(at, 'layers', spec.layers, (x) => countProblem('layers', x as number, 'units in a layer'), false),
  ];
  refuse(problems.filter((p): p is Problem => p !== undefined));
  checkReplicateSpec({ methods: spec.methods, budget: spec.budget, seed: spec.seed, layers: spec.layers, samples: spec.samples, kronecker: spec.kronecker, baselines: spec.baselines });
  return spec;
}

function list(at: (field: string) => string, field: string, v: unknown, each: (x: unknown) => Problem | undefined, distinct = true): Problem[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length === 0) return [problem(field, `${at(field)} is ${show(v)}: give a non-empty list`, `/${field}`)];
  const dup = distinct && v.length !== new Set(v.map((x) => JSON.stringify(x))).size ? [problem(field, `${at(field)}: a value is given twice (${show(v)})`, `/${field}`)] : [];
  return [...dup, ...v.map(each).filter((p): p is Problem => p !== undefined)];
}

/** Problems of the fields both kinds of sweep have: format, seed, runs, rates, ε, backends. */
function commonProblems(spec: SweepSpec, at: (field: string) => string): Array<Problem | undefined> {
  return [
    spec.format === 'unitwise-sweep' ? undefined : problem('format', `${at('format')} is ${show(spec.format)}: write "format": "unitwise-sweep"`, '/format'),
    Number.isInteger(spec.seed) ? undefined : problem('seed', `${at('seed')} is ${show(spec.seed)}: give an integer`, '/seed'),
    spec.runs === undefined ? problem('runs', `${at('runs')} is missing: give the number of runs`, '/runs') : countProblem('runs', spec.runs, 'independent runs'),
    ...list(at, 'lr', spec.lr, (x) => amountProblem('lr', x as number, 'initial learning rate')),
    ...list(at, 'epsilon', spec.epsilon, (x) => amountProblem('epsilon', x as number, 'metric regularisation ε', { zero: true })),
    ...list(at, 'backends', spec.backends, (b) => (BACKEND_NAMES.includes(b as string) ? undefined : problem('backends', `${at('backends')}: unknown backend ${show(b)}; use ${BACKEND_NAMES.join(', ')}`, '/backends'))),
  ];
}

function budgetProblem(budget: ReplicateBudget | undefined, where: string): Problem | undefined {
  const fix = 'give {"kind": "paper"}, {"kind": "time", "backpropIterations": N} or {"kind": "iterations", "iterations": N}';
  if (budget === undefined || budget === null || typeof budget !== 'object') return problem('budget', `${where} is ${show(budget)}: ${fix}`, '/budget');
  if (budget.kind === 'paper') return undefined;
  if (budget.kind === 'time') return countProblem('budget.backpropIterations', budget.backpropIterations ?? NaN, 'backprop iterations whose time each method gets');
  if (budget.kind === 'iterations') return countProblem('budget.iterations', budget.iterations ?? NaN, 'iterations per job');
  return problem('budget', `${where} is ${show(budget)}: ${fix}`, '/budget');
}

/**
 * The jobs of a sweep, in table order: run, then row, activation, learning rate, ε, backend.
 * Each job's options are the replication's ({@link rowOptions}) with the grid's rate and ε.
 * A train sweep's jobs: see {@link expandTrainSweep} (its files are found under `base`, the
 * sweep file's folder).
 */
export function expandSweep(spec: SweepSpec, base = '.'): PlannedJob[] {
  if (spec.experiment === 'train') return expandTrainSweep(spec, resolve(base), jobDigest);
  const rows = parseRows(spec.methods);
  const jobs: PlannedAutoencoderJob[] = [];
  for (let run = 0; run < spec.runs; run++) {
    const seed = spec.seed + run;
    for (const row of rows) {
      for (const activation of spec.activations ?? ACTIVATION_NAMES) {
        for (const lr of spec.lr ?? [0.01]) {
          for (const epsilon of spec.epsilon ?? [1e-4]) {
            for (const backend of spec.backends ?? ['cpu']) {
              const options: TrainOptions = { ...rowOptions(row, { kronecker: spec.kronecker, baselines: spec.baselines, backend }, seed), lr, epsilon };
              const job: AutoencoderJob = { kind: 'autoencoder', version: 1, seed, layers: spec.layers, samples: spec.samples ?? 16, activation, row: row.key, options, budget: rowBudget(row, spec.budget) };
              jobs.push({ digest: jobDigest(job), job, run });
            }
          }
        }
      }
    }
  }
  return jobs;
}
