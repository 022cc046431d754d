import { UsageError } from '../errors.js';
import { createModel, type Model } from '../engine/model.js';
import { checkCurvatureMemory, curvatureCopies } from '../engine/size-guard.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import { MAX_WHOLE_NETWORK_PARAMS } from '../curvature/whole-network.js';
import { generateMlp } from '../generate/mlp.js';
import { loadMnistDigits, mnistDataSets, type MnistDigits } from '../generate/mnist.js';
import { METHOD_SPECS, type MethodName } from '../methods/methods.js';
import type { DataDocument, NetworkDocument } from '../network/types.js';
import { resolveSettings, type TrainOptions } from '../train/settings.js';
import { benchmarkSetup, type BenchmarkName, type BenchmarkSpec } from './spec.js';

/** ε and rate of the second-order methods of one benchmark (see {@link METHOD_DEFAULTS}). */
export interface SecondOrderDefaults {
  /** Ollivier's methods: ε added to each per-unit metric, and the rate. */
  ollivier: { lr: number; epsilon: number };
  /** KFLR, K-FAC, KFRA: ε (the factors' damping π√ε, √ε/π) and the rate. */
  kronecker: { lr: number; epsilon: number };
}

/**
 * ε and rates of the second-order methods per benchmark (all in mini-batch mode, fixed rate),
 * chosen once from short runs (see the README): ε regularises the per-unit metrics of Ollivier's
 * methods and damps the Kronecker factors. A mini-batch of 32 estimates blocks of up to 785
 * parameters, far from full rank, and with Section 4's ε = 1e-4 (batch mode, 16 samples,
 * fan-in 5) every second-order method diverged within a few iterations. The metric scales with
 * the loss: the autoencoder's sums 196 Bernoulli outputs (about 200 bits per image at the start),
 * the classifier's is one softmax (3.3 bits), so the autoencoder needs a larger ε. Autoencoder:
 * ε = 1, the smallest of 0.01, 0.1, 1 that did not diverge, and the best rates of 0.01, 0.03,
 * 0.1 after 15 iterations per family. Classifier: the best ε of 0.001, 0.01, 0.1 and rate of
 * 0.01, 0.03, 0.1 after 30 iterations (K-FAC: ε 0.01 or 0.1, rate 0.03 or 0.1, after 15). Sparse and full-size variants use their
 * benchmark's values. The Kronecker methods keep their mini-batch defaults (factor averages
 * γ = 0.05, inverses every 20 updates).
 */
export const SECOND_ORDER_DEFAULTS: Record<BenchmarkName, SecondOrderDefaults> = {
  'mnist-autoencoder': { ollivier: { lr: 0.01, epsilon: 1 }, kronecker: { lr: 0.03, epsilon: 1 } },
  'mnist-classifier': { ollivier: { lr: 0.03, epsilon: 0.1 }, kronecker: { lr: 0.1, epsilon: 0.1 } },
};

/**
 * Each method's hyperparameters in a benchmark: {@link SECOND_ORDER_DEFAULTS} for the
 * second-order methods; adam, momentum and backprop have their rates searched
 * (`LR_CANDIDATES`), and the rates here are what they use when run alone with
 * `benchmarkOptions`.
 */
export function methodDefaults(benchmark: BenchmarkName, method: MethodName): Partial<TrainOptions> {
  if (method === 'backprop') return { lr: 0.01 };
  if (method === 'adam') return { lr: 1e-3 };
  if (method === 'momentum') return { lr: 3e-3 };
  const d = SECOND_ORDER_DEFAULTS[benchmark];
  return METHOD_SPECS[method].reduction === 'kronecker' ? { ...d.kronecker } : { ...d.ollivier };
}

/** The training options of `method` in a benchmark run (seeded by `seed`), at rate `lr` when given. */
export function benchmarkOptions(spec: Pick<BenchmarkSpec, 'benchmark' | 'batchSize'>, method: MethodName, seed: number, lr?: number): TrainOptions {
  const defaults = methodDefaults(spec.benchmark, method);
  return { method, mode: 'minibatch', batchSize: spec.batchSize, seed, ...defaults, lr: lr ?? defaults.lr };
}

/** Run r's network: the benchmark's layers, fan-in and activation, initialised from seed + r. */
export function benchmarkNetwork(spec: Pick<BenchmarkSpec, 'benchmark' | 'sparse' | 'fullSize' | 'seed'>, run: number): NetworkDocument {
  const s = benchmarkSetup(spec.benchmark, spec);
  return generateMlp({ layers: s.layers, fanIn: s.fanIn, activation: s.activation, interpretation: s.interpretation, seed: spec.seed + run });
}

