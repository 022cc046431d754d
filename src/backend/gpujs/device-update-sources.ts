import type { A, KernelThis } from './device-sources.js';

/**
 * Device-resident gpu.js kernels of the update phase (same conventions as `device-sources.ts`)
 * that need no batched factorisation: the quasi-diagonal and diagonal steps, H G, and the online
 * Sherman-Morrison step (Eq. 37-38) on the whole block layout (see `device-curvature-sources.ts`)
 * with no packing: the online vector u = √ψ̃_k(x)·(1, a_i(x)) of sample `sample` is recomputed
 * where it is needed.
 */

/** A' = (1-γ)A + γ u uᵀ, thread x over every block entry. */
export function onlineBlocks(this: KernelThis, blocks: A, act: A, psi: A, matrixOffsets: A, blockOffsets: A, inOffsets: A, inSources: A, nUnits: number, S: number, sample: number, keep: number, decay: number): number {
  const x = this.thread.x;
  let lo = 0;
  let hi = nUnits;
  for (let it = 0; it < 32; it++) {
    if (hi - lo > 1.5) {
      const mid = Math.floor((lo + hi) / 2 + 0.25);
      const m = matrixOffsets[mid];
      if (m <= x) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
  }
  const k = lo;
  const n = blockOffsets[k + 1] - blockOffsets[k];
  const r = x - matrixOffsets[k];
  const i0 = Math.floor(r / n);
  const i = i0 + (r - i0 * n >= n ? 1 : 0) - (r - i0 * n < 0 ? 1 : 0);
  const j = r - i * n;
  const root = Math.sqrt(Math.max(0, psi[k * S + sample]));
  const e0 = inOffsets[k];
  let ui = root;
  let uj = root;
  if (i > 0.5) {
    const si = inSources[e0 + i - 1];
    ui = root * act[si * S + sample];
  }
  if (j > 0.5) {
    const sj = inSources[e0 + j - 1];
    uj = root * act[sj * S + sample];
  }
  return keep * blocks[x] + decay * ui * uj;
}

/** (H u)_i of each unit, thread p = b_k + i. */
export function onlineHu(this: KernelThis, inverses: A, act: A, psi: A, paramUnit: A, blockOffsets: A, matrixOffsets: A, inOffsets: A, inSources: A, S: number, sample: number): number {
  const p = this.thread.x;
  const k = paramUnit[p];
  const p0 = blockOffsets[k];
  const n = blockOffsets[k + 1] - p0;
  const row = matrixOffsets[k] + (p - p0) * n;
  const root = Math.sqrt(Math.max(0, psi[k * S + sample]));
  const e0 = inOffsets[k];
  let sum = inverses[row] * root;
  for (let j = 1; j < n; j++) {
    const source = inSources[e0 + j - 1];
    sum += inverses[row + j] * root * act[source * S + sample];
  }
  return sum;
}

/**
 * The Sherman-Morrison coefficient of each unit, thread k: f = c / (1 + c uᵀHu) with c = γ/(1-γ),
 * or -1 where 1 + c uᵀHu is not positive and finite (the update is refused); 0 for inputs.
 */
export function onlineCoefficient(this: KernelThis, hu: A, act: A, psi: A, blockOffsets: A, inOffsets: A, inSources: A, nInputs: number, S: number, sample: number, c: number): number {
  const k = this.thread.x;
  if (k < nInputs) {
    return 0;
  }
  const p0 = blockOffsets[k];
  const n = blockOffsets[k + 1] - p0;
  const root = Math.sqrt(Math.max(0, psi[k * S + sample]));
  const e0 = inOffsets[k];
  let uhu = root * hu[p0];
  for (let i = 1; i < n; i++) {
    const source = inSources[e0 + i - 1];
    uhu += root * act[source * S + sample] * hu[p0 + i];
  }
  const denominator = 1 + c * uhu;
  if (denominator > 0 && denominator <= 3.4028234e38) {
    return c / denominator;
  }
  return -1;
}

/** H' = (sym(H) - f Hu Huᵀ)/(1-γ) where the update is accepted (f ≥ 0), H elsewhere; thread x over every block entry. */
export function onlineInverse(this: KernelThis, inverses: A, hu: A, coef: A, matrixOffsets: A, blockOffsets: A, nUnits: number, keep: number): number {
  const x = this.thread.x;
  let lo = 0;
  let hi = nUnits;
  for (let it = 0; it < 32; it++) {
    if (hi - lo > 1.5) {
      const mid = Math.floor((lo + hi) / 2 + 0.25);
      const m = matrixOffsets[mid];
      if (m <= x) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
  }
  const k = lo;
  const f = coef[k];
  if (f < 0) {
    return inverses[x];
  }
  const p0 = blockOffsets[k];
  const n = blockOffsets[k + 1] - p0;
  const base = matrixOffsets[k];
  const r = x - base;
  const i0 = Math.floor(r / n);
  const i = i0 + (r - i0 * n >= n ? 1 : 0) - (r - i0 * n < 0 ? 1 : 0);
  const j = r - i * n;
  const symmetric = 0.5 * (inverses[x] + inverses[base + j * n + i]);
  return (symmetric - f * hu[p0 + i] * hu[p0 + j]) / keep;
}

/** δw = H G per unit where the update is accepted, old elsewhere; thread p. */
export function onlineDirection(this: KernelThis, old: A, inverses: A, gradient: A, coef: A, paramUnit: A, blockOffsets: A, matrixOffsets: A): number {
  const p = this.thread.x;
  const k = paramUnit[p];
  if (coef[k] < 0) {
    return old[p];
  }
  const p0 = blockOffsets[k];
  const n = blockOffsets[k + 1] - p0;
  const row = matrixOffsets[k] + (p - p0) * n;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    sum += inverses[row + j] * gradient[p0 + j];
  }
  return sum;
}

/**
 * Quasi-diagonal step (Eq. 22-23, 33) in one launch, thread p of unit k = paramUnit[p], bias b:
 * a weight δw_i = (G_i A_00 - G_0 A_0i) / ((A_ii + ε) A_00 - A_0i²) (0 when that is not positive,
 * A_00 = A_bb + ε); the bias δw_0 = G_0/A_00 - Σ_i (A_0i/A_00) δw_i (0 when A_00 ≤ 0), its
 * weights recomputed by its own thread.
 * NOTE: the bias thread redoes its unit's O(fan-in) weights instead of a second launch reading them.
 */
export function quasiDiagonalStep(this: KernelThis, diagonal: A, cross: A, gradient: A, paramUnit: A, blockOffsets: A, epsilon: number): number {
  const p = this.thread.x;
  const k = paramUnit[p];
  const b = blockOffsets[k];
  const a00 = diagonal[b] + epsilon;
  const g0 = gradient[b];
  if (Math.abs(b - p) > 0.5) {
    const a0i = cross[p];
    const denominator = (diagonal[p] + epsilon) * a00 - a0i * a0i;
    if (denominator > 0) {
      return (gradient[p] * a00 - g0 * a0i) / denominator;
    }
    return 0;
  }
  if (a00 <= 0) {
    return 0;
  }
  const last = blockOffsets[k + 1];
  let correction = 0;
  for (let q = p + 1; q < last; q++) {
    const a0q = cross[q];
    const dq = (diagonal[q] + epsilon) * a00 - a0q * a0q;
    let wq = 0;
    if (dq > 0) {
      wq = (gradient[q] * a00 - g0 * a0q) / dq;
    }
    correction += (a0q / a00) * wq;
  }
  return g0 / a00 - correction;
}

/** Diagonal step, thread p: G_p / (A_pp + ε), or G_p / √(A_pp + ε) with root = 1 (AdaGrad); 0 where A_pp + ε ≤ 0. */
export function diagonalStep(this: KernelThis, diagonal: A, gradient: A, epsilon: number, root: number): number {
  const d = diagonal[this.thread.x] + epsilon;
  if (d <= 0) {
    return 0;
  }
  if (root > 0.5) {
    return gradient[this.thread.x] / Math.sqrt(d);
  }
  return gradient[this.thread.x] / d;
}

/** Adam's second moment, thread p: β2 v_p + (1-β2) G_p². */
export function adamSecondMoment(this: KernelThis, v: A, gradient: A, beta2: number): number {
  const g = gradient[this.thread.x];
  return beta2 * v[this.thread.x] + (1 - beta2) * g * g;
}

/** Adam's direction, thread p: (m_p / c1) / (√(v_p / c2) + ε), c1 and c2 the bias corrections. */
export function adamDirection(this: KernelThis, m: A, v: A, c1: number, c2: number, epsilon: number): number {
  return m[this.thread.x] / c1 / (Math.sqrt(v[this.thread.x] / c2) + epsilon);
}

/** Per-unit H G, thread p: Σ_j H[k]_ij G[b_k + j] for masked units, old elsewhere. */
export function blockTimesVector(this: KernelThis, old: A, inverses: A, gradient: A, paramUnit: A, blockOffsets: A, matrixOffsets: A, mask: A): number {
  const p = this.thread.x;
  const k = paramUnit[p];
  if (mask[k] < 0.5) {
    return old[p];
  }
  const p0 = blockOffsets[k];
  const n = blockOffsets[k + 1] - p0;
  const row = matrixOffsets[k] + (p - p0) * n;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    sum += inverses[row + j] * gradient[p0 + j];
  }
  return sum;
}
