import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import type { DeviceBuffer, Engine, EngineWorkspace } from '../src/backend/engine.js';
import { webgpuDevice, type WebgpuDevice } from '../src/backend/webgpu/webgpu-device.js';
import { WebgpuEngine } from '../src/backend/webgpu/webgpu-engine.js';
import { metricLayout } from '../src/backend/kernels.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import type { NetworkDocument } from '../src/network/types.js';
import { Prng } from '../src/random/prng.js';
import { relative } from './helpers/compare.js';
import { PARITY_NETWORKS, withRidge } from './helpers/parity-networks.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

/**
 * The WebGPU engine beyond the shared parity suites (engine-parity, backend-parity and
 * kronecker-kernels run it too): the worker bridge (round trips, device errors), partial unit
 * lists of the inverses, the first failing block, usage errors, and the kernels again on the
 * parity suite's networks. Skipped, with the reason printed, only where no WebGPU adapter can
 * be opened (no GPU driver and no Mesa EGL/GL ES).
 */

let device: WebgpuDevice | undefined;
let unavailable = '';
try {
  device = await webgpuDevice();
  console.log(`webgpu-engine tests run on ${device.detail}`);
} catch (err) {
  unavailable = (err as Error).message;
  console.log(`webgpu-engine tests skipped: ${unavailable}`);
}

const tol = { exact: 2e-4, solve: 2e-2 };

const networks = PARITY_NETWORKS;

type Side = { engine: Engine; params: DeviceBuffer; ws: EngineWorkspace };

/** Forward pass, output layer and backward pass (with the backpropagated modulus) on both engines. */
function setup(doc: NetworkDocument, samples = 7) {
  const model = createModel(doc);
  const { net } = model;
  const batch = makeBatch(net, randomData(doc, samples, 11));
  const open = (engine: Engine): Side => {
    const params = engine.alloc(net.nParams);
    engine.upload(params, model.params);
    const ws = engine.workspace();
    engine.setBatch(ws, batch);
    for (let l = 1; l < net.levelOffsets.length - 1; l++) engine.forwardLevel(params, ws, l);
    engine.outputLayer(ws);
    for (let l = net.levelOffsets.length - 2; l >= 1; l--) engine.backwardLevel(params, ws, l);
    return { engine, params, ws };
  };
  const ref = open(cpuBackend.open(net, batch.size));
  const dev = open(new WebgpuEngine(device as WebgpuDevice, net, batch.size));
  const compare = (label: string, a: DeviceBuffer, b: DeviceBuffer, tolerance: number, floor = 1e-3) => {
    expect(relative(dev.engine.read(b), ref.engine.read(a), floor), label).toBeLessThan(tolerance);
  };
  return { net, ref, dev, compare };
}

