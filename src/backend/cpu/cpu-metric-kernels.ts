import type { MetricKernels } from '../kernels.js';

/**
 * Float64 CPU kernels of the metric phase: transfer rates, backpropagated modulus,
 * accumulation of per-unit metric blocks and of their quasi-diagonal entries.
 */
export const cpuMetricKernels: MetricKernels = {
  transferRates(net, plan, params, ws, output, seeds, rates, raw) {
    const S = ws.size;
    const o = net.outputUnits[output];
    const { deriv } = ws;
    rates.set(seeds.subarray(output * S, (output + 1) * S), o * S);
    if (raw) raw.fill(1, o * S, (o + 1) * S);
    for (let q = plan.unitOffsets[output]; q < plan.unitOffsets[output + 1]; q++) {
      const k = plan.units[q];
      const row = k * S;
      rates.fill(0, row, row + S);
      for (let e = plan.edgeOffsets[q]; e < plan.edgeOffsets[q + 1]; e++) {
        const w = params[plan.edgeParams[e]];
        const dst = plan.edgeTargets[e] * S;
        for (let s = 0; s < S; s++) rates[row + s] += w * rates[dst + s];
      }
      if (raw) raw.set(rates.subarray(row, row + S), row);
      for (let s = 0; s < S; s++) rates[row + s] *= deriv[row + s];
    }
  },

  accumulateTransferModulus(net, plan, ws, output, rates, metric, modulus, extra) {
    const S = ws.size;
    const b0 = output * S;
    const { beta, gamma } = metric;
    const visit = (k: number) => {
      const row = k * S;
      for (let s = 0; s < S; s++) {
        const j = rates[row + s];
        modulus[row + s] += beta[b0 + s] * j * j;
      }
      if (extra && gamma) for (let s = 0; s < S; s++) extra[row + s] += gamma[b0 + s] * rates[row + s];
    };
    visit(net.outputUnits[output]);
    for (let q = plan.unitOffsets[output]; q < plan.unitOffsets[output + 1]; q++) visit(plan.units[q]);
  },

  backpropagatedModulusLevel(net, params, ws, modulus, start, end) {
    const S = ws.size;
    const { deriv } = ws;
    const { outOffsets, outTargets, outParams } = net;
    for (let k = start; k < end; k++) {
      if (net.outputIndex[k] >= 0) continue; // set by the output metric
      const row = k * S;
      modulus.fill(0, row, row + S);
      for (let e = outOffsets[k]; e < outOffsets[k + 1]; e++) {
        const w = params[outParams[e]];
        const w2 = w * w;
        const dst = outTargets[e] * S;
        for (let s = 0; s < S; s++) modulus[row + s] += w2 * modulus[dst + s];
      }
      for (let s = 0; s < S; s++) modulus[row + s] *= deriv[row + s] * deriv[row + s];
    }
  },

  accumulateUnitBlocks(net, layout, ws, modulus, blocks) {
    const S = ws.size;
    const inv = 1 / S;
    const { act } = ws;
    const weighted = new Float64Array(S);
    for (let k = net.nInputs; k < net.nUnits; k++) {
      const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
      const base = layout.matrixOffsets[k];
      const e0 = net.inOffsets[k];
      const psi = k * S;
      // Row 0 (bias, a_0 = 1) and column 0.
      let m00 = 0;
      for (let s = 0; s < S; s++) m00 += modulus[psi + s];
      blocks[base] = m00 * inv;
      for (let i = 1; i < n; i++) {
        const src = net.inSources[e0 + i - 1] * S;
        for (let s = 0; s < S; s++) weighted[s] = modulus[psi + s] * act[src + s];
        let m0i = 0;
        for (let s = 0; s < S; s++) m0i += weighted[s];
        blocks[base + i] = blocks[base + i * n] = m0i * inv;
        for (let j = 1; j <= i; j++) {
          const src2 = net.inSources[e0 + j - 1] * S;
          let mij = 0;
          for (let s = 0; s < S; s++) mij += weighted[s] * act[src2 + s];
          blocks[base + i * n + j] = blocks[base + j * n + i] = mij * inv;
        }
      }
    }
  },

  accumulateQuasiDiagonal(net, ws, modulus, diagonal, cross) {
    const S = ws.size;
    const inv = 1 / S;
    const { act } = ws;
    for (let k = net.nInputs; k < net.nUnits; k++) {
      const p0 = net.blockOffsets[k];
      const psi = k * S;
      let m00 = 0;
      for (let s = 0; s < S; s++) m00 += modulus[psi + s];
      diagonal[p0] = m00 * inv;
      if (cross) cross[p0] = diagonal[p0];
      for (let e = net.inOffsets[k], p = p0 + 1; e < net.inOffsets[k + 1]; e++, p++) {
        const src = net.inSources[e] * S;
        let m0i = 0;
        let mii = 0;
        for (let s = 0; s < S; s++) {
          const wa = modulus[psi + s] * act[src + s];
          m0i += wa;
          mii += wa * act[src + s];
        }
        diagonal[p] = mii * inv;
        if (cross) cross[p] = m0i * inv;
      }
    }
  },
};
