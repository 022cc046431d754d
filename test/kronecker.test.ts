import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { centredGroupDirection } from '../src/curvature/kronecker/centred.js';
import { dampFactors, KroneckerInverse } from '../src/curvature/kronecker/factor-inverse.js';
import { groupSolver, restrictedMatrix } from '../src/curvature/kronecker/group-solve.js';
import { buildGroups, recursionOrder } from '../src/curvature/kronecker/groups.js';
import { checkKroneckerMemory } from '../src/curvature/kronecker/kronecker-memory.js';
import type { KroneckerCurvature, KroneckerState } from '../src/curvature/kronecker/kronecker-curvature.js';
import { wholeNetworkFisher } from '../src/curvature/whole-network.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel, type Model } from '../src/engine/model.js';
import { loadBatch } from '../src/engine/propagate.js';
import { UsageError } from '../src/errors.js';
import { createMethod, type CurvatureOptions } from '../src/methods/methods.js';
import { MethodRunner } from '../src/methods/runner.js';
import { INTERPRETATIONS, type DataDocument } from '../src/network/types.js';
import { Prng } from '../src/random/prng.js';
import { bruteForceFisher, squareLossFisherByJacobian } from './helpers/brute-force.js';
import { relative } from './helpers/compare.js';
import { denseSolve } from './helpers/dense-solve.js';
import { layeredNetwork } from './helpers/layered-network.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

/** One measurement of a Kronecker method on the CPU engine. */
function measureKronecker(model: Model, data: DataDocument, method: 'kflr' | 'kfac' | 'kfra', options: CurvatureOptions = {}, mcSamples = 1) {
  const engine = cpuBackend.open(model.net, data.inputs.length);
  const { params, ws } = loadBatch(engine, model.params, makeBatch(model.net, data));
  const m = createMethod(method, options);
  const runner = new MethodRunner(engine, m);
  runner.measure(params, ws, 1, { rng: new Prng(11), mcSamples });
  const curvature = m.curvature as unknown as KroneckerCurvature;
  return { engine, params, ws, runner, curvature, state: runner.state as KroneckerState, dense: curvature.toDense(engine, runner.state as KroneckerState) };
}

/** Entries of `dense` (P × P) on the pairs of one group's parameters. */
function groupBlock(dense: Float64Array, P: number, params: Int32Array): Float64Array {
  return Float64Array.from({ length: params.length ** 2 }, (_, i) => dense[params[Math.floor(i / params.length)] * P + params[i % params.length]]);
}

const randomVector = (n: number, seed: number) => {
  const rng = new Prng(seed);
  return Float64Array.from({ length: n }, () => rng.normal());
};

/** A random symmetric positive-definite n × n matrix (B Bᵀ / n + δ I). */
function randomSpd(n: number, seed: number, delta = 0.1): Float64Array {
  const b = randomVector(n * n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += b[i * n + k] * b[j * n + k];
    a[i * n + j] = s / n + (i === j ? delta : 0);
  }
  return a;
}

describe('groups', () => {
  const doc = randomNetwork({ interpretation: 'bernoulli', seed: 4, inputs: 3, hidden: 5, outputs: 2, density: 0.6 });
  const { net } = createModel(doc);

  it('levels, units and attribute groupings cover every non-input unit once, with their parameters', () => {
    for (const grouping of ['levels', 'units'] as const) {
      const groups = buildGroups(net, grouping);
      const seen = new Int32Array(net.nParams);
      for (const g of groups) g.params.forEach((p) => seen[p]++);
      expect(Array.from(seen).every((c) => c === 1), grouping).toBe(true);
      for (const g of groups) g.params.forEach((p, j) => expect(g.rowOf[j] === 0).toBe(p === net.blockOffsets[g.units[g.colOf[j]]]));
    }
    expect(buildGroups(net, 'levels')).toHaveLength(net.levelOffsets.length - 2);
    expect(() => buildGroups(net, 'attribute')).toThrow(/no "group" attribute/);
    const named = structuredClone(doc);
    named.nodes.forEach((n, i) => n.attributes.role !== 'input' && (n.attributes.group = i % 2 ? 'odd' : 'even'));
    const groups = buildGroups(createModel(named).net, 'attribute');
    expect(groups.map((g) => g.name).sort()).toEqual(['even', 'odd']);
  });

  it('KFRA refuses an edge inside a group and accepts the levels', () => {
    const named = structuredClone(doc);
    named.nodes.forEach((n) => n.attributes.role !== 'input' && (n.attributes.group = 'all'));
    const m = createModel(named);
    expect(() => recursionOrder(m.net, buildGroups(m.net, 'attribute'))).toThrow(UsageError);
    expect(() => recursionOrder(m.net, buildGroups(m.net, 'attribute'))).toThrow(/lies inside group 'all'/);
    const order = recursionOrder(net, buildGroups(net, 'levels'));
    expect(order).toEqual([...order].sort((a, b) => b - a));
  });
});

