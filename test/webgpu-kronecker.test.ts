import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import type { Backend, TransferStats } from '../src/backend/engine.js';
import { useBackend } from '../src/backend/load.js';
import type { KroneckerCurvature, KroneckerState } from '../src/curvature/kronecker/kronecker-curvature.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel, type Model } from '../src/engine/model.js';
import { loadBatch } from '../src/engine/propagate.js';
import { NumericalError } from '../src/errors.js';
import { createMethod, type CurvatureOptions } from '../src/methods/methods.js';
import { MethodRunner } from '../src/methods/runner.js';
import type { NetworkDocument } from '../src/network/types.js';
import { Prng } from '../src/random/prng.js';
import type { WebgpuKronecker } from '../src/backend/webgpu/webgpu-kronecker.js';
import { relative } from './helpers/compare.js';
import { layeredNetwork } from './helpers/layered-network.js';
import { randomData } from './helpers/random-network.js';

/**
 * The Kronecker curvatures' device route on webgpu (complete groups, factored damping, ε > 0:
 * factors, running averages, frozen copies, damped Cholesky factors and grid solves on the
 * device) against the CPU engine's host route: directions over several iterations with decay
 * and periodic inverses, what crosses per iteration, a network with complete and sparse groups,
 * the states read back, and a factor that is not positive definite.
 */

let webgpu: Backend | undefined;
let unavailable = '';
try {
  webgpu = await useBackend('webgpu');
} catch (err) {
  unavailable = (err as Error).message;
  console.log(`webgpu-kronecker tests skipped: ${unavailable}`);
}

const TOLERANCE = 2e-3;
const EPSILON = 1e-3;
const SAMPLES = 16;

/** Parameters of iteration t: the model's, scaled a little differently each time. */
const paramsAt = (model: Model, t: number) => model.params.map((w, i) => w * (1 + 0.05 * Math.sin(t + i)));

/** Runs `iterations` measurements (decay 0.5) and solves of a Kronecker method; directions and the last state. */
function run(backend: Backend, doc: NetworkDocument, method: 'kflr' | 'kfac', options: CurvatureOptions, iterations: number) {
  const model = createModel(doc);
  const batch = makeBatch(model.net, randomData(doc, SAMPLES, 3));
  const engine = backend.open(model.net, batch.size);
  const m = createMethod(method, options);
  const runner = new MethodRunner(engine, m);
  const random = { rng: new Prng(17), mcSamples: 2 };
  const directions: Float64Array[] = [];
  const transfers: TransferStats[] = [];
  for (let t = 0; t < iterations; t++) {
    const { params, ws } = loadBatch(engine, paramsAt(model, t), batch);
    engine.transfers.reset();
    runner.measure(params, ws, 0.5, random);
    const out = runner.solve(EPSILON);
    transfers.push(engine.transfers.snapshot());
    directions.push(engine.read(out).slice());
  }
  const curvature = m.curvature as unknown as KroneckerCurvature;
  return { engine, runner, curvature, state: runner.state as KroneckerState, directions, transfers, model, batch };
}

/** The same backend with its engines' Kronecker kernels hidden: the host route on the same device. */
const hostRoute = (backend: Backend): Backend => ({
  ...backend,
  open(net, size) {
    const engine = backend.open(net, size);
    Object.defineProperty(engine, 'kronecker', { value: undefined });
    return engine;
  },
});

/** The same backend with its engines' Kronecker solves by triangular solves whatever the rule (the tests' plans take the explicit inverses). */
const triangularRoute = (backend: Backend): Backend => ({
  ...backend,
  open(net, size) {
    const engine = backend.open(net, size);
    (engine.kronecker as WebgpuKronecker).design = 'triangular';
    return engine;
  },
});

