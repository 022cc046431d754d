import { backendInfo, useBackend } from '../backend/load.js';
import { createModel } from '../engine/model.js';
import { evaluateModel } from '../evaluate/evaluate.js';
import { generateAutoencoder } from '../generate/autoencoder.js';
import { generateBinaryData } from '../generate/data.js';
import { buildGroups, recursionOrder } from '../curvature/kronecker/groups.js';
import { problem } from '../errors.js';
import { kroneckerChoices, METHOD_SPECS, type KroneckerChoices, type MethodName } from '../methods/methods.js';
import { PAPER_TABLE1 } from '../methods/paper.js';
import { baselineChoicesFor, baselineProblems, KRONECKER_FLAGS, refuse } from '../train/options-check.js';
import type { BaselineChoices } from '../curvature/baselines.js';
import { resolveSettings, type TrainOptions } from '../train/settings.js';
import { backpropEquivalentSeconds, train, type IterationRecord } from '../train/trainer.js';
import { convertData, convertNetwork } from '../transform/convert.js';
import { parseRows, type ReplicateRow } from './rows.js';

/** Section 4's Table 2 methods, the default of `replicate autoencoder`. */
export const TABLE2_METHODS: MethodName[] = [
  'backprop',
  'diagonal-gauss-newton',
  'adagrad',
  'unitwise-natural',
  'quasi-diagonal-natural',
  'backpropagated-metric',
  'quasi-diagonal-backpropagated-metric',
  'mc-unitwise-natural',
  'mc-quasi-diagonal-natural',
  'unitwise-op',
];

/**
 * How long each method trains: Table 1's iteration counts (`paper`; a method the paper's Table 1
 * does not list gets the time of 10,000 backprop iterations, as under `time`); the wall-clock
 * time that `backpropIterations` batch backprop iterations take, measured at the start of each
 * run on that run's network, in the same conditions as the methods (Section 4); or a fixed count.
 */
export type ReplicateBudget = { kind: 'paper' } | { kind: 'time'; backpropIterations: number } | { kind: 'iterations'; iterations: number };

/** What one row of a replication trains for: a count of iterations, or the measured time of `backpropIterations` backprop iterations. */
export type RowBudget = { kind: 'iterations'; iterations: number } | { kind: 'time'; backpropIterations: number };

/** Backprop iterations whose time the paper budget gives a method outside Table 1 (Table 1's own reference). */
export const PAPER_BACKPROP_ITERATIONS = 10000;

export interface ReplicateSpec {
  /** Rows: method names, or `METHOD@γ` for the metric accumulated across iterations (see {@link ReplicateRow}). */
  methods: string[];
  budget: ReplicateBudget;
  /** Choices of the Kronecker-factored methods, passed to their rows (kflr, kfac, kfra) only. */
  kronecker?: KroneckerChoices;
  /** Choices of the first-order baselines, each passed to its method's rows (adam, momentum) only. */
  baselines?: BaselineChoices;
  /** Base seed; run r uses seed + r for its network and data. */
  seed: number;
  layers?: number[];
  samples?: number;
  /** Compute backend (registered in the thread that runs the spec). */
  backend?: string;
}

/**
 * A training curve, thinned to about `CURVE_POINTS` points: [iteration, elapsed seconds, loss in
 * bits per sample]. The first point is [0, 0, initialLoss], the loss before iteration 1 (each
 * record's loss is the loss after its step). Curves recorded before that point was added start
 * at iteration 1 and their `initialLoss` is the loss after iteration 1 (see {@link hasInitialPoint}).
 */
export interface Curve {
  iterations: number;
  seconds: number;
  /** Loss of the initial parameters (bits per sample). */
  initialLoss: number;
  finalLoss: number;
  points: Array<[number, number, number]>;
}

/** Whether a curve starts with the loss before iteration 1 (curves recorded before that point was added do not). */
export function hasInitialPoint(curve: Curve): boolean {
  return curve.points[0]?.[0] === 0;
}

