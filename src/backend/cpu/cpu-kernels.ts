import { activate } from '../../engine/activations.js';
import { outputLayer } from '../../engine/output-layer.js';
import type { Workspace } from '../../engine/workspace.js';
import type { Kernels } from '../kernels.js';

/**
 * The Float64 reference backend. Loops run over edges (CSR) with a contiguous inner loop over
 * the samples of the batch.
 *
 * NOTE: unit-major layout means each edge costs one axpy over `size` contiguous doubles; with
 * the paper's 16 samples this keeps the per-edge overhead (two typed-array loads of the CSR)
 * small next to the 16 multiply-adds, and it is what makes a level one batched kernel.
 */
export const cpuKernels: Kernels = {
  name: 'cpu',
  precision: 'float64',

  forwardLevel(net, params, ws, start, end) {
    const S = ws.size;
    const { pre, act, deriv } = ws;
    const { inOffsets, inSources, blockOffsets } = net;
    for (let k = start; k < end; k++) {
      const row = k * S;
      let p = blockOffsets[k];
      pre.fill(params[p++], row, row + S);
      for (let e = inOffsets[k], eEnd = inOffsets[k + 1]; e < eEnd; e++, p++) {
        const w = params[p];
        const src = inSources[e] * S;
        for (let s = 0; s < S; s++) pre[row + s] += w * act[src + s];
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
      back.fill(0, row, row + S);
      for (let e = outOffsets[i], eEnd = outOffsets[i + 1]; e < eEnd; e++) {
        const w = params[outParams[e]];
        const dst = outTargets[e] * S;
        for (let s = 0; s < S; s++) back[row + s] += w * backReduced[dst + s];
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
      let g = 0;
      for (let s = 0; s < S; s++) g += backReduced[row + s];
      out[p++] = g * inv;
      for (let e = inOffsets[k], eEnd = inOffsets[k + 1]; e < eEnd; e++, p++) {
        const src = inSources[e] * S;
        g = 0;
        for (let s = 0; s < S; s++) g += act[src + s] * backReduced[row + s];
        out[p] = g * inv;
      }
    }
  },
};
