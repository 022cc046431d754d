import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { Workspace } from '../engine/workspace.js';
import type { OutputMetric } from '../metrics/output-metric.js';
import type { TransferPlan } from '../metrics/transfer-plan.js';

/**
 * The coarse batched kernels a backend implements. Each call covers one topological level
 * (a contiguous range of unit ids) for every sample of the batch, so a scheduler launches one
 * kernel per level, never one per unit or edge. Array layouts are those of {@link Workspace}.
 */
export interface PropagationKernels {
  /** Backend name as given to `--backend`. */
  readonly name: string;
  /** Arithmetic precision; parity tests derive their tolerance from it. */
  readonly precision: 'float64' | 'float32';
  /** V, a and r (Eq. 2, 6) for units `start .. end-1`, whose incoming units are all computed. */
  forwardLevel(net: CompiledNetwork, params: Float64Array, ws: Workspace, start: number, end: number): void;
  /** ℓ per sample and b̃ of the output units (Eq. 3, 7, 9). `targets`: [nOutputs × size]. */
  outputLayer(net: CompiledNetwork, ws: Workspace, targets: Float64Array): void;
  /**
   * b and b̃ (Eq. 5, 10) for the hidden units `start .. end-1`, whose outgoing units are all done.
   * With `modulus` ([nUnits × size], output rows already set), also the reduced backpropagated
   * modulus m̃_k = r_k² Σ_j w_kj² m̃_j (Eq. 26) on the same pass over the edges.
   */
  backwardLevel(net: CompiledNetwork, params: Float64Array, ws: Workspace, start: number, end: number, modulus?: Float64Array): void;
  /**
   * G_ik = E_x a_i b̃_k (Eq. 8, 11, 19; minus the loss gradient) into `out`, laid out like params.
   * With `entries`, also the quasi-diagonal metric entries of A = E_x ψ̃_k ā āᵀ on the same pass,
   * laid out like the parameters: `diagonal[p]` = A_00 at a bias, A_ii at a weight; `cross[p]` =
   * A_0i at a weight (A_00 at a bias); `cross` may be omitted (diagonal reductions).
   * Only the blocks of units `start .. end-1` are written (default: every non-input unit).
   */
  gradient(net: CompiledNetwork, ws: Workspace, out: Float64Array, entries?: QuasiDiagonalEntries, start?: number, end?: number): void;
}

/**
 * Where each unit's dense metric block lives in a flat array: unit k's (n_k × n_k) block,
 * n_k = 1 + fan-in (bias first, then incoming weights in CSR order, as the parameters), is
 * stored row-major at `matrixOffsets[k]`. Length nUnits + 1.
 */
export interface MetricLayout {
  readonly matrixOffsets: Int32Array;
}

const layouts = new WeakMap<CompiledNetwork, MetricLayout>();

/** The {@link MetricLayout} of a network (built once per network). */
export function metricLayout(net: CompiledNetwork): MetricLayout {
  let layout = layouts.get(net);
  if (!layout) {
    const matrixOffsets = new Int32Array(net.nUnits + 1);
    for (let k = 0; k < net.nUnits; k++) {
      const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
      matrixOffsets[k + 1] = matrixOffsets[k] + n * n;
    }
    layouts.set(net, (layout = { matrixOffsets }));
  }
  return layout;
}

/** Quasi-diagonal metric entries requested from {@link PropagationKernels.gradient}. */
export interface QuasiDiagonalEntries {
  /** Per-sample reduced modulus ψ̃, [nUnits × size]. */
  modulus: Float64Array;
  diagonal: Float64Array;
  cross?: Float64Array;
}

