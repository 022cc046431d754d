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
  /** The cheaper route for the Fisher modulus of units fed by inputs only, when there is one. */
  readonly gram?: GramPlan;
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
  const plan: TransferPlan = {
    unitOffsets: Int32Array.from(unitOffsets),
    units: Int32Array.from(units),
    edgeOffsets: Int32Array.from(edgeOffsets),
    edgeTargets: Int32Array.from(edgeTargets),
    edgeParams: Int32Array.from(edgeParams),
  };
  const gram = buildGramPlan(net, plan);
  return gram ? { ...plan, gram } : plan;
}

/**
 * The Gram route for the Fisher modulus of "bottom" units (hidden units fed by input units
 * only). Their transfer-rate vectors are never needed by another unit, only their weighted
 * norms: φ̃_k = r_k² Σ_{j,j' children of k} w_kj w_kj' C_jj' with C_jj' = Σ_o β_o J̃_j^o J̃_j'^o.
 * So the per-output backpropagation stops above them (often the widest level: in Section 4's
 * autoencoder the 150 edges into the first hidden layer are most of every output's ancestry)
 * and instead accumulates the C of sibling pairs. Chosen only where it costs fewer operations.
 *
 * Layout: the reduced per-output plan has the layout of {@link TransferPlan}; pair p is units
 * (pairA[p], pairB[p]); output j's pairs are `pairs[pairOffsets[j] .. pairOffsets[j+1]-1]`;
 * bottom unit b = bottom[i] has terms termOffsets[i] .. termOffsets[i+1]-1, each
 * `termFactor · w[termParamA] · w[termParamB] · C[termPair]`.
 */
export interface GramPlan {
  readonly reduced: TransferPlan;
  readonly pairA: Int32Array;
  readonly pairB: Int32Array;
  readonly pairOffsets: Int32Array;
  readonly pairs: Int32Array;
  readonly bottom: Int32Array;
  readonly termOffsets: Int32Array;
  readonly termPair: Int32Array;
  readonly termParamA: Int32Array;
  readonly termParamB: Int32Array;
  readonly termFactor: Float64Array;
}

/** The {@link GramPlan} of a network, or undefined when it has no bottom unit or the explicit route is cheaper. */
export function buildGramPlan(net: CompiledNetwork, plan: TransferPlan, evenIfDearer = false): GramPlan | undefined {
  const isBottom = new Uint8Array(net.nUnits);
  let any = false;
  for (let k = net.nInputs; k < net.nUnits; k++) {
    if (net.outputIndex[k] >= 0 || net.inOffsets[k + 1] === net.inOffsets[k]) continue;
    let onlyInputs = true;
    for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) if (net.inSources[e] >= net.nInputs) onlyInputs = false;
    if (onlyInputs) isBottom[k] = 1;
    any ||= onlyInputs;
  }
  if (!any) return undefined;
  // NOTE: a cheap bound first: the Gram route costs at least one term per pair of children of
  // each bottom unit; where that already exceeds the explicit route, nothing is built (the pair
  // tables of wide networks would take gigabytes).
  let explicitCost = 0;
  for (let j = 0; j < net.nOutputs; j++) {
    for (let q = plan.unitOffsets[j]; q < plan.unitOffsets[j + 1]; q++) if (isBottom[plan.units[q]]) explicitCost += plan.edgeOffsets[q + 1] - plan.edgeOffsets[q] + 1;
  }
  let termBound = 0;
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const d = net.outOffsets[k + 1] - net.outOffsets[k];
    if (isBottom[k]) termBound += (d * (d + 1)) / 2;
  }
  if (!evenIfDearer && termBound >= explicitCost) return undefined;
  // Sibling pairs under bottom units, and each bottom unit's terms.
  const pairIndex = new Map<number, number>();
  const pairA: number[] = [];
  const pairB: number[] = [];
  const bottom: number[] = [];
  const termOffsets = [0];
  const termPair: number[] = [];
  const termParamA: number[] = [];
  const termParamB: number[] = [];
  const termFactor: number[] = [];
  for (let k = net.nInputs; k < net.nUnits; k++) {
    if (!isBottom[k]) continue;
    bottom.push(k);
    for (let e = net.outOffsets[k]; e < net.outOffsets[k + 1]; e++) {
      for (let f = e; f < net.outOffsets[k + 1]; f++) {
        const [a, b] = net.outTargets[e] <= net.outTargets[f] ? [net.outTargets[e], net.outTargets[f]] : [net.outTargets[f], net.outTargets[e]];
        const key = a * net.nUnits + b;
        let p = pairIndex.get(key);
        if (p === undefined) {
          p = pairA.length;
          pairIndex.set(key, p);
          pairA.push(a);
          pairB.push(b);
        }
        termPair.push(p);
        termParamA.push(net.outParams[e]);
        termParamB.push(net.outParams[f]);
        termFactor.push(e === f ? 1 : 2);
      }
    }
    termOffsets.push(termPair.length);
  }
  // Reduced per-output plans, and each output's pairs (both units in its ancestry or itself).
  const unitOffsets = [0];
  const units: number[] = [];
  const edgeOffsets = [0];
  const edgeTargets: number[] = [];
  const edgeParams: number[] = [];
  const pairOffsets = [0];
  const pairs: number[] = [];
  const inAncestry = new Uint8Array(net.nUnits);
  for (let j = 0; j < net.nOutputs; j++) {
    inAncestry.fill(0);
    inAncestry[net.outputUnits[j]] = 1;
    for (let q = plan.unitOffsets[j]; q < plan.unitOffsets[j + 1]; q++) {
      const k = plan.units[q];
      inAncestry[k] = 1;
      if (isBottom[k]) continue;
      units.push(k);
      for (let e = plan.edgeOffsets[q]; e < plan.edgeOffsets[q + 1]; e++) {
        edgeTargets.push(plan.edgeTargets[e]);
        edgeParams.push(plan.edgeParams[e]);
      }
      edgeOffsets.push(edgeTargets.length);
    }
    unitOffsets.push(units.length);
    // Sorted by first unit, so that the kernels can load J̃_a once for consecutive pairs (a, ·).
    const mine: number[] = [];
    for (let p = 0; p < pairA.length; p++) if (inAncestry[pairA[p]] && inAncestry[pairB[p]]) mine.push(p);
    mine.sort((x, y) => pairA[x] - pairA[y] || pairB[x] - pairB[y]);
    pairs.push(...mine);
    pairOffsets.push(pairs.length);
  }
  if (!evenIfDearer && pairs.length + termPair.length >= explicitCost) return undefined;
  return {
    reduced: { unitOffsets: Int32Array.from(unitOffsets), units: Int32Array.from(units), edgeOffsets: Int32Array.from(edgeOffsets), edgeTargets: Int32Array.from(edgeTargets), edgeParams: Int32Array.from(edgeParams) },
    pairA: Int32Array.from(pairA),
    pairB: Int32Array.from(pairB),
    pairOffsets: Int32Array.from(pairOffsets),
    pairs: Int32Array.from(pairs),
    bottom: Int32Array.from(bottom),
    termOffsets: Int32Array.from(termOffsets),
    termPair: Int32Array.from(termPair),
    termParamA: Int32Array.from(termParamA),
    termParamB: Int32Array.from(termParamB),
    termFactor: Float64Array.from(termFactor),
  };
}