export interface RunResult {
  run: number;
  seed: number;
  /** Which backend computed the run, as {@link backendInfo} reports it in the thread that ran it. */
  backend: string;
  /** Seconds each method was given (time budget only). */
  budgetSeconds?: number;
  /** By row key (a method name, or `METHOD@γ`). */
  curves: Partial<Record<string, { sigmoid: Curve; tanh: Curve }>>;
}

export const CURVE_POINTS = 120;

/** The iterations a method gets under the paper budget: the midpoint of its Table 1 range (10,000 for backprop); undefined outside Table 1. */
export function paperIterations(method: MethodName): number | undefined {
  const range = PAPER_TABLE1[method];
  return range ? Math.round((range[0] + range[1]) / 2) : undefined;
}

/**
 * What a row trains for under a budget. Paper: its method's Table 1 midpoint (an accumulated
 * row of a Table 1 method too: accumulating costs one pass over the metric per iteration), or,
 * for a method Table 1 does not list, the time of 10,000 backprop iterations measured in each
 * run as `time` measures it.
 */
export function rowBudget(row: Pick<ReplicateRow, 'method'>, budget: ReplicateBudget): RowBudget {
  if (budget.kind === 'iterations') return { kind: 'iterations', iterations: budget.iterations };
  if (budget.kind === 'time') return { kind: 'time', backpropIterations: budget.backpropIterations };
  const iterations = paperIterations(row.method);
  return iterations === undefined ? { kind: 'time', backpropIterations: PAPER_BACKPROP_ITERATIONS } : { kind: 'iterations', iterations };
}

/** The training options of a row in run `seed`: Section 4's settings, its γ, the Kronecker choices for Kronecker rows and the baseline choices for adam and momentum rows. */
export function rowOptions(row: ReplicateRow, spec: Pick<ReplicateSpec, 'kronecker' | 'baselines' | 'backend'>, seed: number): TrainOptions {
  const options: TrainOptions = { method: row.method, epsilon: 1e-4, lr: 0.01, seed, backend: spec.backend };
  if (row.metricDecay !== undefined) options.metricDecay = row.metricDecay;
  if (spec.kronecker && METHOD_SPECS[row.method].reduction === 'kronecker') {
    for (const [k, v] of Object.entries(kroneckerChoices(spec.kronecker))) if (v !== undefined) Object.assign(options, { [k]: v });
  }
  if (spec.baselines) Object.assign(options, baselineChoicesFor(row.method, spec.baselines));
  return options;
}

/**
 * Checks a replication before any run: the rows parse, Kronecker choices come with a Kronecker
 * row, baseline choices are in range and come with their method's row, and every row's options are valid on the first run's network (groups that exist, KFRA's
 * recursion order). Throws a {@link UsageError} listing what is wrong; returns the rows.
 */
export function checkReplicateSpec(spec: ReplicateSpec): ReplicateRow[] {
  const rows = parseRows(spec.methods);
  const given = (Object.keys(KRONECKER_FLAGS) as Array<keyof KroneckerChoices>).filter((k) => spec.kronecker?.[k] !== undefined);
  const kronecker = rows.filter((r) => METHOD_SPECS[r.method].reduction === 'kronecker');
  if (given.length > 0 && kronecker.length === 0) {
    refuse([problem('kronecker-option', `${given.map((k) => KRONECKER_FLAGS[k]).join(', ')} appl${given.length > 1 ? 'y' : 'ies'} to the Kronecker-factored rows (kflr, kfac, kfra, with or without @γ) only, and --methods has none; drop ${given.length > 1 ? 'them' : 'it'} or add such a row`)]);
  }
  refuse(baselineProblems({ ...spec.baselines, method: rows.map((r) => r.method) }));
  const document = generateAutoencoder({ seed: spec.seed, activation: 'sigmoid', layers: spec.layers });
  const { net } = createModel(document);
  const samples = spec.samples ?? 16;
  for (const row of rows) {
    const { settings } = resolveSettings(rowOptions(row, spec, spec.seed), net, samples);
    if (METHOD_SPECS[row.method].reduction === 'kronecker') {
      const groups = buildGroups(net, settings.groups);
      if (METHOD_SPECS[row.method].factor === 'recursive') recursionOrder(net, groups);
    }
  }
  return rows;
}