describe.skipIf(device === undefined)('webgpu engine against the cpu engine', () => {
  for (const [name, doc] of networks) {
    it(`${name}: V, a, r, loss, b, b̃, backpropagated modulus, gradient with quasi-diagonal entries, and the diagonal solves`, () => {
      const { net, ref, dev, compare } = setup(doc);
      for (const key of ['pre', 'act', 'deriv', 'loss', 'back', 'backReduced'] as const) compare(key, ref.ws[key], dev.ws[key], tol.exact);
      const loss = ref.engine.meanLoss(ref.ws);
      expect(Math.abs(dev.engine.meanLoss(dev.ws) - loss)).toBeLessThan(tol.exact * Math.abs(loss) + 1e-6);
      const run = ({ engine, params, ws }: Side) => {
        const modulus = engine.alloc(net.nUnits * engine.size);
        engine.outputModulus(ws, modulus);
        for (let l = net.levelOffsets.length - 2; l >= 1; l--) engine.backwardLevel(params, ws, l, modulus);
        const g = engine.alloc(net.nParams);
        const entries = { modulus, diagonal: engine.alloc(net.nParams), cross: engine.alloc(net.nParams) };
        engine.gradient(ws, g, entries);
        const plain = engine.alloc(net.nParams);
        engine.gradient(ws, plain);
        const diagonalOnly = engine.alloc(net.nParams);
        engine.gradient(ws, engine.alloc(net.nParams), { modulus, diagonal: diagonalOnly });
        const outer = engine.alloc(net.nUnits * engine.size);
        engine.outerProductModulus(ws, outer);
        const qd = engine.alloc(net.nParams);
        engine.quasiDiagonalSolve(entries.diagonal, entries.cross, g, 1e-3, qd);
        const diag = engine.alloc(net.nParams);
        engine.diagonalSolve(entries.diagonal, g, 1e-3, false, diag);
        const root = engine.alloc(net.nParams);
        engine.diagonalSolve(entries.diagonal, g, 1e-3, true, root);
        return { modulus, g, plain, entries, diagonalOnly, outer, qd, diag, root };
      };
      const a = run(ref);
      const b = run(dev);
      compare('b after the modulus pass', ref.ws.back, dev.ws.back, tol.exact);
      compare('backpropagated modulus', a.modulus, b.modulus, tol.exact);
      compare('gradient', a.g, b.g, tol.exact);
      compare('gradient without entries', a.g, b.plain, tol.exact);
      compare('QD diagonal', a.entries.diagonal, b.entries.diagonal, tol.exact);
      compare('QD cross', a.entries.cross, b.entries.cross, tol.exact);
      compare('diagonal without cross', a.entries.diagonal, b.diagonalOnly, tol.exact);
      compare('outer-product modulus', a.outer, b.outer, tol.exact);
      compare('quasi-diagonal solve', a.qd, b.qd, tol.solve);
      compare('diagonal solve', a.diag, b.diag, tol.solve);
      compare('AdaGrad (root) solve', a.root, b.root, tol.solve);
      dev.engine.dispose();
    });
  }

  for (const [name, doc] of networks) {
    it(`${name}: unit blocks, their solves and inverses, H G, and online Sherman-Morrison steps`, () => {
      const { net, ref, dev, compare } = setup(doc);
      const layout = metricLayout(net);
      const blockLength = layout.matrixOffsets[net.nUnits];
      const ridge = (values: Float64Array, r: number) => withRidge(net, layout, values, r);
      let refBlocks: Float64Array | undefined;
      const run = ({ engine, params, ws }: Side) => {
        const modulus = engine.alloc(net.nUnits * engine.size);
        engine.outputModulus(ws, modulus);
        for (let l = net.levelOffsets.length - 2; l >= 1; l--) engine.backwardLevel(params, ws, l, modulus);
        const blocks = engine.alloc(blockLength);
        engine.unitBlocks(ws, modulus, blocks);
        refBlocks ??= engine.read(blocks).slice();
        const g = engine.alloc(net.nParams);
        engine.gradient(ws, g);
        const out = engine.alloc(net.nParams);
        const failed = engine.solveUnitBlocks(blocks, g, 1e-3, out, engine.alloc(blockLength));
        const regularised = engine.alloc(blockLength);
        engine.upload(regularised, ridge(refBlocks, 0.1));
        const inverses = engine.alloc(blockLength);
        const invFailed = engine.invertBlocks(regularised, inverses);
        const hg = engine.alloc(net.nParams);
        engine.blocksTimesVector(inverses, g, hg);
        // Some units only: the others keep what `partial` held.
        const some = [net.nUnits - 1, net.nInputs];
        const partialInverses = engine.alloc(blockLength);
        engine.invertBlocks(regularised, partialInverses, some);
        const partial = engine.alloc(net.nParams);
        engine.fill(partial, 7);
        engine.blocksTimesVector(inverses, g, partial, some);
        // Online steps from A = 0.5·Id, H = 2·Id over every sample, with the outer-product modulus.
        const outer = engine.alloc(net.nUnits * engine.size);
        engine.outerProductModulus(ws, outer);
        const start = new Float64Array(blockLength);
        const startInverse = new Float64Array(blockLength);
        for (let k = net.nInputs; k < net.nUnits; k++) {
          const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
          for (let i = 0; i < n; i++) {
            start[layout.matrixOffsets[k] + i * n + i] = 0.5;
            startInverse[layout.matrixOffsets[k] + i * n + i] = 2;
          }
        }
        const online = engine.alloc(blockLength);
        const onlineInverses = engine.alloc(blockLength);
        engine.upload(online, start);
        engine.upload(onlineInverses, startInverse);
        const direction = engine.alloc(net.nParams);
        const refused: number[][] = [];
        for (let s = 0; s < engine.size; s++) refused.push(engine.onlineBlockStep(online, onlineInverses, ws, outer, s, g, 0.2, direction));
        return { blocks, out, failed, invFailed, hg, partialInverses, partial, online, onlineInverses, direction, refused };
      };
      const a = run(ref);
      const b = run(dev);
      compare('unit blocks', a.blocks, b.blocks, tol.exact);
      expect(b.failed).toBe(a.failed);
      compare('block solve (ε = 1e-3)', a.out, b.out, tol.solve);
      expect([a.invFailed, b.invFailed]).toEqual([-1, -1]);
      compare('H G from inverted blocks', a.hg, b.hg, tol.solve);
      compare('inverses of some units', a.partialInverses, b.partialInverses, tol.solve);
      compare('H G of some units', a.partial, b.partial, tol.solve);
      expect(b.refused).toEqual(a.refused);
      compare('online blocks', a.online, b.online, tol.exact);
      compare('online inverses', a.onlineInverses, b.onlineInverses, tol.solve);
      compare('online direction', a.direction, b.direction, tol.solve);
      dev.engine.dispose();
    });
  }

  it('block solves refuse ε = 0 and report the first block that is not positive definite', () => {
    const { net, ref, dev } = setup(networks[0][1]);
    const layout = metricLayout(net);
    const blockLength = layout.matrixOffsets[net.nUnits];
    const failures = [ref, dev].map(({ engine }) => {
      const blocks = engine.alloc(blockLength);
      const values = new Float64Array(blockLength);
      // Identity blocks, but -1 on the first diagonal entry of the last two units.
      for (let k = net.nInputs; k < net.nUnits; k++) {
        const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
        for (let i = 0; i < n; i++) values[layout.matrixOffsets[k] + i * n + i] = k >= net.nUnits - 2 && i === 0 ? -1 : 1;
      }
      engine.upload(blocks, values);
      const g = engine.alloc(net.nParams);
      return engine.solveUnitBlocks(blocks, g, 1e-3, engine.alloc(net.nParams), engine.alloc(blockLength));
    });
    expect(failures).toEqual([net.nUnits - 2, net.nUnits - 2]);
    const e = dev.engine;
    expect(() => e.solveUnitBlocks(e.alloc(blockLength), e.alloc(net.nParams), 0, e.alloc(net.nParams), e.alloc(blockLength))).toThrow(/needs ε > 0/);
    e.dispose();
  });

  it('elementwise helpers: copy, fill, combine (in place too), allFinite, squaredNorm, adamStep; reads of a range; counted transfers', () => {
    const net = createModel(networks[0][1]).net;
    const engine = new WebgpuEngine(device as WebgpuDevice, net, 3);
    const ref = cpuBackend.open(net, 3);
    engine.transfers.reset();
    const x = engine.alloc(5);
    const y = engine.alloc(5);
    engine.upload(x, [1, 2, 3, 4, 5]);
    engine.fill(y, 2);
    engine.combine(y, 0.5, x, -1, y);
    expect(Array.from(engine.read(y))).toEqual([-1.5, -1, -0.5, 0, 0.5]);
    expect(engine.transfers.snapshot()).toEqual({ uploads: 1, uploadBytes: 20, reads: 1, readBytes: 20 });
    engine.combine(x, 2, x, 1, x);
    expect(Array.from(engine.read(x))).toEqual([3, 6, 9, 12, 15]);
    engine.copy(x, y);
    expect(Array.from(engine.read(y, 1, 3))).toEqual([6, 9, 12]);
    expect(engine.squaredNorm(y)).toBe(9 + 36 + 81 + 144 + 225);
    expect(engine.allFinite(y)).toBe(true);
    engine.upload(y, [Number.NaN], 2);
    expect(engine.allFinite(y)).toBe(false);
    engine.upload(y, [Number.POSITIVE_INFINITY], 2);
    expect(engine.allFinite(y)).toBe(false);
    // A long buffer: the reduction loops over more entries than its workgroup has threads.
    const long = Float64Array.from({ length: 5000 }, (_, i) => Math.sin(i));
    const z = engine.alloc(long.length);
    engine.upload(z, long);
    expect(Math.abs(engine.squaredNorm(z) - long.reduce((s, v) => s + v * v, 0))).toBeLessThan(1e-3);
    // Adam: three steps against the CPU engine.
    const rng = new Prng(3);
    const sides = [engine, ref].map((e) => ({ e, m: e.alloc(7), v: e.alloc(7), g: e.alloc(7), out: e.alloc(7) }));
    for (let step = 1; step <= 3; step++) {
      const g = Array.from({ length: 7 }, () => rng.normal());
      for (const s of sides) {
        s.e.upload(s.g, g);
        s.e.adamStep(s.m, s.v, s.g, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step }, s.out);
      }
    }
    const [w, c] = sides;
    for (const key of ['m', 'v', 'out'] as const) expect(relative(w.e.read(w[key]), c.e.read(c[key])), key).toBeLessThan(tol.exact);
    engine.dispose();
    expect(() => engine.alloc(1)).toThrow(/after dispose/);
  });
});

