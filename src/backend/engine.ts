import type { Batch } from '../engine/batch.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import { UsageError, problem } from '../errors.js';
import type { KroneckerKernels } from './kronecker-kernels.js';

/**
 * An opaque buffer owned by an {@link Engine}: a Float64Array on the CPU reference, a texture,
 * tensor or GPU buffer elsewhere. Only its length is visible; the host reads its contents only
 * through {@link Engine.read}, which is counted.
 */
export interface DeviceBuffer {
  readonly length: number;
}

/**
 * The per-batch buffers of an engine (one workspace per batch of `size` samples; an engine can
 * hold several, e.g. the trainer's current and candidate passes). Every per-unit array is
 * unit-major with samples contiguous: unit k, sample s at index `k * size + s`.
 */
export interface EngineWorkspace {
  /** Samples in this workspace's batch (the engine's size). */
  readonly size: number;
  /** Pre-activations V_k (Eq. 2; gain·V for units with a gain, Def. 29). [nUnits × size] */
  readonly pre: DeviceBuffer;
  /** Activities a_k (inputs: the batch). [nUnits × size] */
  readonly act: DeviceBuffer;
  /** Derivatives r_k = s'(V_k) (Eq. 6); 1 for inputs and linear units. [nUnits × size] */
  readonly deriv: DeviceBuffer;
  /** Backpropagated values b_k = -∂ℓ/∂a_k (Eq. 4-5), hidden units. [nUnits × size] */
  readonly back: DeviceBuffer;
  /** Reduced backpropagated values b̃_k = r_k b_k (Eq. 9-10), non-input units. [nUnits × size] */
  readonly backReduced: DeviceBuffer;
  /** Targets of the batch. [nOutputs × size] */
  readonly targets: DeviceBuffer;
  /** Loss ℓ(x) = -ln ω(y) in nats per sample (Eq. 3). [size] */
  readonly loss: DeviceBuffer;
}

import type { TransferCounter } from './transfer-counter.js';
export { TransferCounter, type TransferStats } from './transfer-counter.js';

/** The constants of {@link Engine.adamStep}: decay rates, ε and the step count t (≥ 1). */
export interface AdamStepOptions {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly step: number;
}

/** Quasi-diagonal entries asked of {@link Engine.gradient}, laid out like the parameters. */
export interface EntryBuffers {
  /** Per-sample reduced modulus ψ̃ [nUnits × size]. */
  readonly modulus: DeviceBuffer;
  /** `diagonal[p]` = A_00 at a bias, A_ii at a weight (A = E_x ψ̃_k ā āᵀ). [nParams] */
  readonly diagonal: DeviceBuffer;
  /** `cross[p]` = A_0i at a weight, A_00 at a bias; omitted for diagonal reductions. [nParams] */
  readonly cross?: DeviceBuffer;
}

/**
 * The output metric of Example 1 in the engine's form (see `OutputMetric`): seeds σ, weights β
 * and, for softmax and spherical outputs, γ and β_x. [nOutputs × size] each, β_x [size].
 */
export interface OutputMetricBuffers {
  readonly seeds: DeviceBuffer;
  readonly beta: DeviceBuffer;
  readonly gamma?: DeviceBuffer;
  readonly betaExtra?: DeviceBuffer;
}

/**
 * A backend's compute engine for one compiled network and one batch size. It owns every buffer
 * (workspaces, parameters, moduli, curvature state, its index arrays or tensors and scratch),
 * frees them all in {@link dispose}, and runs the coarse batched kernels of the algorithms.
 * Kernels take buffers and a topological level index; nothing crosses to the host but what
 * {@link upload} and {@link read} move, and both are counted in {@link transfers}.
 *
 * Layouts: parameters (and gradients, directions, quasi-diagonal entries) are laid out like
 * `CompiledNetwork` params, per-unit blocks by `metricLayout` (row-major n_k × n_k at
 * `matrixOffsets[k]`), per-unit arrays unit-major [nUnits × size].
 */
export interface Engine {
  /** Backend name as given to `--backend`. */
  readonly backend: string;
  /** Arithmetic precision; parity tests derive their tolerance from it. */
  readonly precision: 'float64' | 'float32';
  readonly net: CompiledNetwork;
  /** Samples per batch of this engine's workspaces. */
  readonly size: number;
  readonly transfers: TransferCounter;

