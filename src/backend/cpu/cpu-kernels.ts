import { activate } from '../../engine/activations.js';
import { outputLayer } from '../../engine/output-layer.js';
import type { PropagationKernels } from '../kernels.js';

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
      activate(net.activation[k], pre, act, deriv, row, S);
    }
  },

  outputLayer(net, ws, targets) {
    outputLayer(net, ws, targets);
  },

  backwardLevel(net, params, ws, start, end) {
    const S = ws.size;
    const { back, backReduced, deriv } = ws;
    const { outOffsets, outTargets, outParams } = net;
    for (let i = start; i < end; i++) {
      if (net.outputIndex[i] >= 0) continue; // b̃ of outputs comes from the output layer
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
      for (; e < eEnd; e += 2) {
        const w1 = params[outParams[e]];
        const w2 = params[outParams[e + 1]];
        const dst1 = outTargets[e] * S;
        const dst2 = outTargets[e + 1] * S;
        for (let s = 0; s < S; s++) back[row + s] += w1 * backReduced[dst1 + s] + w2 * backReduced[dst2 + s];
      }
      for (let s = 0; s < S; s++) backReduced[row + s] = deriv[row + s] * back[row + s];
    }
  },

  gradient(net, ws, out) {
    const S = ws.size;
    const inv = 1 / S;
    const { act, backReduced } = ws;
    const { inOffsets, inSources, blockOffsets } = net;
    for (let k = net.nInputs; k < net.nUnits; k++) {
      const row = k * S;
      let p = blockOffsets[k];
      let e = inOffsets[k];
      const eEnd = inOffsets[k + 1];
      // Bias and, for odd fan-in, the first weight together; then weights two at a time.
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
  },
};
