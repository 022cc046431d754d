import type { DeviceBuffer } from '../backend/engine.js';
import { UsageError, problem } from '../errors.js';
import { checkSerialized, type Curvature, type CurvatureState } from './curvature.js';

/** The choices of the first-order baselines (see `TrainOptions`). */
export interface BaselineChoices {
  /** Adam's β1 (default 0.9). */
  adamBeta1?: number;
  /** Adam's β2 (default 0.999). */
  adamBeta2?: number;
  /** Adam's ε, added to √v̂ (default 1e-8; the method's `--epsilon` does not apply). */
  adamEpsilon?: number;
  /** Heavy-ball coefficient μ (default 0.9). */
  momentum?: number;
  /** Nesterov's variant: direction G + μ v instead of v. */
  nesterov?: boolean;
}

/** Per-parameter state of a baseline: the moments (Adam: m and v; momentum: the velocity). */
export interface MomentState extends CurvatureState {
  moments: DeviceBuffer[];
}

/**
 * Shared frame of the baselines: the Euclidean gradient (no per-sample metric), per-parameter
 * moments folded in at each solve. `update` writes the gradient and counts; the moments are
 * advanced by `solve`, once per iteration, from the gradient it is given (after clipping):
 * the estimator's decay does not apply (the baselines keep their own averages). A step the
 * rate schedule rejects keeps the moments it advanced.
 */
function baseline(kind: string, count: number, advance: (engine: Parameters<Curvature['solve']>[0], state: MomentState, gradient: DeviceBuffer, out: DeviceBuffer) => void): Curvature<MomentState> {
  return {
    kind,
    withinUnits: true,
    usesModulus: false,
    carriesState: true,
    init(engine) {
      return { updates: 0, moments: Array.from({ length: count }, () => engine.alloc(engine.net.nParams)) };
    },
    update(engine, state, m) {
      engine.gradient(m.ws, m.gradient);
      state.updates++;
    },
    solve(engine, state, gradient, _epsilon, out) {
      advance(engine, state, gradient, out);
    },
    toDense() {
      throw new UsageError([problem('method', `the ${kind} baseline has no metric matrix: its step is no solve with a fixed matrix`)]);
    },
    fromDense() {
      throw new UsageError([problem('method', `the ${kind} baseline has no metric matrix to build from`)]);
    },
    serialize(engine, state) {
      return { kind, updates: state.updates, arrays: state.moments.map((b) => Array.from(engine.read(b))) };
    },
    restore(engine, value) {
      checkSerialized(value, kind, Array.from({ length: count }, () => engine.net.nParams));
      const state = this.init(engine);
      state.moments.forEach((b, i) => engine.upload(b, value.arrays[i]));
      state.updates = value.updates;
      return state;
    },
    dispose(engine, state) {
      for (const b of state.moments) engine.free(b);
    },
  };
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1): m ← β1 m + (1-β1) G, v ← β2 v + (1-β2) G², direction
 * m̂ / (√v̂ + ε) with the bias corrections 1 - β^t, t the updates so far. Ascent direction (G is
 * the gradient of the log-likelihood here), so the optimizer adds η times it. Not invariant.
 */
export function adamCurvature(o: BaselineChoices = {}): Curvature<MomentState> {
  const beta1 = o.adamBeta1 ?? 0.9;
  const beta2 = o.adamBeta2 ?? 0.999;
  const epsilon = o.adamEpsilon ?? 1e-8;
  return baseline('adam', 2, (engine, state, gradient, out) => {
    // NOTE: t is the state's count of updates (one update, then one solve, per iteration), so it is saved with the state.
    engine.adamStep(state.moments[0], state.moments[1], gradient, { beta1, beta2, epsilon, step: Math.max(1, state.updates) }, out);
  });
}

/**
 * Heavy-ball momentum (Polyak): v ← μ v + G, direction v; with Nesterov's variant the
 * direction is G + μ v (Sutskever et al. 2013, in the form of PyTorch's SGD). Not invariant.
 */
export function momentumCurvature(o: BaselineChoices = {}): Curvature<MomentState> {
  const mu = o.momentum ?? 0.9;
  const nesterov = o.nesterov === true;
  return baseline(nesterov ? 'nesterov-momentum' : 'momentum', 1, (engine, state, gradient, out) => {
    const [velocity] = state.moments;
    engine.combine(velocity, mu, velocity, 1, gradient);
    if (nesterov) engine.combine(out, 1, gradient, mu, velocity);
    else engine.copy(velocity, out);
  });
}