  // Memory.
  /** A zero-filled buffer of `length` numbers. */
  alloc(length: number): DeviceBuffer;
  /** A fresh workspace for the engine's `size` samples (another batch size: another engine). */
  workspace(): EngineWorkspace;
  /** Host → device copy of `values` into `buffer` from `offset` (counted). */
  upload(buffer: DeviceBuffer, values: ArrayLike<number>, offset?: number): void;
  /**
   * Device → host copy of `length` numbers from `offset` (counted). The result must not be
   * modified: on the CPU reference it is a view of the buffer itself (nothing is copied).
   */
  read(buffer: DeviceBuffer, offset?: number, length?: number): Float64Array;
  /** Frees one buffer (or every buffer of a workspace). */
  free(buffer: DeviceBuffer | EngineWorkspace): void;
  /** Frees everything the engine holds; it cannot be used afterwards. */
  dispose(): void;

  // Elementwise helpers on the device.
  /** dst ← src (same length). */
  copy(src: DeviceBuffer, dst: DeviceBuffer): void;
  /** buffer ← value everywhere. */
  fill(buffer: DeviceBuffer, value: number): void;
  /** out ← α·x + β·y (out may be x or y). */
  combine(out: DeviceBuffer, alpha: number, x: DeviceBuffer, beta: number, y: DeviceBuffer): void;
  /** Whether every entry is finite (one number read back). */
  allFinite(buffer: DeviceBuffer): boolean;
  /** Σ x_i² (one number read back): gradient clipping by norm. */
  squaredNorm(buffer: DeviceBuffer): number;
  /**
   * One Adam step (Kingma & Ba, Algorithm 1) on `gradient`: m ← β1 m + (1-β1) G,
   * v ← β2 v + (1-β2) G², and out ← m̂ / (√v̂ + ε) with m̂ = m/(1-β1^t), v̂ = v/(1-β2^t).
   */
  adamStep(moment1: DeviceBuffer, moment2: DeviceBuffer, gradient: DeviceBuffer, options: AdamStepOptions, out: DeviceBuffer): void;

