import { gramLayout, type DeviceBuffer, type Engine } from '../../backend/engine.js';
import type { KroneckerGridPlan, KroneckerKernels } from '../../backend/kronecker-kernels.js';
import { NumericalError, problem } from '../../errors.js';
import type { KroneckerGroup } from './groups.js';

/** The host arrays a device route mirrors (a Kronecker state's factors, Float64, per group). */
export interface HostFactors {
  readonly groups: readonly KroneckerGroup[];
  updates: number;
  frozenAt: number;
  A: Float64Array[];
  G: Float64Array[];
  frozenA: Float64Array[];
  frozenG: Float64Array[];
}

/**
 * The device route of a Kronecker curvature's complete groups on an engine with
 * {@link Engine.kronecker} (KFLR and K-FAC with factored damping and ε > 0): the running
 * averages of the factors, their frozen copies (periodic inverses) and the factorised damped
 * frozen factors (on webgpu their inverses) live on the device for the life of the state (seed 004,
 * "Algorithm" steps 3-5: update the factors, recompute the inverses when due, compute δ). Per
 * iteration nothing crosses to the host but what the factor meter moves (K-FAC's draws) and, at
 * each refresh, the one number of the factorisation's failure flag. The host arrays of these
 * groups are refreshed from the device only when asked ({@link pull}: serialise, toDense, π).
 */
export class DeviceFactors {
  readonly plan: KroneckerGridPlan;
  /** Whether the host arrays of the route's groups are older than the device's. */
  private stale = false;
  /** ε of the current factorisation (undefined: refactorise before the next solve). */
  private factorisedFor: number | undefined;
  private readonly buffers: { A: DeviceBuffer; G: DeviceBuffer; frozenA: DeviceBuffer; frozenG: DeviceBuffer; factors: DeviceBuffer };
  private readonly offsets: { A: Int32Array; G: Int32Array };
  /** Names of the route's groups (errors). */
  private readonly names: string[];

  /**
   * Places the factors of the groups `indices` (complete groups of `state`) on the device in the
   * factor meter's layouts; a state that already holds factors (restored, fitted, or measured
   * on the host) is uploaded once. `inverseEvery`: the inverse period (the engine may pick its
   * solve design by it).
   */
  constructor(
    readonly engine: Engine,
    readonly kernels: KroneckerKernels,
    readonly indices: readonly number[],
    state: HostFactors,
    inverseEvery = 1,
  ) {
    const { groups } = state;
    this.names = indices.map((i) => groups[i].name);
    this.offsets = { A: gramLayout(groups.map((g) => g.activityRows)).offsets, G: gramLayout(groups.map((g) => g.units)).offsets };
    const [la, lg] = [this.offsets.A[groups.length], this.offsets.G[groups.length]];
    this.buffers = { A: engine.alloc(la), G: engine.alloc(lg), frozenA: engine.alloc(la), frozenG: engine.alloc(lg), factors: engine.alloc(la + lg) };
    this.plan = kernels.gridPlan(
      indices.map((i) => {
        const g = groups[i];
        const m = g.units.length;
        const params = new Int32Array(g.params.length);
        g.params.forEach((p, j) => (params[g.rowOf[j] * m + g.colOf[j]] = p));
        return { n: g.sources.length + 1, m, aOffset: this.offsets.A[i], gOffset: this.offsets.G[i], params };
      }),
      la,
      inverseEvery,
    );
    if (state.updates > 0 || state.frozenAt >= 0) {
      for (const i of indices) {
        engine.upload(this.buffers.A, state.A[i], this.offsets.A[i]);
        engine.upload(this.buffers.G, state.G[i], this.offsets.G[i]);
        engine.upload(this.buffers.frozenA, state.frozenA[i], this.offsets.A[i]);
        engine.upload(this.buffers.frozenG, state.frozenG[i], this.offsets.G[i]);
      }
    }
  }

  /** Whether group `i` of the state takes this route. */
  has(i: number): boolean {
    return this.indices.includes(i);
  }

  /** Where group i's A_g and G_g start in the device layouts. */
  offsetsOf(i: number): { A: [number, number]; G: [number, number] } {
    return { A: [this.offsets.A[i], this.offsets.A[i + 1]], G: [this.offsets.G[i], this.offsets.G[i + 1]] };
  }

  /** Folds one batch's factors (the meter's device buffers) in: replace, or (1 - decay)·old + decay·new. */
  mix(batch: { A: DeviceBuffer; G: DeviceBuffer }, decay: number, replace: boolean): void {
    const { engine, buffers } = this;
    if (replace) {
      engine.copy(batch.A, buffers.A);
      engine.copy(batch.G, buffers.G);
    } else {
      engine.combine(buffers.A, 1 - decay, buffers.A, decay, batch.A);
      engine.combine(buffers.G, 1 - decay, buffers.G, decay, batch.G);
    }
    this.stale = true;
  }

  /** The factors at this refresh become the ones the solves use (Martens & Grosse's periodic inverses). */
  freeze(): void {
    const { engine, buffers } = this;
    engine.copy(buffers.A, buffers.frozenA);
    engine.copy(buffers.G, buffers.frozenG);
    this.factorisedFor = undefined;
    this.stale = true;
  }

  /**
   * D_g = A'⁻¹ R_g G'⁻¹ of every group of the route into `out` (seed 004, Eq. 7), factorising
   * the damped frozen factors first when ε or the frozen factors changed. A factor that is not
   * positive definite in float32 is a NumericalError naming the group.
   */
  solve(epsilon: number, gradient: DeviceBuffer, out: DeviceBuffer): void {
    const { engine, kernels, buffers, plan } = this;
    if (this.factorisedFor !== epsilon) {
      const failed = kernels.factorise(plan, buffers.frozenA, buffers.frozenG, epsilon, buffers.factors);
      if (failed >= 0) {
        const g = plan.groups[failed >> 1];
        const [which, size] = failed % 2 === 0 ? ["A'", g.n] : ["G'", g.m];
        const name = this.names[failed >> 1];
        throw new NumericalError([problem('not-positive-definite', `Kronecker group '${name}': its damped factor ${which} (${size}×${size}) is not positive definite in ${engine.precision} on --backend ${engine.backend} (ε = ${epsilon}); raise --epsilon or use --backend cpu`)]);
      }
      this.factorisedFor = epsilon;
    }
    kernels.solveGrids(plan, buffers.factors, gradient, out);
  }

  /** Copies the device factors of the route's groups into the host arrays (four reads), when they are older. */
  pull(state: HostFactors): void {
    if (!this.stale) return;
    const { engine, buffers } = this;
    const [A, G, frozenA, frozenG] = [buffers.A, buffers.G, buffers.frozenA, buffers.frozenG].map((b) => engine.read(b));
    for (const i of this.indices) {
      const { A: [a0, a1], G: [g0, g1] } = this.offsetsOf(i);
      state.A[i] = A.slice(a0, a1);
      state.G[i] = G.slice(g0, g1);
      state.frozenA[i] = frozenA.slice(a0, a1);
      state.frozenG[i] = frozenG.slice(g0, g1);
    }
    this.stale = false;
  }

  dispose(): void {
    for (const b of Object.values(this.buffers)) this.engine.free(b);
    this.kernels.disposePlan(this.plan);
  }
}