describe('Kronecker factors against the exact Fisher matrix', () => {
  for (const interpretation of INTERPRETATIONS) {
    it(`${interpretation}, one datum: KFLR's A ⊗ G (ε = 0) is the exact Fisher block of every group`, () => {
      const doc = randomNetwork({ interpretation, seed: 21, inputs: 3, hidden: 5, outputs: 3, density: 0.6, activations: ['sigmoid', 'tanh', 'linear'] });
      const model = createModel(doc);
      const data = randomData(doc, 1, 5);
      const k = measureKronecker(model, data, 'kflr');
      const P = model.net.nParams;
      const fisher = wholeNetworkFisher(k.engine, k.params, k.ws);
      const brute = interpretation === 'bernoulli' || interpretation === 'softmax' ? bruteForceFisher(model, data) : undefined;
      for (const g of k.state.groups) {
        const block = groupBlock(k.dense, P, g.params);
        expect(relative(block, groupBlock(fisher, P, g.params)), g.name).toBeLessThan(1e-12);
        if (brute) expect(relative(block, groupBlock(brute, P, g.params)), `${g.name} (brute force)`).toBeLessThan(1e-10);
      }
    });
  }

  it('deep linear network, square loss, 6 samples: KFLR is the exact Fisher block of every group', () => {
    const doc = layeredNetwork([3, 4, 3, 2], { interpretation: 'square', activation: 'linear', density: 0.7, seed: 3 });
    const model = createModel(doc);
    const data = randomData(doc, 6, 8);
    const k = measureKronecker(model, data, 'kflr');
    const P = model.net.nParams;
    const jacobian = squareLossFisherByJacobian(model, data);
    const fisher = wholeNetworkFisher(k.engine, k.params, k.ws);
    for (const g of k.state.groups) {
      expect(relative(groupBlock(k.dense, P, g.params), groupBlock(fisher, P, g.params)), g.name).toBeLessThan(1e-12);
      expect(relative(groupBlock(k.dense, P, g.params), groupBlock(jacobian, P, g.params)), `${g.name} (finite differences)`).toBeLessThan(1e-6);
    }
    // With nonlinear units the Kronecker product is only an approximation (several samples).
    const tanh = createModel(layeredNetwork([3, 4, 3, 2], { interpretation: 'square', activation: 'tanh', density: 0.7, seed: 3 }));
    const t = measureKronecker(tanh, data, 'kflr');
    const tf = wholeNetworkFisher(t.engine, t.params, t.ws);
    const g0 = t.state.groups[0];
    expect(relative(groupBlock(t.dense, P, g0.params), groupBlock(tf, P, g0.params))).toBeGreaterThan(1e-4);
  });

  for (const interpretation of INTERPRETATIONS) {
    it(`${interpretation}, layered, one datum: KFRA equals KFLR; several data: it does not`, () => {
      const doc = layeredNetwork([3, 5, 4, 3], { interpretation, density: 0.7, seed: 9 });
      const model = createModel(doc);
      const one = randomData(doc, 1, 2);
      const kflr = measureKronecker(model, one, 'kflr');
      const kfra = measureKronecker(model, one, 'kfra');
      kflr.state.groups.forEach((g, i) => expect(relative(kfra.state.G[i], kflr.state.G[i]), g.name).toBeLessThan(1e-12));
      const many = randomData(doc, 5, 2);
      const a = measureKronecker(model, many, 'kflr');
      const b = measureKronecker(model, many, 'kfra');
      expect(relative(b.state.G[0], a.state.G[0])).toBeGreaterThan(1e-6);
      // The output group's factor is exact in both (no recursion below it).
      const top = a.state.groups.length - 1;
      expect(relative(b.state.G[top], a.state.G[top])).toBeLessThan(1e-12);
    });
  }

  it('K-FAC with many draws approaches KFLR (factors within a few percent)', () => {
    for (const interpretation of ['bernoulli', 'softmax'] as const) {
      const doc = layeredNetwork([3, 4, 3], { interpretation, density: 0.8, seed: 5 });
      const model = createModel(doc);
      const data = randomData(doc, 4, 3);
      const exact = measureKronecker(model, data, 'kflr');
      const mc = measureKronecker(model, data, 'kfac', {}, 20000);
      exact.state.groups.forEach((g, i) => {
        expect(relative(mc.state.G[i], exact.state.G[i]), `${interpretation} ${g.name}`).toBeLessThan(0.05);
        expect(relative(mc.state.A[i], exact.state.A[i])).toBeLessThan(1e-14);
      });
      const few = measureKronecker(model, data, 'kfac', {}, 1);
      expect(relative(few.state.G[0], exact.state.G[0])).toBeGreaterThan(0.05);
    }
  });
});