  // Propagation (Section 1.1).
  /** Uploads a batch (of the workspace's size) into the input rows of `ws.act` and `ws.targets`. */
  setBatch(ws: EngineWorkspace, batch: Batch): void;
  /** V, a and r (Eq. 2, 6) of the units of `level` (≥ 1), whose incoming units are done. */
  forwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number): void;
  /** ℓ per sample and b̃ of the output units (Eq. 3, 7, 9) from `ws.targets`. */
  outputLayer(ws: EngineWorkspace): void;
  /** Mean of `ws.loss`, nats per sample (one number read back). */
  meanLoss(ws: EngineWorkspace): number;
  /**
   * b and b̃ (Eq. 5, 10) of the hidden units of `level`, whose outgoing units are done. With
   * `modulus` (output rows set by {@link outputModulus}), also m̃_k = r_k² Σ_j w_kj² m̃_j (Eq. 26).
   */
  backwardLevel(params: DeviceBuffer, ws: EngineWorkspace, level: number, modulus?: DeviceBuffer): void;
  /**
   * G_ik = E_x a_i b̃_k (Eq. 8, 19) into `out`; with `entries`, the quasi-diagonal metric entries
   * on the same pass (Eq. 22-23's A_00, A_0i, A_ii).
   */
  gradient(ws: EngineWorkspace, out: DeviceBuffer, entries?: EntryBuffers): void;

  // Metrics (Sections 1.2, 2.5): per-sample reduced moduli ψ̃ = r² ψ, [nUnits × size].
  /** The output metric of the network's interpretation on the forward pass in `ws`. */
  outputMetric(ws: EngineWorkspace): OutputMetricBuffers;
  /** Output rows of the reduced backpropagated modulus m̃_o (Eq. 27); other rows untouched. */
  outputModulus(ws: EngineWorkspace, modulus: DeviceBuffer): void;
  /** Reduced Fisher modulus φ̃ (Def. 3, Eq. 14-17) of every non-input unit into `modulus` (overwritten). */
  fisherModulus(params: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer): void;
  /**
   * Reduced transfer rates J̃ of output `output` (Def. 2, Eq. 13, times r) into the rows of its
   * ancestors in `rates` ([nUnits × size]); with `raw`, also the plain J (1 at the output).
   */
  transferRates(params: DeviceBuffer, ws: EngineWorkspace, output: number, rates: DeviceBuffer, raw?: DeviceBuffer): void;
  /**
   * Reduced transfer rates J̃ of the `count` outputs from `first` in one dense pass (as the Fisher
   * modulus runs them) into `rates` [nUnits × count × size]: unit k, output first + c, sample s
   * at (k·count + c)·size + s; 0 on the rows of units that are neither the output nor one of its
   * ancestors (inputs included). The host reads a chunk of outputs at once (whole-network Fisher).
   */
  transferRateChunk(params: DeviceBuffer, ws: EngineWorkspace, first: number, count: number, rates: DeviceBuffer): void;
  /**
   * Monte-Carlo Fisher modulus (Eq. 100) into `modulus` (overwritten): for each of the K draws,
   * outputs y ~ ω(x) from the host's `draws` ([K × nOutputs × size]: uniforms, or standard
   * normals for square outputs; softmax and spherical use row 0 of each draw, one uniform per
   * sample), backpropagation of y, and (1/K) Σ b̃². `ws` keeps its own b and b̃.
   */
  monteCarloModulus(params: DeviceBuffer, ws: EngineWorkspace, draws: Float64Array, modulus: DeviceBuffer): void;
  /** Outer-product modulus b̃² (Def. 14) into `modulus` (overwritten). */
  outerProductModulus(ws: EngineWorkspace, modulus: DeviceBuffer): void;

  // Curvature statistics and solves (Eq. 18-38).
  /** Per-unit blocks A_ij = E_x ψ̃_k a_i a_j (Eq. 18, 28) into `blocks` (metricLayout). */
  unitBlocks(ws: EngineWorkspace, modulus: DeviceBuffer, blocks: DeviceBuffer): void;
  /**
   * δw = (A + εI)⁻¹ G per unit by Cholesky (Eq. 20, 30) into `out`; `blocks` is left unchanged
   * (`work`, as long as the blocks, holds the factors). With ε = 0, least squares by pivoted
   * Cholesky (Section 3.3). Returns -1, or the first unit whose block is not positive definite.
   */
  solveUnitBlocks(blocks: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer, work: DeviceBuffer): number;
  /** Quasi-diagonal step (Eq. 22-23, 32-33); ε on A_00 and A_ii. */
  quasiDiagonalSolve(diagonal: DeviceBuffer, cross: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer): void;
  /** δw_p = G_p / (A_pp + ε), or G_p / √(A_pp + ε) with `root` (AdaGrad). */
  diagonalSolve(diagonal: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, root: boolean, out: DeviceBuffer): void;
  /**
   * Inverts the blocks of `units` (every non-input unit when omitted) of `blocks` into `inverses`
   * by Cholesky; returns -1 or the first unit whose block is not positive definite.
   */
  invertBlocks(blocks: DeviceBuffer, inverses: DeviceBuffer, units?: readonly number[]): number;
  /** out ← H G per unit, for the units given (all when omitted). */
  blocksTimesVector(inverses: DeviceBuffer, gradient: DeviceBuffer, out: DeviceBuffer, units?: readonly number[]): void;
  /**
   * One online step of every unit (Eq. 37-38): A ← (1-γ)A + γ u uᵀ and its inverse H by
   * Sherman-Morrison, u = √ψ̃_k(x)·(1, a_i(x)) from sample `sample` of `ws` and `modulus`; then
   * δw = H G into `out`. Returns the units whose update was refused (their A is updated, their
   * H and δw are not: the caller re-inverts).
   */
  onlineBlockStep(blocks: DeviceBuffer, inverses: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer, sample: number, gradient: DeviceBuffer, decay: number, out: DeviceBuffer): number[];

  // Kronecker factors (groups of units; seeds 001, 002, 004).
  /** Prepares lists of rows for {@link groupGram} (see {@link gramLayout}). */
  gramPlan(rows: readonly Int32Array[]): GramPlan;
  /**
   * Second moments of row lists over the batch: for every list g of `plan` (rows ρ, m_g of them),
   * out[offsets[g] + a·m_g + b] += scale · Σ_s w_s x[ρ_a, s] x[ρ_b, s], with x[-1, s] = 1 and
   * w_s = weights[weightRow·size + s] (1 without weights). `x` is per-unit [nUnits × size];
   * `out` has `plan.offsets[lists]` numbers.
   */
  groupGram(x: DeviceBuffer, plan: GramPlan, out: DeviceBuffer, scale: number, weights?: DeviceBuffer, weightRow?: number): void;
  /** dst[k·size + s] += weights[weightRow·size + s] · src[k·size + s] for every unit k and sample s. */
  accumulateWeighted(dst: DeviceBuffer, src: DeviceBuffer, weights: DeviceBuffer, weightRow: number): void;
  /**
   * b̃(x, y) of every non-input unit into `out` ([nUnits × size]; input rows zero) for outputs
   * y ~ ω(x) sampled from one draw of host numbers (`draw`: [nOutputs × size], as one draw of
   * {@link monteCarloModulus}): the output layer and backward pass with y. `ws` keeps its own b, b̃.
   */
  sampledBackward(params: DeviceBuffer, ws: EngineWorkspace, draw: Float64Array, out: DeviceBuffer): void;
  /** Optional device kernels of the Kronecker factors' damped solves (absent: the host route). */
  readonly kronecker?: KroneckerKernels;
}