/** Run r's data: the stratified split drawn from seed + r, and the evaluated head of its training set. */
export interface BenchmarkData {
  train: DataDocument;
  test: DataDocument;
  /** The first `trainEval` training images: the training loss is measured on them. */
  trainEval: DataDocument;
}

const models = new Map<string, Model>();

/** Run r's network compiled, with a fresh copy of its initial parameters (the compiled network is cached per thread). */
export function benchmarkModel(spec: Pick<BenchmarkSpec, 'benchmark' | 'sparse' | 'fullSize' | 'seed'>, run: number): Model {
  const key = JSON.stringify([spec.benchmark, spec.sparse, spec.fullSize, spec.seed + run]);
  let model = models.get(key);
  if (!model) models.set(key, (model = createModel(benchmarkNetwork(spec, run))));
  return { ...model, params: model.params.slice() };
}

let digits: MnistDigits | undefined;
const dataCache = new Map<string, BenchmarkData>();

/** Run r's data (cached per thread: a worker builds each split once). */
export function benchmarkData(spec: Pick<BenchmarkSpec, 'benchmark' | 'sparse' | 'fullSize' | 'seed' | 'train' | 'test' | 'trainEval'>, run: number): BenchmarkData {
  const s = benchmarkSetup(spec.benchmark, spec);
  const key = JSON.stringify([s.task, s.downsample, spec.train, spec.test, spec.trainEval, spec.seed + run]);
  const cached = dataCache.get(key);
  if (cached) return cached;
  digits ??= loadMnistDigits();
  const sets = mnistDataSets(digits, { train: spec.train, test: spec.test, seed: spec.seed + run, downsample: s.downsample, task: s.task });
  const trainEval = { inputs: sets.train.inputs.slice(0, spec.trainEval), targets: sets.train.targets.slice(0, spec.trainEval) };
  const data = { train: sets.train, test: sets.test, trainEval };
  dataCache.set(key, data);
  return data;
}

/** Largest per-unit block memory (all copies) of a full-block method the benchmark runs: 1 GiB (the default autoencoder's blocks need 0.5 GiB). */
export const BENCHMARK_BLOCK_BYTES = 2 ** 30;

/**
 * Why `method` is not run on this network, or undefined: the library refuses the
 * whole-network Fisher matrix above {@link MAX_WHOLE_NETWORK_PARAMS} parameters, per-unit
 * blocks beyond the memory limit, and options the network or data reject; the benchmark also
 * skips full-block methods whose blocks need more than {@link BENCHMARK_BLOCK_BYTES} (the
 * classifier's 785-parameter blocks: 2.9 GiB, a minute or more per iteration on 2 cores, which
 * would blow the 10-minute total). Such methods are reported as skipped with the reason.
 */
export function methodRefusal(net: CompiledNetwork, options: TrainOptions, samples: number): string | undefined {
  const reduction = METHOD_SPECS[options.method].reduction;
  if (reduction === 'whole-network' && net.nParams > MAX_WHOLE_NETWORK_PARAMS) {
    return `the whole-network Fisher matrix is built for at most ${MAX_WHOLE_NETWORK_PARAMS} parameters; this network has ${net.nParams}`;
  }
  try {
    const { settings } = resolveSettings(options, net, samples);
    const memory = checkCurvatureMemory(net, reduction, { method: options.method, copies: curvatureCopies(settings.mode, settings.metricDecay !== null) });
    if (memory && memory.bytes > BENCHMARK_BLOCK_BYTES) {
      return `its per-unit metric blocks need ${(memory.bytes / 2 ** 30).toFixed(1)} GiB per iteration (largest unit: fan-in ${memory.largest.fanIn}), above the ${BENCHMARK_BLOCK_BYTES / 2 ** 30} GiB this benchmark allows: one iteration would take a minute or more on 2 cores, beyond the budget (unitwise train runs it)`;
    }
  } catch (err) {
    if (err instanceof UsageError) return err.problems.map((p) => p.message).join('; ');
    throw err;
  }
  return undefined;
}

/** {@link methodRefusal} of each method on run 0's network (undefined where the method runs). */
export function refusals(spec: BenchmarkSpec): Partial<Record<MethodName, string>> {
  const { net } = benchmarkModel(spec, 0);
  const out: Partial<Record<MethodName, string>> = {};
  for (const m of spec.methods) {
    const reason = methodRefusal(net, benchmarkOptions(spec, m, spec.seed), spec.train);
    if (reason !== undefined) out[m] = reason;
  }
  return out;
}