describe('Kronecker solves', () => {
  // A sparse group: 4 units over 6 sources, each unit fed by some of them.
  const doc = layeredNetwork([6, 4, 2], { interpretation: 'bernoulli', density: 0.5, seed: 12 });
  const { net } = createModel(doc);
  const group = buildGroups(net, 'levels')[0];
  const n = group.sources.length + 1;
  const m = group.units.length;
  const A = randomSpd(n, 1);
  const G = randomSpd(m, 2);
  const grad = randomVector(group.params.length, 3);

  it('the test group is sparse', () => expect(group.complete).toBe(false));

  for (const damping of ['factored', 'exact'] as const) {
    it(`${damping} damping: restricted direct and CG solves equal a dense solve of M_g; masked equals its dense formula`, () => {
      const f = dampFactors(A, n, G, m, 0.01, damping);
      const M = restrictedMatrix(group, f);
      const expected = denseSolve(M, grad);
      for (const limit of [Infinity, 0]) {
        const solver = groupSolver(group, f, 'restricted', { directOnly: limit });
        const out = new Float64Array(grad.length);
        solver.solve(grad, out);
        expect(solver.route).toBe(limit === 0 ? 'cg' : 'direct');
        expect(relative(out, expected), solver.route).toBeLessThan(1e-10);
        if (solver.route === 'cg') expect(solver.iterations).toBeGreaterThan(0);
      }
      // Masked: the dense K = A' ⊗ G' + c I on the whole grid, solved, then restricted.
      const K = new Float64Array((n * m) ** 2);
      for (let p = 0; p < n * m; p++) for (let q = 0; q < n * m; q++) {
        K[p * n * m + q] = f.A[Math.floor(p / m) * n + Math.floor(q / m)] * f.G[(p % m) * m + (q % m)] + (p === q ? f.shift : 0);
      }
      const grid = new Float64Array(n * m);
      group.params.forEach((_, j) => (grid[group.rowOf[j] * m + group.colOf[j]] = grad[j]));
      const full = denseSolve(K, grid);
      const masked = Float64Array.from(group.params, (_, j) => full[group.rowOf[j] * m + group.colOf[j]]);
      const out = new Float64Array(grad.length);
      groupSolver(group, f, 'masked').solve(grad, out);
      expect(relative(out, masked)).toBeLessThan(1e-10);
      expect(relative(out, expected)).toBeGreaterThan(1e-3);
    });
  }

  it('a diagonal G gives a block-diagonal M_g: per-unit solves equal the dense solve', () => {
    const diagonalG = Float64Array.from(G, (v, i) => (i % (m + 1) === 0 ? v : 0));
    const f = dampFactors(A, n, diagonalG, m, 0.01, 'factored');
    const solver = groupSolver(group, f, 'restricted');
    const out = new Float64Array(grad.length);
    solver.solve(grad, out);
    expect(solver.route).toBe('units');
    expect(relative(out, denseSolve(restrictedMatrix(group, f), grad))).toBeLessThan(1e-10);
  });

  it('matrix form (Cholesky and eigen routes) equals the dense Kronecker solve on a complete grid', () => {
    const r = randomVector(n * m, 4);
    for (const shift of [0, 0.3]) {
      const out = new Float64Array(n * m);
      const inverse = new KroneckerInverse(A, G, n, m, shift);
      inverse.apply(r, out);
      expect(inverse.eigen).toBe(shift !== 0);
      const K = new Float64Array((n * m) ** 2);
      for (let p = 0; p < n * m; p++) for (let q = 0; q < n * m; q++) K[p * n * m + q] = A[Math.floor(p / m) * n + Math.floor(q / m)] * G[(p % m) * m + (q % m)];
      expect(relative(out, denseSolve(K, r, shift))).toBeLessThan(1e-10);
    }
  });

  it("seed 000's bias-separated centred form equals the homogeneous direction on a complete group (1e-10)", () => {
    const docFull = layeredNetwork([5, 3, 2], { interpretation: 'softmax', density: 1, seed: 6 });
    const model = createModel(docFull);
    const data = randomData(docFull, 12, 7);
    const k = measureKronecker(model, data, 'kflr');
    const g = k.state.groups[0];
    expect(g.complete).toBe(true);
    const n1 = g.sources.length + 1;
    const mg = g.units.length;
    const gradient = k.engine.read(k.runner.gradient);
    const grid = new Float64Array(n1 * mg);
    g.params.forEach((p, j) => (grid[g.rowOf[j] * mg + g.colOf[j]] = gradient[p]));
    const homogeneous = new Float64Array(n1 * mg);
    new KroneckerInverse(k.state.A[0], k.state.G[0], n1, mg, 0).apply(grid, homogeneous);
    expect(relative(centredGroupDirection(k.state.A[0], k.state.G[0], grid, n1, mg), homogeneous)).toBeLessThan(1e-10);
  });
});

