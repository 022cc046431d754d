import { beforeAll, describe, expect, it } from 'vitest';
import { forwardPass, type Backend, type Engine } from '../src/backend/engine.js';
import { metricLayout } from '../src/backend/kernels.js';
import { useBackend } from '../src/backend/load.js';
import type { TfjsWebgpuChannel } from '../src/backend/tfjs/tfjs-webgpu-channel.js';
import { makeBatch } from '../src/engine/batch.js';
import { loadBatch } from '../src/engine/propagate.js';
import { createModel } from '../src/engine/model.js';
import { Prng } from '../src/random/prng.js';
import { relative } from './helpers/compare.js';
import { onlineBlocks } from './helpers/online-blocks.js';
import { randomData, randomNetwork } from './helpers/random-network.js';
import { distTfjsWebgpu, distTfjsWebgpuChannel } from './helpers/tfjs-webgpu.js';

/**
 * What is particular to tfjs-webgpu, whose engines run in a worker thread (kernels posted, reads
 * awaited there): transfers counted as tfjs-cpu counts them, dependent reads, answers larger than
 * the control block, the worker's tensors, and failures in the worker coming back typed.
 * Its kernels' parity is in the shared suites (engine-parity, backend-parity, kronecker-kernels).
 */

const doc = randomNetwork({ interpretation: 'softmax', seed: 31, inputs: 4, hidden: 6, outputs: 3, density: 0.6, activations: ['sigmoid', 'tanh', 'linear'] });
const model = createModel(doc);
const { net } = model;
const batch = makeBatch(net, randomData(doc, 5, 8));
const layout = metricLayout(net);
const blockLength = layout.matrixOffsets[net.nUnits];

let webgpu: Backend;
let tfjsCpu: Backend;
let channel: TfjsWebgpuChannel;
beforeAll(async () => {
  [webgpu, tfjsCpu, channel] = await Promise.all([distTfjsWebgpu(), useBackend('tfjs-cpu'), distTfjsWebgpuChannel()]);
});

/**
 * A training-like sequence with every kind of read: loss, norm, finiteness, block solve, and an
 * online step whose last unit is refused (a count read, then that many ids). Returns the results
 * and the transfers counted.
 */
function sequence(engine: Engine) {
  const rng = new Prng(3);
  const uploaded = (values: Float64Array) => {
    const b = engine.alloc(values.length);
    engine.upload(b, values);
    return b;
  };
  const params = uploaded(model.params);
  const ws = engine.workspace();
  engine.transfers.reset();
  engine.setBatch(ws, batch);
  forwardPass(engine, params, ws);
  engine.outputLayer(ws);
  const loss = engine.meanLoss(ws);
  const g = engine.alloc(net.nParams);
  const modulus = engine.alloc(net.nUnits * engine.size);
  engine.outerProductModulus(ws, modulus);
  engine.gradient(ws, g);
  const norm = engine.squaredNorm(g);
  const finite = engine.allFinite(g);
  const blocks = engine.alloc(blockLength);
  engine.unitBlocks(ws, modulus, blocks);
  const direction = engine.alloc(net.nParams);
  const failed = engine.solveUnitBlocks(blocks, g, 1e-3, direction, engine.alloc(blockLength));
  // The last unit's H is -I: its update is refused.
  const { a, h } = onlineBlocks(net, layout, rng, [net.nUnits - 1]);
  const online = engine.alloc(net.nParams);
  const psi = uploaded(Float64Array.from({ length: net.nUnits * engine.size }, (_, i) => 0.5 + (i % 5) / 4));
  const refused = engine.onlineBlockStep(uploaded(a), uploaded(h), ws, psi, 2, g, 0.3, online);
  const transfers = engine.transfers.snapshot();
  return { loss, norm, finite, failed, refused, direction: engine.read(direction), online: engine.read(online), transfers };
}

