import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import type { DeviceBuffer, GramPlan } from '../src/backend/engine.js';
import { buildGroups } from '../src/curvature/kronecker/groups.js';
import type { KroneckerCurvature, KroneckerState } from '../src/curvature/kronecker/kronecker-curvature.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { loadBatch } from '../src/engine/propagate.js';
import { choleskyMultiplyAdds, kroneckerMultiplyAdds, multiplyAdds } from '../src/methods/cost.js';
import { createMethod, METHOD_SPECS } from '../src/methods/methods.js';
import { MethodRunner } from '../src/methods/runner.js';
import { buildTransferPlan } from '../src/metrics/transfer-plan.js';
import type { NetworkDocument } from '../src/network/types.js';
import { Prng } from '../src/random/prng.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

/** 2 inputs → 2 hidden → 2 outputs, fully connected (two complete groups), Bernoulli. */
function twoTwoTwo(): NetworkDocument {
  const key = (l: number, i: number) => `l${l}u${i}`;
  const nodes: NetworkDocument['nodes'] = [];
  const edges: NetworkDocument['edges'] = [];
  for (let l = 0; l < 3; l++) for (let i = 0; i < 2; i++) nodes.push({ key: key(l, i), attributes: l === 0 ? { role: 'input' } : { role: l === 2 ? 'output' : 'hidden', bias: 0.1 * (i + 1) } });
  for (let l = 1; l < 3; l++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) edges.push({ source: key(l - 1, j), target: key(l, i), attributes: { weight: 0.3 + 0.2 * i - 0.4 * j } });
  return { options: { type: 'directed' }, attributes: { interpretation: 'bernoulli', activation: 'sigmoid' }, nodes, edges };
}

