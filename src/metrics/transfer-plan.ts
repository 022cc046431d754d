import type { CompiledNetwork } from '../engine/compiled-network.js';

/**
 * Which units and edges each output's transfer-rate backpropagation (Def. 2) touches: for
 * output o, its non-input ancestors in reverse topological order, each with the outgoing edges
 * that stay inside o's ancestry. Transfer rates are zero elsewhere, so no work is spent there.
 *
 * Layout (all Int32Array): output j's units are `units[unitOffsets[j] .. unitOffsets[j+1]-1]`
 * (descending ids); plan position q's edges are `edgeTargets/edgeParams[edgeOffsets[q] ..
 * edgeOffsets[q+1]-1]` (target unit id, parameter index of the weight).
 */
export interface TransferPlan {
  readonly unitOffsets: Int32Array;
  readonly units: Int32Array;
  readonly edgeOffsets: Int32Array;
  readonly edgeTargets: Int32Array;
  readonly edgeParams: Int32Array;
}

/** Builds the {@link TransferPlan} of a network (once per network; it depends on topology only). */
export function buildTransferPlan(net: CompiledNetwork): TransferPlan {
  const unitOffsets = [0];
  const units: number[] = [];
  const edgeOffsets = [0];
  const edgeTargets: number[] = [];
  const edgeParams: number[] = [];
  const inAncestry = new Uint8Array(net.nUnits);
  for (let j = 0; j < net.nOutputs; j++) {
    const o = net.outputUnits[j];
    inAncestry.fill(0);
    inAncestry[o] = 1;
    // Ids are topological, so one descending sweep marks every ancestor.
    for (let k = o; k >= net.nInputs; k--) {
      if (!inAncestry[k]) continue;
      for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) inAncestry[net.inSources[e]] = 1;
    }
    for (let k = o - 1; k >= net.nInputs; k--) {
      if (!inAncestry[k]) continue;
      units.push(k);
      for (let e = net.outOffsets[k]; e < net.outOffsets[k + 1]; e++) {
        if (inAncestry[net.outTargets[e]]) {
          edgeTargets.push(net.outTargets[e]);
          edgeParams.push(net.outParams[e]);
        }
      }
      edgeOffsets.push(edgeTargets.length);
    }
    unitOffsets.push(units.length);
  }
  return {
    unitOffsets: Int32Array.from(unitOffsets),
    units: Int32Array.from(units),
    edgeOffsets: Int32Array.from(edgeOffsets),
    edgeTargets: Int32Array.from(edgeTargets),
    edgeParams: Int32Array.from(edgeParams),
  };
}

/** Number of edge visits of one sample's n_out transfer-rate backpropagations (for cost counts). */
export function transferEdgeCount(plan: TransferPlan): number {
  return plan.edgeTargets.length;
}
