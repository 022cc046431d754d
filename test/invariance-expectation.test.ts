import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { buildGroups } from '../src/curvature/kronecker/groups.js';
import type { KroneckerCurvature, KroneckerState } from '../src/curvature/kronecker/kronecker-curvature.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { loadBatch } from '../src/engine/propagate.js';
import { generateAutoencoder } from '../src/generate/autoencoder.js';
import { generateBinaryData } from '../src/generate/data.js';
import { checkInvariance } from '../src/invariance/check.js';
import { expectedInvariance, type TwinKind } from '../src/invariance/expectation.js';
import { applyTransform, congruence, groupTransforms } from '../src/invariance/recombination.js';
import { createMethod, METHOD_SPECS, METHODS } from '../src/methods/methods.js';
import { MethodRunner } from '../src/methods/runner.js';
import { Prng } from '../src/random/prng.js';
import { relative } from './helpers/compare.js';
import { layeredNetwork } from './helpers/layered-network.js';
import { randomData } from './helpers/random-network.js';

const KRONECKER = ['kflr', 'kfac', 'kfra'] as const;
const TWINS: TwinKind[] = ['convert', 'reparametrize', 'recombine'];

describe('expectedInvariance', () => {
  // Section 4's autoencoder: every level is a sparse group.
  const autoencoder = createModel(generateAutoencoder({ seed: 1 })).net;
  // A dense layered network: every level is a complete group.
  const dense = createModel(layeredNetwork([5, 4, 3], { interpretation: 'bernoulli', activation: 'sigmoid', seed: 3 })).net;
  const on = (net: typeof dense, choices = {}) => ({ net, samples: 16, choices });

  it('per-unit and whole-network methods: as the paper says, whatever the network', () => {
    for (const method of METHODS.filter((m) => METHOD_SPECS[m].reduction !== 'kronecker')) {
      for (const twin of TWINS) {
        const expected = twin === 'recombine' ? METHOD_SPECS[method].recombinationInvariant : METHOD_SPECS[method].invariant;
        expect(expectedInvariance(method, twin, on(autoencoder)).invariant, `${method} ${twin}`).toBe(expected);
      }
    }
  });

  it('Kronecker methods on sparse groups: Def. 29 with restricted solves only; no recombination', () => {
    for (const method of KRONECKER) {
      expect(expectedInvariance(method, 'convert', on(autoencoder)).invariant).toBe(true);
      expect(expectedInvariance(method, 'reparametrize', on(autoencoder, { kroneckerSolve: 'restricted' })).invariant).toBe(true);
      expect(expectedInvariance(method, 'convert', on(autoencoder, { kroneckerSolve: 'masked' })).invariant).toBe(false);
      expect(expectedInvariance(method, 'reparametrize', on(autoencoder, { kroneckerSolve: 'masked' })).invariant).toBe(false);
      const recombine = expectedInvariance(method, 'recombine', on(autoencoder));
      expect(recombine.invariant).toBe(false);
      expect(recombine.reason).toMatch(/4 of 4 groups .* are sparse/);
    }
  });

  it('Kronecker methods on complete groups: every twin, either solve', () => {
    for (const method of KRONECKER) {
      for (const twin of TWINS) {
        for (const kroneckerSolve of ['restricted', 'masked'] as const) expect(expectedInvariance(method, twin, on(dense, { kroneckerSolve })).invariant, `${method} ${twin}`).toBe(true);
      }
    }
  });

  it('--groups units makes every group complete (one unit each): recombination is expected on the autoencoder', () => {
    expect(expectedInvariance('kflr', 'recombine', on(autoencoder, { groups: 'units' })).invariant).toBe(true);
    expect(expectedInvariance('kflr', 'recombine', on(autoencoder, { groups: 'levels' })).invariant).toBe(false);
  });

  it("the reasons: K-FAC's singular G_g (K·S draws < m_g), and first-order agreement under recombination of a singular A_g", () => {
    expect(expectedInvariance('kfac', 'convert', on(autoencoder)).reason).toMatch(/K·S = 16 draws for up to 100 units.*--mc-samples 7/);
    expect(expectedInvariance('kfac', 'convert', { ...on(autoencoder), mcSamples: 7 }).reason).not.toMatch(/singular/);
    expect(expectedInvariance('kflr', 'convert', on(autoencoder)).reason).not.toMatch(/singular/);
    // 4 sources feed the second level: with 3 samples its A_g (5 × 5) is singular, and its sources move.
    const few = { net: dense, samples: 3 };
    expect(expectedInvariance('kflr', 'recombine', few).reason).toMatch(/A_g of 1 of 2 groups \('level 2'\) is singular.*first order only/);
  });
});

