import type { KroneckerGroup } from './groups.js';

/** Alternating least-squares sweeps of {@link nearestKronecker}. */
const SWEEPS = 30;

/**
 * The Kronecker factors whose restricted product P (A ⊗ G) Pᵀ is nearest, in the Frobenius
 * norm over the group's parameter pairs, to the group's block of a dense P × P matrix (the
 * `fromDense` restriction of a Kronecker curvature): alternating least squares started from
 * the bias-bias block (G = M[(0,k),(0,l)], A_00 = 1), exact in one sweep when the block is a
 * Kronecker product; scaled so that A_00 = 1. Entries never paired by existing parameters are 0.
 */
export function nearestKronecker(group: KroneckerGroup, dense: Float64Array, P: number): { A: Float64Array; G: Float64Array } {
  const n = group.sources.length + 1;
  const m = group.units.length;
  const { params, rowOf, colOf } = group;
  const Q = params.length;
  const A = new Float64Array(n * n);
  const G = new Float64Array(m * m);
  const biases = Array.from({ length: Q }, (_, p) => p).filter((p) => rowOf[p] === 0);
  for (const p of biases) for (const q of biases) G[colOf[p] * m + colOf[q]] = dense[params[p] * P + params[q]];
  const num = new Float64Array(Math.max(n * n, m * m));
  const den = new Float64Array(Math.max(n * n, m * m));
  const fit = (target: Float64Array, other: Float64Array, size: number, index: Int32Array, otherIndex: Int32Array, otherSize: number) => {
    num.fill(0);
    den.fill(0);
    for (let p = 0; p < Q; p++) {
      for (let q = 0; q < Q; q++) {
        const o = other[otherIndex[p] * otherSize + otherIndex[q]];
        const t = index[p] * size + index[q];
        num[t] += dense[params[p] * P + params[q]] * o;
        den[t] += o * o;
      }
    }
    for (let t = 0; t < size * size; t++) target[t] = den[t] > 0 ? num[t] / den[t] : 0;
  };
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    fit(A, G, n, rowOf, colOf, m);
    fit(G, A, m, colOf, rowOf, n);
  }
  const a00 = A[0];
  if (a00 !== 0 && Number.isFinite(a00)) {
    for (let i = 0; i < A.length; i++) A[i] /= a00;
    for (let i = 0; i < G.length; i++) G[i] *= a00;
  }
  return { A, G };
}
