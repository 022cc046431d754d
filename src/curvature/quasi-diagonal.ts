import type { DeviceBuffer } from '../backend/engine.js';
import { checkSerialized, mixInto, needsModulus, type Curvature, type CurvatureState } from './curvature.js';
import { denseToEntries, entriesToDense } from './dense.js';

/** Entries of A laid out like the parameters (see `EntryBuffers`), and scratch for one batch's. */
export interface EntryState extends CurvatureState {
  diagonal: DeviceBuffer;
  cross: DeviceBuffer | undefined;
  /** One batch's entries, allocated when a decayed update first needs them. */
  scratchDiagonal: DeviceBuffer | undefined;
  scratchCross: DeviceBuffer | undefined;
}

/**
 * Curvatures kept as entries of the per-unit blocks, measured on the gradient's pass over the
 * edges: quasi-diagonal (A_00, A_0i, A_ii; Section 1.2, Eq. 22-23 and 32-33), diagonal
 * (A_00, A_ii: diagonal Gauss-Newton) and diagonal-root (Section 4's batch AdaGrad,
 * G/√(A_pp + ε)).
 */
function entryCurvature(kind: string, withCross: boolean, solve: Curvature<EntryState>['solve']): Curvature<EntryState> {
  const arrays = withCross ? 2 : 1;
  return {
    kind,
    withinUnits: true,
  usesModulus: true,

    init(engine) {
      const P = engine.net.nParams;
      return {
        updates: 0,
        diagonal: engine.alloc(P),
        cross: withCross ? engine.alloc(P) : undefined,
        scratchDiagonal: undefined,
        scratchCross: undefined,
      };
    },

    update(engine, state, m, decay) {
      if (!m.modulus) throw needsModulus(`${kind} entries`);
      // NOTE: the entries come from the gradient kernel's pass over the edges (no second pass).
      if (state.updates === 0 || decay === 1) {
        engine.gradient(m.ws, m.gradient, { modulus: m.modulus, diagonal: state.diagonal, cross: state.cross });
      } else {
        state.scratchDiagonal ??= engine.alloc(engine.net.nParams);
        if (withCross) state.scratchCross ??= engine.alloc(engine.net.nParams);
        engine.gradient(m.ws, m.gradient, { modulus: m.modulus, diagonal: state.scratchDiagonal, cross: state.scratchCross });
        mixInto(engine, state.diagonal, state.scratchDiagonal, decay);
        if (state.cross && state.scratchCross) mixInto(engine, state.cross, state.scratchCross, decay);
      }
      state.updates++;
    },

    solve,

    toDense(engine, state) {
      return entriesToDense(engine.net, engine.read(state.diagonal), state.cross && engine.read(state.cross));
    },

    fromDense(engine, dense) {
      const state = this.init(engine);
      const { diagonal, cross } = denseToEntries(engine.net, dense);
      engine.upload(state.diagonal, diagonal);
      if (state.cross) engine.upload(state.cross, cross);
      state.updates = 1;
      return state;
    },

    serialize(engine, state) {
      const values = [state.diagonal, ...(state.cross ? [state.cross] : [])].map((b) => Array.from(engine.read(b)));
      return { kind, updates: state.updates, arrays: values };
    },

    restore(engine, value) {
      checkSerialized(value, kind, Array.from({ length: arrays }, () => engine.net.nParams));
      const state = this.init(engine);
      engine.upload(state.diagonal, value.arrays[0]);
      if (state.cross) engine.upload(state.cross, value.arrays[1]);
      state.updates = value.updates;
      return state;
    },

    dispose(engine, state) {
      for (const b of [state.diagonal, state.cross, state.scratchDiagonal, state.scratchCross]) if (b) engine.free(b);
    },
  };
}

/** Quasi-diagonal reduction (Eq. 22-23, 32-33); ε on A_00 and A_ii. */
export const quasiDiagonalCurvature = entryCurvature('quasi-diagonal', true, (engine, state, gradient, epsilon, out) => {
  engine.quasiDiagonalSolve(state.diagonal, state.cross as DeviceBuffer, gradient, epsilon, out);
});

/** Diagonal reduction: δw_p = G_p / (A_pp + ε) (diagonal Gauss-Newton with the backpropagated metric). */
export const diagonalCurvature = entryCurvature('diagonal', false, (engine, state, gradient, epsilon, out) => {
  engine.diagonalSolve(state.diagonal, gradient, epsilon, false, out);
});

/** Square root of the diagonal: δw_p = G_p / √(A_pp + ε) (AdaGrad with the outer-product metric, Section 4). */
export const diagonalRootCurvature = entryCurvature('diagonal-root', false, (engine, state, gradient, epsilon, out) => {
  engine.diagonalSolve(state.diagonal, gradient, epsilon, true, out);
});