describe('group-shared recombination (Prop. 31 for the Kronecker methods)', () => {
  // Edges listed in reverse: each unit's parameters come in the reverse of its group's source order.
  const doc = layeredNetwork([4, 3, 2], { interpretation: 'bernoulli', activation: 'tanh', seed: 5 });
  doc.edges.reverse();
  const model = createModel(doc);
  const { net } = model;
  const groups = buildGroups(net, 'levels');
  const transforms = groupTransforms(net, groups, new Prng(17));

  it('one T_g per complete group, permuted into each unit’s parameter order', () => {
    const rng = new Prng(4);
    let permuted = 0;
    for (const g of groups) {
      expect(g.complete).toBe(true);
      const n = g.sources.length + 1;
      const activity = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 1 : rng.normal())); // ā_g in group order
      // T_g ā_g, from the first unit's copy read back in group order.
      const mapped: number[][] = [];
      let start = 0;
      for (const k of g.units) {
        const size = net.blockOffsets[k + 1] - net.blockOffsets[k];
        const rows = g.rowOf.subarray(start, start + size);
        if (rows.some((r, i) => r !== i)) permuted++;
        const local = Float64Array.from(rows, (r) => activity[r]);
        const out = new Float64Array(size);
        applyTransform(transforms[k], local, out, 0, false);
        const byRow = new Array<number>(n);
        rows.forEach((r, i) => (byRow[r] = out[i]));
        mapped.push(byRow);
        start += size;
      }
      for (const m of mapped) expect(relative(m, mapped[0])).toBeLessThan(1e-15);
      expect(mapped[0][0]).toBe(1); // the constant stays 1
    }
    expect(permuted).toBeGreaterThan(0);
    for (let k = 0; k < net.nInputs; k++) expect(transforms[k].length).toBe(0);
  });

  it("toDense → congruence → fromDense is exact: A' = T_g A T_gᵀ, G unchanged", () => {
    const data = randomData(doc, 9, 2);
    for (const method of KRONECKER) {
      const engine = cpuBackend.open(net, data.inputs.length);
      const { params, ws } = loadBatch(engine, model.params, makeBatch(net, data));
      const m = createMethod(method);
      const runner = new MethodRunner(engine, m);
      runner.measure(params, ws, 1, { rng: new Prng(11), mcSamples: 1 });
      const curvature = m.curvature as unknown as KroneckerCurvature;
      const state = runner.state as KroneckerState;
      const mapped = congruence(curvature.toDense(engine, state), net, transforms);
      const refit = curvature.fromDense(engine, mapped);
      expect(relative(curvature.toDense(engine, refit), mapped), method).toBeLessThan(1e-12);
      refit.G.forEach((G, i) => expect(relative(G, state.G[i]), `${method} G ${i}`).toBeLessThan(1e-12));
      engine.dispose();
    }
  });

  it('the twins agree on a complete-group network (ε = 0) and part on a sparse one', () => {
    const data = randomData(doc, 12, 3);
    const sparse = layeredNetwork([5, 4, 3], { interpretation: 'bernoulli', activation: 'sigmoid', density: 0.5, seed: 12 });
    const sparseData = randomData(sparse, 12, 3);
    for (const method of KRONECKER) {
      const complete = checkInvariance(doc, data, { method, twin: 'recombine', steps: 2, lr: 1e-3 });
      expect(complete.expectedInvariant).toBe(true);
      expect(complete.maxDeviation, method).toBeLessThan(1e-12);
      const parted = checkInvariance(sparse, sparseData, { method, twin: 'recombine', steps: 2, lr: 1e-3 });
      expect(parted.expectedInvariant).toBe(false);
      expect(parted.steps[1].deviation, method).toBeGreaterThan(1e-6);
    }
  });
});

describe('checkInvariance of the Kronecker methods under Def. 29 (ε = 0)', () => {
  const doc = generateAutoencoder({ seed: 2, layers: [12, 6, 3, 6, 12], fan: 3 });
  const data = generateBinaryData({ seed: 2, length: 12, samples: 8 });

  it('restricted solves: invariant on sparse groups with singular factors; masked: not', () => {
    for (const method of KRONECKER) {
      for (const twin of ['convert', 'reparametrize'] as const) {
        const r = checkInvariance(doc, data, { method, twin, steps: 2, lr: 1e-3 });
        expect(r.expectedInvariant).toBe(true);
        expect(r.maxDeviation, `${method} ${twin}`).toBeLessThan(1e-9);
        const masked = checkInvariance(doc, data, { method, twin, steps: 1, lr: 1e-3, kroneckerSolve: 'masked' });
        expect(masked.expectedInvariant).toBe(false);
        expect(masked.steps[1].deviation, `${method} ${twin} masked`).toBeGreaterThan(1e-6);
      }
    }
  });
});
