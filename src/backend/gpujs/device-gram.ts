import { UsageError, problem } from '../../errors.js';
import { gramLayout, type DeviceBuffer, type GramPlan } from '../engine.js';
import type { GpujsBuffer } from './device-memory.js';
import type { DeviceData } from './device-runtime.js';
import type { GpujsEngine } from './gpujs-engine.js';
import { EXACT_INDEX_LIMIT } from './gpujs-mode.js';

/**
 * The Kronecker-factor kernels of the gpu.js engine on the device: group Gram matrices (one
 * launch for every list of a plan) and the weighted accumulation of per-unit arrays (one launch).
 */

/** A Gram plan's pairs of rows on the device (see `device-gram-sources.ts`), uploaded once. */
export interface DeviceGramPairs {
  /** Entries of the plan's output: offsets[lists]. */
  readonly total: number;
  /** [total] (at least 1 entry): the two rows of each output entry, unit ids or -1. */
  readonly pairA: DeviceData;
  readonly pairB: DeviceData;
}

/**
 * Uploads (counted, 2·total numbers) the pairs of rows of every entry of `plan`'s matrices.
 * NOTE: one thread per entry of each m_g × m_g matrix, both triangles: mirroring the upper one
 * would halve the arithmetic for a second launch (and a second texture); a launch costs more
 * than the threads of any realistic factor in headlessgl mode.
 */
export function gramPairs(engine: GpujsEngine, plan: GramPlan): DeviceGramPairs {
  const { nUnits } = engine.net;
  const total = plan.offsets[plan.rows.length];
  if (total > EXACT_INDEX_LIMIT) throw new UsageError([problem('gpujs', `Gram matrices of ${total} entries exceed 2^24, the largest index float32 kernels address exactly; use the cpu backend`)]);
  const pairA = new Float64Array(Math.max(1, total));
  const pairB = new Float64Array(Math.max(1, total));
  plan.rows.forEach((rows, g) => {
    const m = rows.length;
    for (let a = 0; a < m; a++) {
      const k = rows[a];
      if (!(Number.isInteger(k) && k >= -1 && k < nUnits)) throw new UsageError([problem('engine', `row ${k} of Gram list ${g} is neither a unit of the network nor -1`)]);
      pairA.fill(k, plan.offsets[g] + a * m, plan.offsets[g] + (a + 1) * m);
      for (let b = 0; b < m; b++) pairB[plan.offsets[g] + b * m + a] = k;
    }
  });
  return { total, pairA: engine.toDevice(pairA), pairB: engine.toDevice(pairB) };
}

/** The Gram plans an engine has made, with their pairs on the device (freed with the engine). */
export class DeviceGramPlans {
  private readonly plans = new Map<GramPlan, DeviceGramPairs>();
  constructor(private readonly engine: GpujsEngine) {}
  /** A plan of `rows` (see `gramLayout`), its pairs uploaded once. */
  make(rows: readonly Int32Array[]): GramPlan {
    const plan = gramLayout(rows);
    this.plans.set(plan, gramPairs(this.engine, plan));
    return plan;
  }
  /** The pairs of a plan made here; a plan of another engine is a UsageError. */
  pairs(plan: GramPlan): DeviceGramPairs {
    const pairs = this.plans.get(plan);
    if (!pairs) throw new UsageError([problem('engine', 'a Gram plan not made by this gpujs engine (use its gramPlan)')]);
    return pairs;
  }
  dispose(): void {
    for (const pairs of this.plans.values()) this.engine.release(pairs.pairA, pairs.pairB);
    this.plans.clear();
  }
}

/** The base index of weight row `row` of a [rows × size] buffer (checked against its length). */
function rowBase(engine: GpujsEngine, weights: DeviceBuffer, row: number): number {
  const S = engine.size;
  if (!(Number.isInteger(row) && row >= 0 && (row + 1) * S <= weights.length)) throw new UsageError([problem('engine', `weight row ${row} is outside a buffer of ${weights.length} numbers (${S} per row)`)]);
  return row * S;
}

/** out[offsets[g] + a·m + b] += scale · Σ_s w_s x[ρ_a, s] x[ρ_b, s] for every list of the plan whose pairs are `pairs`; other entries kept. */
export function groupGram(engine: GpujsEngine, pairs: DeviceGramPairs, x: GpujsBuffer, out: DeviceBuffer, scale: number, weights?: GpujsBuffer, weightRow = 0): void {
  const { net, size: S } = engine;
  if (x.length !== net.nUnits * S) throw new UsageError([problem('engine', `groupGram reads a per-unit buffer of ${net.nUnits * S} numbers, not ${x.length}`)]);
  if (out.length < pairs.total) throw new UsageError([problem('engine', `groupGram writes ${pairs.total} numbers into a buffer of ${out.length}`)]);
  const base = weights ? rowBase(engine, weights, weightRow) : 0;
  if (pairs.total === 0) return;
  // Without weights, x stands in for them (never read).
  engine.update(out, 'gramEntry', out, x, weights ?? x, pairs.pairA, pairs.pairB, S, pairs.total, scale, base, weights ? 1 : 0);
}

/** dst[k·size + s] += weights[row·size + s] · src[k·size + s] (dst and src of one length, a multiple of size). */
export function accumulateWeighted(engine: GpujsEngine, dst: DeviceBuffer, src: GpujsBuffer, weights: GpujsBuffer, row: number): void {
  const S = engine.size;
  if (src.length !== dst.length || dst.length % S !== 0) throw new UsageError([problem('engine', `accumulateWeighted takes two buffers of one length, a multiple of ${S} (given ${dst.length} and ${src.length})`)]);
  const base = rowBase(engine, weights, row);
  if (dst.length === 0) return;
  engine.update(dst, 'weightedSum', dst, src, weights, S, base);
}
