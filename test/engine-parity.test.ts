import { beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { backwardPass, forwardPass, type Backend, type DeviceBuffer, type Engine, type EngineWorkspace } from '../src/backend/engine.js';
import { useBackend } from '../src/backend/load.js';
import { metricLayout } from '../src/backend/kernels.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { loadBatch } from '../src/engine/propagate.js';
import type { NetworkDocument } from '../src/network/types.js';
import { outputDraws } from '../src/metrics/output-metric.js';
import { Prng } from '../src/random/prng.js';
import { PARITY_NETWORKS, withRidge } from './helpers/parity-networks.js';
import { randomData } from './helpers/random-network.js';
import { distTfjsWebgpu } from './helpers/tfjs-webgpu.js';
import { relative } from './helpers/compare.js';

const relativeGap = (a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3) => relative(a, b, floor);

/**
 * One suite, every backend: each engine kernel against the Float64 CPU reference engine, with a
 * tolerance set by the backend's precision. Buffers are read back only through `engine.read`.
 */


const tolerance = (engine: Engine) => (engine.precision === 'float64' ? { exact: 1e-12, solve: 1e-9 } : { exact: 2e-4, solve: 2e-2 });

const backends: Array<[string, () => Promise<Backend>]> = [
  ['cpu', async () => cpuBackend],
  ['tfjs-cpu', () => useBackend('tfjs', { tfjsBackend: 'cpu' })],
  ['tfjs-wasm', () => useBackend('tfjs', { tfjsBackend: 'wasm' })],
  ['tfjs-webgpu', distTfjsWebgpu],
  ['gpujs', () => useBackend('gpujs')],
  ['webgpu', () => useBackend('webgpu')],
];

const networks = PARITY_NETWORKS;

/** Both engines after forward, output layer and backward on one batch, with helpers to compare buffers. */
function setup(backend: Backend, doc: NetworkDocument, samples = 7) {
  const model = createModel(doc);
  const { net } = model;
  const batch = makeBatch(net, randomData(doc, samples, 11));
  const open = (b: Backend) => {
    const engine = b.open(net, batch.size);
    const { params, ws } = loadBatch(engine, model.params, batch);
    forwardPass(engine, params, ws);
    engine.outputLayer(ws);
    backwardPass(engine, params, ws);
    return { engine, params, ws };
  };
  const ref = open(cpuBackend);
  const dev = open(backend);
  const perUnit = () => [ref.engine.alloc(net.nUnits * batch.size), dev.engine.alloc(net.nUnits * batch.size)] as const;
  const compare = (label: string, a: DeviceBuffer, b: DeviceBuffer, tol: number, floor?: number) => {
    expect(relativeGap(dev.engine.read(b), ref.engine.read(a), floor), label).toBeLessThan(tol);
  };
  return { model, net, batch, ref, dev, perUnit, compare, tol: tolerance(dev.engine) };
}

type Side = { engine: Engine; params: DeviceBuffer; ws: EngineWorkspace };

describe.each(backends)('engine parity: %s against the cpu engine', (_name, load) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await load();
  });

  for (const [interpretation, doc] of networks) {
    describe(interpretation, () => {
      it('propagation: V, a, r, loss, b, b̃, gradient with quasi-diagonal entries', () => {
        const { ref, dev, compare, tol, net } = setup(backend, doc);
        for (const key of ['pre', 'act', 'deriv', 'loss', 'backReduced'] as const) compare(key, ref.ws[key], dev.ws[key], tol.exact);
        expect(Math.abs(dev.engine.meanLoss(dev.ws) - ref.engine.meanLoss(ref.ws))).toBeLessThan(tol.exact * Math.abs(ref.engine.meanLoss(ref.ws)) + 1e-12);
        const run = (side: Side) => {
          const modulus = side.engine.alloc(net.nUnits * side.engine.size);
          side.engine.outputModulus(side.ws, modulus);
          backwardPass(side.engine, side.params, side.ws, modulus);
          const g = side.engine.alloc(net.nParams);
          const entries = { modulus, diagonal: side.engine.alloc(net.nParams), cross: side.engine.alloc(net.nParams) };
          side.engine.gradient(side.ws, g, entries);
          return { modulus, g, entries };
        };
        const a = run(ref);
        const b = run(dev);
        compare('back', ref.ws.back, dev.ws.back, tol.exact);
        compare('backpropagated modulus', a.modulus, b.modulus, tol.exact);
        compare('gradient', a.g, b.g, tol.exact);
        compare('QD diagonal', a.entries.diagonal, b.entries.diagonal, tol.exact);
        compare('QD cross', a.entries.cross, b.entries.cross, tol.exact);
      });

      it('metrics: Fisher, Monte-Carlo and outer-product moduli; transfer rates', () => {
        const { ref, dev, compare, tol, net, perUnit } = setup(backend, doc);
        const [ra, rb] = perUnit();
        ref.engine.fisherModulus(ref.params, ref.ws, ra);
        dev.engine.fisherModulus(dev.params, dev.ws, rb);
        compare('Fisher modulus', ra, rb, tol.exact);
        const draws = outputDraws(net, ref.engine.size, new Prng(4), 3);
        ref.engine.monteCarloModulus(ref.params, ref.ws, draws, ra);
        dev.engine.monteCarloModulus(dev.params, dev.ws, draws, rb);
        compare('Monte-Carlo modulus', ra, rb, tol.exact);
        compare('b̃ kept by the Monte-Carlo draws', ref.ws.backReduced, dev.ws.backReduced, tol.exact);
        ref.engine.outerProductModulus(ref.ws, ra);
        dev.engine.outerProductModulus(dev.ws, rb);
        compare('outer-product modulus', ra, rb, tol.exact);
        for (let j = 0; j < net.nOutputs; j++) {
          const [ja, jb] = perUnit();
          const [xa, xb] = perUnit();
          ref.engine.transferRates(ref.params, ref.ws, j, ja, xa);
          dev.engine.transferRates(dev.params, dev.ws, j, jb, xb);
          compare(`raw transfer rates of output ${j}`, xa, xb, tol.exact);
        }
        // A chunk of outputs in one pass: [nUnits × count × size], 0 off each output's ancestry.
        const first = net.nOutputs > 1 ? 1 : 0;
        const count = net.nOutputs - first;
        const S = ref.engine.size;
        const [ca, cb] = [ref.engine.alloc(net.nUnits * count * S), dev.engine.alloc(net.nUnits * count * S)];
        ref.engine.transferRateChunk(ref.params, ref.ws, first, count, ca);
        dev.engine.fill(cb, 7);
        dev.engine.transferRateChunk(dev.params, dev.ws, first, count, cb);
        compare('a chunk of transfer rates', ca, cb, tol.exact);
        const expected = new Float64Array(net.nUnits * count * S);
        for (let c = 0; c < count; c++) {
          const one = ref.engine.alloc(net.nUnits * S);
          ref.engine.transferRates(ref.params, ref.ws, first + c, one);
          const rates = ref.engine.read(one);
          for (let k = 0; k < net.nUnits; k++) expected.set(rates.subarray(k * S, (k + 1) * S), (k * count + c) * S);
        }
        expect(Array.from(ref.engine.read(ca))).toEqual(Array.from(expected));
      });

      it('curvature: unit blocks and their solves, quasi-diagonal and diagonal solves', () => {
        const { ref, dev, compare, tol, net, perUnit } = setup(backend, doc);
        const layout = metricLayout(net);
        const blockLength = layout.matrixOffsets[net.nUnits];
        const [ma, mb] = perUnit();
        ref.engine.fisherModulus(ref.params, ref.ws, ma);
        dev.engine.fisherModulus(dev.params, dev.ws, mb);
        let a0Blocks: DeviceBuffer | undefined;
        const sides = [
          { side: ref as Side, modulus: ma },
          { side: dev as Side, modulus: mb },
        ].map(({ side, modulus }) => {
          const e = side.engine;
          const blocks = e.alloc(blockLength);
          e.unitBlocks(side.ws, modulus, blocks);
          const g = e.alloc(net.nParams);
          const entries = { modulus, diagonal: e.alloc(net.nParams), cross: e.alloc(net.nParams) };
          e.gradient(side.ws, g, entries);
          const out = e.alloc(net.nParams);
          const failed = e.solveUnitBlocks(blocks, g, 1e-3, out, e.alloc(blockLength));
          const qd = e.alloc(net.nParams);
          e.quasiDiagonalSolve(entries.diagonal, entries.cross, g, 1e-3, qd);
          const diag = e.alloc(net.nParams);
          e.diagonalSolve(entries.diagonal, g, 1e-3, false, diag);
          const root = e.alloc(net.nParams);
          e.diagonalSolve(entries.diagonal, g, 1e-3, true, root);
          // Inversion of the regularised blocks A + 0.1·Id (the online estimator's start).
          const regularised = e.alloc(blockLength);
          e.upload(regularised, withRidge(net, layout, ref.engine.read(a0Blocks ?? blocks), 0.1));
          a0Blocks ??= blocks;
          const inverses = e.alloc(blockLength);
          const invFailed = e.invertBlocks(regularised, inverses);
          const hg = e.alloc(net.nParams);
          e.blocksTimesVector(inverses, g, hg);
          return { e, blocks, out, failed, qd, diag, root, invFailed, hg };
        });
        const [a, b] = sides;
        compare('unit blocks', a.blocks, b.blocks, tol.exact);
        expect(b.failed).toBe(a.failed);
        compare('block solve (ε = 1e-3)', a.out, b.out, tol.solve);
        compare('quasi-diagonal solve', a.qd, b.qd, tol.solve);
        compare('diagonal solve', a.diag, b.diag, tol.solve);
        compare('AdaGrad (root) solve', a.root, b.root, tol.solve);
        expect(a.invFailed).toBe(-1);
        expect(b.invFailed).toBe(-1);
        compare('H G from inverted blocks', a.hg, b.hg, tol.solve);
      });

      it('online Sherman-Morrison step (Eq. 37-38) from an ε-regularised start', () => {
        const { ref, dev, compare, tol, net, perUnit } = setup(backend, doc);
        const layout = metricLayout(net);
        const blockLength = layout.matrixOffsets[net.nUnits];
        const [ma, mb] = perUnit();
        ref.engine.outerProductModulus(ref.ws, ma);
        dev.engine.outerProductModulus(dev.ws, mb);
        // Start: A = ε·Id (as the online estimator's initial ε), H = A⁻¹.
        const identity = new Float64Array(blockLength);
        const inverse = new Float64Array(blockLength);
        for (let k = net.nInputs; k < net.nUnits; k++) {
          const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
          for (let i = 0; i < n; i++) {
            identity[layout.matrixOffsets[k] + i * n + i] = 0.5;
            inverse[layout.matrixOffsets[k] + i * n + i] = 2;
          }
        }
        const run = (side: Side, modulus: DeviceBuffer) => {
          const e = side.engine;
          const blocks = e.alloc(blockLength);
          const inverses = e.alloc(blockLength);
          e.upload(blocks, identity);
          e.upload(inverses, inverse);
          const g = e.alloc(net.nParams);
          e.gradient(side.ws, g);
          const out = e.alloc(net.nParams);
          const refused: number[][] = [];
          for (let s = 0; s < e.size; s++) refused.push(e.onlineBlockStep(blocks, inverses, side.ws, modulus, s, g, 0.2, out));
          return { blocks, inverses, out, refused };
        };
        const a = run(ref, ma);
        const b = run(dev, mb);
        expect(b.refused).toEqual(a.refused);
        compare('online blocks', a.blocks, b.blocks, tol.exact);
        compare('online inverses', a.inverses, b.inverses, tol.solve);
        compare('online direction', a.out, b.out, tol.solve);
      });
    });
  }

  it('elementwise helpers: copy, fill, combine, allFinite; reads of a range', () => {
    const engine = backend.open(createModel(networks[0][1]).net, 3);
    const x = engine.alloc(5);
    const y = engine.alloc(5);
    engine.upload(x, [1, 2, 3, 4, 5]);
    engine.fill(y, 2);
    engine.combine(y, 0.5, x, -1, y);
    expect(Array.from(engine.read(y))).toEqual([-1.5, -1, -0.5, 0, 0.5]);
    engine.copy(x, y);
    expect(Array.from(engine.read(y, 1, 3))).toEqual([2, 3, 4]);
    expect(engine.allFinite(y)).toBe(true);
    engine.upload(y, [Number.NaN], 2);
    expect(engine.allFinite(y)).toBe(false);
    engine.dispose();
  });
});
