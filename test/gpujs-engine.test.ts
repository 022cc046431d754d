import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { backwardPass, forwardPass, type Backend, type DeviceBuffer, type Engine } from '../src/backend/engine.js';
import { deviceRuntime, type DeviceData, type DeviceRuntime } from '../src/backend/gpujs/device-runtime.js';
import { GpujsEngine, gpujsBackend, type GpujsMode } from '../src/backend/gpujs/index.js';
import { metricLayout } from '../src/backend/kernels.js';
import { makeBatch, type Batch } from '../src/engine/batch.js';
import { createModel, type Model } from '../src/engine/model.js';
import { UsageError } from '../src/errors.js';
import type { NetworkDocument } from '../src/network/types.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

/**
 * The device-resident gpu.js engine: what crosses between host and device (counted bytes, never
 * timings), that it frees what it allocates, and the status numbers it reads back. Runs in the
 * default mode and, where that is headlessgl, in webasm too.
 */

const defaultMode = gpujsBackend().mode;
const modes: GpujsMode[] = defaultMode === 'headlessgl' ? ['headlessgl', 'webasm'] : ['webasm'];
const SAMPLES = 16;

/** Layered networks (density 1: the hidden units form a chain), so `hidden` sets the number of levels. */
const chain = (interpretation: 'softmax' | 'bernoulli', hidden: number): NetworkDocument =>
  randomNetwork({ interpretation, seed: 40 + hidden, inputs: 5, hidden, outputs: 3, density: 1, activations: ['sigmoid', 'tanh'] });

function opened(backend: Backend, doc: NetworkDocument, samples = SAMPLES) {
  const model = createModel(doc);
  const batch = makeBatch(model.net, randomData(doc, samples, 3));
  const engine = backend.open(model.net, batch.size);
  const params = engine.alloc(model.net.nParams);
  engine.upload(params, model.params);
  return { model, batch, engine, params, ws: engine.workspace() };
}

/** Buffers of one training iteration. */
function iterationBuffers(engine: Engine) {
  const { net } = engine;
  const blockLength = metricLayout(net).matrixOffsets[net.nUnits];
  const perUnit = () => engine.alloc(net.nUnits * engine.size);
  const perParam = () => engine.alloc(net.nParams);
  return { modulus: perUnit(), fisher: perUnit(), g: perParam(), diagonal: perParam(), cross: perParam(), dw: perParam(), blocks: engine.alloc(blockLength), work: engine.alloc(blockLength) };
}

/**
 * One iteration: batch in, forward, output layer, loss, backward with the backpropagated
 * modulus, Fisher modulus, gradient with quasi-diagonal entries, unit blocks and their solve,
 * the parameter step, forward again and the new loss.
 */
function iteration(engine: Engine, params: DeviceBuffer, ws: ReturnType<Engine['workspace']>, batch: Batch, b: ReturnType<typeof iterationBuffers>) {
  engine.setBatch(ws, batch);
  forwardPass(engine, params, ws);
  engine.outputLayer(ws);
  const before = engine.meanLoss(ws);
  engine.outputModulus(ws, b.modulus);
  backwardPass(engine, params, ws, b.modulus);
  engine.fisherModulus(params, ws, b.fisher);
  engine.gradient(ws, b.g, { modulus: b.modulus, diagonal: b.diagonal, cross: b.cross });
  engine.unitBlocks(ws, b.fisher, b.blocks);
  const failed = engine.solveUnitBlocks(b.blocks, b.g, 1e-3, b.dw, b.work);
  engine.combine(params, 1, params, 0.01, b.dw);
  forwardPass(engine, params, ws);
  engine.outputLayer(ws);
  return { before, after: engine.meanLoss(ws), failed };
}