describe('the Kronecker curvature object', () => {
  const doc = layeredNetwork([4, 5, 3], { interpretation: 'bernoulli', density: 0.6, seed: 8 });
  const model = createModel(doc);
  const data = randomData(doc, 7, 9);

  it('solve is the block-diagonal restricted solve of toDense + damping; serialize/restore and fromDense round-trip', () => {
    for (const method of ['kflr', 'kfac', 'kfra'] as const) {
      const k = measureKronecker(model, data, method, { kroneckerDamping: 'exact' });
      const P = model.net.nParams;
      const gradient = k.engine.read(k.runner.gradient).slice();
      const direction = k.engine.read(k.runner.solve(1e-3)).slice();
      // Exact damping: M + εI restricted to each group's block.
      for (const g of k.state.groups) {
        const expected = denseSolve(groupBlock(k.dense, P, g.params), Float64Array.from(g.params, (p) => gradient[p]), 1e-3);
        expect(relative(Float64Array.from(g.params, (p) => direction[p]), expected), `${method} ${g.name}`).toBeLessThan(1e-9);
      }
      const restored = k.curvature.restore(k.engine, JSON.parse(JSON.stringify(k.curvature.serialize(k.engine, k.state))));
      expect(relative(k.curvature.toDense(k.engine, restored), k.dense)).toBe(0);
      const refit = k.curvature.fromDense(k.engine, k.dense);
      expect(relative(k.curvature.toDense(k.engine, refit), k.dense)).toBeLessThan(1e-10);
    }
  });

  it('decayed updates average the factors; the inverses follow every T updates', () => {
    const engine = cpuBackend.open(model.net, data.inputs.length);
    const m = createMethod('kflr', { inverseEvery: 3 });
    const curvature = m.curvature as unknown as KroneckerCurvature;
    const runner = new MethodRunner(engine, m);
    const random = { rng: new Prng(1), mcSamples: 1 };
    const params = [model.params, model.params.map((w) => w * 0.9), model.params.map((w) => w * 1.1)];
    const singles = params.map((p) => {
      const single = measureKronecker({ ...model, params: p }, data, 'kflr');
      return single.state.G[0].slice();
    });
    const directions: Float64Array[] = [];
    params.forEach((p) => {
      const { params: buffer, ws } = loadBatch(engine, p, makeBatch(model.net, data));
      runner.measure(buffer, ws, 0.5, random);
      directions.push(engine.read(runner.solve(1e-3)).slice());
    });
    const state = runner.state as KroneckerState;
    const expected = singles[0].map((g0, i) => 0.5 * (0.5 * g0 + 0.5 * singles[1][i]) + 0.5 * singles[2][i]);
    expect(relative(state.G[0], expected)).toBeLessThan(1e-12);
    expect(state.frozenAt).toBe(1);
    expect(relative(state.frozenG[0], singles[0])).toBeLessThan(1e-12);
    expect(curvature.carriesState).toBe(true);
  });

  it('refuses factors beyond the memory limit, naming the largest group', () => {
    const groups = buildGroups(model.net, 'levels');
    expect(() => checkKroneckerMemory(groups, 1000)).toThrow(/largest group, 'level 1', has 5 units over 4 sources/);
    expect(() => checkKroneckerMemory(groups)).not.toThrow();
  });

  it('refuses a bad inverse period', () => {
    expect(() => createMethod('kfac', { inverseEvery: 0 })).toThrow(/--inverse-every 0/);
  });
});
