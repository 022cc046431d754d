import { checkSerialized, type Curvature, type CurvatureState } from './curvature.js';

/**
 * The Euclidean metric (plain backpropagation, Eq. 12): the identity, so δw = G. It keeps no
 * statistic; ε does not apply.
 */
export const identityCurvature: Curvature<CurvatureState> = {
  kind: 'identity',
  withinUnits: true,
  usesModulus: false,
  init: () => ({ updates: 0 }),
  update(engine, state, m) {
    engine.gradient(m.ws, m.gradient);
    state.updates++;
  },
  solve(engine, _state, gradient, _epsilon, out) {
    engine.copy(gradient, out);
  },
  toDense(engine) {
    const P = engine.net.nParams;
    const dense = new Float64Array(P * P);
    for (let p = 0; p < P; p++) dense[p * P + p] = 1;
    return dense;
  },
  fromDense: () => ({ updates: 1 }),
  serialize: (_engine, state) => ({ kind: 'identity', updates: state.updates, arrays: [] }),
  restore(_engine, value) {
    checkSerialized(value, 'identity', []);
    return { updates: value.updates };
  },
  dispose() {},
};
