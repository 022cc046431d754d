import { TABLE_HELPERS } from './webgpu-network.js';
import type { KernelBinding, KernelSpec } from './wgsl-kernel.js';

/** WGSL kernels of the diagonal and quasi-diagonal updates, one thread per parameter. */

const f32 = (name: string, write = false): KernelBinding => ({ name, type: 'f32', write });

/**
 * Quasi-diagonal step (Eq. 22-23, 32-33), thread p of unit k, bias b: a weight δw_i = (G_i A_00 -
 * G_0 A_0i) / ((A_ii + ε) A_00 - A_0i²) (0 when that is not positive, A_00 = A_bb + ε); the bias
 * δw_0 = G_0/A_00 - Σ_i (A_0i/A_00) δw_i (0 when A_00 ≤ 0).
 * NOTE: the bias thread recomputes its unit's O(fan-in) weights rather than a second launch reading them.
 */
export const quasiDiagonalKernel: KernelSpec = {
  name: 'quasiDiagonal',
  bindings: [f32('D'), f32('C'), f32('G'), { name: 'T', type: 'i32' }, f32('out', true)],
  params: [['epsilon', 'f32']],
  helpers: `${TABLE_HELPERS}
fn weightStep(q: u32, a00: f32, g0: f32) -> f32 {
  let a0q = C[q];
  let den = (D[q] + P.epsilon) * a00 - a0q * a0q;
  if (den > 0.0) { return (G[q] * a00 - g0 * a0q) / den; }
  return 0.0;
}`,
  body: `  let k = paramUnit(x);
  let b = blockOffset(k);
  let a00 = D[b] + P.epsilon;
  let g0 = G[b];
  if (x != b) {
    out[x] = weightStep(x, a00, g0);
    return;
  }
  if (a00 <= 0.0) {
    out[x] = 0.0;
    return;
  }
  var correction = 0.0;
  for (var q = b + 1u; q < blockOffset(k + 1u); q = q + 1u) {
    correction = correction + (C[q] / a00) * weightStep(q, a00, g0);
  }
  out[x] = g0 / a00 - correction;`,
};

/** Diagonal step: G_p / (A_pp + ε), or G_p / √(A_pp + ε) with root = 1 (AdaGrad); 0 where A_pp + ε ≤ 0. */
export const diagonalKernel: KernelSpec = {
  name: 'diagonal',
  bindings: [f32('D'), f32('G'), f32('out', true)],
  params: [
    ['epsilon', 'f32'],
    ['root', 'u32'],
  ],
  body: `  let d = D[x] + P.epsilon;
  if (d <= 0.0) {
    out[x] = 0.0;
  } else if (P.root == 1u) {
    out[x] = G[x] / sqrt(d);
  } else {
    out[x] = G[x] / d;
  }`,
};
