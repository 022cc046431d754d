import type { A, KernelThis } from './device-sources.js';

/**
 * Device-resident gpu.js kernels of the metrics (same conventions as `device-sources.ts`):
 * transfer rates, Fisher modulus terms, ancestry masks and squared moduli. `outputIndex`
 * [nUnits] maps a unit to its output index (-1 elsewhere).
 */

/**
 * One level of the transfer-rate backpropagations (Def. 2, Eq. 13) of outputs j0 .. j0+C-1 over
 * samples s0 .. s0+W-1, on windows of unit rows: the output holds units start .. start+rows-1
 * (the level, then the units above it that lower levels still read), thread
 * x = ((k - start)·C + c)·W + t for sample s0 + t; `old` and `rates` hold the previous window,
 * from unit end (the level above) on. Units of the level: at output j0 + c itself the seed
 * (reduced = 1) or 1; elsewhere J_k = Σ_e w_e rates[target_e] and J̃_k = r_k J_k (reduced = 1)
 * or J_k. Units above: copied from old (old = rates for J̃, the previous raw window for J). seeds [nOut × S];
 * outWeights: the weight of each out-edge in CSR order [nEdges] (`gather` of the weights by outParams:
 * one read per edge and thread fewer, the same for the C·W threads of a unit).
 */
export function transferLevel(this: KernelThis, old: A, rates: A, outWeights: A, outOffsets: A, outTargets: A, deriv: A, outputIndex: A, seeds: A, start: number, end: number, C: number, W: number, S: number, s0: number, j0: number, reduced: number): number {
  const x = this.thread.x;
  const row0 = Math.floor(x / (C * W));
  const row = row0 + (x - row0 * (C * W) >= (C * W) ? 1 : 0) - (x - row0 * (C * W) < 0 ? 1 : 0);
  const k = start + row;
  if (k >= end) {
    return old[x - (end - start) * C * W];
  }
  const rest = x - row * C * W;
  const c0 = Math.floor(rest / W);
  const c = c0 + (rest - c0 * W >= W ? 1 : 0) - (rest - c0 * W < 0 ? 1 : 0);
  const t = rest - c * W;
  const s = s0 + t;
  const column = outputIndex[k];
  if (Math.abs(column - (j0 + c)) < 0.5) {
    if (reduced > 0.5) {
      return seeds[(j0 + c) * S + s];
    }
    return 1;
  }
  const e0 = outOffsets[k];
  const e1 = outOffsets[k + 1];
  let sum = 0;
  for (let e = e0; e < e1; e++) {
    const target = outTargets[e];
    const w = outWeights[e];
    const v = rates[((target - end) * C + c) * W + t];
    sum += w * v;
  }
  if (reduced > 0.5) {
    return deriv[k * S + s] * sum;
  }
  return sum;
}

/**
 * Accumulates Fisher modulus terms (Eq. 14-17) of a chunk, thread x = k·S + s - from over [nUnits × S]
 * (from 0 over the whole array, or start·S over a level's rows only, as webasm launches it):
 * total + Σ_c coef[(j0 + c)·S + s] · rates[((k - base)·C + c)·W + s - s0]^power for the units
 * base ≤ k < end and s0 ≤ s < s0 + W (power 2: β J̃²; power 1: γ J̃), total elsewhere. rates: a
 * window of {@link transferLevel} from unit base on.
 */
export function rateMoment(this: KernelThis, total: A, rates: A, coef: A, C: number, W: number, S: number, s0: number, j0: number, power: number, base: number, end: number, from: number): number {
  const x = from + this.thread.x;
  const k0 = Math.floor(x / S);
  const k = k0 + (x - k0 * S >= S ? 1 : 0) - (x - k0 * S < 0 ? 1 : 0);
  const s = x - k * S;
  if (k < base || k >= end || s < s0 || s >= s0 + W) {
    return total[x];
  }
  let sum = total[x];
  for (let c = 0; c < C; c++) {
    let v = rates[((k - base) * C + c) * W + s - s0];
    if (power > 1.5) {
      v = v * v;
    }
    sum += coef[(j0 + c) * S + s] * v;
  }
  return sum;
}

/** modulus + β_x X² (the softmax/spherical cross term of Eq. 102), thread x = k·S + s; betaExtra [S]. */
export function addExtra(this: KernelThis, modulus: A, extra: A, betaExtra: A, S: number): number {
  const x = this.thread.x;
  const k0 = Math.floor(x / S);
  const k = k0 + (x - k0 * S >= S ? 1 : 0) - (x - k0 * S < 0 ? 1 : 0);
  const v = extra[x];
  return modulus[x] + betaExtra[x - k * S] * v * v;
}

/** Ancestors of output j (1, or 0), one level: thread k over units, start ≤ k < end; others old. */
export function reachLevel(this: KernelThis, old: A, outOffsets: A, outTargets: A, outputIndex: A, start: number, end: number, j: number): number {
  const k = this.thread.x;
  if (k < start || k >= end) {
    return old[k];
  }
  if (Math.abs(outputIndex[k] - j) < 0.5) {
    return 1;
  }
  const e0 = outOffsets[k];
  const e1 = outOffsets[k + 1];
  let reach = 0;
  for (let e = e0; e < e1; e++) {
    const target = outTargets[e];
    reach = Math.max(reach, old[target]);
  }
  return reach;
}

/** values[x - base·S] (a window of units from base on) for units base ≤ k < end with mask[k] = 1, old elsewhere; thread x = k·S + s - from (as `rateMoment`). */
export function maskRows(this: KernelThis, old: A, values: A, mask: A, S: number, base: number, end: number, from: number): number {
  const x = from + this.thread.x;
  const k0 = Math.floor(x / S);
  const k = k0 + (x - k0 * S >= S ? 1 : 0) - (x - k0 * S < 0 ? 1 : 0);
  if (k >= base && k < end && mask[k] > 0.5) {
    return values[x - base * S];
  }
  return old[x];
}

/** x < first: 0 (or old when accumulate = 1); else old·accumulate + scale·v², thread x over the buffer. */
export function squares(this: KernelThis, old: A, values: A, first: number, scale: number, accumulate: number): number {
  const x = this.thread.x;
  let base = 0;
  if (accumulate > 0.5) {
    base = old[x];
  }
  if (x < first) {
    return base;
  }
  const v = values[x];
  return base + scale * v * v;
}
