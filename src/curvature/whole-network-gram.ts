import type { CompiledNetwork } from '../engine/compiled-network.js';

/**
 * The dense kernels of the whole-network Fisher assembly (Prop. 27): one output's weighted
 * sample vectors gathered into contiguous blocks, and their Gram matrix added into the P × P
 * matrix at the ancestors' parameters.
 */

/**
 * Adds Σ_s w[a, s] v[c, s] (ascending s) to `fisher[index[a] · P + index[c]]` for every pair
 * c ≤ a < n of one output's ancestor parameters: `w` and `v` are [n × size] (sample-contiguous
 * rows), w = β v, and `index` ascends, so these are the lower triangle's entries (row index[a] ≥
 * column index[c]), each taking (β v_a) v_c as the per-sample rank-one updates gave it (the
 * upper triangle is mirrored once the matrix is complete, see {@link mirrorLower}).
 *
 * NOTE: 2 × 4 register tiles (eight independent chains; each entry's own chain keeps ascending s
 * from the entry's previous value), each entry read and written once per output instead of
 * once per sample.
 */
export function addWeightedGram(fisher: Float64Array, P: number, index: Int32Array, n: number, size: number, w: Float64Array, v: Float64Array): void {
  const S = size;
  let a = 0;
  for (; a + 1 < n; a += 2) {
    const f1 = index[a] * P;
    const f2 = index[a + 1] * P;
    const w1 = a * S;
    const w2 = w1 + S;
    let c = 0;
    // Columns c .. c + 3 ≤ a: in the lower triangle of both rows.
    for (; c + 3 <= a; c += 4) {
      const i1 = index[c];
      const i2 = index[c + 1];
      const i3 = index[c + 2];
      const i4 = index[c + 3];
      const v1 = c * S;
      const v2 = v1 + S;
      const v3 = v2 + S;
      const v4 = v3 + S;
      let s11 = fisher[f1 + i1];
      let s12 = fisher[f1 + i2];
      let s13 = fisher[f1 + i3];
      let s14 = fisher[f1 + i4];
      let s21 = fisher[f2 + i1];
      let s22 = fisher[f2 + i2];
      let s23 = fisher[f2 + i3];
      let s24 = fisher[f2 + i4];
      for (let s = 0; s < S; s++) {
        const x1 = w[w1 + s];
        const x2 = w[w2 + s];
        const y1 = v[v1 + s];
        const y2 = v[v2 + s];
        const y3 = v[v3 + s];
        const y4 = v[v4 + s];
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
        s14 += x1 * y4;
        s21 += x2 * y1;
        s22 += x2 * y2;
        s23 += x2 * y3;
        s24 += x2 * y4;
      }
      fisher[f1 + i1] = s11;
      fisher[f1 + i2] = s12;
      fisher[f1 + i3] = s13;
      fisher[f1 + i4] = s14;
      fisher[f2 + i1] = s21;
      fisher[f2 + i2] = s22;
      fisher[f2 + i3] = s23;
      fisher[f2 + i4] = s24;
    }
    for (; c <= a; c++) {
      const ic = index[c];
      const vc = c * S;
      let s1 = fisher[f1 + ic];
      let s2 = fisher[f2 + ic];
      for (let s = 0; s < S; s++) {
        const y = v[vc + s];
        s1 += w[w1 + s] * y;
        s2 += w[w2 + s] * y;
      }
      fisher[f1 + ic] = s1;
      fisher[f2 + ic] = s2;
    }
    addRowEntry(fisher, f2 + index[a + 1], w, w2, v, (a + 1) * S, S);
  }
  if (a < n) {
    const f1 = index[a] * P;
    for (let c = 0; c <= a; c++) addRowEntry(fisher, f1 + index[c], w, a * S, v, c * S, S);
  }
}

/** fisher[at] += Σ_s w[wa + s] v[vc + s] (ascending s). */
function addRowEntry(fisher: Float64Array, at: number, w: Float64Array, wa: number, v: Float64Array, vc: number, S: number): void {
  let sum = fisher[at];
  for (let s = 0; s < S; s++) sum += w[wa + s] * v[vc + s];
  fisher[at] = sum;
}

/** Copies the lower triangle of the P × P matrix onto the upper one. */
export function mirrorLower(fisher: Float64Array, P: number): void {
  for (let i = 0; i < P; i++) for (let j = 0; j < i; j++) fisher[j * P + i] = fisher[i * P + j];
}

/**
 * One output's sample vectors: v[a, s] = ā_i(s) J̃_k(s) for the a-th ancestor parameter p = i→k
 * (the bias first, then the incoming edges, unit by unit in `units`' order) and w = β v, both
 * [n × size] into `v` and `w`; returns n. J̃_k(s) is rates[ratesBase + k · rowStride + s].
 */
export function gatherOutputVectors(
  net: Pick<CompiledNetwork, 'inOffsets' | 'inSources'>,
  units: readonly number[],
  rates: Float64Array,
  ratesBase: number,
  rowStride: number,
  act: Float64Array,
  beta: Float64Array,
  betaBase: number,
  size: number,
  v: Float64Array,
  w: Float64Array,
): number {
  const S = size;
  let r = 0;
  for (const k of units) {
    const J = ratesBase + k * rowStride;
    let row = r * S;
    for (let s = 0; s < S; s++) v[row + s] = rates[J + s];
    r++;
    for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++, r++) {
      const x = net.inSources[e] * S;
      row = r * S;
      for (let s = 0; s < S; s++) v[row + s] = rates[J + s] * act[x + s];
    }
  }
  for (let a = 0; a < r; a++) for (let s = 0; s < S; s++) w[a * S + s] = beta[betaBase + s] * v[a * S + s];
  return r;
}

/**
 * The softmax/spherical cross term (see `OutputMetric`): fisher[a · P + b] += Σ_s (β_x(s) e[s, a]) e[s, b]
 * (ascending s; samples where β_x e[s, a] = 0 skipped) for b ≤ a (the lower triangle) and
 * `extra` [size × P] = Σ_j γ_j v_j.
 */
export function addCrossTerm(fisher: Float64Array, P: number, size: number, extra: Float64Array, betaExtra: Float64Array): void {
  for (let a = 0; a < P; a++) {
    const row = a * P;
    for (let s = 0; s < size; s++) {
      const e = s * P;
      const va = betaExtra[s] * extra[e + a];
      if (va !== 0) for (let b = 0; b <= a; b++) fisher[row + b] += va * extra[e + b];
    }
  }
}
