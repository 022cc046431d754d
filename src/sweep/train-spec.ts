import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BaselineChoices } from '../curvature/baselines.js';
import { createModel } from '../engine/model.js';
import { UnitwiseError, UsageError, problem, show, type Problem } from '../errors.js';
import { INIT_SCHEMES } from '../generate/init.js';
import type { MnistOptions } from '../generate/mnist.js';
import type { KroneckerChoices } from '../methods/methods.js';
import { parseRow, parseRows } from '../replicate/rows.js';
import { rowOptions } from '../replicate/run.js';
import { MODES, resolveSettings, withScheduleHorizon, type TrainMode, type TrainOptions } from '../train/settings.js';
import { amountProblem, countProblem } from '../train/options-check.js';
import { buildData, buildNetwork, fileSha256, NETWORK_GENERATORS, type DataColumns, type DataSource, type NetworkGenerator, type NetworkSource } from './train-sources.js';

/** A network of a train sweep: a network file (relative to the sweep file), or a generator with its options (`{"generate": "mlp", "layers": [4, 8, 4]}`). */
export type NetworkEntry = string | ({ generate: NetworkGenerator; init?: { scheme: (typeof INIT_SCHEMES)[number] } } & Record<string, unknown>);

/**
 * Data of a train sweep: a file (JSON, CSV or .npy, relative to the sweep file; an object gives
 * column options and a validation file read alike), random binary strings (target = input;
 * `validation`: that many held-out strings of another seed), or the seeded MNIST split (its
 * test part validates unless `validation` is false).
 */
export type DataEntry =
  | string
  | ({ file: string; validation?: string } & DataColumns)
  | { generate: 'binary'; samples?: number; density?: number; encoding?: '01' | 'pm1'; validation?: number }
  | { mnist: { train: number; test: number; downsample?: number; task?: MnistOptions['task'] }; validation?: boolean };

/** A mode of a train sweep: `batch`, `minibatch`, `online`, or a mini-batch size `{"mode": "minibatch", "batchSize": 8}`. */
export type ModeEntry = TrainMode | { mode: TrainMode; batchSize?: number };

/** A budget of a train sweep (an iteration budget gives results that do not depend on the machine). */
export type TrainBudgetEntry = { iterations: number } | { seconds: number };

/** The figures a train job may record. */
export const RECORDS = ['initial-loss', 'final-loss', 'train-accuracy', 'validation-loss', 'validation-accuracy', 'curve'] as const;
export type RecordName = (typeof RECORDS)[number];

/**
 * A sweep file of `experiment: "train"`: every combination of run (seed `seed + r`), network,
 * data, row, mode, rate, ε, budget and backend is one job trained by the library's `train`.
 */
export interface TrainSweepSpec {
  format: 'unitwise-sweep';
  experiment: 'train';
  seed: number;
  runs: number;
  networks: NetworkEntry[];
  data: DataEntry[];
  /** Rows: `METHOD` or `METHOD@γ`. */
  methods: string[];
  /** Default ['batch']. */
  modes?: ModeEntry[];
  /** Default [0.01]. */
  lr?: number[];
  /** Default [1e-4]. */
  epsilon?: number[];
  budgets: TrainBudgetEntry[];
  /** Default ['cpu']. */
  backends?: string[];
  /** Default final-loss and curve, and validation-loss and validation-accuracy for data with validation. */
  record?: RecordName[];
  kronecker?: KroneckerChoices;
  baselines?: BaselineChoices;
}

/** One job of a train sweep: everything its result depends on (files by their SHA-256). */
export interface TrainJob {
  kind: 'train';
  version: 1;
  seed: number;
  network: NetworkSource;
  data: DataSource;
  validation?: DataSource;
  /** The row's key (`METHOD` or `METHOD@γ`). */
  row: string;
  /** The hidden units' activation of a generated network that names one. */
  activation?: string;
  options: TrainOptions;
  budget: TrainBudgetEntry;
  record: RecordName[];
}

/** A train job with its place in the grid: run index and grid point (the same for every run). */
export interface PlannedTrainJob {
  digest: string;
  job: TrainJob;
  run: number;
  point: number;
  /** The job with its files' paths on this machine (what runs; `job` is what is digested and written). */
  located: TrainJob;
}

