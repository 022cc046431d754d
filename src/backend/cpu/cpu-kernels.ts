import { activate, activateAffine } from '../../engine/activations.js';
import { outputLayer } from '../../engine/output-layer.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { Workspace } from '../../engine/workspace.js';
import type { PropagationKernels, QuasiDiagonalEntries } from '../kernels.js';

/**
 * The Float64 reference backend. Loops run over edges (CSR) with a contiguous inner loop over
 * the samples of the batch.
 *
 * NOTE: unit-major layout means each edge costs one axpy over `size` contiguous doubles; with
 * the paper's 16 samples this keeps the per-edge overhead (two typed-array loads of the CSR)
 * small next to the 16 multiply-adds, and it is what makes a level one batched kernel.
 */
export const cpuPropagationKernels: PropagationKernels = {
  name: 'cpu',
  precision: 'float64',

  forwardLevel(net, params, ws, start, end) {
    const S = ws.size;
    const { pre, act, deriv } = ws;
    const { inOffsets, inSources, blockOffsets } = net;
    for (let k = start; k < end; k++) {
      const row = k * S;
      let p = blockOffsets[k];
      const bias = params[p++];
      let e = inOffsets[k];
      const eEnd = inOffsets[k + 1];
      // NOTE: edges are taken two at a time so that each pass over the row reads and writes
      // pre[] once per two edges; this is about 25% faster than one edge per pass at fan-in 5.
      if ((eEnd - e) % 2 === 1) {
        const w = params[p++];
        const src = inSources[e++] * S;
        for (let s = 0; s < S; s++) pre[row + s] = bias + w * act[src + s];
      } else {
        pre.fill(bias, row, row + S);
      }
      for (; e < eEnd; e += 2, p += 2) {
        const w1 = params[p];
        const w2 = params[p + 1];
        const src1 = inSources[e] * S;
        const src2 = inSources[e + 1] * S;
        for (let s = 0; s < S; s++) pre[row + s] += w1 * act[src1 + s] + w2 * act[src2 + s];
      }
      if (net.affine) activateAffine(net.activation[k], net.affine.gain[k], net.affine.scale[k], net.affine.shift[k], pre, act, deriv, row, S);
      else activate(net.activation[k], pre, act, deriv, row, S);
    }
  },

  outputLayer(net, ws, targets) {
    outputLayer(net, ws, targets);
  },

  backwardLevel(net, params, ws, start, end, modulus) {
    const S = ws.size;
    for (let i = start; i < end; i++) {
      if (net.outputIndex[i] >= 0) continue; // b̃ of outputs comes from the output layer
      if (modulus) backwardRowWithModulus(net, params, ws, modulus, i, S);
      else backwardRow(net, params, ws, i, S);
    }
  },

  gradient(net, ws, out, entries, start = net.nInputs, end = net.nUnits) {
    const S = ws.size;
    for (let k = start; k < end; k++) {
      if (entries) gradientRowWithEntries(net, ws, out, entries, k, S);
      else gradientRow(net, ws, out, k, S);
    }
  },
};

/** b_i = Σ_j w_ij b̃_j, b̃_i = r_i b_i (Eq. 5, 10), two edges per pass over the row. */
function backwardRow(net: CompiledNetwork, params: Float64Array, ws: Workspace, i: number, S: number): void {
  const { back, backReduced, deriv } = ws;
  const { outOffsets, outTargets, outParams } = net;
  const row = i * S;
  let e = outOffsets[i];
  const eEnd = outOffsets[i + 1];
  if ((eEnd - e) % 2 === 1) {
    const w = params[outParams[e]];
    const dst = outTargets[e++] * S;
    for (let s = 0; s < S; s++) back[row + s] = w * backReduced[dst + s];
  } else {
    back.fill(0, row, row + S);
  }
  // NOTE: four edges per pass where there are four (units with many children, such as the
  // autoencoder's outer hidden layers with ~16), adding the two pairs in turn: the same sums as
  // pair passes, with half the loads and stores of the row.
  for (; e + 3 < eEnd; e += 4) {
    const w1 = params[outParams[e]];
    const w2 = params[outParams[e + 1]];
    const w3 = params[outParams[e + 2]];
    const w4 = params[outParams[e + 3]];
    const dst1 = outTargets[e] * S;
    const dst2 = outTargets[e + 1] * S;
    const dst3 = outTargets[e + 2] * S;
    const dst4 = outTargets[e + 3] * S;
    for (let s = 0; s < S; s++) {
      const t = back[row + s] + (w1 * backReduced[dst1 + s] + w2 * backReduced[dst2 + s]);
      back[row + s] = t + (w3 * backReduced[dst3 + s] + w4 * backReduced[dst4 + s]);
    }
  }
  for (; e < eEnd; e += 2) {
    const w1 = params[outParams[e]];
    const w2 = params[outParams[e + 1]];
    const dst1 = outTargets[e] * S;
    const dst2 = outTargets[e + 1] * S;
    for (let s = 0; s < S; s++) back[row + s] += w1 * backReduced[dst1 + s] + w2 * backReduced[dst2 + s];
  }
  for (let s = 0; s < S; s++) backReduced[row + s] = deriv[row + s] * back[row + s];
}

