import type { KroneckerDamping } from '../curvature/kronecker/factor-inverse.js';
import type { GroupSolver, KroneckerSolve } from '../curvature/kronecker/group-solve.js';
import { DIRECT_ONLY_LIMIT } from '../curvature/kronecker/group-solve.js';
import { buildGroups, type Grouping, type KroneckerGroup } from '../curvature/kronecker/groups.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { TransferPlan } from '../metrics/transfer-plan.js';
import type { MethodSpec } from './methods.js';

/** What the count of a Kronecker-factored method needs beyond the network: its choices and, ideally, what its solves did. */
export interface KroneckerCostOptions {
  /** Groups (default: the topological levels). */
  groups?: Grouping | readonly KroneckerGroup[];
  solve?: KroneckerSolve;
  damping?: KroneckerDamping;
  /**
   * Per group, the route its last solve took and its CG iterations (the curvature's
   * `solveReport`). Without it, the routes are predicted from the structure alone: matrix form
   * for complete groups, masked with `masked`, direct up to {@link DIRECT_ONLY_LIMIT} parameters,
   * else CG counted at P_g iterations (its limit before the direct fallback: an upper bound).
   */
  routes?: ReadonlyArray<{ route: GroupSolver['route']; iterations: number }>;
}

/** The multiply-adds of one batch iteration of a Kronecker-factored method, by part. */
export interface KroneckerCost {
  /** Forward, backward, gradient and update (what backprop does). */
  base: number;
  /** A_g = E ā āᵀ: the Gram matrices of the groups' activities. */
  activityFactors: number;
  /** G_g as the method measures it (transfer-rate passes, sampled backward passes or the recursion, and their Gram matrices). */
  outputFactors: number;
  /** Factorisations (one refresh per iteration, as in batch mode) and solves. */
  solve: number;
  /** Per group: its solve's multiply-adds and the route counted. */
  groups: Array<{ name: string; route: GroupSolver['route']; iterations: number; solve: number }>;
  total: number;
}

/** Forward (S·E), backward (S × outgoing edges of hidden units), gradient (S·(E + U)) and update (P). */
function baseMultiplyAdds(net: CompiledNetwork, S: number): { base: number; hiddenOut: number; U: number } {
  const E = net.nEdges;
  const U = net.nUnits - net.nInputs;
  let hiddenOut = 0;
  for (let k = net.nInputs; k < net.nUnits; k++) if (net.outputIndex[k] < 0) hiddenOut += net.outOffsets[k + 1] - net.outOffsets[k];
  return { base: S * E + S * hiddenOut + S * (E + U) + net.nParams, hiddenOut, U };
}

/**
 * Multiply-adds of one batch iteration of a method on `size` samples, counted from the
 * compiled network (the paper's cost model of Section 1): forward, backward, gradient and
 * update, plus the method's modulus, metric accumulation and solve. Kronecker-factored methods
 * are counted by {@link kroneckerMultiplyAdds} (with `kronecker`'s choices and solve routes).
 */