describe('tfjs-webgpu: engines in a worker thread', () => {
  it('every kind of read agrees with tfjs-cpu, and the transfers counted are the same', () => {
    const [engine, reference] = [webgpu.open(net, batch.size), tfjsCpu.open(net, batch.size)];
    const [got, want] = [sequence(engine), sequence(reference)];
    expect(engine.backend).toBe('tfjs-webgpu');
    expect(got.transfers).toEqual(want.transfers);
    expect(got.transfers.reads).toBe(6); // loss, norm, finiteness, the solve's status, the refused units' count and ids
    expect(got.refused).toEqual([net.nUnits - 1]);
    expect(got.refused).toEqual(want.refused);
    expect([got.finite, got.failed]).toEqual([true, -1]);
    expect(Math.abs(got.loss - want.loss) / Math.abs(want.loss)).toBeLessThan(1e-5);
    expect(Math.abs(got.norm - want.norm) / want.norm).toBeLessThan(1e-4);
    expect(relative(got.direction, want.direction)).toBeLessThan(2e-2);
    expect(relative(got.online, want.online)).toBeLessThan(1e-4);
    engine.dispose();
    reference.dispose();
  });

  it('reads answers larger than the control block (20,000 numbers), exactly in float32', () => {
    const engine = webgpu.open(net, batch.size);
    const values = Float64Array.from({ length: 20_000 }, (_, i) => Math.fround(Math.sin(i) * 1000));
    const buffer = engine.alloc(values.length);
    engine.upload(buffer, values);
    expect(Array.from(engine.read(buffer))).toEqual(Array.from(values));
    expect(Array.from(engine.read(buffer, 19_990, 10))).toEqual(Array.from(values.subarray(19_990)));
    engine.dispose();
  });

  it("the worker's tensors: constant over repeated reading calls (their scopes are freed), fewer after free(), back to the start after dispose()", () => {
    const before = channel.numTensors();
    const engine = webgpu.open(net, batch.size);
    const { params, ws } = loadBatch(engine, model.params, batch);
    forwardPass(engine, params, ws);
    engine.outputLayer(ws);
    const [g, modulus, blocks, inverses, work, out] = [net.nParams, net.nUnits * batch.size, blockLength, blockLength, blockLength, net.nParams].map((n) => engine.alloc(n));
    engine.gradient(ws, g);
    engine.outerProductModulus(ws, modulus);
    engine.unitBlocks(ws, modulus, blocks);
    const reads = () => {
      engine.meanLoss(ws);
      engine.squaredNorm(g);
      engine.allFinite(g);
      engine.solveUnitBlocks(blocks, g, 1e-3, out, work);
      engine.invertBlocks(blocks, inverses);
      engine.onlineBlockStep(blocks, inverses, ws, modulus, 1, g, 0.1, out);
      engine.read(out, 3, 4);
      return channel.numTensors();
    };
    const held = reads();
    expect(held).toBeGreaterThan(before);
    for (let i = 0; i < 3; i++) expect(reads(), `round ${i + 2}`).toBe(held);
    engine.outputMetric(ws);
    const withMetric = channel.numTensors();
    engine.free(ws);
    expect(channel.numTensors()).toBeLessThan(withMetric);
    engine.dispose();
    expect(channel.numTensors()).toBe(before);
    expect(() => engine.alloc(1)).toThrow(expect.objectContaining({ name: 'UsageError' }));
  });

  it('failures in the worker come back typed: at the reading call, or at the next answer for a posted one; the engine goes on', () => {
    const engine = webgpu.open(net, batch.size);
    const { params, ws } = loadBatch(engine, model.params, batch);
    const blocks = engine.alloc(blockLength);
    const g = engine.alloc(net.nParams);
    expect(() => engine.solveUnitBlocks(blocks, g, 0, engine.alloc(net.nParams), engine.alloc(blockLength))).toThrow(expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(/needs ε > 0/) }));
    engine.forwardLevel(params, ws, 99); // no such level: fails in the worker, posted without an answer
    expect(() => engine.meanLoss(ws)).toThrow(expect.objectContaining({ name: 'NumericalError', message: expect.stringMatching(/tfjs-webgpu worker failed/) }));
    forwardPass(engine, params, ws);
    engine.outputLayer(ws);
    expect(Number.isFinite(engine.meanLoss(ws))).toBe(true);
    engine.dispose();
  });
});
