import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { forwardPass } from '../src/backend/engine.js';
import type { Curvature, CurvatureState } from '../src/curvature/curvature.js';
import { identityCurvature } from '../src/curvature/identity.js';
import { onlineBlockCurvature } from '../src/curvature/online-blocks.js';
import { diagonalCurvature, diagonalRootCurvature, quasiDiagonalCurvature } from '../src/curvature/quasi-diagonal.js';
import { unitBlockCurvature } from '../src/curvature/unit-blocks.js';
import { wholeNetworkCurvature, wholeNetworkFisher } from '../src/curvature/whole-network.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { fisherSource } from '../src/methods/sources.js';
import { INTERPRETATIONS } from '../src/network/types.js';
import { Prng } from '../src/random/prng.js';
import { denseSolve } from './helpers/dense-solve.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

/**
 * Every curvature object against the dense whole-network Fisher matrix (Prop. 27): its dense
 * form is F restricted to its structure, its solve is the dense solve of that restriction, and
 * fromDense/serialize/restore and decayed updates keep that true.
 */
type Structure = (P: number, unitOf: Int32Array, bias: Int32Array, i: number, j: number) => boolean;
const blockDiagonal: Structure = (_P, unitOf, _bias, i, j) => unitOf[i] === unitOf[j];
const arrow: Structure = (_P, unitOf, bias, i, j) => i === j || (unitOf[i] === unitOf[j] && (i === bias[i] || j === bias[j]));
const diagonal: Structure = (_P, _u, _b, i, j) => i === j;
const whole: Structure = () => true;

const cases: Array<{ name: string; curvature: Curvature; structure: Structure; epsilonInState?: boolean; root?: boolean; quasiDiagonal?: boolean }> = [
  { name: 'unit blocks (Eq. 18)', curvature: unitBlockCurvature as Curvature, structure: blockDiagonal },
  { name: 'quasi-diagonal (Eq. 22-23)', curvature: quasiDiagonalCurvature as Curvature, structure: arrow, quasiDiagonal: true },
  { name: 'diagonal', curvature: diagonalCurvature as Curvature, structure: diagonal },
  { name: 'diagonal root (AdaGrad)', curvature: diagonalRootCurvature as Curvature, structure: diagonal, root: true },
  { name: 'whole network (Prop. 27)', curvature: wholeNetworkCurvature as Curvature, structure: whole },
  { name: 'online Sherman-Morrison blocks (Eq. 36)', curvature: onlineBlockCurvature({ epsilon: 0.01, refreshEvery: 0 }) as Curvature, structure: blockDiagonal, epsilonInState: true },
];

/**
 * Eq. 22-23 read off a dense matrix: each weight's 2 × 2 system with its unit's bias, then the
 * bias corrected by every weight (the quasi-diagonal step is not the inverse of the restricted
 * "arrow" matrix).
 */
