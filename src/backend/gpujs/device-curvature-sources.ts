import type { A, KernelThis } from './device-sources.js';

/**
 * Device-resident gpu.js kernels of the curvature phase (same conventions as `device-sources.ts`).
 * Per-unit blocks live in one buffer laid out by `metricLayout` (unit k's n × n block row-major
 * at matrixOffsets[k], n = blockOffsets[k+1] - blockOffsets[k]); a kernel over block entries
 * finds its unit by binary search in matrixOffsets. Batched Cholesky works on a group of units
 * packed as [u × n × n], each block padded with the identity to the group's n (`unitGroup[k]` =
 * k's group, `unitSlot[k]` = its index there, `unitSize[k]` = n_k ≤ n).
 * `mask` [nUnits] selects units (> 0: the unit's 1-based position in the caller's list).
 */

/**
 * Per-unit blocks A_ij = (1/S) Σ_s ψ̃_k ā_i ā_j (Eq. 18, 28), thread x over every block entry;
 * ā_0 = 1 (bias), ā_i = a of the unit's i-th incoming source.
 */
export function blockEntry(this: KernelThis, act: A, psi: A, matrixOffsets: A, blockOffsets: A, inOffsets: A, inSources: A, nUnits: number, S: number): number {
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
  const e0 = inOffsets[k];
  let si = -1;
  let sj = -1;
  if (i > 0.5) {
    si = inSources[e0 + i - 1];
  }
  if (j > 0.5) {
    sj = inSources[e0 + j - 1];
  }
  let sum = 0;
  for (let s = 0; s < S; s++) {
    let ai = 1;
    let aj = 1;
    if (si > -0.5) {
      ai = act[si * S + s];
    }
    if (sj > -0.5) {
      aj = act[sj * S + s];
    }
    sum += psi[k * S + s] * ai * aj;
  }
  return sum / S;
}

/**
 * Columns j and, when count = 2, j + 1 of the Cholesky factors L of A + εI for a packed group,
 * thread x = (g·n + i)·n + m: L_im for m = j (or j + 1), i ≥ m, from the columns < j in `old`;
 * every other entry from old. A pivot that is not positive gives L_mm = -1 (the failure
 * {@link blockFlags} reports; the rest is garbage). A thread of column j + 1 computes the two
 * entries of column j it needs (L_jj, L_ij and L_{j+1}j) itself.
 * NOTE: two columns per launch halve the factorisation's launches for about 3× a thread's work.
 */
export function choleskyStep(this: KernelThis, old: A, blocks: A, j: number, count: number, n: number, epsilon: number): number {
  const x = this.thread.x;
  const g0 = Math.floor(x / (n * n));
  const g = g0 + (x - g0 * (n * n) >= (n * n) ? 1 : 0) - (x - g0 * (n * n) < 0 ? 1 : 0);
  const rest = x - g * n * n;
  const i0 = Math.floor(rest / n);
  const i = i0 + (rest - i0 * n >= n ? 1 : 0) - (rest - i0 * n < 0 ? 1 : 0);
  const m = rest - i * n;
  const second = count > 1.5 && Math.abs(m - j - 1) < 0.5 && i > j + 0.5;
  if ((Math.abs(m - j) > 0.5 || i < j) && !second) {
    return old[x];
  }
  const base = g * n * n;
  let d = blocks[base + j * n + j] + epsilon;
  for (let m1 = 0; m1 < j; m1++) {
    const l1 = old[base + j * n + m1];
    d -= l1 * l1;
  }
  let pivot = -1;
  if (d > 0) {
    pivot = Math.sqrt(d);
  }
  if (Math.abs(i - j) < 0.5) {
    return pivot;
  }
  let sum = blocks[base + i * n + j];
  for (let m2 = 0; m2 < j; m2++) {
    sum -= old[base + i * n + m2] * old[base + j * n + m2];
  }
  const lij = sum / pivot;
  if (!second) {
    return lij;
  }
  const j1 = j + 1;
  let sum1 = blocks[base + j1 * n + j];
  let d1 = blocks[base + j1 * n + j1] + epsilon;
  let sum2 = blocks[base + i * n + j1];
  for (let m3 = 0; m3 < j; m3++) {
    const lj = old[base + j * n + m3];
    const lj1 = old[base + j1 * n + m3];
    sum1 -= lj1 * lj;
    d1 -= lj1 * lj1;
    sum2 -= old[base + i * n + m3] * lj1;
  }
  const lj1j = sum1 / pivot;
  d1 -= lj1j * lj1j;
  let pivot1 = -1;
  if (d1 > 0) {
    pivot1 = Math.sqrt(d1);
  }
  if (Math.abs(i - j1) < 0.5) {
    return pivot1;
  }
  return (sum2 - lij * lj1j) / pivot1;
}

