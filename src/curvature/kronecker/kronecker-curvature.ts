import type { DeviceBuffer, Engine } from '../../backend/engine.js';
import { UsageError, problem } from '../../errors.js';
import { checkSerialized, type Curvature, type CurvatureState, type Measurement } from '../curvature.js';
import { DeviceFactors } from './device-route.js';
import { dampFactors, factoredPi, type KroneckerDamping } from './factor-inverse.js';
import { FactorMeter, type FactorKind } from './factors.js';
import { groupSolver, type GroupSolver, type KroneckerSolve } from './group-solve.js';
import { buildGroups, type Grouping, type KroneckerGroup } from './groups.js';
import { checkKroneckerMemory } from './kronecker-memory.js';
import { nearestKronecker } from './nearest-kronecker.js';

/** How a Kronecker-factored curvature is built and solved (the CLI's `--groups`, `--kronecker-*`, `--inverse-every`). */
export interface KroneckerOptions {
  factor: FactorKind;
  groups?: Grouping;
  damping?: KroneckerDamping;
  solve?: KroneckerSolve;
  /** Recompute the damped factors' inverses every this many updates (1: at every solve). */
  inverseEvery?: number;
}

/**
 * A Kronecker-factored curvature's state, on the host in Float64: the current factors A_g, G_g
 * (estimates folded in by the estimator), the factors at the last inverse refresh (what the
 * solves use until the next one, Martens & Grosse's periodic inverses) and when that was.
 */
export interface KroneckerState extends CurvatureState {
  readonly groups: KroneckerGroup[];
  A: Float64Array[];
  G: Float64Array[];
  /** Update count at the last refresh, -1 before the first. */
  frozenAt: number;
  frozenA: Float64Array[];
  frozenG: Float64Array[];
  /** The engine-bound measurer (not serialised). */
  meter?: FactorMeter;
  /** Solvers of the frozen factors for one ε (derived, rebuilt after a refresh or restore; none for the device route's groups). */
  solvers?: { epsilon: number; list: Array<GroupSolver | undefined> };
  /**
   * The device route of the complete groups (engines with `Engine.kronecker`; not serialised):
   * their factors live there, and their host arrays above are refreshed only when read.
   */
  device?: DeviceFactors;
  /** Set when ε = 0 sent a device-route state back to the host for good. */
  hostRoute?: boolean;
}

/** What the last solve did per group (`inspect` reports it). */
export interface GroupSolveReport {
  group: string;
  units: number;
  params: number;
  route: GroupSolver['route'];
  iterations: number;
  residual: number;
}

/** A Kronecker-factored curvature with its report of the last solve. */
export interface KroneckerCurvature extends Curvature<KroneckerState> {
  readonly options: Required<KroneckerOptions>;
  /** The groups of a network under these options. */
  groups(engine: Engine): KroneckerGroup[];
  /** Per group: the solve route, CG iterations and residual of the last solve. */
  report(state: KroneckerState): GroupSolveReport[];
  /** π of factored damping per group on the current factors. */
  pi(state: KroneckerState): number[];
}

/**
 * The Kronecker-factored curvature of seeds 001/004 (K-FAC), 002 (KFLR, KFRA) on groups of
 * units of any DAG: per group M_g = P_g (A'_g ⊗ G'_g) P_gᵀ over the parameters that exist,
 * damped by ε (factored or exact), solved in matrix form for complete groups and exactly on the
 * parameters (direct or CG) or masked for sparse ones. Cross-group blocks are zero.
 */
