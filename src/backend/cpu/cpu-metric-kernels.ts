import type { MetricKernels } from '../kernels.js';

/**
 * Float64 CPU kernels of the metric phase: transfer rates, the Fisher modulus and the
 * accumulation of per-unit metric blocks.
 */
export const cpuMetricKernels: MetricKernels = {
  transferRates(net, plan, params, ws, output, seeds, rates, raw) {
    const S = ws.size;
    const o = net.outputUnits[output];
    const { deriv } = ws;
    rates.set(seeds.subarray(output * S, (output + 1) * S), o * S);
    if (raw) raw.fill(1, o * S, (o + 1) * S);
    for (let q = plan.unitOffsets[output]; q < plan.unitOffsets[output + 1]; q++) {
      const row = plan.units[q] * S;
      transferRow(plan.edgeTargets, plan.edgeParams, plan.edgeOffsets[q], plan.edgeOffsets[q + 1], params, rates, row, S);
      if (raw) raw.set(rates.subarray(row, row + S), row);
      for (let s = 0; s < S; s++) rates[row + s] *= deriv[row + s];
    }
  },

  fisherModulus(net, plan, params, ws, metric, modulus) {
    const S = ws.size;
    const { deriv } = ws;
    const { seeds, beta, gamma, betaExtra } = metric;
    const gram = plan.gram;
    const route = gram ? gram.reduced : plan;
    const rates = new Float64Array(net.nUnits * S);
    const extra = gamma ? new Float64Array(net.nUnits * S) : undefined;
    const gramSums = gram ? new Float64Array(gram.pairA.length * S) : undefined;
    for (let j = 0; j < net.nOutputs; j++) {
      const o = net.outputUnits[j];
      const b0 = j * S;
      rates.set(seeds.subarray(b0, b0 + S), o * S);
      accumulateRow(modulus, extra, rates, beta, gamma, b0, o * S, S);
      for (let q = route.unitOffsets[j]; q < route.unitOffsets[j + 1]; q++) {
        const row = route.units[q] * S;
        transferRow(route.edgeTargets, route.edgeParams, route.edgeOffsets[q], route.edgeOffsets[q + 1], params, rates, row, S);
        for (let s = 0; s < S; s++) rates[row + s] *= deriv[row + s];
        accumulateRow(modulus, extra, rates, beta, gamma, b0, row, S);
      }
      if (gram && gramSums) {
        for (let i = gram.pairOffsets[j]; i < gram.pairOffsets[j + 1]; i++) {
          const p = gram.pairs[i];
          const a = gram.pairA[p] * S;
          const b = gram.pairB[p] * S;
          for (let s = 0; s < S; s++) gramSums[p * S + s] += beta[b0 + s] * rates[a + s] * rates[b + s];
        }
      }
    }
    if (gram && gramSums) {
      gram.bottom.forEach((k, i) => {
        const row = k * S;
        for (let t = gram.termOffsets[i]; t < gram.termOffsets[i + 1]; t++) {
          const w = gram.termFactor[t] * params[gram.termParamA[t]] * params[gram.termParamB[t]];
          const c = gram.termPair[t] * S;
          for (let s = 0; s < S; s++) modulus[row + s] += w * gramSums[c + s];
        }
        for (let s = 0; s < S; s++) modulus[row + s] *= deriv[row + s] * deriv[row + s];
        if (extra) {
          // The cross term is linear in the transfer rates: X_k = r_k Σ_j w_kj X_j.
          for (let e = net.outOffsets[k]; e < net.outOffsets[k + 1]; e++) {
            const w = params[net.outParams[e]];
            const dst = net.outTargets[e] * S;
            for (let s = 0; s < S; s++) extra[row + s] += w * extra[dst + s];
          }
          for (let s = 0; s < S; s++) extra[row + s] *= deriv[row + s];
        }
      });
    }
    if (extra && betaExtra) {
      for (let k = net.nInputs; k < net.nUnits; k++) for (let s = 0; s < S; s++) modulus[k * S + s] += betaExtra[s] * extra[k * S + s] ** 2;
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
        // NOTE: two columns per pass over the samples, so weighted[] is loaded once per pair.
        let j = 1;
        for (; j + 1 <= i; j += 2) {
          const src1 = net.inSources[e0 + j - 1] * S;
          const src2 = net.inSources[e0 + j] * S;
          let m1 = 0;
          let m2 = 0;
          for (let s = 0; s < S; s++) {
            m1 += weighted[s] * act[src1 + s];
            m2 += weighted[s] * act[src2 + s];
          }
          blocks[base + i * n + j] = blocks[base + j * n + i] = m1 * inv;
          blocks[base + i * n + j + 1] = blocks[base + (j + 1) * n + i] = m2 * inv;
        }
        if (j === i) {
          const src1 = net.inSources[e0 + j - 1] * S;
          let m1 = 0;
          for (let s = 0; s < S; s++) m1 += weighted[s] * act[src1 + s];
          blocks[base + i * n + j] = m1 * inv;
        }
      }
    }
  },
};

/**
 * rates[row..] = Σ_e w_e rates[target_e..] over the plan edges [e, eEnd).
 * NOTE: two edges per pass over the row (as in the forward kernel); the row is initialised by
 * the first edge(s) rather than cleared first.
 */
function transferRow(targets: Int32Array, weights: Int32Array, e: number, eEnd: number, params: Float64Array, rates: Float64Array, row: number, S: number): void {
  if ((eEnd - e) % 2 === 1) {
    const w = params[weights[e]];
    const dst = targets[e++] * S;
    for (let s = 0; s < S; s++) rates[row + s] = w * rates[dst + s];
  } else {
    const w1 = params[weights[e]];
    const w2 = params[weights[e + 1]];
    const dst1 = targets[e] * S;
    const dst2 = targets[e + 1] * S;
    for (let s = 0; s < S; s++) rates[row + s] = w1 * rates[dst1 + s] + w2 * rates[dst2 + s];
    e += 2;
  }
  for (; e < eEnd; e += 2) {
    const w1 = params[weights[e]];
    const w2 = params[weights[e + 1]];
    const dst1 = targets[e] * S;
    const dst2 = targets[e + 1] * S;
    for (let s = 0; s < S; s++) rates[row + s] += w1 * rates[dst1 + s] + w2 * rates[dst2 + s];
  }
}

/** modulus += β J̃² and extra += γ J̃ on one row (Fisher modulus, Def. 3, in OutputMetric's form). */
function accumulateRow(modulus: Float64Array, extra: Float64Array | undefined, rates: Float64Array, beta: Float64Array, gamma: Float64Array | undefined, b0: number, row: number, S: number): void {
  for (let s = 0; s < S; s++) {
    const j = rates[row + s];
    modulus[row + s] += beta[b0 + s] * j * j;
  }
  if (extra && gamma) for (let s = 0; s < S; s++) extra[row + s] += gamma[b0 + s] * rates[row + s];
}
