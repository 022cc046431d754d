import type { A, KernelThis } from './device-sources.js';

/**
 * Device-resident gpu.js kernels of the Kronecker factors (same conventions as
 * `device-sources.ts`): group Gram matrices and weighted accumulation. A Gram plan's lists are
 * laid out as pairs: entry x of the concatenated row-major m_g × m_g matrices pairs rows
 * `pairA[x]` and `pairB[x]` (unit ids, -1 for the constant 1 of the homogeneous ā).
 */

/**
 * Group Gram entries, thread x over the output buffer: for x < total, old[x] + scale ·
 * Σ_s w_s v_a(s) v_b(s) with a = pairA[x], b = pairB[x], v_k(s) = values[k·S + s] (1 for k = -1)
 * and w_s = weights[base + s] when weighted = 1 (else 1); old[x] from total on.
 */
export function gramEntry(this: KernelThis, old: A, values: A, weights: A, pairA: A, pairB: A, S: number, total: number, scale: number, base: number, weighted: number): number {
  const x = this.thread.x;
  if (x >= total) {
    return old[x];
  }
  const a = pairA[x];
  const b = pairB[x];
  let sum = 0;
  for (let s = 0; s < S; s++) {
    let va = 1;
    let vb = 1;
    if (a > -0.5) {
      va = values[a * S + s];
    }
    if (b > -0.5) {
      vb = values[b * S + s];
    }
    let w = 1;
    if (weighted > 0.5) {
      w = weights[base + s];
    }
    sum += w * va * vb;
  }
  return old[x] + scale * sum;
}

/** old[x] + weights[base + s] · src[x], thread x = k·S + s (a weight row [S] from `base`). */
export function weightedSum(this: KernelThis, old: A, src: A, weights: A, S: number, base: number): number {
  const x = this.thread.x;
  const k0 = Math.floor(x / S);
  const k = k0 + (x - k0 * S >= S ? 1 : 0) - (x - k0 * S < 0 ? 1 : 0);
  const s = x - k * S;
  return old[x] + weights[base + s] * src[x];
}