export function kroneckerCurvature(options: KroneckerOptions): KroneckerCurvature {
  const o: Required<KroneckerOptions> = { factor: options.factor, groups: options.groups ?? 'levels', damping: options.damping ?? 'factored', solve: options.solve ?? 'restricted', inverseEvery: options.inverseEvery ?? 1 };
  if (!Number.isInteger(o.inverseEvery) || o.inverseEvery < 1) throw new UsageError([problem('inverse-every', `--inverse-every ${o.inverseEvery}: give a positive integer`)]);
  const kind = `kronecker-${o.factor}`;
  const groupCache = new WeakMap<object, KroneckerGroup[]>();
  const groupsOf = (engine: Engine) => {
    let g = groupCache.get(engine.net);
    if (!g) {
      g = buildGroups(engine.net, o.groups);
      checkKroneckerMemory(g);
      groupCache.set(engine.net, g);
    }
    return g;
  };
  const sizes = (groups: KroneckerGroup[]) => [...groups.map((g) => (g.sources.length + 1) ** 2), ...groups.map((g) => g.units.length ** 2)];
  const empty = (groups: KroneckerGroup[]) => sizes(groups).map((n) => new Float64Array(n));
  const fresh = (groups: KroneckerGroup[]): KroneckerState => {
    const [f, z] = [empty(groups), empty(groups)];
    const split = groups.length;
    return { updates: 0, groups, A: f.slice(0, split), G: f.slice(split), frozenAt: -1, frozenA: z.slice(0, split), frozenG: z.slice(split) };
  };
  const refreshIfDue = (state: KroneckerState) => {
    if (state.frozenAt >= 0 && state.updates - state.frozenAt < o.inverseEvery) return;
    state.frozenA = state.A.map((a) => a.slice());
    state.frozenG = state.G.map((g) => g.slice());
    state.frozenAt = state.updates;
    state.solvers = undefined;
    state.device?.freeze();
  };
  const solversFor = (state: KroneckerState, epsilon: number): Array<GroupSolver | undefined> => {
    if (state.solvers?.epsilon === epsilon) return state.solvers.list;
    const list = state.groups.map((g, i) => (state.device?.has(i) ? undefined : groupSolver(g, dampFactors(state.frozenA[i], g.sources.length + 1, state.frozenG[i], g.units.length, epsilon, o.damping), o.solve)));
    state.solvers = { epsilon, list };
    return list;
  };
  /**
   * The device route of the complete groups, made on first use where the engine has the
   * Kronecker kernels, the damping is factored and the factor is measured on the device (KFLR,
   * K-FAC); undefined otherwise (the host route, unchanged).
   */
  const deviceRoute = (engine: Engine, state: KroneckerState): DeviceFactors | undefined => {
    if (state.device || state.hostRoute || !engine.kronecker || o.damping !== 'factored' || o.factor === 'recursive') return state.device;
    const indices = state.groups.flatMap((g, i) => (g.complete ? [i] : []));
    if (indices.length > 0) state.device = new DeviceFactors(engine, engine.kronecker, indices, state, o.inverseEvery);
    return state.device;
  };
  /** Ends a state's device route: the factors back into its host arrays (when newer), the buffers freed. */
  const toHost = (state: KroneckerState) => {
    if (!state.device) return;
    state.device.pull(state);
    state.device.dispose();
    state.device = undefined;
    state.solvers = undefined;
    state.hostRoute = true;
  };
  return {
    kind,
    options: o,
    withinUnits: false,
    usesModulus: false,
    carriesState: o.inverseEvery > 1,
    groups: groupsOf,
    init: (engine) => fresh(groupsOf(engine)),
    update(engine: Engine, state: KroneckerState, m: Measurement, decay: number) {
      engine.gradient(m.ws, m.gradient);
      state.meter ??= new FactorMeter(engine, state.groups, o.factor);
      const replace = state.updates === 0 || decay === 1;
      const mix = (target: Float64Array, source: Float64Array) => {
        if (replace) target.set(source);
        else for (let i = 0; i < target.length; i++) target[i] = (1 - decay) * target[i] + decay * source[i];
      };
      const device = deviceRoute(engine, state);
      if (device) {
        // The route's groups mix on the device; the others read their own factors (host route).
        const batch = state.meter.measureOnDevice(m);
        device.mix(batch, decay, replace);
        state.groups.forEach((_, i) => {
          if (device.has(i)) return;
          const { A: [a0, a1], G: [g0, g1] } = device.offsetsOf(i);
          mix(state.A[i], engine.read(batch.A, a0, a1 - a0));
          mix(state.G[i], engine.read(batch.G, g0, g1 - g0));
        });
      } else {
        const { A, G } = state.meter.measure(m);
        state.A.forEach((a, i) => mix(a, A[i]));
        state.G.forEach((g, i) => mix(g, G[i]));
      }
      state.updates++;
    },
    solve(engine: Engine, state: KroneckerState, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer) {
      let device = deviceRoute(engine, state);
      if (device && !(epsilon > 0)) {
        // ε = 0 (least squares by pivoted Cholesky) is the host's: the factors come back for good.
        toHost(state);
        device = undefined;
      }
      refreshIfDue(state);
      const solvers = solversFor(state, epsilon);
      if (solvers.some((s) => s !== undefined)) {
        const g = engine.read(gradient);
        const direction = new Float64Array(engine.net.nParams);
        state.groups.forEach((group, i) => {
          const solver = solvers[i];
          if (!solver) return;
          const local = Float64Array.from(group.params, (p) => g[p]);
          const result = new Float64Array(local.length);
          solver.solve(local, result);
          group.params.forEach((p, j) => (direction[p] = result[j]));
        });
        engine.upload(out, direction);
      }
      device?.solve(epsilon, gradient, out);
    },
    toDense(engine: Engine, state: KroneckerState) {
      state.device?.pull(state);
      const P = engine.net.nParams;
      const dense = new Float64Array(P * P);
      state.groups.forEach((group, i) => {
        const n = group.sources.length + 1;
        const m = group.units.length;
        const [A, G] = [state.A[i], state.G[i]];
        group.params.forEach((p, a) => {
          group.params.forEach((q, b) => (dense[p * P + q] = A[group.rowOf[a] * n + group.rowOf[b]] * G[group.colOf[a] * m + group.colOf[b]]));
        });
      });
      return dense;
    },
    fromDense(engine: Engine, dense: Float64Array) {
      const state = fresh(groupsOf(engine));
      state.groups.forEach((group, i) => {
        const { A, G } = nearestKronecker(group, dense, engine.net.nParams);
        state.A[i] = A;
        state.G[i] = G;
      });
      state.updates = 1;
      return state;
    },
    serialize(_engine: Engine, state: KroneckerState) {
      state.device?.pull(state);
      return { kind, updates: state.updates, arrays: [[state.frozenAt], ...[...state.A, ...state.G, ...state.frozenA, ...state.frozenG].map((a) => Array.from(a))] };
    },
    restore(engine: Engine, value) {
      const groups = groupsOf(engine);
      const s = sizes(groups);
      checkSerialized(value, kind, [1, ...s, ...s]);
      const arrays = value.arrays.slice(1).map((a) => Float64Array.from(a));
      const k = groups.length;
      return { updates: value.updates, groups, frozenAt: value.arrays[0][0], A: arrays.slice(0, k), G: arrays.slice(k, 2 * k), frozenA: arrays.slice(2 * k, 3 * k), frozenG: arrays.slice(3 * k) };
    },
    dispose(_engine: Engine, state: KroneckerState) {
      state.meter?.dispose();
      state.meter = undefined;
      // The state ends here: the device factors are freed unread (serialize first to keep them).
      state.device?.dispose();
      state.device = undefined;
    },
    solveReport(state: KroneckerState) {
      return this.report(state);
    },
    report(state) {
      const list = state.solvers?.list ?? [];
      return state.groups.map((g, i) => ({ group: g.name, units: g.units.length, params: g.params.length, route: list[i]?.route ?? (g.complete ? 'matrix' : o.solve === 'masked' ? 'masked' : 'direct'), iterations: list[i]?.iterations ?? 0, residual: list[i]?.residual ?? 0 }));
    },
    pi(state) {
      state.device?.pull(state);
      return state.groups.map((g, i) => factoredPi(state.A[i], g.sources.length + 1, state.G[i], g.units.length));
    },
  };
}
