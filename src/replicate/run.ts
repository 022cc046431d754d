import { backendInfo, useBackend } from '../backend/load.js';
import { createModel } from '../engine/model.js';
import { generateAutoencoder } from '../generate/autoencoder.js';
import { generateBinaryData } from '../generate/data.js';
import type { MethodName } from '../methods/methods.js';
import { PAPER_TABLE1 } from '../methods/paper.js';
import { backpropEquivalentSeconds, train, type IterationRecord } from '../train/trainer.js';
import { convertData, convertNetwork } from '../transform/convert.js';

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

/** How long each method trains: Table 1's iteration counts, a measured time, or a fixed count. */
/**
 * How long each method trains: Table 1's iteration counts; the wall-clock time that
 * `backpropIterations` batch backprop iterations take, measured at the start of each run on that
 * run's network, in the same conditions as the methods (Section 4); or a fixed count.
 */
export type ReplicateBudget = { kind: 'paper' } | { kind: 'time'; backpropIterations: number } | { kind: 'iterations'; iterations: number };

export interface ReplicateSpec {
  methods: MethodName[];
  budget: ReplicateBudget;
  /** Base seed; run r uses seed + r for its network and data. */
  seed: number;
  layers?: number[];
  samples?: number;
  /** Compute backend (registered in the thread that runs the spec). */
  backend?: string;
}

/** A training curve, thinned to at most `CURVE_POINTS` points: [iteration, elapsed seconds, loss in bits per sample]. */
export interface Curve {
  iterations: number;
  seconds: number;
  initialLoss: number;
  finalLoss: number;
  points: Array<[number, number, number]>;
}

export interface RunResult {
  run: number;
  seed: number;
  /** Which backend computed the run, as {@link backendInfo} reports it in the thread that ran it. */
  backend: string;
  /** Seconds each method was given (time budget only). */
  budgetSeconds?: number;
  curves: Partial<Record<MethodName, { sigmoid: Curve; tanh: Curve }>>;
}

export const CURVE_POINTS = 120;

/** The iterations a method gets under the paper budget: the midpoint of its Table 1 range (10,000 for backprop). */
export function paperIterations(method: MethodName): number {
  const range = PAPER_TABLE1[method];
  return range ? Math.round((range[0] + range[1]) / 2) : 10000;
}

/**
 * One run of Section 4's experiment: a fresh seeded 100-30-10-30-100 sparse network and 16
 * random binary strings; each method trained in batch mode with the adaptive rate (initial
 * 0.01), ε = 1e-4 (not used by backprop), from the sigmoid network and from its converted tanh
 * twin (which starts with identical outputs).
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
  const budgetSeconds = spec.budget.kind === 'time' ? await backpropEquivalentSeconds(createModel(document), data, { method: 'backprop', epsilon: 1e-4, lr: 0.01, seed }, spec.budget.backpropIterations) : undefined;
  for (const method of spec.methods) {
    const budget = spec.budget.kind === 'paper' ? { iterations: paperIterations(method) } : spec.budget.kind === 'iterations' ? { iterations: spec.budget.iterations } : { seconds: budgetSeconds };
    const one = async (doc: typeof document, d: typeof data): Promise<Curve> => {
      const records: IterationRecord[] = [];
      const model = createModel(doc);
      const { state } = await train(model, d, { method, epsilon: 1e-4, lr: 0.01, seed, backend: spec.backend }, budget, { onIteration: (r) => records.push(r) });
      return thin(records, state.elapsedSeconds);
    };
    curves[method] = { sigmoid: await one(document, data), tanh: await one(tanh, tanhData) };
  }
  return budgetSeconds === undefined ? { run, seed, backend, curves } : { run, seed, backend, budgetSeconds, curves };
}

/** Keeps about CURVE_POINTS records, spaced geometrically in iterations (dense early, where the loss moves most), plus the last. */
function thin(records: IterationRecord[], seconds: number): Curve {
  const n = records.length;
  const keep = new Set<number>([0, n - 1]);
  for (let i = 0; i < CURVE_POINTS; i++) keep.add(Math.min(n - 1, Math.round(Math.exp((Math.log(n) * i) / (CURVE_POINTS - 1))) - 1));
  const points = [...keep].filter((i) => i >= 0).sort((a, b) => a - b).map((i) => [records[i].iteration, round(records[i].elapsed), round(records[i].loss)] as [number, number, number]);
  return { iterations: n, seconds: round(seconds), initialLoss: n ? records[0].loss : NaN, finalLoss: n ? records[n - 1].loss : NaN, points };
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}
