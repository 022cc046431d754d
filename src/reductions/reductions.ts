import { metricLayout, type Kernels, type MetricLayout } from '../backend/kernels.js';
import { NumericalError, problem } from '../errors.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { Workspace } from '../engine/workspace.js';
import { solveWholeNetwork } from './whole-network.js';

/**
 * How a metric becomes a step (Section 1 and 2.3):
 * - none: the gradient itself (Euclidean metric, backprop);
 * - full: the per-unit block A^(k) over the incoming parameters, solved (Eq. 20, 30);
 * - quasi-diagonal: only A_00, A_0i, A_ii (Eq. 22-23, 32-33);
 * - diagonal: only A_00, A_ii (diagonal Gauss-Newton: QD with A_0i = 0);
 * - diagonal-root: G / √(A_ii + ε), Section 4's batch AdaGrad with the OP metric;
 * - whole-network: the full matrix over all parameters (Prop. 27), one solve.
 */
export const REDUCTIONS = ['none', 'full', 'quasi-diagonal', 'diagonal', 'diagonal-root', 'whole-network'] as const;
export type ReductionName = (typeof REDUCTIONS)[number];

/**
 * A metric estimate in the form its reduction solves: per-unit blocks (see MetricLayout),
 * quasi-diagonal entries laid out like the parameters, or the whole P × P matrix. Estimates
 * are plain arrays, so that estimators can average them across batches.
 */
export type MetricEstimate =
  | { kind: 'blocks'; blocks: Float64Array }
  | { kind: 'entries'; diagonal: Float64Array; cross?: Float64Array }
  | { kind: 'matrix'; matrix: Float64Array };

/** The arrays of an estimate, in a fixed order (for averaging and serialising). */
export function estimateArrays(estimate: MetricEstimate): Float64Array[] {
  if (estimate.kind === 'blocks') return [estimate.blocks];
  if (estimate.kind === 'matrix') return [estimate.matrix];
  return estimate.cross ? [estimate.diagonal, estimate.cross] : [estimate.diagonal];
}

/** A deep copy of an estimate. */
export function copyEstimate(estimate: MetricEstimate): MetricEstimate {
  if (estimate.kind === 'blocks') return { kind: 'blocks', blocks: estimate.blocks.slice() };
  if (estimate.kind === 'matrix') return { kind: 'matrix', matrix: estimate.matrix.slice() };
  return { kind: 'entries', diagonal: estimate.diagonal.slice(), cross: estimate.cross?.slice() };
}

/**
 * Direction δw (laid out like params) from a metric estimate and G, with regularisation ε
 * (Remark 12, Section 4). The estimate is left unchanged.
 */
export function solveReduction(reduction: Exclude<ReductionName, 'none'>, kernels: Kernels, net: CompiledNetwork, layout: MetricLayout, estimate: MetricEstimate, gradient: Float64Array, epsilon: number): Float64Array {
  const out = new Float64Array(net.nParams);
  if (reduction === 'whole-network' && estimate.kind === 'matrix') return solveWholeNetwork(estimate.matrix.slice(), gradient, epsilon);
  if (reduction === 'full' && estimate.kind === 'blocks') {
    const failed = kernels.solveUnitBlocks(net, layout, estimate.blocks.slice(), gradient, epsilon, out);
    if (failed >= 0) {
      const n = net.blockOffsets[failed + 1] - net.blockOffsets[failed];
      throw new NumericalError([
        problem('not-positive-definite', `unit '${net.unitKeys[failed]}': its ${n}×${n} metric block is not positive definite with ε = ${epsilon}; raise --epsilon, or use more samples than the unit has parameters`),
      ]);
    }
    return out;
  }
  if (estimate.kind === 'entries') {
    if (reduction === 'quasi-diagonal' && estimate.cross) kernels.quasiDiagonalSolve(net, estimate.diagonal, estimate.cross, gradient, epsilon, out);
    else if (reduction === 'diagonal' || reduction === 'diagonal-root') kernels.diagonalSolve(estimate.diagonal, gradient, epsilon, reduction === 'diagonal-root', out);
    else throw new RangeError(`reduction '${reduction}' needs cross entries`);
    return out;
  }
  throw new RangeError(`reduction '${reduction}' cannot use a '${estimate.kind}' estimate`);
}

/** Dense per-unit blocks A^(k) (before regularisation). */
export function unitBlocks(kernels: Kernels, net: CompiledNetwork, ws: Workspace, modulus: Float64Array, layout = metricLayout(net)): { layout: MetricLayout; blocks: Float64Array } {
  const blocks = new Float64Array(layout.matrixOffsets[net.nUnits]);
  kernels.accumulateUnitBlocks(net, layout, ws, modulus, blocks);
  return { layout, blocks };
}

/** Quasi-diagonal entries A_00, A_0i, A_ii of E_x ψ̃ ā āᵀ, laid out like the parameters (via the gradient kernel). */
export function quasiDiagonalEntries(kernels: Kernels, net: CompiledNetwork, ws: Workspace, modulus: Float64Array): { diagonal: Float64Array; cross: Float64Array } {
  const entries = { modulus, diagonal: new Float64Array(net.nParams), cross: new Float64Array(net.nParams) };
  kernels.gradient(net, ws, new Float64Array(net.nParams), entries);
  return entries;
}
