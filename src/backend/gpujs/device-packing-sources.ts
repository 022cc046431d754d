import type { A, KernelThis } from './device-sources.js';

/**
 * Device-resident gpu.js kernels that move per-unit blocks and vectors between the block layout
 * (`device-curvature-sources.ts`) and a batched Cholesky group packed as [u × n × n] (each block
 * padded with the identity to the group's n; `unitGroup[k]`, `unitSlot[k]`, `unitSize[k]` as
 * there), and back. `mask` [nUnits] selects units (> 0).
 */

/** Packs a group's blocks, padded with the identity: thread x = (g·n + i)·n + j → A_ij of unit units[g] (i, j < n_k), else δ_ij. */
export function gatherBlocks(this: KernelThis, blocks: A, units: A, matrixOffsets: A, unitSize: A, n: number): number {
  const g0 = Math.floor(this.thread.x / (n * n));
  const g = g0 + (this.thread.x - g0 * (n * n) >= (n * n) ? 1 : 0) - (this.thread.x - g0 * (n * n) < 0 ? 1 : 0);
  const rest = this.thread.x - g * n * n;
  const i0 = Math.floor(rest / n);
  const i = i0 + (rest - i0 * n >= n ? 1 : 0) - (rest - i0 * n < 0 ? 1 : 0);
  const j = rest - i * n;
  const k = units[g];
  const size = unitSize[k];
  if (i < size && j < size) {
    const base = matrixOffsets[k];
    return blocks[base + i * size + j];
  }
  if (Math.abs(i - j) < 0.5) {
    return 1;
  }
  return 0;
}

/** Packs a group's parameter vectors, padded with zeros: thread x = g·n + i → values[blockOffsets[units[g]] + i] (i < n_k), else 0. */
export function gatherVector(this: KernelThis, values: A, units: A, blockOffsets: A, unitSize: A, n: number): number {
  const g0 = Math.floor(this.thread.x / n);
  const g = g0 + (this.thread.x - g0 * n >= n ? 1 : 0) - (this.thread.x - g0 * n < 0 ? 1 : 0);
  const i = this.thread.x - g * n;
  const k = units[g];
  if (i >= unitSize[k]) {
    return 0;
  }
  const base = blockOffsets[k];
  return values[base + i];
}

/** A group's packed vectors back into parameter layout, thread p: masked units of group `group` take x[slot·n + i]; others old. */
export function scatterParams(this: KernelThis, old: A, values: A, paramUnit: A, blockOffsets: A, unitGroup: A, unitSlot: A, mask: A, group: number, n: number): number {
  const p = this.thread.x;
  const k = paramUnit[p];
  if (Math.abs(unitGroup[k] - group) > 0.5 || mask[k] < 0.5) {
    return old[p];
  }
  const g = unitSlot[k];
  const p0 = blockOffsets[k];
  return values[g * n + p - p0];
}

/** A group's packed (padded) blocks back into the block layout, thread x over every block entry; others old. */
export function scatterBlocks(this: KernelThis, old: A, values: A, matrixOffsets: A, unitGroup: A, unitSlot: A, unitSize: A, mask: A, nUnits: number, group: number, n: number): number {
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
  if (Math.abs(unitGroup[k] - group) > 0.5 || mask[k] < 0.5) {
    return old[x];
  }
  const g = unitSlot[k];
  const size = unitSize[k];
  const r = x - matrixOffsets[k];
  const i0 = Math.floor(r / size);
  const i = i0 + (r - i0 * size >= size ? 1 : 0) - (r - i0 * size < 0 ? 1 : 0);
  const j = r - i * size;
  return values[(g * n + i) * n + j];
}