/**
 * One run of Section 4's experiment: a fresh seeded 100-30-10-30-100 sparse network and 16
 * random binary strings; each row trained in batch mode with the adaptive rate (initial
 * 0.01), ε = 1e-4 (not used by backprop), its γ if it has one, from the sigmoid network and from
 * its converted tanh twin (which starts with identical outputs). When some row trains for a
 * time, the time of that many backprop iterations is measured first, on this run's network.
 */
export async function runAutoencoder(run: number, spec: ReplicateSpec): Promise<RunResult> {
  const backendName = spec.backend ?? 'cpu';
  await useBackend(backendName);
  const backend = backendInfo(backendName).detail;
  const seed = spec.seed + run;
  const document = generateAutoencoder({ seed, activation: 'sigmoid', layers: spec.layers });
  const length = (spec.layers ?? [100])[0];
  const data = generateBinaryData({ seed, samples: spec.samples ?? 16, length });
  const tanh = convertNetwork(document, 'tanh').document;
  const tanhData = convertData(data, 'tanh');
  const curves: RunResult['curves'] = {};
  const rows = parseRows(spec.methods);
  const budgets = rows.map((row) => rowBudget(row, spec.budget));
  const timed = budgets.find((b) => b.kind === 'time');
  const budgetSeconds = timed ? await backpropEquivalentSeconds(createModel(document), data, { method: 'backprop', epsilon: 1e-4, lr: 0.01, seed }, timed.backpropIterations) : undefined;
  for (const [i, row] of rows.entries()) {
    const b = budgets[i];
    const budget = b.kind === 'iterations' ? { iterations: b.iterations } : { seconds: budgetSeconds };
    const one = async (doc: typeof document, d: typeof data): Promise<Curve> => {
      const records: IterationRecord[] = [];
      const model = createModel(doc);
      const initialLoss = evaluateModel(model, d, { backend: backendName }).lossBits;
      const { state } = await train(model, d, rowOptions(row, spec, seed), budget, { onIteration: (r) => records.push(r) });
      return thin(initialLoss, records, state.elapsedSeconds);
    };
    curves[row.key] = { sigmoid: await one(document, data), tanh: await one(tanh, tanhData) };
  }
  return budgetSeconds === undefined ? { run, seed, backend, curves } : { run, seed, backend, budgetSeconds, curves };
}

/**
 * The curve of a run: the initial point [0, 0, initialLoss], then about CURVE_POINTS records,
 * spaced geometrically in iterations (dense early, where the loss moves most), and the last.
 */
export function thin(initialLoss: number, records: ReadonlyArray<Pick<IterationRecord, 'iteration' | 'elapsed' | 'loss'>>, seconds: number): Curve {
  const n = records.length;
  const keep = new Set<number>([0, n - 1]);
  for (let i = 0; i < CURVE_POINTS; i++) keep.add(Math.min(n - 1, Math.round(Math.exp((Math.log(n) * i) / (CURVE_POINTS - 1))) - 1));
  const points = [...keep].filter((i) => i >= 0).sort((a, b) => a - b).map((i) => [records[i].iteration, round(records[i].elapsed), round(records[i].loss)] as [number, number, number]);
  return { iterations: n, seconds: round(seconds), initialLoss, finalLoss: n ? records[n - 1].loss : initialLoss, points: [[0, 0, round(initialLoss)], ...points] };
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}
