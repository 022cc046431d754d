import { UsageError, problem } from '../errors.js';
import type { ReductionName } from '../methods/methods.js';
import type { CompiledNetwork } from './compiled-network.js';

/**
 * Largest memory the per-unit metric blocks of the full-block methods may take per iteration,
 * all arrays together (the blocks, their Cholesky factors, an average or inverse): 8 GiB.
 */
export const CURVATURE_LIMIT_BYTES = 8 * 2 ** 30;
/** Above this (256 MiB) the expected memory is worth telling before a run starts. */
export const CURVATURE_NOTICE_BYTES = 256 * 2 ** 20;
/** Blocks are laid out with 32-bit offsets (`metricLayout`): at most 2³¹ − 1 numbers in all. */
export const MAX_BLOCK_ENTRIES = 2 ** 31 - 1;

/** What the per-unit blocks of a network take. */
export interface CurvatureMemory {
  /** Σ_k n_k² over the non-input units, n_k = 1 + fan-in: the numbers in one array of all blocks. */
  entries: number;
  /** Bytes per iteration: 8 · entries · copies. */
  bytes: number;
  copies: number;
  /** The unit with the largest block. */
  largest: { unit: string; fanIn: number };
  /** A line for the user when `bytes` is above the notice threshold, else undefined. */
  notice?: string;
}

/** Options of {@link checkCurvatureMemory}. */
export interface CurvatureMemoryOptions {
  /** The method, named in messages. */
  method?: string;
  /**
   * How many arrays of all blocks live at once: 2 for a batch step (blocks and factors, the
   * default), 3 with a metric average across mini-batches or online (average or inverse too).
   */
  copies?: number;
  /** Default {@link CURVATURE_LIMIT_BYTES}. */
  limitBytes?: number;
  /** Default {@link CURVATURE_NOTICE_BYTES}. */
  noticeBytes?: number;
}

/** Arrays of all blocks alive at once in a training mode (see {@link CurvatureMemoryOptions.copies}). */
export function curvatureCopies(mode: 'batch' | 'minibatch' | 'online' | undefined, averaged = false): number {
  return mode === 'online' || averaged ? 3 : 2;
}

/** Bytes as `12.3 MiB` / `4.56 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let u = 0;
  while (value >= 1024 && u < units.length - 1) {
    value /= 1024;
    u++;
  }
  return u === 0 ? `${value} bytes` : `${value.toPrecision(3)} ${units[u]}`;
}

/**
 * Refuses, before any work, a network whose per-unit metric blocks cannot be held: the
 * full-block reduction (unitwise-natural, backpropagated-metric, unitwise-op,
 * mc-unitwise-natural, and the `blocks` quantity) stores an n_k × n_k block per unit, n_k =
 * 1 + fan-in, so one unit of fan-in 60,000 alone needs 3.6·10⁹ doubles (29 GB). A
 * {@link UsageError} names the largest unit, its fan-in and the memory, and the way out (a
 * quasi-diagonal method stores O(n_k) per unit). Legal but large cases get a `notice` with the
 * expected memory per iteration. Other reductions hold no blocks: returns undefined.
 */
export function checkCurvatureMemory(net: CompiledNetwork, reduction: ReductionName, options: CurvatureMemoryOptions = {}): CurvatureMemory | undefined {
  if (reduction !== 'full') return undefined;
  const copies = options.copies ?? 2;
  const limit = options.limitBytes ?? CURVATURE_LIMIT_BYTES;
  let entries = 0;
  let largest = -1;
  let largestN = 0;
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
    entries += n * n;
    if (n > largestN) [largest, largestN] = [k, n];
  }
  const bytes = 8 * entries * copies;
  const fanIn = largestN - 1;
  const memory: CurvatureMemory = { entries, bytes, copies, largest: { unit: largest >= 0 ? net.unitKeys[largest] : '', fanIn } };
  const method = options.method ? `${options.method}` : 'a full-block method';
  const unit = `unit '${memory.largest.unit}' has fan-in ${fanIn}: its block alone holds ${largestN}² = ${(largestN * largestN).toPrecision(3)} numbers (${formatBytes(8 * largestN * largestN)})`;
  const fix = 'use a quasi-diagonal method (e.g. quasi-diagonal-backpropagated-metric, O(fan-in) memory per unit), or a network with smaller fan-in';
  if (bytes > limit) {
    throw new UsageError([problem('too-large', `${method} needs ${formatBytes(bytes)} per iteration for its per-unit metric blocks (${copies} arrays of ${entries.toPrecision(3)} numbers), above the ${formatBytes(limit)} limit; ${unit}; ${fix}`)]);
  }
  if (entries > MAX_BLOCK_ENTRIES) {
    throw new UsageError([problem('too-large', `${method} keeps an n × n metric block per unit, ${entries.toPrecision(3)} numbers in all, beyond the 2³¹ − 1 the block layout can index; ${unit}; ${fix}`)]);
  }
  if (bytes > (options.noticeBytes ?? CURVATURE_NOTICE_BYTES)) {
    memory.notice = `note: ${method} needs about ${formatBytes(bytes)} per iteration for its per-unit metric blocks (largest: unit '${memory.largest.unit}', fan-in ${fanIn}); expect it to be slow`;
  }
  return memory;
}