describe.skipIf(!webgpu)('Kronecker device route (webgpu)', () => {
  const dense = layeredNetwork([6, 8, 5, 3], { interpretation: 'softmax', seed: 5 });

  it('kflr and kfac: directions of 5 iterations (decay 0.5, inverses every 2) agree with the cpu host route', () => {
    for (const method of ['kflr', 'kfac'] as const) {
      const ref = run(cpuBackend, dense, method, { inverseEvery: 2 }, 5);
      const dev = run(webgpu as Backend, dense, method, { inverseEvery: 2 }, 5);
      expect(dev.state.device?.indices.length, method).toBe(3);
      ref.directions.forEach((d, t) => expect(relative(dev.directions[t], d), `${method} iteration ${t}`).toBeLessThan(TOLERANCE));
      expect(relative(dev.curvature.toDense(dev.engine, dev.state), ref.curvature.toDense(ref.engine, ref.state), 1e-3), method).toBeLessThan(TOLERANCE);
      expect(relative(dev.curvature.pi(dev.state), ref.curvature.pi(ref.state)), method).toBeLessThan(TOLERANCE);
      ref.runner.dispose();
      dev.runner.dispose();
    }
  });
  it('factors wider than the Cholesky workgroup (A\' 131×131, G\' 70×70): kflr as on the cpu, by explicit inverses and by triangular solves', () => {
    const wide = layeredNetwork([130, 70, 4], { interpretation: 'bernoulli', seed: 6 });
    const ref = run(cpuBackend, wide, 'kflr', { inverseEvery: 2 }, 3);
    for (const backend of [webgpu as Backend, triangularRoute(webgpu as Backend)]) {
      const dev = run(backend, wide, 'kflr', { inverseEvery: 2 }, 3);
      expect(dev.state.device?.indices).toEqual([0, 1]);
      ref.directions.forEach((d, t) => expect(relative(dev.directions[t], d), `iteration ${t}`).toBeLessThan(TOLERANCE));
      dev.runner.dispose();
    }
    ref.runner.dispose();
  });

  it('per iteration on the route: no gradient read, no direction upload, no factor read (the loss, 4 bytes at a refresh; K-FAC uploads its draws)', () => {
    const { net } = createModel(dense);
    for (const method of ['kflr', 'kfac'] as const) {
      const dev = run(webgpu as Backend, dense, method, { inverseEvery: 2 }, 5);
      const host = run(hostRoute(webgpu as Backend), dense, method, { inverseEvery: 2 }, 5);
      // The host route on the same engine reads the factors and the gradient and uploads the direction.
      expect(host.transfers[1].readBytes).toBeGreaterThan(4 * net.nParams);
      expect(host.transfers[1].uploadBytes).toBeGreaterThanOrEqual(4 * net.nParams);
      expect(relative(dev.directions[4], host.directions[4])).toBeLessThan(TOLERANCE);
      dev.transfers.slice(1).forEach((s, i) => {
        const t = i + 1;
        const label = `${method} iteration ${t}`;
        // The batch's mean loss; at the refreshes (iterations 0, 2, 4), the factorisation's failure flag.
        expect(s.readBytes, label).toBe(t % 2 === 0 ? 8 : 4);
        expect(s.uploadBytes, label).toBe(method === 'kfac' ? 2 * net.nOutputs * SAMPLES * 4 : 0);
      });
      dev.runner.dispose();
      host.runner.dispose();
    }
  });

  it('a network with complete and sparse groups: the complete ones on the device, the sparse ones on the host, one direction', () => {
    // Level 2 loses two edges: a sparse group between two complete ones.
    const doc: NetworkDocument = { ...dense, edges: dense.edges.filter((e) => !(e.target === 'l2u1' && (e.source === 'l1u0' || e.source === 'l1u3'))) };
    for (const method of ['kflr', 'kfac'] as const) {
      const ref = run(cpuBackend, doc, method, { inverseEvery: 2 }, 3);
      const dev = run(webgpu as Backend, doc, method, { inverseEvery: 2 }, 3);
      expect(dev.state.device?.indices, method).toEqual([0, 2]);
      expect(dev.curvature.report(dev.state).map((r) => r.route), method).toEqual(ref.curvature.report(ref.state).map((r) => r.route));
      ref.directions.forEach((d, t) => expect(relative(dev.directions[t], d), `${method} iteration ${t}`).toBeLessThan(TOLERANCE));
      ref.runner.dispose();
      dev.runner.dispose();
    }
  });

  it('serialize/restore: a restored state goes back to the device and solves as the one it came from; ε = 0 takes the host route', () => {
    const dev = run(webgpu as Backend, dense, 'kflr', { inverseEvery: 2 }, 2);
    const { engine, curvature, state, runner } = dev;
    const saved = JSON.parse(JSON.stringify(curvature.serialize(engine, state)));
    const restored = curvature.restore(engine, saved);
    const out = engine.alloc(engine.net.nParams);
    curvature.solve(engine, restored, runner.gradient, EPSILON, out);
    expect(restored.device).toBeDefined();
    curvature.solve(engine, state, runner.gradient, EPSILON, runner.direction);
    expect(relative(engine.read(out), engine.read(runner.direction))).toBeLessThan(1e-6);
    // ε = 0: the factors come back to the host arrays and the host route solves from then on.
    curvature.solve(engine, restored, runner.gradient, 0, out);
    expect(restored.device).toBeUndefined();
    expect(relative(curvature.toDense(engine, restored), curvature.toDense(engine, state), 1e-3)).toBeLessThan(1e-6);
    curvature.dispose(engine, restored);
    runner.dispose();
  });

  it('a damped factor not positive definite in float32 is a NumericalError naming the group (the host route does not fail)', () => {
    const dev = run(webgpu as Backend, dense, 'kflr', {}, 1);
    const { engine, curvature, state, runner } = dev;
    const saved = curvature.serialize(engine, state);
    // arrays: [frozenAt], A_g ×3, G_g ×3, frozen A_g ×3, frozen G_g ×3: G of level 2 made -I (its trace < 0: π = 1).
    const m = 5;
    const negative = Array.from({ length: m * m }, (_, i) => (i % (m + 1) === 0 ? -1 : 0));
    saved.arrays[5] = negative;
    saved.arrays[11] = negative;
    const broken = curvature.restore(engine, saved);
    expect(() => curvature.solve(engine, broken, runner.gradient, EPSILON, runner.direction)).toThrow(NumericalError);
    expect(() => curvature.solve(engine, broken, runner.gradient, EPSILON, runner.direction)).toThrow(/group 'level 2': its damped factor G' \(5×5\) is not positive definite in float32/);
    const cpu = run(cpuBackend, dense, 'kflr', {}, 1);
    const onHost = cpu.curvature.restore(cpu.engine, saved);
    expect(() => cpu.curvature.solve(cpu.engine, onHost, cpu.runner.gradient, EPSILON, cpu.runner.direction)).not.toThrow();
    curvature.dispose(engine, broken);
    runner.dispose();
    cpu.runner.dispose();
  });
});