function quasiDiagonalStep(m: Float64Array, g: Float64Array, epsilon: number, bias: Int32Array): Float64Array {
  const P = g.length;
  const out = new Float64Array(P);
  for (let p = 0; p < P; p++) if (bias[p] === p) out[p] = g[p] / (m[p * P + p] + epsilon);
  for (let p = 0; p < P; p++) {
    const b = bias[p];
    if (b === p) continue;
    const a00 = m[b * P + b] + epsilon;
    const a0i = m[b * P + p];
    out[p] = (g[p] * a00 - g[b] * a0i) / ((m[p * P + p] + epsilon) * a00 - a0i * a0i);
    out[b] -= (a0i / a00) * out[p];
  }
  return out;
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const gap = (a: ArrayLike<number>, b: ArrayLike<number>) => maxAbs(Array.from(a, (v, i) => v - b[i])) / Math.max(1e-300, maxAbs(b));

describe.each(INTERPRETATIONS)('curvatures against the dense Fisher matrix: %s outputs', (interpretation) => {
  const doc = randomNetwork({ interpretation, seed: 60, inputs: 3, hidden: 4, outputs: 2, density: 0.7, activations: ['sigmoid', 'tanh', 'linear'] });
  const model = createModel(doc);
  const { net } = model;
  const P = net.nParams;
  const unitOf = new Int32Array(P);
  const bias = new Int32Array(P);
  for (let k = net.nInputs; k < net.nUnits; k++) for (let p = net.blockOffsets[k]; p < net.blockOffsets[k + 1]; p++) [unitOf[p], bias[p]] = [k, net.blockOffsets[k]];
  const restrict = (F: Float64Array, structure: Structure) => F.map((v, idx) => (structure(P, unitOf, bias, Math.floor(idx / P), idx % P) ? v : 0));

  /** A measurement of the Fisher source on a batch of data rows. */
  const measure = (rows: number, seed: number) => {
    const batch = makeBatch(net, randomData(doc, rows, seed));
    const engine = cpuBackend.open(net, batch.size);
    const params = engine.alloc(P);
    engine.upload(params, model.params);
    const ws = engine.workspace();
    engine.setBatch(ws, batch);
    forwardPass(engine, params, ws);
    engine.outputLayer(ws);
    const modulus = engine.alloc(net.nUnits * batch.size);
    fisherSource.backward({ engine, params, ws, rng: new Prng(1), mcSamples: 1 }, modulus);
    return { engine, params, ws, modulus, gradient: engine.alloc(P), F: wholeNetworkFisher(engine, params, ws) };
  };

  for (const c of cases) {
    it(`${c.name}: toDense, solve, fromDense, serialize/restore`, () => {
      const m = measure(9, 3);
      const { engine } = m;
      const state: CurvatureState = c.curvature.init(engine);
      c.curvature.update(engine, state, m, 1);
      const dense = c.curvature.toDense(engine, state);
      const expected = restrict(m.F, c.structure);
      if (c.epsilonInState) for (let p = 0; p < P; p++) expected[p * P + p] += 0.01;
      expect(gap(dense, expected)).toBeLessThan(1e-12);
      // The solve is the dense solve of the restriction (ε in the state for the online blocks).
      const epsilon = 0.05;
      const out = engine.alloc(P);
      c.curvature.solve(engine, state, m.gradient, epsilon, out);
      const g = engine.read(m.gradient);
      const reference = c.root
        ? g.map((v, p) => v / Math.sqrt(dense[p * P + p] + epsilon))
        : c.quasiDiagonal
          ? quasiDiagonalStep(dense, g, epsilon, bias)
          : denseSolve(dense, g, c.epsilonInState ? 0 : epsilon);
      expect(gap(engine.read(out), reference)).toBeLessThan(1e-9);
      // fromDense restricts any matrix to the structure; serialize/restore is exact.
      const fromF = c.curvature.toDense(engine, c.curvature.fromDense(engine, m.F));
      const restricted = restrict(m.F, c.structure);
      if (!c.epsilonInState) expect(gap(fromF, restricted)).toBeLessThan(1e-15);
      else expect(gap(fromF, restrict(fromF, c.structure))).toBe(0);
      const restored = c.curvature.restore(engine, JSON.parse(JSON.stringify(c.curvature.serialize(engine, state))));
      expect(Array.from(c.curvature.toDense(engine, restored))).toEqual(Array.from(dense));
      expect(restored.updates).toBe(state.updates);
    });
  }

  for (const c of cases.filter((x) => !x.epsilonInState)) {
    it(`${c.name}: a decayed update is (1 - γ)·S + γ·A(batch)`, () => {
      const first = measure(6, 4);
      const second = measure(6, 5);
      const { engine } = first;
      const state = c.curvature.init(engine);
      c.curvature.update(engine, state, first, 0.3); // the first update replaces
      c.curvature.update(first.engine, state, { ...second, engine }, 0.3);
      const mixed = first.F.map((v, i) => 0.7 * v + 0.3 * second.F[i]);
      expect(gap(c.curvature.toDense(engine, state), restrict(mixed, c.structure))).toBeLessThan(1e-12);
      expect(state.updates).toBe(2);
    });
  }

  it('identity (Euclidean): δw = G, dense form I', () => {
    const m = measure(5, 6);
    const state = identityCurvature.init(m.engine);
    identityCurvature.update(m.engine, state, m, 1);
    const out = m.engine.alloc(P);
    identityCurvature.solve(m.engine, state, m.gradient, 0.1, out);
    expect(Array.from(m.engine.read(out))).toEqual(Array.from(m.engine.read(m.gradient)));
    const dense = identityCurvature.toDense(m.engine, state);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) expect(dense[i * P + j]).toBe(i === j ? 1 : 0);
  });
});
