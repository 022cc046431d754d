import type { CompiledNetwork } from '../../engine/compiled-network.js';

/**
 * Unit k's block A_ij = E ψ̃_k a_i a_j (Eq. 18, 28; a_0 = 1), row-major n × n at `base`, both
 * triangles. Each entry is one sum over the samples in order of (ψ̃ a_i) a_j, i ≥ j.
 * NOTE: rows two at a time: one pass gives ψ̃ a_i and ψ̃ a_{i+1} (kept in `weighted`, [2 × S]),
 * their bias column and their 2 × 2 diagonal corner, then each pass over the samples gives a
 * 2 × 2 tile of columns j, j+1 < i from four loads. About half the passes of a row at a time.
 */
export function unitBlock(net: CompiledNetwork, base: number, act: Float64Array, modulus: Float64Array, blocks: Float64Array, weighted: Float64Array, k: number, S: number): void {
  const inv = 1 / S;
  const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
  const e0 = net.inOffsets[k] - 1; // input i (1-based) is inSources[e0 + i]
  const sources = net.inSources;
  const psi = k * S;
  let m00 = 0;
  for (let s = 0; s < S; s++) m00 += modulus[psi + s];
  blocks[base] = m00 * inv;
  let i = 1;
  for (; i + 1 < n; i += 2) {
    const srcI = sources[e0 + i] * S;
    const srcH = sources[e0 + i + 1] * S;
    let c0 = 0;
    let c1 = 0;
    let dI = 0;
    let dH = 0;
    let dX = 0;
    for (let s = 0; s < S; s++) {
      const aI = act[srcI + s];
      const aH = act[srcH + s];
      const wI = modulus[psi + s] * aI;
      const wH = modulus[psi + s] * aH;
      weighted[s] = wI;
      weighted[S + s] = wH;
      c0 += wI;
      c1 += wH;
      dI += wI * aI;
      dH += wH * aH;
      dX += wH * aI;
    }
    const rowI = base + i * n;
    const rowH = rowI + n;
    blocks[base + i] = blocks[rowI] = c0 * inv;
    blocks[base + i + 1] = blocks[rowH] = c1 * inv;
    blocks[rowI + i] = dI * inv;
    blocks[rowH + i + 1] = dH * inv;
    blocks[rowH + i] = blocks[rowI + i + 1] = dX * inv;
    let j = 1;
    for (; j + 1 < i; j += 2) {
      const src1 = sources[e0 + j] * S;
      const src2 = sources[e0 + j + 1] * S;
      let t11 = 0;
      let t12 = 0;
      let t21 = 0;
      let t22 = 0;
      for (let s = 0; s < S; s++) {
        const a1 = act[src1 + s];
        const a2 = act[src2 + s];
        const wI = weighted[s];
        const wH = weighted[S + s];
        t11 += wI * a1;
        t12 += wI * a2;
        t21 += wH * a1;
        t22 += wH * a2;
      }
      blocks[rowI + j] = blocks[base + j * n + i] = t11 * inv;
      blocks[rowI + j + 1] = blocks[base + (j + 1) * n + i] = t12 * inv;
      blocks[rowH + j] = blocks[base + j * n + i + 1] = t21 * inv;
      blocks[rowH + j + 1] = blocks[base + (j + 1) * n + i + 1] = t22 * inv;
    }
    if (j < i) {
      const src1 = sources[e0 + j] * S;
      let t1 = 0;
      let t2 = 0;
      for (let s = 0; s < S; s++) {
        const a1 = act[src1 + s];
        t1 += weighted[s] * a1;
        t2 += weighted[S + s] * a1;
      }
      blocks[rowI + j] = blocks[base + j * n + i] = t1 * inv;
      blocks[rowH + j] = blocks[base + j * n + i + 1] = t2 * inv;
    }
  }
  if (i < n) {
    // The last row alone (odd fan-in).
    const srcI = sources[e0 + i] * S;
    let c0 = 0;
    let dI = 0;
    for (let s = 0; s < S; s++) {
      const aI = act[srcI + s];
      const wI = modulus[psi + s] * aI;
      weighted[s] = wI;
      c0 += wI;
      dI += wI * aI;
    }
    const rowI = base + i * n;
    blocks[base + i] = blocks[rowI] = c0 * inv;
    blocks[rowI + i] = dI * inv;
    let j = 1;
    for (; j + 1 < i; j += 2) {
      const src1 = sources[e0 + j] * S;
      const src2 = sources[e0 + j + 1] * S;
      let t1 = 0;
      let t2 = 0;
      for (let s = 0; s < S; s++) {
        t1 += weighted[s] * act[src1 + s];
        t2 += weighted[s] * act[src2 + s];
      }
      blocks[rowI + j] = blocks[base + j * n + i] = t1 * inv;
      blocks[rowI + j + 1] = blocks[base + (j + 1) * n + i] = t2 * inv;
    }
    if (j < i) {
      const src1 = sources[e0 + j] * S;
      let t1 = 0;
      for (let s = 0; s < S; s++) t1 += weighted[s] * act[src1 + s];
      blocks[rowI + j] = blocks[base + j * n + i] = t1 * inv;
    }
  }
}
