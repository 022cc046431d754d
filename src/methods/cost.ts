import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { TransferPlan } from '../metrics/transfer-plan.js';
import type { MethodSpec } from './methods.js';

/**
 * Multiply-adds of one batch iteration of a method on `size` samples, counted from the
 * compiled network (the paper's cost model of Section 1): forward, backward, gradient and
 * update, plus the method's modulus, metric accumulation and solve.
 */
export function multiplyAdds(spec: MethodSpec, net: CompiledNetwork, plan: TransferPlan, size: number, mcSamples = 1): number {
  const S = size;
  const E = net.nEdges;
  const U = net.nUnits - net.nInputs;
  let hiddenOut = 0;
  for (let k = net.nInputs; k < net.nUnits; k++) if (net.outputIndex[k] < 0) hiddenOut += net.outOffsets[k + 1] - net.outOffsets[k];
  const base = S * E + S * hiddenOut + S * (E + U) + net.nParams;
  let fanSq = 0;
  let fanCube = 0;
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
    fanSq += (n * (n + 1)) / 2;
    fanCube += (n * n * n) / 6 + n * n;
  }
  const modulus = {
    euclidean: 0,
    fisher: plan.gram
      ? S * (plan.gram.reduced.edgeTargets.length + plan.gram.reduced.units.length + net.nOutputs + 2 * plan.gram.pairs.length + plan.gram.termPair.length + plan.gram.bottom.length)
      : S * (plan.edgeTargets.length + plan.units.length + net.nOutputs),
    'mc-fisher': mcSamples * S * (hiddenOut + net.nOutputs + U),
    backpropagated: S * (hiddenOut + net.nOutputs),
    'outer-product': S * U,
  }[spec.metric];
  const P = net.nParams;
  let reduction = 0;
  switch (spec.reduction) {
    case 'full':
      reduction = S * fanSq + fanCube;
      break;
    case 'quasi-diagonal':
      reduction = 2 * S * (E + U) + 3 * P;
      break;
    case 'diagonal':
    case 'diagonal-root':
      reduction = S * (E + U) + P;
      break;
    case 'whole-network': {
      let pairs = 0;
      for (let j = 0; j < net.nOutputs; j++) {
        let nnz = net.blockOffsets[net.outputUnits[j] + 1] - net.blockOffsets[net.outputUnits[j]];
        for (let q = plan.unitOffsets[j]; q < plan.unitOffsets[j + 1]; q++) nnz += net.blockOffsets[plan.units[q] + 1] - net.blockOffsets[plan.units[q]];
        pairs += nnz * nnz;
      }
      reduction = S * pairs + (P * P * P) / 6 + 2 * P * P;
      break;
    }
  }
  return Math.round(base + modulus + reduction);
}
