import { TABLE_HELPERS } from './webgpu-network.js';
import type { KernelBinding, KernelSpec } from './wgsl-kernel.js';

/**
 * WGSL kernels of the per-unit curvature blocks (Eq. 18, 28), their Cholesky solves and inverses
 * (Eq. 20, 30) and the online Sherman-Morrison step (Eq. 37-38). Blocks are row-major n_k × n_k
 * at `matrixOffset(k)` (`metricLayout`), n_k = 1 + fan-in. Solves run one thread per unit
 * (thread x: unit `P.first + x`), each factorising its own block in place in a scratch copy.
 * Failure flags are per unit: 0, or a positive rank (the unit's 1-based position) where the
 * block is not positive definite; the engine reads back their smallest positive value.
 * NOTE: one thread per unit keeps the kernels simple and needs no per-thread arrays; a block of
 * fan-in f costs that thread O(f³). Large fan-ins would want a workgroup per unit (or per
 * block-size bucket, as the gpu.js engine's padded groups) with the columns in parallel.
 */

const f32 = (name: string, write = false): KernelBinding => ({ name, type: 'f32', write });
const table: KernelBinding = { name: 'T', type: 'i32' };

/** The unit owning block entry x (the last unit whose block starts at or before x). */
const UNIT_OF_ENTRY = `
fn unitOfEntry(x: u32) -> u32 {
  var lo = 0u;
  var hi = nUnits();
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (matrixOffset(mid) <= x) { lo = mid; } else { hi = mid; }
  }
  return lo;
}`;

/** In-place Cholesky of the n × n block at `base` of `F` (lower triangle); false if not positive definite. */
const CHOLESKY = `
fn cholesky(base: u32, n: u32) -> bool {
  for (var j = 0u; j < n; j = j + 1u) {
    var d = F[base + j * n + j];
    for (var t = 0u; t < j; t = t + 1u) { d = d - F[base + j * n + t] * F[base + j * n + t]; }
    if (!(d > 0.0) || !finite(d)) { return false; }
    let l = sqrt(d);
    F[base + j * n + j] = l;
    for (var i = j + 1u; i < n; i = i + 1u) {
      var s = F[base + i * n + j];
      for (var t = 0u; t < j; t = t + 1u) { s = s - F[base + i * n + t] * F[base + j * n + t]; }
      F[base + i * n + j] = s / l;
    }
  }
  return true;
}`;

/** A_ij = (1/S) Σ_s ψ̃_k ā_i ā_j (ā_0 = 1), thread x = block entry. */
export const unitBlocksKernel: KernelSpec = {
  name: 'unitBlocks',
  bindings: [f32('act'), f32('M'), table, f32('blocks', true)],
  params: [['S', 'u32']],
  helpers: TABLE_HELPERS + UNIT_OF_ENTRY,
  body: `  let k = unitOfEntry(x);
  let n = blockOffset(k + 1u) - blockOffset(k);
  let r = x - matrixOffset(k);
  let i = r / n;
  let j = r % n;
  let e0 = inOffset(k);
  var si = 0u;
  var sj = 0u;
  if (i > 0u) { si = inSource(e0 + i - 1u); }
  if (j > 0u) { sj = inSource(e0 + j - 1u); }
  var sum = 0.0;
  for (var s = 0u; s < P.S; s = s + 1u) {
    var ai = 1.0;
    var aj = 1.0;
    if (i > 0u) { ai = act[si * P.S + s]; }
    if (j > 0u) { aj = act[sj * P.S + s]; }
    sum = sum + M[k * P.S + s] * ai * aj;
  }
  blocks[x] = sum / f32(P.S);`,
};

/**
 * δw = (A + εI)⁻¹ G of unit k by Cholesky, `F` holding a copy of the blocks (factorised in
 * place); flags[k] = k + 1 where the block has a non-finite entry or is not positive definite.
 */
export const solveBlocksKernel: KernelSpec = {
  name: 'solveBlocks',
  bindings: [f32('F', true), f32('G'), table, f32('out', true), f32('flags', true)],
  params: [
    ['first', 'u32'],
    ['epsilon', 'f32'],
  ],
  helpers: TABLE_HELPERS + CHOLESKY,
  body: `  let k = P.first + x;
  let p0 = blockOffset(k);
  let n = blockOffset(k + 1u) - p0;
  let base = matrixOffset(k);
  flags[k] = 0.0;
  for (var i = 0u; i < n * n; i = i + 1u) {
    if (!finite(F[base + i])) { flags[k] = f32(k + 1u); return; }
  }
  for (var i = 0u; i < n; i = i + 1u) { F[base + i * n + i] = F[base + i * n + i] + P.epsilon; }
  if (!cholesky(base, n)) { flags[k] = f32(k + 1u); return; }
  for (var i = 0u; i < n; i = i + 1u) {
    var s = G[p0 + i];
    for (var t = 0u; t < i; t = t + 1u) { s = s - F[base + i * n + t] * out[p0 + t]; }
    out[p0 + i] = s / F[base + i * n + i];
  }
  for (var q = n; q > 0u; q = q - 1u) {
    let i = q - 1u;
    var s = out[p0 + i];
    for (var t = i + 1u; t < n; t = t + 1u) { s = s - F[base + t * n + i] * out[p0 + t]; }
    out[p0 + i] = s / F[base + i * n + i];
  }`,
};

/**
 * H = A⁻¹ of the units with mask[k] > 0 (mask: their 1-based position in the caller's list):
 * Cholesky of a copy in `F`, then L Lᵀ h = e_c per column c, in place in H's column. A unit whose
 * block is not positive definite keeps its H and gets flags[k] = mask[k].
 */
