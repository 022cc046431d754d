import type { DeviceBuffer, Engine } from '../backend/engine.js';
import { metricLayout } from '../backend/kernels.js';
import { NumericalError, problem } from '../errors.js';
import { checkSerialized, needsModulus, type Curvature, type CurvatureState } from './curvature.js';
import { blocksToDense, denseToBlocks } from './dense.js';

/** The online metric A and its inverse H per unit (metricLayout), and the last update's direction. */
export interface OnlineBlockState extends CurvatureState {
  blocks: DeviceBuffer;
  inverses: DeviceBuffer;
  /** H G of the last per-sample update, for the gradient buffer it was computed from. */
  direction: DeviceBuffer;
  directionFor: DeviceBuffer | undefined;
}

/** Options of the online Sherman-Morrison curvature. */
export interface OnlineBlockOptions {
  /** ε added to A⁽⁰⁾ once (the online algorithm adds none later). */
  epsilon: number;
  /** Recompute every inverse from its block every this many updates (0: never). */
  refreshEvery: number;
}

/**
 * The unitwise metric kept online (Section 1.3, Eq. 36-38). The first update sets
 * A⁽⁰⁾ = A(first n_init samples) + ε·Id and inverts it; each later update takes one sample x_t:
 * A ← (1-γ)A + γ u uᵀ with u = √ψ̃_k(x_t)·(1, a_i(x_t)), and H = A⁻¹ by Sherman-Morrison in
 * O(n_k²), symmetrised. An update whose Sherman-Morrison denominator is not positive and finite
 * is redone by re-inverting that unit's A; every `refreshEvery` updates all are re-inverted, so
 * rounding cannot accumulate. The direction is H G (ε is already in A).
 */
export function onlineBlockCurvature(options: OnlineBlockOptions): Curvature<OnlineBlockState> {
  const kind = 'online-blocks';
  const length = (engine: Engine) => metricLayout(engine.net).matrixOffsets[engine.net.nUnits];
  const invert = (engine: Engine, state: OnlineBlockState, units?: number[]) => {
    const failed = engine.invertBlocks(state.blocks, state.inverses, units);
    if (failed >= 0) {
      const n = engine.net.blockOffsets[failed + 1] - engine.net.blockOffsets[failed];
      throw new NumericalError([problem('not-positive-definite', `unit '${engine.net.unitKeys[failed]}': its ${n}×${n} online metric is not positive definite (ε = ${options.epsilon}); raise --epsilon or --n-init`)]);
    }
  };
  return {
    kind,
    withinUnits: true,
  usesModulus: true,

    init(engine) {
      return { updates: 0, blocks: engine.alloc(length(engine)), inverses: engine.alloc(length(engine)), direction: engine.alloc(engine.net.nParams), directionFor: undefined };
    },

    update(engine, state, m, decay) {
      if (!m.modulus) throw needsModulus('online blocks');
      engine.gradient(m.ws, m.gradient);
      state.directionFor = undefined;
      if (state.updates === 0) {
        engine.unitBlocks(m.ws, m.modulus, state.blocks);
        const identity = identityBlocks(engine);
        engine.combine(state.blocks, 1, state.blocks, options.epsilon, identity);
        engine.free(identity);
        invert(engine, state);
        state.updates = 1;
        return;
      }
      const refused = engine.onlineBlockStep(state.blocks, state.inverses, m.ws, m.modulus, 0, m.gradient, decay, state.direction);
      const refresh = options.refreshEvery > 0 && state.updates % options.refreshEvery === 0;
      const { net } = engine;
      const redo = refresh ? Array.from({ length: net.nUnits - net.nInputs }, (_, i) => net.nInputs + i) : refused;
      if (redo.length > 0) {
        invert(engine, state, redo);
        engine.blocksTimesVector(state.inverses, m.gradient, state.direction, redo);
      }
      state.directionFor = m.gradient;
      state.updates++;
    },

    solve(engine, state, gradient, _epsilon, out) {
      // NOTE: the per-sample update already computed H G for its gradient; reuse it.
      if (state.directionFor === gradient) engine.copy(state.direction, out);
      else engine.blocksTimesVector(state.inverses, gradient, out);
    },

    toDense(engine, state) {
      return blocksToDense(engine.net, metricLayout(engine.net), engine.read(state.blocks));
    },

    fromDense(engine, dense) {
      const state = this.init(engine);
      engine.upload(state.blocks, denseToBlocks(engine.net, metricLayout(engine.net), dense));
      invert(engine, state);
      state.updates = 1;
      return state;
    },

    serialize(engine, state) {
      return { kind, updates: state.updates, arrays: [Array.from(engine.read(state.blocks)), Array.from(engine.read(state.inverses))] };
    },

    restore(engine, value) {
      checkSerialized(value, kind, [length(engine), length(engine)]);
      const state = this.init(engine);
      engine.upload(state.blocks, value.arrays[0]);
      engine.upload(state.inverses, value.arrays[1]);
      state.updates = value.updates;
      return state;
    },

    dispose(engine, state) {
      for (const b of [state.blocks, state.inverses, state.direction]) engine.free(b);
    },
  };
}

/** Id in the block layout, on the engine (used once, to add ε·Id to A⁽⁰⁾). */
function identityBlocks(engine: Engine): DeviceBuffer {
  const { net } = engine;
  const { matrixOffsets } = metricLayout(net);
  const identity = new Float64Array(matrixOffsets[net.nUnits]);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
    for (let i = 0; i < n; i++) identity[matrixOffsets[k] + i * n + i] = 1;
  }
  const buffer = engine.alloc(identity.length);
  engine.upload(buffer, identity);
  return buffer;
}