/** Kernels of the metric phase. Per-sample moduli ψ̃ are [nUnits × size] like the workspace arrays. */
export interface MetricKernels {
  /**
   * Reduced transfer rates of one output (Def. 2, Eq. 13, times r_k): writes the rows of the
   * output and of its plan units in `rates` ([nUnits × size]) from `seeds` ([nOutputs × size]).
   * If `raw` is given, also the plain J_k = Σ_j w_kj J̃_j of Eq. 13 (1 at the output).
   */
  transferRates(net: CompiledNetwork, plan: TransferPlan, params: Float64Array, ws: Workspace, output: number, seeds: Float64Array, rates: Float64Array, raw?: Float64Array): void;
  /**
   * The reduced Fisher modulus φ̃_k = r_k² Φ_k of every non-input unit (Def. 3, Eq. 14-17) into
   * `modulus` ([nUnits × size], zeroed by the caller): the n_out transfer-rate backpropagations
   * with β_o J̃² accumulated on the same pass (and the softmax/spherical cross term), or, where
   * the plan has one, the Gram route for units fed by inputs only.
   */
  fisherModulus(net: CompiledNetwork, plan: TransferPlan, params: Float64Array, ws: Workspace, metric: OutputMetric, modulus: Float64Array): void;
  /**
   * Per-unit blocks A_ij = E_x a_i a_j ψ̃_k (Eq. 18, 28) into `blocks` (see {@link MetricLayout}),
   * for units `start .. end-1` (default: every non-input unit).
   */
  accumulateUnitBlocks(net: CompiledNetwork, layout: MetricLayout, ws: Workspace, modulus: Float64Array, blocks: Float64Array, start?: number, end?: number): void;
}

/** Kernels of the update phase: turn metric entries and the gradient G into a direction δw (laid out like params). */
export interface UpdateKernels {
  /**
   * δw = (A + εI)⁻¹ G per unit by Cholesky (Eq. 20, 30); `blocks` is overwritten by the factors.
   * With ε = 0, a least-squares solution (pivoted Cholesky to the numerical rank; Section 3.3).
   * Returns -1, or the id of the first unit whose block is not positive definite (or not finite).
   * Units `start .. end-1` only (default: every non-input unit), as in the two below.
   */
  solveUnitBlocks(net: CompiledNetwork, layout: MetricLayout, blocks: Float64Array, gradient: Float64Array, epsilon: number, out: Float64Array, start?: number, end?: number): number;
  /** Quasi-diagonal step (Eq. 22-23, 32-33) from the entries of {@link PropagationKernels.gradient}; ε on A_00 and A_ii. */
  quasiDiagonalSolve(net: CompiledNetwork, diagonal: Float64Array, cross: Float64Array, gradient: Float64Array, epsilon: number, out: Float64Array, start?: number, end?: number): void;
  /** δw_p = G_p / (A_pp + ε), or G_p / √(A_pp + ε) when `root` (AdaGrad). */
  diagonalSolve(diagonal: Float64Array, gradient: Float64Array, epsilon: number, root: boolean, out: Float64Array): void;
  /**
   * One online step of every unit (Section 1.3, Eq. 37-38): A ← (1-γ)A + γ u uᵀ and, by
   * Sherman-Morrison, its inverse H likewise (symmetrised), with u = √ψ̃_k(x)·(1, a_i(x)) read
   * from sample `sample` of the unit-major `act` and `modulus` ([nUnits × size]); then
   * δw = H G per unit into `out`. `blocks` (A) and `inverses` (H) are laid out by `layout` and
   * updated in place. Returns the ids of units whose rank-one update was refused (1 + c uᵀHu not
   * positive and finite): their A is updated, their H and δw are not (the caller re-inverts).
   */
  onlineBlockStep(net: CompiledNetwork, layout: MetricLayout, blocks: Float64Array, inverses: Float64Array, act: Float64Array, modulus: Float64Array, size: number, sample: number, gradient: Float64Array, decay: number, out: Float64Array, start?: number, end?: number): number[];
}

/** Every host-array kernel; a {@link HostEngine} turns a set of them into an engine. */
export interface Kernels extends PropagationKernels, MetricKernels, UpdateKernels {}