export const TRAIN_KEYS = ['$schema', 'format', 'experiment', 'seed', 'runs', 'networks', 'data', 'methods', 'modes', 'lr', 'epsilon', 'budgets', 'backends', 'record', 'kronecker', 'baselines'];
const DATA_KEYS = { file: ['file', 'validation', 'inputs', 'targets', 'oneHot'], generate: ['generate', 'samples', 'density', 'encoding', 'validation'], mnist: ['mnist', 'validation'] };

/** Problems of a train sweep's own fields (`at(field)` names the file's field); files are looked for under `base`. */
export function trainSpecProblems(spec: TrainSweepSpec, base: string, at: (field: string) => string): Array<Problem | undefined> {
  const list = <T>(field: string, v: T[] | undefined, required: boolean, each: (x: T, where: string) => Problem | undefined): Array<Problem | undefined> => {
    if (v === undefined && !required) return [];
    if (!Array.isArray(v) || v.length === 0) return [problem(field, `${at(field)} is ${show(v)}: give a non-empty list`, `/${field}`)];
    return v.map((x, i) => each(x, `${at(`${field}[${i}]`)}`));
  };
  const bad = (field: string, where: string, message: string) => problem(field, `${where} ${message}`, `/${field}`);
  const file = (field: string, where: string, path: unknown) =>
    typeof path !== 'string' ? bad(field, where, `is ${show(path)}: give a path relative to the sweep file`) : existsSync(resolve(base, path)) ? undefined : bad(field, where, `names ${path}, which is not found (relative to the sweep file: ${resolve(base, path)})`);
  const keys = (field: string, where: string, v: object, allowed: readonly string[]) => {
    const extra = Object.keys(v).filter((k) => !allowed.includes(k));
    return extra.length ? bad(field, where, `has unknown field${extra.length > 1 ? 's' : ''} ${extra.join(', ')}; it takes ${allowed.join(', ')}`) : undefined;
  };
  return [
    ...list('networks', spec.networks, true, (n, where) => {
      if (typeof n === 'string') return file('networks', where, n);
      if (n === null || typeof n !== 'object' || !Object.hasOwn(NETWORK_GENERATORS, n.generate as string)) return bad('networks', where, `is ${show(n)}: give a network file or {"generate": ${Object.keys(NETWORK_GENERATORS).map((g) => `"${g}"`).join(' | ')}, ...its options}`);
      if (n.init !== undefined && !INIT_SCHEMES.includes(n.init?.scheme)) return bad('networks', where, `has init ${show(n.init)}: give {"scheme": ${INIT_SCHEMES.map((s) => `"${s}"`).join(' | ')}}`);
      return keys('networks', where, n, ['generate', 'init', ...NETWORK_GENERATORS[n.generate]]) ?? generatorProblem(n, spec.seed, where);
    }),
    ...list('data', spec.data, true, (d, where) => {
      if (typeof d === 'string') return file('data', where, d);
      if (d !== null && typeof d === 'object' && 'file' in d) return keys('data', where, d, DATA_KEYS.file) ?? file('data', where, d.file) ?? (d.validation === undefined ? undefined : file('data', `${where}.validation`, d.validation));
      if (d !== null && typeof d === 'object' && 'generate' in d) {
        if (d.generate !== 'binary') return bad('data', where, `generates ${show(d.generate)}: the data generator is "binary"`);
        const p = keys('data', where, d, DATA_KEYS.generate) ?? countProblem('samples', d.samples, 'binary strings') ?? countProblem('validation', d.validation, 'held-out binary strings');
        return p ? { ...p, message: `${where}: ${p.message}` } : undefined;
      }
      if (d !== null && typeof d === 'object' && 'mnist' in d) {
        const m = d.mnist;
        const p = keys('data', where, d, DATA_KEYS.mnist) ?? (m && typeof m === 'object' ? (countProblem('mnist.train', m.train ?? NaN, 'training digits') ?? countProblem('mnist.test', m.test ?? NaN, 'test digits')) : problem('mnist', 'give {"train": N, "test": M, "downsample"?: k, "task"?: "classify" | "autoencoder"}'));
        return p ? { ...p, message: `${where}: ${p.message}` } : undefined;
      }
      return bad('data', where, `is ${show(d)}: give a data file, {"file": ..., "inputs"?, "targets"?, "oneHot"?, "validation"?}, {"generate": "binary", "samples": N} or {"mnist": {"train": N, "test": M}}`);
    }),
    ...list('methods', spec.methods, true, (m, where) => {
      const row = parseRow(m);
      return 'method' in row ? undefined : { ...row, message: `${where}: ${row.message}` };
    }),
    ...list('modes', spec.modes, false, (m, where) => {
      const mode = typeof m === 'string' ? m : m?.mode;
      if (!(MODES as readonly string[]).includes(mode as string)) return bad('modes', where, `is ${show(m)}: give ${MODES.join(', ')} or {"mode": "minibatch", "batchSize": N}`);
      const p = typeof m === 'object' ? countProblem('batchSize', m.batchSize, 'samples per mini-batch') : undefined;
      return p ? { ...p, message: `${where}: ${p.message}` } : undefined;
    }),
    ...list('budgets', spec.budgets, true, (b, where) => {
      const only = b && typeof b === 'object' ? Object.keys(b) : [];
      const p = only.length === 1 && 'iterations' in b ? countProblem('iterations', b.iterations, 'iterations per job') : only.length === 1 && 'seconds' in b ? amountProblem('seconds', b.seconds, 'seconds per job') : problem('budgets', 'give {"iterations": N} or {"seconds": S}');
      return p ? { ...p, message: `${where} is ${show(b)}: ${p.message}` } : undefined;
    }),
    ...list('record', spec.record, false, (r, where) => (RECORDS.includes(r) ? undefined : bad('record', where, `is ${show(r)}: record any of ${RECORDS.join(', ')}`))),
  ];
}