export function multiplyAdds(spec: MethodSpec, net: CompiledNetwork, plan: TransferPlan, size: number, mcSamples = 1, kronecker: KroneckerCostOptions = {}): number {
  if (spec.reduction === 'kronecker') return kroneckerMultiplyAdds(spec, net, plan, size, mcSamples, kronecker).total;
  const S = size;
  const E = net.nEdges;
  const { base, hiddenOut, U } = baseMultiplyAdds(net, S);
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

/** Multiply-adds of a Cholesky factorisation of an n × n matrix (n³/6, i.e. n³/3 flops). */
export function choleskyMultiplyAdds(n: number): number {
  return (n * n * n) / 6;
}

/**
 * Multiply-adds of one batch iteration of a Kronecker-factored method (kflr, kfac, kfra) on
 * `size` samples, as the CPU engine computes it, with inverses refreshed every iteration (batch
 * mode). Per group g: n_g + 1 rows of ā, m_g units, P_g parameters.
 * - A_g: S (n_g+1)(n_g+2)/2 (the Gram matrix, upper triangle).
 * - KFLR: the n_out transfer-rate passes over each output's ancestors, S (edges + units of the
 *   plan), and per output the β-weighted Gram of the rows it reaches, S (L(L+1)/2 + L) with L
 *   the units of g among the output and its ancestors (rows that are zero are skipped); with a
 *   γ term (softmax, spherical) also n_out S·units to accumulate it and one more Gram.
 * - K-FAC: K sampled backward passes, K S (n_out + backward edges + U), and K Gram matrices
 *   S L(L+1)/2, L the units of g that reach an output (m_g in a layered network).
 * - KFRA: the Gram of r, S m_g(m_g+1)/2, the recursion Σ_h W_gh Ĝ_h W_ghᵀ over the edges
 *   k → l between groups, m_g + m_h each, the Hadamard product m_g², and the output term
 *   (S per output; S per pair of outputs in a group with a γ term).
 * - Solves, per group, by the route taken: matrix form (complete group) or masked, Cholesky of
 *   both damped factors, (n³ + m³)/6, and A'⁻¹ R G'⁻¹ on the grid, n m (n + m); with exact
 *   damping eigendecompositions instead, 13/6 (n³ + m³), and two rotations, 2 n m (n + m).
 *   Direct: M_g built (P²), Cholesky P³/6, solve P². Per unit (G' diagonal): each unit's block,
 *   p² + p³/6 + p². CG: the per-unit blocks as preconditioner (p² + p³/6 each), then per
 *   iteration M v in P(n_g + 1 + m_g), the preconditioner Σ p², and 6P for the dot products and
 *   updates; its direct fallback adds the direct count.
 */
export function kroneckerMultiplyAdds(spec: MethodSpec, net: CompiledNetwork, plan: TransferPlan, size: number, mcSamples = 1, options: KroneckerCostOptions = {}): KroneckerCost {
  const S = size;
  const groups = typeof options.groups === 'object' ? options.groups : buildGroups(net, options.groups ?? 'levels');
  const { base, hiddenOut, U } = baseMultiplyAdds(net, S);
  const groupOf = new Int32Array(net.nUnits).fill(-1);
  groups.forEach((g, i) => g.units.forEach((k) => (groupOf[k] = i)));
  const tri = (n: number) => (n * (n + 1)) / 2;
  const extraTerm = net.interpretation === 'softmax' || net.interpretation === 'spherical';

  let activityFactors = 0;
  for (const g of groups) activityFactors += S * tri(g.sources.length + 1);

  let outputFactors = 0;
  const unitGrams = () => groups.reduce((sum, g) => sum + S * tri(g.units.length), 0);
  if (spec.factor === 'exact') {
    outputFactors += S * (plan.edgeTargets.length + plan.units.length);
    const live = new Int32Array(groups.length);
    for (let j = 0; j < net.nOutputs; j++) {
      live.fill(0);
      if (groupOf[net.outputUnits[j]] >= 0) live[groupOf[net.outputUnits[j]]]++;
      for (let q = plan.unitOffsets[j]; q < plan.unitOffsets[j + 1]; q++) if (groupOf[plan.units[q]] >= 0) live[groupOf[plan.units[q]]]++;
      for (const L of live) outputFactors += S * (tri(L) + L);
    }
    if (extraTerm) outputFactors += net.nOutputs * S * net.nUnits + unitGrams() + groups.reduce((sum, g) => sum + S * g.units.length, 0);
  } else if (spec.factor === 'monte-carlo') {
    // Units that reach no output have b̃ = 0: their rows are skipped by the Gram kernel.
    const reaches = new Uint8Array(net.nUnits);
    for (const k of plan.units) reaches[k] = 1;
    for (const o of net.outputUnits) reaches[o] = 1;
    const grams = groups.reduce((sum, g) => sum + S * tri(g.units.reduce((n, k) => n + reaches[k], 0)), 0);
    outputFactors += mcSamples * (S * (net.nOutputs + hiddenOut + U) + grams);
  } else {
    outputFactors += unitGrams();
    for (let k = net.nInputs; k < net.nUnits; k++) {
      for (let e = net.outOffsets[k]; e < net.outOffsets[k + 1]; e++) outputFactors += groups[groupOf[k]].units.length + groups[groupOf[net.outTargets[e]]].units.length;
    }
    for (const g of groups) {
      outputFactors += g.units.length ** 2;
      let outputs = 0;
      for (const k of g.units) if (net.outputIndex[k] >= 0) outputs++;
      outputFactors += S * outputs + (extraTerm ? S * outputs * outputs : 0);
    }
  }

  const perGroup = groups.map((g, i) => {
    const n = g.sources.length + 1;
    const m = g.units.length;
    const P = g.params.length;
    const predicted: GroupSolver['route'] = g.complete ? 'matrix' : options.solve === 'masked' ? 'masked' : P <= DIRECT_ONLY_LIMIT ? 'direct' : 'cg';
    const { route, iterations } = options.routes?.[i] ?? { route: predicted, iterations: predicted === 'cg' ? P : 0 };
    const unitSizes: number[] = [];
    for (let p = 0; p < P; ) {
      let q = p;
      while (q < P && g.colOf[q] === g.colOf[p]) q++;
      unitSizes.push(q - p);
      p = q;
    }
    const blocks = unitSizes.reduce((sum, p) => sum + p * p + choleskyMultiplyAdds(p), 0);
    const blockSolves = unitSizes.reduce((sum, p) => sum + p * p, 0);
    const direct = P * P + choleskyMultiplyAdds(P) + P * P;
    let solve: number;
    if (route === 'matrix' || route === 'masked') {
      solve = options.damping === 'exact' ? (13 / 6) * (n ** 3 + m ** 3) + 2 * n * m * (n + m) : choleskyMultiplyAdds(n) + choleskyMultiplyAdds(m) + n * m * (n + m);
    } else if (route === 'direct') {
      // NOTE: a 'direct' report after CG is its fallback: CG ran to P_g iterations first.
      solve = direct + (iterations > 0 ? blocks + iterations * (P * (n + m) + blockSolves + 6 * P) : 0);
    } else if (route === 'units') {
      solve = blocks + blockSolves;
    } else {
      solve = blocks + iterations * (P * (n + m) + blockSolves + 6 * P) + blockSolves;
    }
    return { name: g.name, route, iterations, solve: Math.round(solve) };
  });
  const solve = perGroup.reduce((sum, g) => sum + g.solve, 0);
  const total = Math.round(base + activityFactors + outputFactors + solve);
  return { base, activityFactors: Math.round(activityFactors), outputFactors: Math.round(outputFactors), solve, groups: perGroup, total };
}
