import { problem, type Problem } from '../errors.js';
import { METHOD_SPECS, METHODS, type MethodName } from '../methods/methods.js';
import type { Activation, Interpretation } from '../network/types.js';
import { countProblem, amountProblem, refuse } from '../train/options-check.js';

export const BENCHMARKS = ['mnist-autoencoder', 'mnist-classifier'] as const;
/** The two MNIST benchmarks of `unitwise benchmark`. */
export type BenchmarkName = (typeof BENCHMARKS)[number];

/** The first-order baselines whose learning rate the benchmark chooses by a short search. */
export const SEARCHED_METHODS = ['adam', 'momentum', 'backprop'] as const satisfies readonly MethodName[];

/**
 * The default methods, in table order: every method of the paper (Ollivier's, `natural`
 * included: it is reported as skipped above 4096 parameters), then the related work's
 * Kronecker-factored methods and the first-order baselines.
 */
export const BENCHMARK_METHODS: MethodName[] = [
  ...METHODS.filter((m) => !['kflr', 'kfac', 'kfra', 'adam', 'momentum', 'backprop'].includes(m)),
  'kflr',
  'kfac',
  'kfra',
  'adam',
  'momentum',
  'backprop',
];

/** The network and data of a benchmark (see {@link benchmarkSetup}). */
export interface BenchmarkSetup {
  /** Layer sizes, input first. */
  layers: number[];
  /** Incoming links per non-input unit, or `dense`. */
  fanIn: number | 'dense';
  activation: Activation;
  interpretation: Interpretation;
  /** MNIST pooling (2: 14×14 images). */
  downsample: number;
  task: 'autoencoder' | 'classify';
}

/**
 * The networks. Autoencoder: seed 002's D-1000-500-250-30-250-500-1000-D scaled to this machine,
 * 14×14 images and 196-250-100-30-100-250-196 dense (`fullSize`: 28×28 and the related work's
 * layers; `sparse`: fan-in 20); Bernoulli outputs read the grey levels as probabilities.
 * Classifier: 784-300-100-10 with softmax outputs (`sparse`: fan-in 20). Hidden units are tanh:
 * centred activities keep the first-order baselines' gradients well scaled (LeCun et al. 1998;
 * the paper's Section 4 finds tanh no worse than sigmoid for backprop), while the invariant
 * methods do not care (sigmoid and tanh give them the same trajectories up to ε).
 */
export function benchmarkSetup(name: BenchmarkName, o: { sparse?: boolean; fullSize?: boolean } = {}): BenchmarkSetup {
  const fanIn = o.sparse ? 20 : 'dense';
  if (name === 'mnist-autoencoder') {
    const layers = o.fullSize ? [784, 1000, 500, 250, 30, 250, 500, 1000, 784] : [196, 250, 100, 30, 100, 250, 196];
    return { layers, fanIn, activation: 'tanh', interpretation: 'bernoulli', downsample: o.fullSize ? 1 : 2, task: 'autoencoder' };
  }
  return { layers: [784, 300, 100, 10], fanIn, activation: 'tanh', interpretation: 'softmax', downsample: 1, task: 'classify' };
}

/** Everything a benchmark run needs (structured-cloneable: it travels to the worker threads). */
export interface BenchmarkSpec {
  benchmark: BenchmarkName;
  sparse: boolean;
  fullSize: boolean;
  methods: MethodName[];
  /** Wall-clock training seconds of every method in every run (evaluation excluded). */
  budgetSeconds: number;
  runs: number;
  /** Base seed: run r draws its split, network and mini-batches from seed + r. */
  seed: number;
  /** Training and test images (a seeded stratified split of the package's 10,000). */
  train: number;
  test: number;
  /** Training images evaluated at each evaluation point (the first ones of the training set). */
  trainEval: number;
  batchSize: number;
  /** Evaluation points after the initial one, evenly spaced in training time. */
  evalPoints: number;
  /** Seconds of each learning-rate candidate in the search (run 0 only). */
  searchSeconds: number;
}

/** Defaults of {@link BenchmarkSpec} (sized so that the default command fits 10 minutes on 2 cores; see the README). */
export const BENCHMARK_DEFAULTS = { budgetSeconds: 25, runs: 1, seed: 1, train: 4000, test: 500, trainEval: 200, batchSize: 32, evalPoints: 16, searchSeconds: 5 } as const;

/** The candidate learning rates of the searched baselines (powers of √10 around the usual values). */
export const LR_CANDIDATES: Record<(typeof SEARCHED_METHODS)[number], number[]> = {
  adam: [1e-4, 3e-4, 1e-3, 3e-3],
  momentum: [3e-4, 1e-3, 3e-3, 1e-2],
  backprop: [3e-3, 1e-2, 3e-2, 1e-1],
};

/** Whether a method's rate is chosen by the search. */
export function isSearched(method: MethodName): method is (typeof SEARCHED_METHODS)[number] {
  return (SEARCHED_METHODS as readonly string[]).includes(method);
}

/** A spec with defaults filled in, checked: a UsageError lists every bad option at once. */
export function benchmarkSpec(name: BenchmarkName, o: Partial<Omit<BenchmarkSpec, 'benchmark'>> = {}): BenchmarkSpec {
  const spec: BenchmarkSpec = { benchmark: name, sparse: false, fullSize: false, methods: BENCHMARK_METHODS, ...BENCHMARK_DEFAULTS, ...definedOnly(o) };
  const problems: Array<Problem | undefined> = [
    (BENCHMARKS as readonly string[]).includes(name) ? undefined : problem('benchmark', `unknown benchmark '${name}'; use ${BENCHMARKS.join(' or ')}`),
    amountProblem('--budget', spec.budgetSeconds, 'training seconds per method'),
    amountProblem('--search-budget', spec.searchSeconds, 'seconds per learning-rate candidate'),
    countProblem('--runs', spec.runs, 'independent runs'),
    countProblem('--train', spec.train, 'training images'),
    countProblem('--test', spec.test, 'test images'),
    countProblem('--batch-size', spec.batchSize, 'images per mini-batch'),
    countProblem('--eval-points', spec.evalPoints, 'evaluation points'),
    countProblem('--train-eval', spec.trainEval, 'training images evaluated'),
    Number.isInteger(spec.seed) ? undefined : problem('seed', `--seed ${spec.seed}: give an integer`),
    spec.train + spec.test <= 10000 ? undefined : problem('split', `--train ${spec.train} --test ${spec.test}: the package holds 10,000 images; give at most 10,000 together`),
    spec.batchSize <= spec.train ? undefined : problem('batch-size', `--batch-size ${spec.batchSize} is above the ${spec.train} training images; give at most --train`),
    spec.trainEval <= spec.train ? undefined : problem('train-eval', `--train-eval ${spec.trainEval} is above the ${spec.train} training images; give at most --train`),
    spec.methods.length > 0 ? undefined : problem('methods', '--methods: give at least one method'),
    new Set(spec.methods).size === spec.methods.length ? undefined : problem('methods', `--methods: a method is given twice (${spec.methods.join(', ')})`),
    ...spec.methods.filter((m) => !Object.hasOwn(METHOD_SPECS, m)).map((m) => problem('methods', `--methods: unknown method '${m}'; available: ${METHODS.join(', ')}`)),
  ];
  refuse(problems);
  return spec;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