export const invertBlocksKernel: KernelSpec = {
  name: 'invertBlocks',
  bindings: [f32('A'), f32('F', true), table, f32('mask'), f32('H', true), f32('flags', true)],
  params: [['first', 'u32']],
  helpers: TABLE_HELPERS + CHOLESKY,
  body: `  let k = P.first + x;
  flags[k] = 0.0;
  if (mask[k] <= 0.0) { return; }
  let n = blockOffset(k + 1u) - blockOffset(k);
  let base = matrixOffset(k);
  for (var i = 0u; i < n * n; i = i + 1u) { F[base + i] = A[base + i]; }
  if (!cholesky(base, n)) { flags[k] = mask[k]; return; }
  for (var c = 0u; c < n; c = c + 1u) {
    for (var i = 0u; i < n; i = i + 1u) {
      var s = select(0.0, 1.0, i == c);
      for (var t = 0u; t < i; t = t + 1u) { s = s - F[base + i * n + t] * H[base + t * n + c]; }
      H[base + i * n + c] = s / F[base + i * n + i];
    }
    for (var q = n; q > 0u; q = q - 1u) {
      let i = q - 1u;
      var s = H[base + i * n + c];
      for (var t = i + 1u; t < n; t = t + 1u) { s = s - F[base + t * n + i] * H[base + t * n + c]; }
      H[base + i * n + c] = s / F[base + i * n + i];
    }
  }`,
};

/** out_p = Σ_j H[k]_ij G[b_k + j] for parameters of units with mask[k] > 0 (others untouched), thread p. */
export const blocksTimesVectorKernel: KernelSpec = {
  name: 'blocksTimesVector',
  bindings: [f32('H'), f32('G'), table, f32('mask'), f32('out', true)],
  params: [],
  helpers: TABLE_HELPERS,
  body: `  let k = paramUnit(x);
  if (mask[k] <= 0.0) { return; }
  let p0 = blockOffset(k);
  let n = blockOffset(k + 1u) - p0;
  let row = matrixOffset(k) + (x - p0) * n;
  var sum = 0.0;
  for (var j = 0u; j < n; j = j + 1u) { sum = sum + H[row + j] * G[p0 + j]; }
  out[x] = sum;`,
};

/**
 * One online step of unit k (Eq. 37-38; `discountedRankOneUpdate`): u = √ψ̃_k(x)·(1, a_i(x)) of
 * sample `P.sample`, A ← (1-γ)A + γ u uᵀ; then, where 1 + c uᵀHu (c = γ/(1-γ)) is positive and
 * finite, H ← (H - (c/(1 + c uᵀHu)) Hu uᵀH)/(1-γ) symmetrised and δw = H G into `out` (Hu is
 * kept in `out` meanwhile); elsewhere flags[k] = 1 and H, δw are left alone.
 */
export const onlineStepKernel: KernelSpec = {
  name: 'onlineStep',
  bindings: [f32('A', true), f32('H', true), f32('act'), f32('M'), f32('G'), table, f32('out', true), f32('flags', true)],
  params: [
    ['first', 'u32'],
    ['S', 'u32'],
    ['sample', 'u32'],
    ['gamma', 'f32'],
  ],
  helpers: `${TABLE_HELPERS}
fn onlineU(k: u32, i: u32, root: f32) -> f32 {
  if (i == 0u) { return root; }
  return root * act[inSource(inOffset(k) + i - 1u) * P.S + P.sample];
}`,
  body: `  let k = P.first + x;
  let p0 = blockOffset(k);
  let n = blockOffset(k + 1u) - p0;
  let base = matrixOffset(k);
  let root = sqrt(max(0.0, M[k * P.S + P.sample]));
  let keep = 1.0 - P.gamma;
  for (var i = 0u; i < n; i = i + 1u) {
    let ui = onlineU(k, i, root);
    for (var j = 0u; j < n; j = j + 1u) {
      A[base + i * n + j] = keep * A[base + i * n + j] + P.gamma * ui * onlineU(k, j, root);
    }
  }
  let c = P.gamma / keep;
  var uhu = 0.0;
  for (var i = 0u; i < n; i = i + 1u) {
    var hu = 0.0;
    for (var j = 0u; j < n; j = j + 1u) { hu = hu + H[base + i * n + j] * onlineU(k, j, root); }
    uhu = uhu + onlineU(k, i, root) * hu;
  }
  let denominator = 1.0 + c * uhu;
  flags[k] = 0.0;
  if (!(denominator > 0.0) || !finite(denominator)) { flags[k] = 1.0; return; }
  for (var i = 0u; i < n; i = i + 1u) {
    var hu = 0.0;
    for (var j = 0u; j < n; j = j + 1u) { hu = hu + H[base + i * n + j] * onlineU(k, j, root); }
    out[p0 + i] = hu;
  }
  let factor = c / denominator;
  for (var i = 0u; i < n; i = i + 1u) {
    for (var j = 0u; j < n; j = j + 1u) {
      H[base + i * n + j] = (H[base + i * n + j] - factor * out[p0 + i] * out[p0 + j]) / keep;
    }
  }
  for (var i = 0u; i < n; i = i + 1u) {
    for (var j = i + 1u; j < n; j = j + 1u) {
      let m = 0.5 * (H[base + i * n + j] + H[base + j * n + i]);
      H[base + i * n + j] = m;
      H[base + j * n + i] = m;
    }
  }
  for (var i = 0u; i < n; i = i + 1u) {
    var sum = 0.0;
    for (var j = 0u; j < n; j = j + 1u) { sum = sum + H[base + i * n + j] * G[p0 + j]; }
    out[p0 + i] = sum;
  }`,
};
