import type { DeviceBuffer } from './engine.js';

/**
 * One complete Kronecker group as the device kernels see it: the n × n factor A_g (n = n_g + 1,
 * row 0 the bias) at `aOffset` of the A buffers, the m × m factor G_g at `gOffset` of the G
 * buffers (the layouts of the factor meter's Gram plans), and the parameter of every entry
 * (i, c) of the dense n × m grid, row-major.
 */
export interface KroneckerGridGroup {
  readonly n: number;
  readonly m: number;
  readonly aOffset: number;
  readonly gOffset: number;
  /** Parameter index of grid entry (i, c) at i·m + c. [n × m] */
  readonly params: Int32Array;
}

/** Groups prepared once by {@link KroneckerKernels.gridPlan} (an engine attaches its device tables to it). */
export interface KroneckerGridPlan {
  readonly groups: readonly KroneckerGridGroup[];
  /** Length of the A buffers (where G's factors start in the factorisation's output). */
  readonly aLength: number;
}

/**
 * The optional coarse kernels of the Kronecker curvatures' device route (`Engine.kronecker`,
 * tfjs-core style: an engine that has them keeps the factors of complete groups on the device
 * for the life of the curvature state; every other engine leaves the field undefined and the
 * curvature takes its host route). The running averages and frozen copies of the factors use
 * the engine's `combine` and `copy`; these kernels factorise and solve (Martens & Grosse §6.3,
 * seed 004 "inverse computations", Eq. 6-7).
 */
export interface KroneckerKernels {
  /**
   * Uploads a plan's tables (counted, once); `aLength`: the length of the A buffers;
   * `inverseEvery`: solves per factorisation expected (the inverse period, default 1), by which
   * an engine may pick how it solves.
   */
  gridPlan(groups: readonly KroneckerGridGroup[], aLength: number, inverseEvery?: number): KroneckerGridPlan;
  /**
   * Factorises the factored-damped factors of every group of `plan` for the solves: with
   * π_g = √((tr A_g/n)/(tr G_g/m)) (1 if a trace is 0) computed on the device, A' = A + π√ε I
   * and G' = G + (√ε/π) I, by Cholesky, into `factors` (length `A.length + G.length`: A' at
   * its offset, G' after all of A; what the engine's solves read, webgpu's explicit inverses
   * A'⁻¹ and G'⁻¹). Returns -1, or 2j (A') / 2j + 1 (G') for the first factor of the plan's
   * group j that is not positive definite (one number read back).
   */
  factorise(plan: KroneckerGridPlan, A: DeviceBuffer, G: DeviceBuffer, epsilon: number, factors: DeviceBuffer): number;
  /**
   * D_g = A'⁻¹ R_g G'⁻¹ for every group of `plan`, R_g gathered from `gradient` by the grid's
   * parameters and D_g scattered into `out` (other entries of `out` untouched); `factors` from
   * {@link factorise}. Nothing crosses to the host.
   */
  solveGrids(plan: KroneckerGridPlan, factors: DeviceBuffer, gradient: DeviceBuffer, out: DeviceBuffer): void;
  /** Frees a plan's tables. */
  disposePlan(plan: KroneckerGridPlan): void;
}