/**
 * Rows `row` and, when count = 2, `row` + 1 (forward) or `row` - 1 (backward) of batched
 * triangular solves with R right-hand sides, thread x = (g·n + i)·R + c (other rows from old).
 * Forward (upper = 0): y_i = (b_i - Σ_{m<i} L_im y_m) / L_ii; backward (upper = 1, with Lᵀ):
 * x_i = (b_i - Σ_{m>i} L_mi x_m) / L_ii. b = rhs[x], or the identity's column c (identity = 1:
 * the inverse's columns). The second row's thread solves the first row itself.
 * NOTE: two rows per launch halve the launches of a solve for about twice a thread's work.
 */
export function triangularStep(this: KernelThis, old: A, factors: A, rhs: A, row: number, count: number, n: number, R: number, upper: number, identity: number): number {
  const x = this.thread.x;
  const g0 = Math.floor(x / (n * R));
  const g = g0 + (x - g0 * (n * R) >= (n * R) ? 1 : 0) - (x - g0 * (n * R) < 0 ? 1 : 0);
  const rest = x - g * n * R;
  const i0 = Math.floor(rest / R);
  const i = i0 + (rest - i0 * R >= R ? 1 : 0) - (rest - i0 * R < 0 ? 1 : 0);
  let row2 = row + 1;
  if (upper > 0.5) {
    row2 = row - 1;
  }
  const second = count > 1.5 && Math.abs(i - row2) < 0.5;
  if (Math.abs(i - row) > 0.5 && !second) {
    return old[x];
  }
  const c = rest - i * R;
  const base = g * n * n;
  let sum = 0;
  if (identity > 0.5) {
    if (Math.abs(c - row) < 0.5) {
      sum = 1;
    }
  } else {
    sum = rhs[(g * n + row) * R + c];
  }
  if (upper > 0.5) {
    for (let m1 = row + 1; m1 < n; m1++) {
      sum -= factors[base + m1 * n + row] * old[(g * n + m1) * R + c];
    }
  } else {
    for (let m2 = 0; m2 < row; m2++) {
      sum -= factors[base + row * n + m2] * old[(g * n + m2) * R + c];
    }
  }
  const first = sum / factors[base + row * n + row];
  if (!second) {
    return first;
  }
  let sum2 = 0;
  if (identity > 0.5) {
    if (Math.abs(c - row2) < 0.5) {
      sum2 = 1;
    }
  } else {
    sum2 = rhs[x];
  }
  if (upper > 0.5) {
    for (let m3 = row + 1; m3 < n; m3++) {
      sum2 -= factors[base + m3 * n + row2] * old[(g * n + m3) * R + c];
    }
    sum2 -= factors[base + row * n + row2] * first;
  } else {
    for (let m4 = 0; m4 < row; m4++) {
      sum2 -= factors[base + row2 * n + m4] * old[(g * n + m4) * R + c];
    }
    sum2 -= factors[base + row2 * n + row] * first;
  }
  return sum2 / factors[base + row2 * n + row2];
}

/**
 * Failure flags of group `group` (blocks of size n), thread k over units: for its masked units,
 * mask[k] when a pivot of the factors is not positive and finite or (check = 1) a solution entry
 * is not finite, else 1e30; other units keep old. The minimum over units is the first failure.
 */
export function blockFlags(this: KernelThis, old: A, factors: A, solution: A, unitGroup: A, unitSlot: A, mask: A, group: number, n: number, R: number, check: number): number {
  const k = this.thread.x;
  const order = mask[k];
  if (Math.abs(unitGroup[k] - group) > 0.5 || order < 0.5) {
    return old[k];
  }
  const g = unitSlot[k];
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const pivot = factors[g * n * n + i * n + i];
    if (pivot > 0 && pivot <= 3.4028234e38) {
      bad += 0;
    } else {
      bad = 1;
    }
  }
  if (check > 0.5) {
    for (let t = 0; t < n * R; t++) {
      const v = solution[g * n * R + t];
      if (Math.abs(v) <= 3.4028234e38) {
        bad += 0;
      } else {
        bad = 1;
      }
    }
  }
  if (bad > 0.5) {
    return order;
  }
  return 1e30;
}
