import type { DeviceBuffer, EngineWorkspace } from '../backend/engine.js';
import { metricLayout } from '../backend/kernels.js';
import { NumericalError, problem } from '../errors.js';
import { checkSerialized, mixInto, needsModulus, type Curvature, type CurvatureState } from './curvature.js';
import { blocksToDense, denseToBlocks } from './dense.js';
import { unitwiseLeastSquares } from './least-squares.js';

/** Per-unit blocks A^(k) (metricLayout), a statistic scratch and the factorisation's work array. */
export interface UnitBlockState extends CurvatureState {
  blocks: DeviceBuffer;
  /** One batch's blocks, allocated when a decayed update first needs it. */
  scratch: DeviceBuffer | undefined;
  work: DeviceBuffer;
  /** The one batch the blocks were measured on, while they are exactly that batch's (least squares at ε = 0). */
  samples?: { ws: EngineWorkspace; modulus: DeviceBuffer };
}

/**
 * The unitwise metric (Section 1.2, Eq. 18 and 28): for each non-input unit k, the block
 * A^(k)_ij = E_x ψ̃_k(x) a_i a_j over its bias and incoming weights; δw = (A + εI)⁻¹G per unit by
 * Cholesky (Eq. 20, 30). With ε = 0 and blocks that are one batch's, the step is solved as the
 * weighted least-squares fit on that batch's samples (Prop. 32, Section 3.3), which is
 * covariant even where blocks are singular; otherwise ε = 0 is a pivoted-Cholesky least squares.
 */
export const unitBlockCurvature: Curvature<UnitBlockState> = {
  kind: 'unit-blocks',
  withinUnits: true,
  usesModulus: true,

  init(engine) {
    const length = metricLayout(engine.net).matrixOffsets[engine.net.nUnits];
    // NOTE: blocks and the factorisation's work array are Σ n_k² numbers each; the scratch for
    // a decayed average is allocated only when one is asked for.
    return { updates: 0, blocks: engine.alloc(length), scratch: undefined, work: engine.alloc(length) };
  },

  update(engine, state, m, decay) {
    engine.gradient(m.ws, m.gradient);
    if (!m.modulus) throw needsModulus('unit blocks');
    if (state.updates === 0 || decay === 1) {
      // NOTE: written in place: no copy of the Σ n_k² numbers for the batch estimator.
      engine.unitBlocks(m.ws, m.modulus, state.blocks);
      state.samples = { ws: m.ws, modulus: m.modulus };
    } else {
      state.scratch ??= engine.alloc(state.blocks.length);
      engine.unitBlocks(m.ws, m.modulus, state.scratch);
      mixInto(engine, state.blocks, state.scratch, decay);
      state.samples = undefined;
    }
    state.updates++;
  },

  solve(engine, state, gradient, epsilon, out) {
    const { net } = engine;
    if (epsilon === 0 && state.samples) {
      const { ws, modulus } = state.samples;
      const samples = { size: ws.size, act: engine.read(ws.act), backReduced: engine.read(ws.backReduced), modulus: engine.read(modulus) };
      engine.upload(out, unitwiseLeastSquares(net, samples));
      return;
    }
    const failed = engine.solveUnitBlocks(state.blocks, gradient, epsilon, out, state.work);
    if (failed >= 0) {
      const n = net.blockOffsets[failed + 1] - net.blockOffsets[failed];
      throw new NumericalError([
        problem('not-positive-definite', `unit '${net.unitKeys[failed]}': its ${n}×${n} metric block is not positive definite with ε = ${epsilon}; raise --epsilon, or use more samples than the unit has parameters`),
      ]);
    }
  },

  toDense(engine, state) {
    return blocksToDense(engine.net, metricLayout(engine.net), engine.read(state.blocks));
  },

  fromDense(engine, dense) {
    const state = this.init(engine);
    engine.upload(state.blocks, denseToBlocks(engine.net, metricLayout(engine.net), dense));
    state.updates = 1;
    return state;
  },

  serialize(engine, state) {
    return { kind: this.kind, updates: state.updates, arrays: [Array.from(engine.read(state.blocks))] };
  },

  restore(engine, value) {
    checkSerialized(value, this.kind, [metricLayout(engine.net).matrixOffsets[engine.net.nUnits]]);
    const state = this.init(engine);
    engine.upload(state.blocks, value.arrays[0]);
    state.updates = value.updates;
    return state;
  },

  dispose(engine, state) {
    for (const b of [state.blocks, state.scratch, state.work]) if (b) engine.free(b);
  },
};