describe.each(modes)('gpujs engine in %s mode', (mode) => {
  const backend = gpujsBackend(mode);

  it('moves only the batch in, the loss out and O(1) status numbers per iteration, whatever the number of levels', () => {
    const shallow = chain('softmax', 2);
    const deep = chain('bernoulli', 9);
    const levels = [shallow, deep].map((doc) => createModel(doc).net.levelOffsets.length - 1);
    expect(levels[1]).toBeGreaterThan(levels[0] + 5);
    for (const doc of [shallow, deep]) {
      const { engine, params, ws, batch, model } = opened(backend, doc);
      const { net } = model;
      const buffers = iterationBuffers(engine);
      for (let round = 0; round < 2; round++) {
        engine.transfers.reset();
        const { before, after, failed } = iteration(engine, params, ws, batch, buffers);
        expect(failed).toBe(-1);
        expect(Number.isFinite(before) && Number.isFinite(after)).toBe(true);
        // In: inputs and targets (float32). Out: two mean losses and the solve's failed unit.
        expect(engine.transfers.snapshot()).toEqual({ uploads: 2, uploadBytes: 4 * SAMPLES * (net.nInputs + net.nOutputs), reads: 3, readBytes: 12 });
      }
      engine.dispose();
    }
  });

  it('uploads the network constants once at open, and nothing is read', () => {
    const doc = chain('softmax', 3);
    const { net } = createModel(doc);
    const engine = backend.open(net, SAMPLES) as GpujsEngine;
    // 4 offset arrays, 3 edge arrays, 10 per-unit arrays, 2 per-output arrays, the parameter map, the groups' unit lists.
    const entries = 4 * (net.nUnits + 1) + 3 * net.nEdges + 10 * net.nUnits + 2 * net.nOutputs + net.nParams + (net.nUnits - net.nInputs);
    expect(engine.transfers.snapshot()).toEqual({ uploads: 20 + engine.constants.groups.length, uploadBytes: 4 * entries, reads: 0, readBytes: 0 });
    engine.dispose();
  });

  it('frees every texture or array it creates: nothing grows per iteration, nothing is left after dispose', () => {
    const base = deviceRuntime(mode);
    const outstanding = new Set<DeviceData>();
    const runtime: DeviceRuntime = {
      mode: base.mode,
      reason: base.reason,
      launch: (...args) => {
        const data = base.launch(...args);
        outstanding.add(data);
        return data;
      },
      fused: base.fused,
      launchFused: (...args) => {
        const outputs = base.launchFused(...args);
        for (const data of Object.values(outputs)) outstanding.add(data);
        return outputs;
      },
      toHost: (data, length) => base.toHost(data, length),
      release: (data) => {
        outstanding.delete(data);
        base.release(data);
      },
    };
    const counted: Backend = { ...backend, open: (net, size) => new GpujsEngine(runtime, net, size) };
    const { engine, params, ws, batch } = opened(counted, chain('softmax', 3));
    const buffers = iterationBuffers(engine);
    // A Gram plan's pairs live as long as the engine.
    const plan = engine.gramPlan([Int32Array.of(-1, 0, 1), Int32Array.of(engine.net.nInputs + 2)]);
    const gram = engine.alloc(plan.offsets[2]);
    const chunk = engine.alloc(engine.net.nUnits * engine.net.nOutputs * engine.size);
    iteration(engine, params, ws, batch, buffers);
    const steady = outstanding.size;
    iteration(engine, params, ws, batch, buffers);
    engine.monteCarloModulus(params, ws, new Float64Array(2 * engine.net.nOutputs * engine.size).fill(0.3), buffers.modulus);
    engine.sampledBackward(params, ws, new Float64Array(engine.net.nOutputs * engine.size).fill(0.3), buffers.fisher);
    engine.groupGram(ws.act, plan, gram, 0.5, buffers.modulus, 1);
    engine.accumulateWeighted(buffers.fisher, ws.act, buffers.modulus, 2);
    engine.transferRates(params, ws, 1, buffers.modulus, buffers.fisher);
    engine.transferRateChunk(params, ws, 0, engine.net.nOutputs, chunk);
    engine.invertBlocks(buffers.blocks, buffers.work, [engine.net.nInputs + 1]);
    engine.read(buffers.g, 2, 3);
    expect(outstanding.size).toBe(steady);
    engine.dispose();
    expect(outstanding.size).toBe(0);
  });

  it('a chunk of transfer rates [nUnits × outputs × size] as the cpu engine computes it', () => {
    const doc = chain('softmax', 3);
    const [ref, dev] = [cpuBackend, backend].map((b) => {
      const side = opened(b, doc);
      forwardPass(side.engine, side.params, side.ws);
      side.engine.outputLayer(side.ws);
      const rates = side.engine.alloc(side.model.net.nUnits * 2 * SAMPLES);
      side.engine.transferRateChunk(side.params, side.ws, 1, 2, rates);
      return side.engine.read(rates);
    });
    expect(ref.some((x) => x !== 0)).toBe(true);
    dev.forEach((x, i) => expect(x).toBeCloseTo(ref[i], 5));
  });

  it('reports the first unit whose block fails, in the order asked, as the cpu engine does', () => {
    const doc = chain('bernoulli', 4);
    const sides = [cpuBackend, backend].map((b) => {
      const side = opened(b, doc, 7);
      forwardPass(side.engine, side.params, side.ws);
      side.engine.outputLayer(side.ws);
      backwardPass(side.engine, side.params, side.ws);
      return side;
    });
    const { net } = sides[0].model;
    const layout = metricLayout(net);
    const ref = sides[0].engine;
    const modulus = ref.alloc(net.nUnits * ref.size);
    ref.fisherModulus(sides[0].params, sides[0].ws, modulus);
    const blocks = ref.alloc(layout.matrixOffsets[net.nUnits]);
    ref.unitBlocks(sides[0].ws, modulus, blocks);
    // Regularised blocks (positive definite), two of them then broken by a negative A_00.
    const broken = ref.read(blocks).slice();
    for (let k = net.nInputs; k < net.nUnits; k++) {
      const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
      for (let i = 0; i < n; i++) broken[layout.matrixOffsets[k] + i * n + i] += 0.1;
    }
    const [k1, k2] = [net.nInputs + 1, net.nInputs + 3];
    for (const k of [k2, k1]) broken[layout.matrixOffsets[k]] = -1;
    const results = sides.map(({ engine, ws }) => {
      const a = engine.alloc(broken.length);
      engine.upload(a, broken);
      const g = engine.alloc(net.nParams);
      engine.gradient(ws, g);
      const out = engine.alloc(net.nParams);
      const inverses = engine.alloc(broken.length);
      return [engine.solveUnitBlocks(a, g, 1e-3, out, engine.alloc(broken.length)), engine.invertBlocks(a, inverses, [k2, net.nInputs, k1]), engine.invertBlocks(a, inverses, [net.nInputs + 2])];
    });
    expect(results[0]).toEqual([k1, k2, -1]);
    expect(results[1]).toEqual(results[0]);
  });

  it('refuses the same online updates as the cpu engine (a negative definite inverse)', () => {
    const doc = chain('softmax', 2);
    const { net } = createModel(doc);
    const layout = metricLayout(net);
    const bad = net.nInputs + 1;
    const start = (value: (k: number) => number) => {
      const out = new Float64Array(layout.matrixOffsets[net.nUnits]);
      for (let k = net.nInputs; k < net.nUnits; k++) {
        const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
        for (let i = 0; i < n; i++) out[layout.matrixOffsets[k] + i * n + i] = value(k);
      }
      return out;
    };
    const [a, b] = [cpuBackend, backend].map((be) => {
      const { engine, params, ws } = opened(be, doc, 5);
      forwardPass(engine, params, ws);
      engine.outputLayer(ws);
      backwardPass(engine, params, ws);
      const [blocks, inverses, modulus, g, out] = [start(() => 0.5), start((k) => (k === bad ? -2 : 2)), null, null, null].map((v, i) => {
        const buffer = engine.alloc(i < 2 ? layout.matrixOffsets[net.nUnits] : i === 2 ? net.nUnits * engine.size : net.nParams);
        if (v) engine.upload(buffer, v);
        return buffer;
      });
      engine.fill(modulus, 1);
      engine.gradient(ws, g);
      const refused = engine.onlineBlockStep(blocks, inverses, ws, modulus, 2, g, 0.5, out);
      return { refused, out: Array.from(engine.read(out)), inverses: Array.from(engine.read(inverses)) };
    });
    expect(a.refused).toEqual([bad]);
    expect(b.refused).toEqual(a.refused);
    b.out.forEach((v, i) => expect(v).toBeCloseTo(a.out[i], 3));
    b.inverses.forEach((v, i) => expect(v).toBeCloseTo(a.inverses[i], 3));
  });

  it('chunks transfer rates over outputs and samples with the same Fisher modulus', () => {
    const doc = randomNetwork({ interpretation: 'softmax', seed: 71, inputs: 3, hidden: 5, outputs: 4, density: 0.7, activations: ['sigmoid', 'tanh'] });
    const units = createModel(doc).net.nUnits + 1;
    const modulus = (budget: number) => {
      const { engine, params, ws } = opened(gpujsBackend(mode, budget), doc, 9);
      forwardPass(engine, params, ws);
      const out = engine.alloc(engine.net.nUnits * engine.size);
      engine.fisherModulus(params, ws, out);
      return Array.from(engine.read(out));
    };
    const whole = modulus(1 << 24);
    expect(whole.some((v) => v > 0)).toBe(true);
    for (const budget of [units * 9 * 2, units * 4]) modulus(budget).forEach((v, i) => expect(v).toBeCloseTo(whole[i], 5));
  });

  it('keeps engines of different networks and batch sizes apart when they interleave', () => {
    const docs = [chain('softmax', 2), chain('bernoulli', 5)];
    const pairs = docs.map((doc, i) => [cpuBackend, backend].map((b) => opened(b, doc, 5 + 4 * i)));
    const run = (side: ReturnType<typeof opened>) => {
      side.engine.setBatch(side.ws, side.batch);
      forwardPass(side.engine, side.params, side.ws);
      side.engine.outputLayer(side.ws);
      backwardPass(side.engine, side.params, side.ws);
      return Array.from(side.engine.read(side.ws.backReduced));
    };
    for (let round = 0; round < 2; round++) {
      for (const [ref, dev] of pairs) {
        const expected = run(ref);
        run(dev).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
      }
    }
  });

  it('refuses batches whose flat indices float32 cannot address exactly, naming both sizes', () => {
    const net = createModel(chain('softmax', 2)).net;
    expect(() => backend.open({ ...net, nUnits: 1 << 20 }, 32)).toThrow(/1048576 units × 32 samples exceed 2\^24 entries/);
    expect(() => backend.open({ ...net, nUnits: 1 << 20 }, 32)).toThrow(UsageError);
  });
});

it('registers as the gpujs backend, naming its mode', async () => {
  const { useBackend, backendInfo } = await import('../src/backend/load.js');
  await useBackend('gpujs');
  expect(backendInfo('gpujs').detail).toMatch(new RegExp(`^gpu\\.js '${defaultMode}' mode \\(.*; float32\\)$`));
  const model: Model = createModel(chain('softmax', 2));
  const engine = (await useBackend('gpujs')).open(model.net, 4);
  expect(engine).toBeInstanceOf(GpujsEngine);
  engine.dispose();
});