describe('multiply-adds of the Kronecker-factored methods', () => {
  const { net } = createModel(twoTwoTwo());
  const plan = buildTransferPlan(net);
  const S = 4;
  // Backprop's part: forward S·E = 8S, backward S·4 (hidden units' outgoing edges), gradient S(E + U) = 12S, update P = 12.
  const base = 24 * S + 12;
  // A: two groups with ā of length 3: S·6 each. Solves: matrix form, n = 3, m = 2: (27 + 8)/6 + 3·2·5 each.
  const activity = 12 * S;
  const matrix = 2 * (35 / 6 + 30);

  it('by hand on a 2-2-2 network (complete groups: matrix-form solves)', () => {
    expect(plan.units.length).toBe(4);
    expect(plan.edgeTargets.length).toBe(4);
    // KFLR: transfer-rate passes S(4 edges + 4 units); per output the β-weighted Gram of 2 hidden rows (3 + 2) and of its own row (1 + 1).
    const kflr = kroneckerMultiplyAdds(METHOD_SPECS.kflr, net, plan, S);
    expect(kflr).toMatchObject({ base, activityFactors: activity, outputFactors: 8 * S + 2 * 7 * S, solve: Math.round(matrix) });
    expect(kflr.groups.map((g) => g.route)).toEqual(['matrix', 'matrix']);
    expect(kflr.total).toBe(Math.round(base + activity + 22 * S + matrix));
    expect(multiplyAdds(METHOD_SPECS.kflr, net, plan, S)).toBe(kflr.total);
    // K-FAC, K draws: K sampled backward passes S(n_out 2 + backward 4 + U 4) and K Gram matrices S(3 + 3).
    expect(kroneckerMultiplyAdds(METHOD_SPECS.kfac, net, plan, S, 3).outputFactors).toBe(3 * (10 * S + 6 * S));
    // KFRA: Gram of r S(3 + 3), recursion over the 4 hidden → output edges (2 + 2 each), Hadamard 4 + 4, output term 2S.
    expect(kroneckerMultiplyAdds(METHOD_SPECS.kfra, net, plan, S).outputFactors).toBe(6 * S + 16 + 8 + 2 * S);
    // Exact damping: eigendecompositions 13/6 (n³ + m³) and two rotations 2nm(n + m) per group.
    expect(kroneckerMultiplyAdds(METHOD_SPECS.kflr, net, plan, S, 1, { damping: 'exact' }).solve).toBe(Math.round(2 * ((13 / 6) * 35 + 60)));
  });

  it('sparse groups: direct, per-unit and CG routes', () => {
    const document = randomNetwork({ interpretation: 'bernoulli', seed: 4, inputs: 6, hidden: 5, outputs: 3, density: 0.5 });
    const sparse = createModel(document).net;
    const sparsePlan = buildTransferPlan(sparse);
    const cost = kroneckerMultiplyAdds(METHOD_SPECS.kflr, sparse, sparsePlan, S, 1, { groups: 'units' });
    // Every unit alone: complete groups, Cholesky of A' (n³/6) and of the 1 × 1 G', then the grid products.
    cost.groups.forEach((g, i) => {
      const n = sparse.inOffsets[sparse.nInputs + i + 1] - sparse.inOffsets[sparse.nInputs + i] + 1;
      expect(g.route).toBe('matrix');
      expect(g.solve).toBe(Math.round(choleskyMultiplyAdds(n) + choleskyMultiplyAdds(1) + n * (n + 1)));
    });
    const levels = kroneckerMultiplyAdds(METHOD_SPECS.kflr, sparse, sparsePlan, S);
    const sparseGroups = levels.groups.map((g, i) => ({ g, i })).filter(({ g }) => g.route !== 'matrix');
    expect(sparseGroups.length).toBeGreaterThan(0);
    const routesOf = (route: 'direct' | 'units' | 'cg', iterations: number) => levels.groups.map((g) => (g.route === 'matrix' ? { route: 'matrix' as const, iterations: 0 } : { route, iterations }));
    const groupsOf = (routes: ReturnType<typeof routesOf>) => kroneckerMultiplyAdds(METHOD_SPECS.kflr, sparse, sparsePlan, S, 1, { routes }).groups;
    for (const { i } of sparseGroups) {
      const group = buildGroups(sparse, 'levels')[i];
      const P = group.params.length;
      const n = group.sources.length + 1;
      const m = group.units.length;
      const sizes = unitSizes(group.colOf);
      const blocks = sizes.reduce((s, p) => s + p * p + p ** 3 / 6, 0);
      const blockSolves = sizes.reduce((s, p) => s + p * p, 0);
      // Direct: M_g (P²), Cholesky P³/6, two triangular solves P².
      expect(groupsOf(routesOf('direct', 0))[i].solve).toBe(Math.round(2 * P * P + P ** 3 / 6));
      expect(groupsOf(routesOf('units', 0))[i].solve).toBe(Math.round(blocks + blockSolves));
      // CG: each iteration M v in P(n + m), the block preconditioner, 6P for dots and updates.
      const cg = (k: number) => groupsOf(routesOf('cg', k))[i].solve;
      expect(cg(11) - cg(10)).toBe(Math.round(P * (n + m) + blockSolves + 6 * P));
      // Without a report: CG at its limit of P iterations above 256 parameters, else direct.
      expect(levels.groups[i].route).toBe(P <= 256 ? 'direct' : 'cg');
    }
  });

  it("KFLR's and K-FAC's Gram counts are the rows the engine's Gram kernel visits (random sparse DAGs)", () => {
    for (const seed of [1, 2, 3]) {
      const document = randomNetwork({ interpretation: 'bernoulli', seed, activations: ['sigmoid', 'tanh'], inputs: 5, hidden: 6, outputs: 3 });
      const model = createModel(document);
      const data = randomData(document, 5, seed);
      const size = data.inputs.length;
      const sparsePlan = buildTransferPlan(model.net);
      for (const method of ['kflr', 'kfac'] as const) {
        const engine = cpuBackend.open(model.net, size);
        // Count what the kernels do: per Gram call S·(L(L+1)/2 + L if weighted) over the live rows; per transfer-rate pass, the plan's edges and units.
        let counted = 0;
        const gram = engine.groupGram.bind(engine);
        const X = (x: DeviceBuffer) => engine.read(x);
        engine.groupGram = (x: DeviceBuffer, p: GramPlan, out: DeviceBuffer, scale: number, weights?: DeviceBuffer, weightRow?: number) => {
          const values = X(x);
          for (const rows of p.rows) {
            let L = 0;
            for (const r of rows) if (r < 0 || values.subarray(r * size, (r + 1) * size).some((v) => v !== 0)) L++;
            counted += size * ((L * (L + 1)) / 2 + (weights ? L : 0));
          }
          gram(x, p, out, scale, weights, weightRow);
        };
        const rates = engine.transferRates.bind(engine);
        engine.transferRates = (params, ws, output, out, raw) => {
          let units = 0;
          for (let q = sparsePlan.unitOffsets[output]; q < sparsePlan.unitOffsets[output + 1]; q++) units++;
          counted += size * (sparsePlan.edgeOffsets[sparsePlan.unitOffsets[output + 1]] - sparsePlan.edgeOffsets[sparsePlan.unitOffsets[output]] + units);
          rates(params, ws, output, out, raw);
        };
        const m = createMethod(method);
        const { params, ws } = loadBatch(engine, model.params, makeBatch(model.net, data));
        const runner = new MethodRunner(engine, m);
        runner.measure(params, ws, 1, { rng: new Prng(3), mcSamples: 1 });
        const cost = kroneckerMultiplyAdds(METHOD_SPECS[method], model.net, sparsePlan, size);
        const backward = method === 'kfac' ? size * (model.net.nOutputs + hiddenOutEdges(model.net) + model.net.nUnits - model.net.nInputs) : 0;
        expect(counted + backward, `${method} seed ${seed}`).toBe(cost.activityFactors + cost.outputFactors);
        // With the solve's own report the count follows the routes it took (a diagonal G': per unit).
        runner.solve(1e-4);
        const report = (m.curvature as unknown as KroneckerCurvature).report(runner.state as KroneckerState);
        const reported = kroneckerMultiplyAdds(METHOD_SPECS[method], model.net, sparsePlan, size, 1, { routes: report });
        expect(reported.groups.map((g) => g.route)).toEqual(report.map((r) => r.route));
        expect(reported.activityFactors + reported.outputFactors).toBe(cost.activityFactors + cost.outputFactors);
        runner.dispose();
        engine.dispose();
      }
    }
  });
});

function hiddenOutEdges(net: ReturnType<typeof createModel>['net']): number {
  let count = 0;
  for (let k = net.nInputs; k < net.nUnits; k++) if (net.outputIndex[k] < 0) count += net.outOffsets[k + 1] - net.outOffsets[k];
  return count;
}

function unitSizes(colOf: Int32Array): number[] {
  const sizes: number[] = [];
  for (let p = 0; p < colOf.length; ) {
    let q = p;
    while (q < colOf.length && colOf[q] === colOf[p]) q++;
    sizes.push(q - p);
    p = q;
  }
  return sizes;
}