function generatorProblem(n: Exclude<NetworkEntry, string>, seed: number, where: string): Problem | undefined {
  try {
    buildNetwork({ ...n, seed: Number.isInteger(seed) ? seed : 1 });
    return undefined;
  } catch (err) {
    if (err instanceof UnitwiseError) return problem('networks', `${where}: ${err.message}`, '/networks');
    throw err;
  }
}

const hasValidation = (d: DataEntry) => (typeof d === 'object' && 'mnist' in d ? d.validation !== false : typeof d === 'object' && d.validation !== undefined);

/** The figures a job on data `d` records: the spec's, or final loss and curve (and the validation figures when `d` has validation data). */
export function recordsFor(spec: TrainSweepSpec, d: DataEntry): RecordName[] {
  return spec.record ?? (['final-loss', 'curve', ...(hasValidation(d) ? (['validation-loss', 'validation-accuracy'] as const) : [])] as RecordName[]);
}

function networkSource(n: NetworkEntry, seed: number, base: string): { job: NetworkSource; located: NetworkSource } {
  if (typeof n !== 'string') return { job: { ...n, seed }, located: { ...n, seed } };
  const at = resolve(base, n);
  const ref = { file: n, sha256: fileSha256(at) };
  return { job: ref, located: { ...ref, at } };
}

function dataSources(d: DataEntry, seed: number, base: string): { job: [DataSource, DataSource?]; located: [DataSource, DataSource?] } {
  if (typeof d === 'string') return dataSources({ file: d }, seed, base);
  if ('file' in d) {
    const columns: DataColumns = { inputs: d.inputs, targets: d.targets, oneHot: d.oneHot };
    const ref = (path: string) => ({ file: path, sha256: fileSha256(resolve(base, path)), ...columns });
    const train = ref(d.file);
    const validation = d.validation === undefined ? undefined : ref(d.validation);
    return { job: [train, validation], located: [{ ...train, at: resolve(base, d.file) }, validation && { ...validation, at: resolve(base, d.validation!) }] };
  }
  if ('mnist' in d) {
    const mnist: MnistOptions = { train: d.mnist.train, test: d.mnist.test, downsample: d.mnist.downsample ?? 1, task: d.mnist.task ?? 'classify', seed };
    const pair: [DataSource, DataSource?] = [{ mnist, part: 'train' }, d.validation === false ? undefined : { mnist, part: 'test' }];
    return { job: pair, located: pair };
  }
  const binary = { generate: 'binary' as const, samples: d.samples ?? 16, density: d.density, encoding: d.encoding };
  // NOTE: held-out strings are drawn with another seed of the run (the MNIST split's order seed does the same).
  const pair: [DataSource, DataSource?] = [{ ...binary, seed }, d.validation === undefined ? undefined : { ...binary, samples: d.validation, seed: seed ^ 0x5bd1e995 }];
  return { job: pair, located: pair };
}

