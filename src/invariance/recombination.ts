import type { KroneckerGroup } from '../curvature/kronecker/groups.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { Prng } from '../random/prng.js';

/**
 * A random invertible affine map of n - 1 signals in homogeneous form, T = [[1, 0], [c, B]]
 * (n × n row-major): c ~ N(0, 1), B = I + N(0, 1/4)/√n.
 */
export function randomAffineTransform(n: number, rng: Prng): Float64Array {
  const t = new Float64Array(n * n);
  if (n > 0) t[0] = 1;
  for (let i = 1; i < n; i++) {
    t[i * n] = rng.normal(); // shift c_i
    for (let j = 1; j < n; j++) t[i * n + j] = (i === j ? 1 : 0) + (0.5 * rng.normal()) / Math.sqrt(n);
  }
  return t;
}

/**
 * Prop. 31's twin for the per-unit methods: one random T_k per unit (see
 * {@link randomAffineTransform}) on its homogeneous incoming signals (1, a_i...), in the
 * order of its parameters (bias, then its incoming edges). Input units get empty maps.
 */
export function unitTransforms(net: CompiledNetwork, rng: Prng): Float64Array[] {
  const transforms: Float64Array[] = [];
  for (let k = 0; k < net.nUnits; k++) transforms.push(randomAffineTransform(net.blockOffsets[k + 1] - net.blockOffsets[k], rng));
  return transforms;
}

/**
 * Prop. 31's twin for the Kronecker methods, which see one homogeneous activity
 * ā_g = (1, a_{S_g}) per group: on a complete group, one random T_g on ā_g, the same for all
 * its units, each unit's copy permuted from the group's source order to the order of its own
 * parameters (T_k[i, j] = T_g[r_i, r_j], r_i the row in ā_g of the unit's i-th parameter);
 * on a sparse group, one T_k per unit (no transform of ā_g restricts to those, so the
 * Kronecker methods are not expected to be invariant there).
 */
export function groupTransforms(net: CompiledNetwork, groups: readonly KroneckerGroup[], rng: Prng): Float64Array[] {
  const transforms: Float64Array[] = Array.from({ length: net.nUnits }, () => new Float64Array(0));
  for (const group of groups) {
    const shared = group.complete ? randomAffineTransform(group.sources.length + 1, rng) : undefined;
    const n = group.sources.length + 1;
    let start = 0;
    for (const k of group.units) {
      const size = net.blockOffsets[k + 1] - net.blockOffsets[k];
      if (shared) {
        const rows = group.rowOf.subarray(start, start + size);
        const t = new Float64Array(size * size);
        for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) t[i * size + j] = shared[rows[i] * n + rows[j]];
        transforms[k] = t;
      } else {
        transforms[k] = randomAffineTransform(size, rng);
      }
      start += size;
    }
  }
  return transforms;
}

/** out_block = T v_block (or Tᵀ v_block) for one unit's n × n row-major T, its block starting at `p0`. */
export function applyTransform(t: Float64Array, v: Float64Array, out: Float64Array, p0: number, transpose: boolean): void {
  const n = Math.round(Math.sqrt(t.length));
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += (transpose ? t[j * n + i] : t[i * n + j]) * v[p0 + j];
    out[p0 + i] = s;
  }
}

/** T F Tᵀ for the block-diagonal T of all units' transforms (F a whole-network P × P matrix, row-major). */
export function congruence(f: Float64Array, net: CompiledNetwork, transforms: Float64Array[]): Float64Array {
  const { nParams: P, nInputs, nUnits, blockOffsets } = net;
  const rows = new Float64Array(P * P);
  const column = new Float64Array(P);
  const mapped = new Float64Array(P);
  for (let c = 0; c < P; c++) {
    for (let r = 0; r < P; r++) column[r] = f[r * P + c];
    for (let k = nInputs; k < nUnits; k++) applyTransform(transforms[k], column, mapped, blockOffsets[k], false);
    for (let r = 0; r < P; r++) rows[r * P + c] = mapped[r];
  }
  const out = new Float64Array(P * P);
  for (let r = 0; r < P; r++) {
    const row = rows.subarray(r * P, (r + 1) * P);
    for (let k = nInputs; k < nUnits; k++) applyTransform(transforms[k], row, mapped, blockOffsets[k], false);
    out.set(mapped, r * P);
  }
  return out;
}