/**
 * {@link backwardRow} fused with the backpropagated modulus m̃_i = r_i² Σ_j w_ij² m̃_j (Eq. 26).
 * NOTE: one pass over the outgoing edges for both recursions; separate passes cost about a third
 * of a backprop iteration more, since each edge's index and weight loads dominate at 16 samples.
 */
function backwardRowWithModulus(net: CompiledNetwork, params: Float64Array, ws: Workspace, modulus: Float64Array, i: number, S: number): void {
  const { back, backReduced, deriv } = ws;
  const { outOffsets, outTargets, outParams } = net;
  const row = i * S;
  let e = outOffsets[i];
  const eEnd = outOffsets[i + 1];
  // Same pairing of edges as backwardRow, so b and b̃ are bit-identical with or without the modulus.
  if ((eEnd - e) % 2 === 1) {
    const w = params[outParams[e]];
    const dst = outTargets[e++] * S;
    for (let s = 0; s < S; s++) {
      back[row + s] = w * backReduced[dst + s];
      modulus[row + s] = w * w * modulus[dst + s];
    }
  } else {
    back.fill(0, row, row + S);
    modulus.fill(0, row, row + S);
  }
  for (; e + 3 < eEnd; e += 4) {
    const w1 = params[outParams[e]];
    const w2 = params[outParams[e + 1]];
    const w3 = params[outParams[e + 2]];
    const w4 = params[outParams[e + 3]];
    const v1 = w1 * w1;
    const v2 = w2 * w2;
    const v3 = w3 * w3;
    const v4 = w4 * w4;
    const dst1 = outTargets[e] * S;
    const dst2 = outTargets[e + 1] * S;
    const dst3 = outTargets[e + 2] * S;
    const dst4 = outTargets[e + 3] * S;
    for (let s = 0; s < S; s++) {
      const t = back[row + s] + (w1 * backReduced[dst1 + s] + w2 * backReduced[dst2 + s]);
      back[row + s] = t + (w3 * backReduced[dst3 + s] + w4 * backReduced[dst4 + s]);
      const u = modulus[row + s] + (v1 * modulus[dst1 + s] + v2 * modulus[dst2 + s]);
      modulus[row + s] = u + (v3 * modulus[dst3 + s] + v4 * modulus[dst4 + s]);
    }
  }
  for (; e < eEnd; e += 2) {
    const w1 = params[outParams[e]];
    const w2 = params[outParams[e + 1]];
    const v1 = w1 * w1;
    const v2 = w2 * w2;
    const dst1 = outTargets[e] * S;
    const dst2 = outTargets[e + 1] * S;
    for (let s = 0; s < S; s++) {
      back[row + s] += w1 * backReduced[dst1 + s] + w2 * backReduced[dst2 + s];
      modulus[row + s] += v1 * modulus[dst1 + s] + v2 * modulus[dst2 + s];
    }
  }
  for (let s = 0; s < S; s++) {
    const r = deriv[row + s];
    backReduced[row + s] = r * back[row + s];
    modulus[row + s] *= r * r;
  }
}

