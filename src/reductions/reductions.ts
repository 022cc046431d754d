import { metricLayout, type Kernels, type MetricLayout } from '../backend/kernels.js';
import { NumericalError, problem } from '../errors.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { Workspace } from '../engine/workspace.js';

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

/** Inputs of a per-unit reduction: a forward pass in `ws`, the modulus ψ̃ [nUnits × size] and G. */
export interface ReductionInput {
  kernels: Kernels;
  net: CompiledNetwork;
  layout: MetricLayout;
  ws: Workspace;
  modulus: Float64Array;
  gradient: Float64Array;
  /** Regularisation ε (Remark 12, Section 4). */
  epsilon: number;
  /** Quasi-diagonal entries if already accumulated with the gradient (see Kernels.gradient). */
  entries?: { diagonal: Float64Array; cross?: Float64Array };
}

/** Direction δw (laid out like params) of a per-unit reduction. */
export function reduceUnitwise(reduction: Exclude<ReductionName, 'none' | 'whole-network'>, input: ReductionInput): Float64Array {
  const { kernels, net, layout, ws, modulus, gradient, epsilon } = input;
  const out = new Float64Array(net.nParams);
  if (reduction === 'full') {
    const blocks = new Float64Array(layout.matrixOffsets[net.nUnits]);
    kernels.accumulateUnitBlocks(net, layout, ws, modulus, blocks);
    const failed = kernels.solveUnitBlocks(net, layout, blocks, gradient, epsilon, out);
    if (failed >= 0) {
      const n = net.blockOffsets[failed + 1] - net.blockOffsets[failed];
      throw new NumericalError([
        problem('not-positive-definite', `unit '${net.unitKeys[failed]}': its ${n}×${n} metric block is not positive definite with ε = ${epsilon}; raise --epsilon, or use more samples than the unit has parameters`),
      ]);
    }
  } else {
    const { diagonal, cross } = input.entries ?? quasiDiagonalEntries(kernels, net, ws, modulus);
    if (reduction === 'quasi-diagonal') kernels.quasiDiagonalSolve(net, diagonal, cross ?? quasiDiagonalEntries(kernels, net, ws, modulus).cross, gradient, epsilon, out);
    else kernels.diagonalSolve(diagonal, gradient, epsilon, reduction === 'diagonal-root', out);
  }
  return out;
}

/** Quasi-diagonal entries A_00, A_0i, A_ii of E_x ψ̃ ā āᵀ, laid out like the parameters (via the gradient kernel). */
export function quasiDiagonalEntries(kernels: Kernels, net: CompiledNetwork, ws: Workspace, modulus: Float64Array): { diagonal: Float64Array; cross: Float64Array } {
  const entries = { modulus, diagonal: new Float64Array(net.nParams), cross: new Float64Array(net.nParams) };
  kernels.gradient(net, ws, new Float64Array(net.nParams), entries);
  return entries;
}

/** Dense per-unit blocks A^(k) (before regularisation), for inspection and tests. */
export function unitBlocks(kernels: Kernels, net: CompiledNetwork, ws: Workspace, modulus: Float64Array): { layout: MetricLayout; blocks: Float64Array } {
  const layout = metricLayout(net);
  const blocks = new Float64Array(layout.matrixOffsets[net.nUnits]);
  kernels.accumulateUnitBlocks(net, layout, ws, modulus, blocks);
  return { layout, blocks };
}
