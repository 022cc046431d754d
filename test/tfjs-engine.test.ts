import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { backwardPass, forwardPass, type Backend, type DeviceBuffer, type Engine, type EngineWorkspace } from '../src/backend/engine.js';
import { metricLayout } from '../src/backend/kernels.js';
import { loadTfjs, type TfjsRuntime } from '../src/backend/tfjs/tf.js';
import { tfjsBackend } from '../src/backend/tfjs/tfjs-backend.js';
import { makeBatch, type Batch } from '../src/engine/batch.js';
import type { CompiledNetwork } from '../src/engine/compiled-network.js';
import { loadBatch } from '../src/engine/propagate.js';
import { createModel, type Model } from '../src/engine/model.js';
import { UsageError } from '../src/errors.js';
import { outputDraws } from '../src/metrics/output-metric.js';
import { INTERPRETATIONS, type NetworkDocument } from '../src/network/types.js';
import { onlineBlocks } from './helpers/online-blocks.js';
import { Prng } from '../src/random/prng.js';
import { randomData, randomNetwork } from './helpers/random-network.js';
import { relative } from './helpers/compare.js';

const relativeGap = (a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3) => relative(a, b, floor);


const json = (path: string) => JSON.parse(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8'));
const levels = (net: CompiledNetwork) => net.levelOffsets.length - 1;

/** Buffers of one training iteration (the trainer's: current and candidate parameters, one workspace). */
function iterationState(engine: Engine, model: Model) {
  const { net } = model;
  const perUnit = () => engine.alloc(net.nUnits * engine.size);
  const params = engine.alloc(net.nParams);
  engine.upload(params, model.params);
  const blockLength = metricLayout(net).matrixOffsets[net.nUnits];
  return {
    params,
    ws: engine.workspace(),
    modulus: perUnit(),
    fisher: perUnit(),
    g: engine.alloc(net.nParams),
    diagonal: engine.alloc(net.nParams),
    cross: engine.alloc(net.nParams),
    blocks: engine.alloc(blockLength),
    work: engine.alloc(blockLength),
    dw: engine.alloc(net.nParams),
    candidate: engine.alloc(net.nParams),
  };
}

/**
 * One iteration: the batch in, forward, output layer, loss; backward with the backpropagated
 * modulus; the Fisher modulus; gradient with quasi-diagonal entries; unit blocks and their
 * solve; the candidate params + lr·δw, its forward pass and loss; accepted when it is lower.
 */
function iteration(engine: Engine, s: ReturnType<typeof iterationState>, batch: Batch): { loss: number; candidate: number; failed: number } {
  engine.setBatch(s.ws, batch);
  forwardPass(engine, s.params, s.ws);
  engine.outputLayer(s.ws);
  const loss = engine.meanLoss(s.ws);
  engine.outputModulus(s.ws, s.modulus);
  backwardPass(engine, s.params, s.ws, s.modulus);
  engine.fisherModulus(s.params, s.ws, s.fisher);
  engine.gradient(s.ws, s.g, { modulus: s.fisher, diagonal: s.diagonal, cross: s.cross });
  engine.unitBlocks(s.ws, s.fisher, s.blocks);
  const failed = engine.solveUnitBlocks(s.blocks, s.g, 1e-2, s.dw, s.work);
  engine.combine(s.candidate, 1, s.params, 0.1, s.dw);
  forwardPass(engine, s.candidate, s.ws);
  engine.outputLayer(s.ws);
  const candidate = engine.meanLoss(s.ws);
  if (candidate < loss) engine.copy(s.candidate, s.params);
  return { loss, candidate, failed };
}

let runtime: TfjsRuntime;
let backend: Backend;

const autoencoder = (): [Model, Batch] => {
  const model = createModel(json('networks/autoencoder-seed1-sigmoid.json'));
  return [model, makeBatch(model.net, json('networks/autoencoder-seed1.data.json'))];
};
const deep = (): [Model, Batch] => {
  const doc = randomNetwork({ interpretation: 'softmax', seed: 7, inputs: 6, hidden: 14, outputs: 3, density: 0.25, activations: ['sigmoid', 'tanh', 'linear'], affine: true });
  const model = createModel(doc);
  return [model, makeBatch(model.net, randomData(doc, 9, 2))];
};

/** The whole file on each tfjs backend that runs here (tfjs-node's `tensorflow` is not installed on these machines). */
describe.each(['cpu', 'wasm'] as const)('on tfjs-%s', (which) => {
  beforeAll(async () => {
    runtime = await loadTfjs(which);
    backend = tfjsBackend(runtime);
  });

  describe('tfjs engine: transfers and tensor memory', () => {
    it('an iteration moves the batch in and three numbers out, whatever the number of levels', () => {
      const [a, b] = [autoencoder(), deep()];
      expect(levels(a[0].net)).not.toBe(levels(b[0].net));
      for (const [model, batch] of [a, b]) {
        const { net } = model;
        const engine = backend.open(net, batch.size);
        const state = iterationState(engine, model);
        const reference = cpuBackend.open(net, batch.size);
        const expected = iteration(reference, iterationState(reference, model), batch);
        for (let i = 0; i < 3; i++) {
          engine.transfers.reset();
          const result = iteration(engine, state, batch);
          // The batch (inputs and targets) in; the two losses and the solve's status out.
          expect(engine.transfers.snapshot()).toEqual({ uploads: 2, uploadBytes: (net.nInputs + net.nOutputs) * batch.size * 4, reads: 3, readBytes: 12 });
          expect(result.failed).toBe(-1);
          if (i === 0) {
            expect(Math.abs(result.loss - expected.loss)).toBeLessThan(1e-4 * Math.abs(expected.loss));
            expect(Math.abs(result.candidate - expected.candidate)).toBeLessThan(2e-3 * Math.abs(expected.candidate));
          }
        }
        engine.dispose();
      }
    });

    it('holds a constant number of tensors over 100 iterations, and dispose() frees every one', () => {
      const { tf } = runtime;
      const [model, batch] = deep();
      const before = tf.memory().numTensors;
      const engine = backend.open(model.net, batch.size);
      const state = iterationState(engine, model);
      iteration(engine, state, batch);
      const held = tf.memory().numTensors;
      const losses: number[] = [];
      for (let i = 0; i < 100; i++) losses.push(iteration(engine, state, batch).loss);
      expect(tf.memory().numTensors).toBe(held);
      expect(losses[99]).toBeLessThan(losses[0]);
      // Freeing buffers and workspaces, and kernels that make per-workspace buffers, leak nothing either.
      const ws = engine.workspace();
      engine.setBatch(ws, batch);
      forwardPass(engine, state.params, ws);
      engine.outputMetric(ws);
      engine.free(ws);
      engine.free(engine.alloc(10));
      expect(tf.memory().numTensors).toBe(held);
      // A chunk of transfer rates: the first one caches its levels' weights with the parameters' (as a transfer-rate pass does), later ones hold nothing more.
      const rws = engine.workspace();
      engine.setBatch(rws, batch);
      forwardPass(engine, state.params, rws);
      const chunk = engine.alloc(model.net.nUnits * model.net.nOutputs * batch.size);
      engine.transferRateChunk(state.params, rws, 0, model.net.nOutputs, chunk);
      const cached = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) engine.transferRateChunk(state.params, rws, 0, model.net.nOutputs, chunk);
      expect(tf.memory().numTensors).toBe(cached);
      engine.free(chunk);
      engine.free(rws);
      engine.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(() => engine.alloc(1)).toThrow();
    });
  });

  describe('tfjs engine buffers', () => {
    it('piecewise writes and reads of ranges agree with a plain array', () => {
      const { tf } = runtime;
      const [model, batch] = deep();
      const before = tf.memory().numTensors;
      const engine = backend.open(model.net, batch.size);
      const rng = new Prng(3);
      const length = 57;
      const buffer = engine.alloc(length);
      const plain = new Float64Array(length);
      for (let i = 0; i < 200; i++) {
        const offset = rng.int(length);
        const values = Array.from({ length: 1 + rng.int(length - offset) }, () => rng.int(1000));
        engine.upload(buffer, values, offset);
        plain.set(values, offset);
        const from = rng.int(length);
        const count = rng.int(length - from + 1);
        expect(Array.from(engine.read(buffer, from, count))).toEqual(Array.from(plain.subarray(from, from + count)));
        if (i % 7 === 0) expect(Array.from(engine.read(buffer))).toEqual(Array.from(plain));
      }
      engine.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  const wide = (interpretation: (typeof INTERPRETATIONS)[number]): NetworkDocument =>
    randomNetwork({ interpretation, seed: 31, inputs: 5, hidden: 14, outputs: 4, density: 0.45, activations: ['sigmoid', 'tanh', 'linear'], affine: interpretation !== 'bernoulli' });

  // Chunks of 40 numbers: some levels padded lists, some dense; a few parameters per gradient chunk; one
  // column per Fisher or Monte-Carlo chunk. Chunks of 1: padded lists everywhere.
  const chunked = INTERPRETATIONS.flatMap((interpretation) => [40, 1].map((chunkEntries) => [interpretation, chunkEntries] as const));

  describe.each(chunked)('tfjs engine, %s, chunks of %i: kernels and paths the parity suite does not reach', (interpretation, chunkEntries) => {
    const doc = wide(interpretation);
    const model = createModel(doc);
    const { net } = model;
    const batch = makeBatch(net, randomData(doc, 6, 4));
    const layout = metricLayout(net);
    const blockLength = layout.matrixOffsets[net.nUnits];
    const open = (b: Backend) => {
      const engine = b.open(net, batch.size);
      const { params, ws } = loadBatch(engine, model.params, batch);
      forwardPass(engine, params, ws);
      engine.outputLayer(ws);
      backwardPass(engine, params, ws);
      return { engine, params, ws };
    };
    type Side = { engine: Engine; params: DeviceBuffer; ws: EngineWorkspace };
    const both = () => {
      const ref = open(cpuBackend);
      const dev = open(tfjsBackend(runtime, { chunkEntries }));
      return { ref, dev, compare: (label: string, x: DeviceBuffer, y: DeviceBuffer, tol = 2e-4) => expect(relativeGap(dev.engine.read(y), ref.engine.read(x)), label).toBeLessThan(tol) };
    };

    it('gradient with entries, Fisher, Monte-Carlo and outer-product moduli, transfer rates into untouched rows', () => {
      const { ref, dev, compare } = both();
      const run = (side: Side) => {
        const e = side.engine;
        const perUnit = () => e.alloc(net.nUnits * e.size);
        const fisher = perUnit();
        e.fisherModulus(side.params, side.ws, fisher);
        const g = e.alloc(net.nParams);
        const entries = { modulus: fisher, diagonal: e.alloc(net.nParams), cross: e.alloc(net.nParams) };
        e.gradient(side.ws, g, entries);
        const mc = perUnit();
        e.monteCarloModulus(side.params, side.ws, outputDraws(net, e.size, new Prng(8), 3), mc);
        const outer = perUnit();
        e.outerProductModulus(side.ws, outer);
        const rates = Array.from(net.outputUnits, (_, j) => {
          const [j0, raw] = [perUnit(), perUnit()];
          e.fill(j0, 7); // rows outside the output's ancestry must keep this
          e.fill(raw, 7);
          e.transferRates(side.params, side.ws, j, j0, raw);
          return [j0, raw];
        });
        return { fisher, g, entries, mc, outer, rates };
      };
      const a = run(ref);
      const b = run(dev);
      const [ma, mb] = [ref.engine.outputMetric(ref.ws), dev.engine.outputMetric(dev.ws)];
      for (const key of ['seeds', 'beta', 'gamma', 'betaExtra'] as const) {
        const [x, y] = [ma[key], mb[key]];
        expect(y === undefined, `output metric ${key} present`).toBe(x === undefined);
        if (x && y) compare(`output metric ${key}`, x, y);
      }
      compare('Fisher modulus', a.fisher, b.fisher);
      compare('gradient', a.g, b.g);
      compare('QD diagonal', a.entries.diagonal, b.entries.diagonal);
      compare('QD cross', a.entries.cross, b.entries.cross);
      compare('Monte-Carlo modulus', a.mc, b.mc);
      compare('outer-product modulus', a.outer, b.outer);
      a.rates.forEach(([j, raw], o) => {
        compare(`rates of output ${o}`, j, b.rates[o][0]);
        compare(`raw rates of output ${o}`, raw, b.rates[o][1]);
      });
    });

    it('first non-positive-definite unit of a solve and an inversion; inversion and products of some units', () => {
      const { ref, dev, compare } = both();
      const units = [net.nUnits - 1, net.nInputs + 2, net.nInputs];
      const sides = [ref, dev].map((side) => {
        const e = side.engine;
        const modulus = e.alloc(net.nUnits * e.size);
        e.fisherModulus(side.params, side.ws, modulus);
        const blocks = e.alloc(blockLength);
        e.unitBlocks(side.ws, modulus, blocks);
        const g = e.alloc(net.nParams);
        e.gradient(side.ws, g);
        // A + 0.1 I, whose blocks are all positive definite, then unit `bad` with -1 on its diagonal:
        // the solve and the inversion must name it.
        const ridge = Float64Array.from(e.read(blocks));
        for (let k = net.nInputs; k < net.nUnits; k++) {
          const nk = net.blockOffsets[k + 1] - net.blockOffsets[k];
          for (let i = 0; i < nk; i++) ridge[layout.matrixOffsets[k] + i * nk + i] += 0.1;
        }
        const bad = net.nInputs + 3;
        const n = net.blockOffsets[bad + 1] - net.blockOffsets[bad];
        const broken = ridge.slice();
        for (let i = 0; i < n; i++) broken[layout.matrixOffsets[bad] + i * n + i] = -1;
        const brokenBlocks = e.alloc(blockLength);
        e.upload(brokenBlocks, broken);
        const solveFailed = e.solveUnitBlocks(brokenBlocks, g, 1e-3, e.alloc(net.nParams), e.alloc(blockLength));
        const invertFailed = e.invertBlocks(brokenBlocks, e.alloc(blockLength));
        // Inverses of a few units only, into a buffer holding 3 elsewhere; then H G for those units.
        const regular = e.alloc(blockLength);
        e.upload(regular, ridge);
        const inverses = e.alloc(blockLength);
        e.fill(inverses, 3);
        const subsetFailed = e.invertBlocks(regular, inverses, units);
        const hg = e.alloc(net.nParams);
        e.fill(hg, 5);
        e.blocksTimesVector(inverses, g, hg, units);
        return { solveFailed, invertFailed, subsetFailed, inverses, hg, bad };
      });
      const [a, b] = sides;
      expect(() => dev.engine.solveUnitBlocks(a.inverses, a.hg, 0, a.hg, a.inverses)).toThrow(); // buffers of the cpu side: refused before use
      expect(() => dev.engine.solveUnitBlocks(b.inverses, b.hg, 0, b.hg, b.inverses)).toThrow(UsageError);
      expect(a.solveFailed).toBe(a.bad);
      expect(b.solveFailed).toBe(a.solveFailed);
      expect(a.invertFailed).toBe(a.bad);
      expect(b.invertFailed).toBe(a.invertFailed);
      expect(b.subsetFailed).toBe(-1);
      compare('inverses of some units', a.inverses, b.inverses, 2e-2);
      compare('H G of some units', a.hg, b.hg, 2e-2);
    });

    it('online step with a refused update (indefinite H)', () => {
      const { ref, dev, compare } = both();
      const rng = new Prng(12);
      const bad = [net.nInputs + 1, net.nUnits - 2];
      const { a, h } = onlineBlocks(net, layout, rng, bad);
      const modulus = Float64Array.from({ length: net.nUnits * batch.size }, (_, i) => 0.5 + (i % 5) / 4);
      const gradient = Float64Array.from({ length: net.nParams }, () => rng.uniform() - 0.5);
      const [x, y] = [ref, dev].map((side) => {
        const e = side.engine;
        const state = { blocks: e.alloc(blockLength), inverses: e.alloc(blockLength), m: e.alloc(modulus.length), g: e.alloc(net.nParams), out: e.alloc(net.nParams) };
        e.upload(state.blocks, a);
        e.upload(state.inverses, h);
        e.upload(state.m, modulus);
        e.upload(state.g, gradient);
        e.fill(state.out, 9);
        const refused = e.onlineBlockStep(state.blocks, state.inverses, side.ws, state.m, 1, state.g, 0.3, state.out);
        return { ...state, refused };
      });
      expect(x.refused).toEqual(bad);
      expect(y.refused).toEqual(x.refused);
      compare('online blocks', x.blocks, y.blocks);
      compare('online inverses', x.inverses, y.inverses, 2e-3);
      compare('online direction (refused units keep theirs)', x.out, y.out, 2e-3);
    });
  });
});