/** G for unit k's block: bias Σb̃/S, weights Σ a_i b̃/S; two weights per pass over the samples. */
function gradientRow(net: CompiledNetwork, ws: Workspace, out: Float64Array, k: number, S: number): void {
  const inv = 1 / S;
  const { act, backReduced } = ws;
  const { inOffsets, inSources, blockOffsets } = net;
  const row = k * S;
  let p = blockOffsets[k];
  let e = inOffsets[k];
  const eEnd = inOffsets[k + 1];
  let g0 = 0;
  if ((eEnd - e) % 2 === 1) {
    const src = inSources[e] * S;
    let g1 = 0;
    for (let s = 0; s < S; s++) {
      const b = backReduced[row + s];
      g0 += b;
      g1 += act[src + s] * b;
    }
    out[p] = g0 * inv;
    out[p + 1] = g1 * inv;
    p += 2;
    e++;
  } else {
    for (let s = 0; s < S; s++) g0 += backReduced[row + s];
    out[p++] = g0 * inv;
  }
  for (; e < eEnd; e += 2, p += 2) {
    const src1 = inSources[e] * S;
    const src2 = inSources[e + 1] * S;
    let g1 = 0;
    let g2 = 0;
    for (let s = 0; s < S; s++) {
      const b = backReduced[row + s];
      g1 += act[src1 + s] * b;
      g2 += act[src2 + s] * b;
    }
    out[p] = g1 * inv;
    out[p + 1] = g2 * inv;
  }
}

/**
 * {@link gradientRow} fused with the quasi-diagonal entries A_00, A_0i, A_ii = E ψ̃ (1, a_i, a_i²)
 * (Eq. 22, 32). NOTE: two weights per pass over the samples, as in gradientRow: each pass loads
 * b̃ and ψ̃ once for six sums; each sum still runs over the samples in order, so the entries are
 * the same as one weight per pass.
 */
function gradientRowWithEntries(net: CompiledNetwork, ws: Workspace, out: Float64Array, entries: QuasiDiagonalEntries, k: number, S: number): void {
  const inv = 1 / S;
  const { act, backReduced } = ws;
  const { modulus, diagonal, cross } = entries;
  const { inOffsets, inSources } = net;
  const row = k * S;
  const p0 = net.blockOffsets[k];
  let g0 = 0;
  let m00 = 0;
  for (let s = 0; s < S; s++) {
    g0 += backReduced[row + s];
    m00 += modulus[row + s];
  }
  out[p0] = g0 * inv;
  diagonal[p0] = m00 * inv;
  if (cross) cross[p0] = m00 * inv;
  let e = inOffsets[k];
  const eEnd = inOffsets[k + 1];
  let p = p0 + 1;
  for (; e + 1 < eEnd; e += 2, p += 2) {
    const src1 = inSources[e] * S;
    const src2 = inSources[e + 1] * S;
    let g1 = 0;
    let c1 = 0;
    let d1 = 0;
    let g2 = 0;
    let c2 = 0;
    let d2 = 0;
    for (let s = 0; s < S; s++) {
      const b = backReduced[row + s];
      const m = modulus[row + s];
      const a1 = act[src1 + s];
      const a2 = act[src2 + s];
      const w1 = m * a1;
      const w2 = m * a2;
      g1 += a1 * b;
      c1 += w1;
      d1 += w1 * a1;
      g2 += a2 * b;
      c2 += w2;
      d2 += w2 * a2;
    }
    out[p] = g1 * inv;
    diagonal[p] = d1 * inv;
    out[p + 1] = g2 * inv;
    diagonal[p + 1] = d2 * inv;
    if (cross) {
      cross[p] = c1 * inv;
      cross[p + 1] = c2 * inv;
    }
  }
  if (e < eEnd) {
    const src = inSources[e] * S;
    let g = 0;
    let m0i = 0;
    let mii = 0;
    for (let s = 0; s < S; s++) {
      const a = act[src + s];
      const wa = modulus[row + s] * a;
      g += a * backReduced[row + s];
      m0i += wa;
      mii += wa * a;
    }
    out[p] = g * inv;
    diagonal[p] = mii * inv;
    if (cross) cross[p] = m0i * inv;
  }
}
