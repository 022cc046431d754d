import { metricLayout, type Kernels, type MetricLayout } from '../backend/kernels.js';
import { NumericalError, problem } from '../errors.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { Workspace } from '../engine/workspace.js';
import { leastSquaresQR } from '../linalg/qr.js';
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
 * (Remark 12, Section 4). The estimate is left unchanged; `work` (as long as the blocks) is
 * used for the factorisation if given.
 */
export function solveReduction(
  reduction: Exclude<ReductionName, 'none'>,
  kernels: Kernels,
  net: CompiledNetwork,
  layout: MetricLayout,
  estimate: MetricEstimate,
  gradient: Float64Array,
  epsilon: number,
  work?: Float64Array,
): Float64Array {
  const out = new Float64Array(net.nParams);
  if (reduction === 'whole-network' && estimate.kind === 'matrix') return solveWholeNetwork(estimate.matrix.slice(), gradient, epsilon);
  if (reduction === 'full' && estimate.kind === 'blocks') {
    const factors = work ?? new Float64Array(estimate.blocks.length);
    factors.set(estimate.blocks);
    const failed = kernels.solveUnitBlocks(net, layout, factors, gradient, epsilon, out);
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

/** Per-sample data for least-squares solves: a batch's forward/backward pass and its modulus ψ̃. */
export interface LeastSquaresSamples {
  ws: Workspace;
  modulus: Float64Array;
  /** Optional per-unit affine recombination T_k of the incoming signals (Prop. 31), n_k × n_k row-major. */
  transforms?: Float64Array[];
}

/**
 * The unregularised unitwise step as the weighted least-squares fit of Prop. 32 / Section 3.3,
 * solved on the samples rather than on the normal equations: at unit k, rows √ψ̃(x)·ā(x)
 * (ā = (1, a_i...), or T_k ā) and targets b̃_k(x)/√ψ̃(x), samples with ψ̃ = 0 left out. Singular
 * blocks (fewer samples than parameters) have many solutions; this one has the same fitted
 * values, hence the same outputs on the data, in every parametrisation.
 */
export function unitwiseLeastSquares(net: CompiledNetwork, samples: LeastSquaresSamples): Float64Array {
  const { ws, modulus, transforms } = samples;
  const S = ws.size;
  const out = new Float64Array(net.nParams);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const p0 = net.blockOffsets[k];
    const n = net.blockOffsets[k + 1] - p0;
    const rows: number[] = [];
    const targets: number[] = [];
    const abar = new Float64Array(n);
    for (let s = 0; s < S; s++) {
      const psi = modulus[k * S + s];
      if (!(psi > 0)) continue;
      const root = Math.sqrt(psi);
      abar[0] = 1;
      for (let e = net.inOffsets[k], i = 1; e < net.inOffsets[k + 1]; e++, i++) abar[i] = ws.act[net.inSources[e] * S + s];
      const t = transforms?.[k];
      for (let i = 0; i < n; i++) {
        let v = abar[i];
        if (t) {
          v = 0;
          for (let j = 0; j < n; j++) v += t[i * n + j] * abar[j];
        }
        rows.push(root * v);
      }
      targets.push(ws.backReduced[k * S + s] / root);
    }
    if (targets.length === 0) continue;
    const delta = new Float64Array(n);
    leastSquaresQR(Float64Array.from(rows), targets.length, n, Float64Array.from(targets), delta);
    out.set(delta, p0);
  }
  return out;
}