/**
 * Lists of rows for {@link Engine.groupGram}, prepared once by {@link Engine.gramPlan} (an
 * engine may attach its own index tensors or textures to it; they live as long as the engine).
 */
export interface GramPlan {
  /** Rows of each list: unit ids, -1 standing for the constant 1 of the homogeneous ā. */
  readonly rows: readonly Int32Array[];
  /** Where list g's m_g × m_g matrix (row-major) starts in the output; length lists + 1. */
  readonly offsets: Int32Array;
}

/** The rows of a {@link GramPlan} and its output offsets (what every engine's `gramPlan` starts from). */
export function gramLayout(rows: readonly Int32Array[]): GramPlan {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((r, g) => (offsets[g + 1] = offsets[g] + r.length * r.length));
  return { rows, offsets };
}

/** A backend: a name, a precision, and engines opened per network and batch size. */
export interface Backend {
  readonly name: string;
  readonly precision: 'float64' | 'float32';
  /** What ran, for reports (the package or mode behind it). */
  readonly detail: string;
  open(net: CompiledNetwork, size: number): Engine;
}

/**
 * A workspace of fresh zero buffers from `alloc`, but for `deriv` (the caller's: r = 1 on the
 * input rows), as device engines lay it out.
 */
export function allocWorkspace(alloc: (length: number) => DeviceBuffer, net: CompiledNetwork, size: number, deriv: DeviceBuffer): EngineWorkspace {
  const n = net.nUnits * size;
  return { size, pre: alloc(n), act: alloc(n), deriv, back: alloc(n), backReduced: alloc(n), targets: alloc(net.nOutputs * size), loss: alloc(size) };
}

/** Checks the arguments of {@link Engine.transferRateChunk}: outputs first .. first + count - 1 exist, `rates` holds [nUnits × count × size]. */
export function checkRateChunk(net: CompiledNetwork, size: number, first: number, count: number, rates: DeviceBuffer): void {
  if (!(Number.isInteger(first) && Number.isInteger(count) && first >= 0 && count >= 1 && first + count <= net.nOutputs)) {
    throw new UsageError([problem('engine', `outputs ${first} .. ${first + count - 1} are not a run of the network's ${net.nOutputs} outputs`)]);
  }
  if (rates.length !== net.nUnits * count * size) throw new UsageError([problem('engine', `transferRateChunk writes ${net.nUnits * count * size} numbers (units × outputs × samples), not ${rates.length}`)]);
}

/** Every buffer of a workspace, for engines to free. */
export function workspaceBuffers(ws: EngineWorkspace): DeviceBuffer[] {
  return [ws.pre, ws.act, ws.deriv, ws.back, ws.backReduced, ws.targets, ws.loss];
}

/** Runs forward propagation (Eq. 2) of a batch already in `ws`, level by level. */
export function forwardPass(engine: Engine, params: DeviceBuffer, ws: EngineWorkspace): void {
  const levels = engine.net.levelOffsets.length - 1;
  for (let l = 1; l < levels; l++) engine.forwardLevel(params, ws, l);
}

/** The backward kernels from the top level down to level 1, after the output layer (Eq. 5, 10; Eq. 26 with `modulus`). */
export function backwardPass(engine: Engine, params: DeviceBuffer, ws: EngineWorkspace, modulus?: DeviceBuffer): void {
  for (let l = engine.net.levelOffsets.length - 2; l >= 1; l--) engine.backwardLevel(params, ws, l, modulus);
}
