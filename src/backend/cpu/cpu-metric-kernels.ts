import type { MetricKernels } from '../kernels.js';
import { unitBlock } from './cpu-unit-block.js';

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
    // NOTE: β ≡ 1 without the cross term (Bernoulli and square outputs) takes loops without the β
    // loads; 1·x·y = x·y exactly, so the values are the same.
    const unitBeta = !gamma && beta.every((b) => b === 1);
    for (let j = 0; j < net.nOutputs; j++) {
      const o = net.outputUnits[j];
      const b0 = j * S;
      rates.set(seeds.subarray(b0, b0 + S), o * S);
      accumulateRow(modulus, extra, rates, beta, gamma, b0, o * S, S);
      for (let q = route.unitOffsets[j]; q < route.unitOffsets[j + 1]; q++) {
        const row = route.units[q] * S;
        if (unitBeta) transferFisherRow(route.edgeTargets, route.edgeParams, route.edgeOffsets[q], route.edgeOffsets[q + 1], params, rates, deriv, modulus, row, S);
        else {
          transferRow(route.edgeTargets, route.edgeParams, route.edgeOffsets[q], route.edgeOffsets[q + 1], params, rates, row, S);
          for (let s = 0; s < S; s++) rates[row + s] *= deriv[row + s];
          accumulateRow(modulus, extra, rates, beta, gamma, b0, row, S);
        }
      }
      if (gram && gramSums) {
        if (unitBeta) gramPairs(gram.pairs, gram.pairA, gram.pairB, gram.pairOffsets[j], gram.pairOffsets[j + 1], rates, gramSums, S);
        else {
          for (let i = gram.pairOffsets[j]; i < gram.pairOffsets[j + 1]; i++) {
            const p = gram.pairs[i];
            const a = gram.pairA[p] * S;
            const b = gram.pairB[p] * S;
            for (let s = 0; s < S; s++) gramSums[p * S + s] += beta[b0 + s] * rates[a + s] * rates[b + s];
          }
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

  accumulateUnitBlocks(net, layout, ws, modulus, blocks, start = net.nInputs, end = net.nUnits) {
    const S = ws.size;
    const { act } = ws;
    const weighted = new Float64Array(2 * S);
    for (let k = start; k < end; k++) unitBlock(net, layout.matrixOffsets[k], act, modulus, blocks, weighted, k, S);
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

/**
 * {@link transferRow} followed by J̃ = r J and φ̃ += J̃² (β ≡ 1), the last two in the pass of the
 * last edge(s). NOTE: one pass fewer over the row than transferRow + scale + accumulate, with the
 * same operations in the same order (the same values); about a quarter of the Fisher modulus.
 */
function transferFisherRow(targets: Int32Array, weights: Int32Array, e: number, eEnd: number, params: Float64Array, rates: Float64Array, deriv: Float64Array, modulus: Float64Array, row: number, S: number): void {
  const n = eEnd - e;
  if (n === 1) {
    const w = params[weights[e]];
    const dst = targets[e] * S;
    for (let s = 0; s < S; s++) {
      const t = w * rates[dst + s] * deriv[row + s];
      rates[row + s] = t;
      modulus[row + s] += t * t;
    }
    return;
  }
  // transferRow's passes but the last, which is a pair for n ≥ 2.
  if (n > 2) transferRow(targets, weights, e, eEnd - 2, params, rates, row, S);
  const w1 = params[weights[eEnd - 2]];
  const w2 = params[weights[eEnd - 1]];
  const dst1 = targets[eEnd - 2] * S;
  const dst2 = targets[eEnd - 1] * S;
  if (n === 2) {
    for (let s = 0; s < S; s++) {
      const t = (w1 * rates[dst1 + s] + w2 * rates[dst2 + s]) * deriv[row + s];
      rates[row + s] = t;
      modulus[row + s] += t * t;
    }
    return;
  }
  for (let s = 0; s < S; s++) {
    const t = (rates[row + s] + (w1 * rates[dst1 + s] + w2 * rates[dst2 + s])) * deriv[row + s];
    rates[row + s] = t;
    modulus[row + s] += t * t;
  }
}

/**
 * C_p += J̃_a J̃_b for output pairs [i, iEnd) of the Gram route (β ≡ 1). NOTE: the plan lists an
 * output's pairs by first unit, so two consecutive pairs (a, b), (a, b') share one load of J̃_a.
 */
function gramPairs(pairs: Int32Array, pairA: Int32Array, pairB: Int32Array, i: number, iEnd: number, rates: Float64Array, sums: Float64Array, S: number): void {
  while (i < iEnd) {
    const p = pairs[i];
    const a = pairA[p] * S;
    const b = pairB[p] * S;
    const c = p * S;
    if (i + 1 < iEnd && pairA[pairs[i + 1]] * S === a) {
      const q = pairs[i + 1];
      const b2 = pairB[q] * S;
      const c2 = q * S;
      for (let s = 0; s < S; s++) {
        const x = rates[a + s];
        sums[c + s] += x * rates[b + s];
        sums[c2 + s] += x * rates[b2 + s];
      }
      i += 2;
    } else {
      for (let s = 0; s < S; s++) sums[c + s] += rates[a + s] * rates[b + s];
      i++;
    }
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