/**
 * The jobs of a train sweep, in table order: run, then network, data, row, mode, rate, ε,
 * budget, backend. Files are read (for their SHA-256) under `base`, the sweep file's folder.
 */
export function expandTrainSweep(spec: TrainSweepSpec, base: string, digestOf: (job: TrainJob) => string): PlannedTrainJob[] {
  const rows = parseRows(spec.methods);
  const jobs: PlannedTrainJob[] = [];
  for (let run = 0; run < spec.runs; run++) {
    const seed = spec.seed + run;
    let point = 0;
    for (const n of spec.networks) {
      const network = networkSource(n, seed, base);
      const activation = typeof n === 'object' && typeof n.activation === 'string' ? n.activation : undefined;
      for (const d of spec.data) {
        const data = dataSources(d, seed, base);
        const record = recordsFor(spec, d);
        for (const row of rows) {
          for (const m of spec.modes ?? ['batch']) {
            const mode = typeof m === 'string' ? { mode: m } : m;
            for (const lr of spec.lr ?? [0.01]) {
              for (const epsilon of spec.epsilon ?? [1e-4]) {
                for (const budget of spec.budgets) {
                  for (const backend of spec.backends ?? ['cpu']) {
                    const options: TrainOptions = { ...rowOptions(row, { kronecker: spec.kronecker, baselines: spec.baselines, backend }, seed), lr, epsilon, ...mode };
                    const common = { kind: 'train' as const, version: 1 as const, seed, row: row.key, ...(activation ? { activation } : {}), options, budget, record };
                    const job: TrainJob = { ...common, network: network.job, data: data.job[0], ...(data.job[1] ? { validation: data.job[1] } : {}) };
                    const located: TrainJob = { ...common, network: network.located, data: data.located[0], ...(data.located[1] ? { validation: data.located[1] } : {}) };
                    jobs.push({ digest: digestOf(job), job, run, point: point++, located });
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  return jobs;
}

/**
 * Checks the first run's jobs before any runs: each network and data set is built and checked
 * against each other, and each job's options against them (batch sizes, rows' options, data
 * that fits the network). Throws a UsageError naming the sweep file's fields at fault.
 */
export function checkTrainJobs(spec: TrainSweepSpec, plan: readonly PlannedTrainJob[], at: (field: string) => string): void {
  const perRun = plan.filter((p) => p.run === 0);
  const built = new Map<string, { model: ReturnType<typeof createModel>; samples: number } | undefined>();
  const problems: Problem[] = [];
  const add = (where: string, err: unknown) => {
    if (!(err instanceof UnitwiseError)) throw err;
    for (const q of err.problems.filter((q) => q.severity === 'error')) {
      const message = `${where}: ${err.file ? `${err.file}: ` : ''}${q.message}`;
      if (!problems.some((o) => o.message === message)) problems.push({ ...q, message });
    }
  };
  const perPair = perRun.length / (spec.networks.length * spec.data.length);
  for (const p of perRun) {
    const k = Math.floor(p.point / perPair);
    const key = `${Math.floor(k / spec.data.length)},${k % spec.data.length}`;
    const where = `${at(`networks[${Math.floor(k / spec.data.length)}]`)} with ${at(`data[${k % spec.data.length}]`)}`;
    if (!built.has(key)) {
      try {
        const model = createModel(buildNetwork(p.located.network));
        const data = buildData(p.located.data, model.net);
        if (p.located.validation) buildData(p.located.validation, model.net);
        built.set(key, { model, samples: data.inputs.length });
      } catch (err) {
        built.set(key, undefined);
        add(where, err);
      }
    }
    const pair = built.get(key);
    if (!pair) continue;
    try {
      const iterations = 'iterations' in p.job.budget ? p.job.budget.iterations : undefined;
      resolveSettings(withScheduleHorizon(p.job.options, iterations), pair.model.net, pair.samples);
    } catch (err) {
      add(`${where}, row ${p.job.row}, mode ${p.job.options.mode}${p.job.options.batchSize ? ` (batch size ${p.job.options.batchSize})` : ''}`, err);
    }
  }
  if (problems.length > 0) throw new UsageError(problems);
}
