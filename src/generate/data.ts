import { UsageError, problem } from '../errors.js';
import type { DataDocument } from '../network/types.js';
import { Prng } from '../random/prng.js';

/** Options of {@link generateBinaryData}; defaults are Section 4's data set. */
export interface BinaryDataOptions {
  samples?: number;
  length?: number;
  /** Input encoding: 0/1 (sigmoid networks) or ±1 (their tanh twins). Targets are always 0/1. */
  encoding?: '01' | 'pm1';
  /** Probability of a one (Figure 1 uses 0.75). */
  density?: number;
  seed?: number;
}

/**
 * Random binary strings with target = input (auto-encoding, Section 4). The bits are the
 * same for both encodings with one seed, so the ±1 file is exactly the converted 0/1 file.
 */
export function generateBinaryData(options: BinaryDataOptions = {}): DataDocument {
  const { samples = 16, length = 100, encoding = '01', density = 0.5, seed = 1 } = options;
  if (!Number.isInteger(samples) || samples < 1) throw new UsageError([problem('samples', `--samples ${samples}: give a positive integer`)]);
  if (!Number.isInteger(length) || length < 1) throw new UsageError([problem('length', `--length ${length}: give a positive integer`)]);
  if (!(density >= 0 && density <= 1)) throw new UsageError([problem('density', `--density ${density}: give a probability in [0, 1]`)]);
  const rng = new Prng(seed);
  const targets = Array.from({ length: samples }, () => Array.from({ length }, () => (rng.uniform() < density ? 1 : 0)));
  const inputs = targets.map((row) => row.map((bit) => (encoding === 'pm1' ? 2 * bit - 1 : bit)));
  return { inputs, targets };
}