describe.skipIf(device === undefined)('webgpu engine transfers', () => {
  it('moves only the batch in, the losses out and one status number per iteration, whatever the number of levels; constants once at open', () => {
    const S = 16;
    for (const hidden of [2, 9]) {
      const doc = randomNetwork({ interpretation: hidden === 2 ? 'softmax' : 'bernoulli', seed: 40 + hidden, inputs: 5, hidden, outputs: 3, density: 1, activations: ['sigmoid', 'tanh'] });
      const model = createModel(doc);
      const { net } = model;
      const batch = makeBatch(net, randomData(doc, S, 3));
      const engine = new WebgpuEngine(device as WebgpuDevice, net, S);
      const layout = metricLayout(net);
      const tableEntries = 13 + 3 * (net.nUnits + 1) + net.nUnits + 3 * net.nEdges + net.nOutputs + net.nParams + net.nUnits + 1;
      // The index table (i32), [kind, gain, scale, shift] per unit and the mask of non-input units.
      expect(engine.transfers.snapshot()).toEqual({ uploads: 3, uploadBytes: 4 * (tableEntries + 4 * net.nUnits + net.nUnits), reads: 0, readBytes: 0 });
      const params = engine.alloc(net.nParams);
      engine.upload(params, model.params);
      const ws = engine.workspace();
      const perUnit = () => engine.alloc(net.nUnits * S);
      const perParam = () => engine.alloc(net.nParams);
      const [modulus, fisher, g, diagonal, cross, dw] = [perUnit(), perUnit(), perParam(), perParam(), perParam(), perParam()];
      const [blocks, work] = [engine.alloc(layout.matrixOffsets[net.nUnits]), engine.alloc(layout.matrixOffsets[net.nUnits])];
      for (let round = 0; round < 2; round++) {
        engine.transfers.reset();
        engine.setBatch(ws, batch);
        const levels = net.levelOffsets.length - 1;
        for (let l = 1; l < levels; l++) engine.forwardLevel(params, ws, l);
        engine.outputLayer(ws);
        const before = engine.meanLoss(ws);
        engine.outputModulus(ws, modulus);
        for (let l = levels - 1; l >= 1; l--) engine.backwardLevel(params, ws, l, modulus);
        engine.fisherModulus(params, ws, fisher);
        engine.gradient(ws, g, { modulus, diagonal, cross });
        engine.unitBlocks(ws, fisher, blocks);
        expect(engine.solveUnitBlocks(blocks, g, 1e-3, dw, work)).toBe(-1);
        engine.combine(params, 1, params, 0.01, dw);
        for (let l = 1; l < levels; l++) engine.forwardLevel(params, ws, l);
        engine.outputLayer(ws);
        const after = engine.meanLoss(ws);
        expect(Number.isFinite(before) && Number.isFinite(after)).toBe(true);
        expect(engine.transfers.snapshot()).toEqual({ uploads: 2, uploadBytes: 4 * S * (net.nInputs + net.nOutputs), reads: 3, readBytes: 12 });
      }
      engine.dispose();
    }
  });
});
