import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { forwardPass } from '../src/backend/engine.js';
import { backendInfo, useBackend } from '../src/backend/load.js';
import { getBackend, registerBackend } from '../src/backend/registry.js';
import { gatherRows } from '../src/backend/tfjs/gather.js';
import { defaultTfjsBackend, loadTfjs } from '../src/backend/tfjs/tf.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { loadBatch } from '../src/engine/propagate.js';
import { UsageError } from '../src/errors.js';
import { createOptimizer } from '../src/optimizer/optimizer.js';
import type { TrainOptions } from '../src/train/settings.js';
import { randomData, randomNetwork } from './helpers/random-network.js';
import { relative } from './helpers/compare.js';
import { distTfjsWebgpu, distTfjsWebgpuChannel } from './helpers/tfjs-webgpu.js';

/**
 * The tfjs backend on several TensorFlow.js backends: how one is asked for and named, engines
 * of two tfjs backends used side by side, and tensor memory over a real training run.
 */

const doc = randomNetwork({ interpretation: 'softmax', seed: 12, inputs: 4, hidden: 6, outputs: 3, density: 0.6, activations: ['tanh', 'sigmoid', 'linear'], affine: true });
const data = randomData(doc, 10, 3);

describe('tfjs backend choice', () => {
  it('is part of the backend name: tfjs-cpu, tfjs-wasm; tfjs alone is the default, under both names', async () => {
    const [first, second] = await Promise.all([loadTfjs('wasm'), loadTfjs('wasm')]);
    expect(second).toBe(first); // loaded once, however many ask at a time
    const wasm = await useBackend('tfjs', { tfjsBackend: 'wasm' });
    expect(wasm.name).toBe('tfjs-wasm');
    expect(await useBackend('tfjs-wasm')).toBe(wasm);
    expect(backendInfo('tfjs-wasm').detail).toMatch(/^TensorFlow\.js 'wasm' backend from @tensorflow\/tfjs-backend-wasm \(float32; SIMD on, threads off \(.*blob: URLs.*\)\)$/);
    const cpu = await useBackend('tfjs', { tfjsBackend: 'cpu' });
    expect(cpu.name).toBe('tfjs-cpu');
    expect(backendInfo('tfjs-cpu').detail).toBe("TensorFlow.js 'cpu' backend from @tensorflow/tfjs-backend-cpu (float32)");
    const fallback = await useBackend('tfjs');
    expect(fallback.name).toBe(`tfjs-${await defaultTfjsBackend()}`);
    expect(getBackend('tfjs')).toBe(fallback);
    expect(fallback.open(createModel(doc).net, 2).backend).toBe(fallback.name);
  });

  it('refuses what cannot run, saying why and what to do', async () => {
    const refusal = async (run: () => Promise<unknown>) => {
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message;
    };
    expect(await refusal(() => useBackend('tfjs', { tfjsBackend: 'webgpu' }))).toMatch(/runs its engines in a worker thread from compiled modules, .*tfjs-webgpu-worker\.js is missing: run `npm run build`/);
    expect(await refusal(() => useBackend('tfjs-wasm', { tfjsBackend: 'cpu' }))).toMatch(/disagree/);
    expect(await refusal(() => useBackend('cpu', { tfjsBackend: 'wasm' }))).toMatch(/applies to --backend tfjs/);
    expect(await refusal(() => useBackend('tfjs-gl'))).toMatch(/unknown TensorFlow\.js backend 'gl'; use cpu, wasm, webgpu, tensorflow/);
    if ((await defaultTfjsBackend()) !== 'tensorflow') expect(await refusal(() => loadTfjs('tensorflow'))).toMatch(/npm install @tensorflow\/tfjs-node@4\.22\.0/);
  });

  it('engines on tfjs-cpu and tfjs-wasm used in turn each keep their tensors on their own backend and agree with cpu', async () => {
    const model = createModel(doc);
    const batch = makeBatch(model.net, data);
    const [onCpu, onWasm] = [await useBackend('tfjs-cpu'), await useBackend('tfjs-wasm')];
    const { tf } = await loadTfjs('cpu');
    const dataIds = () => ['cpu', 'wasm'].map((name) => tf.findBackend(name).numDataIds());
    const pass = (engine: ReturnType<typeof cpuBackend.open>) => {
      const { params, ws } = loadBatch(engine, model.params, batch);
      forwardPass(engine, params, ws);
      engine.outputLayer(ws);
      return { params, ws, loss: () => engine.meanLoss(ws) };
    };
    const reference = pass(cpuBackend.open(model.net, batch.size)).loss();
    const [a, b] = [onCpu.open(model.net, batch.size), onWasm.open(model.net, batch.size)];
    const [x, y] = [pass(a), pass(b)];
    for (let round = 0; round < 3; round++) {
      const [cpuIds, wasmIds] = dataIds();
      forwardPass(b, y.params, y.ws);
      b.outputLayer(y.ws);
      expect(Math.abs(y.loss() - reference) / reference).toBeLessThan(1e-5);
      expect(dataIds()[0], 'a wasm engine made nothing on cpu').toBe(cpuIds);
      forwardPass(a, x.params, x.ws);
      a.outputLayer(x.ws);
      expect(Math.abs(x.loss() - reference) / reference).toBeLessThan(1e-5);
      expect(dataIds()[1], 'a cpu engine made nothing on wasm').toBe(wasmIds);
    }
    expect(relative(b.read(y.ws.act), a.read(x.ws.act))).toBeLessThan(1e-5);
    a.dispose();
    b.dispose();
  });
});

describe.each(['cpu', 'wasm'] as const)('tfjs-%s: gatherRows (GatherNd on wasm)', (which) => {
  it('equals tf.gather for rows and elements, index tensors of rank 1 to 3, and no indices', async () => {
    const { tf, activate } = await loadTfjs(which);
    activate();
    tf.tidy(() => {
      const matrix = tf.tensor2d(Float32Array.from({ length: 35 }, (_, i) => Math.sin(i)), [7, 5]);
      const vector = tf.tensor1d(Float32Array.from({ length: 9 }, (_, i) => i * i - 3));
      const indices = [tf.tensor1d([6, 0, 0, 3], 'int32'), tf.tensor2d([1, 2, 6, 5, 4, 0], [3, 2], 'int32'), tf.tensor3d([8, 0, 2, 2, 7, 1], [2, 1, 3], 'int32'), tf.tensor1d([], 'int32')];
      for (const x of [matrix, vector]) {
        for (const i of indices) {
          if (x === matrix && i.size > 0 && tf.max(i).dataSync()[0] > 6) continue;
          const got = gatherRows(tf, x, i);
          const want = tf.gather(x, i);
          expect(got.shape).toEqual(want.shape);
          expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
        }
      }
    });
  });
});

/** Optimizer settings whose engines and curvature state must not grow: first-order, per-unit blocks, quasi-diagonal, Kronecker (each batch's factors, and averaged factors inverted every 5). */
const runs: Array<[string, TrainOptions]> = [
  ['backprop', { method: 'backprop' }],
  ['unitwise-natural', { method: 'unitwise-natural' }],
  ['quasi-diagonal-backpropagated-metric', { method: 'quasi-diagonal-backpropagated-metric' }],
  ['kflr', { method: 'kflr' }],
  ['mini-batch kfac, inverses every 5', { method: 'kfac', mode: 'minibatch', batchSize: 5, inverseEvery: 5, lr: 0.05 }],
];

/** Iterations of the memory runs: fewer on tfjs-webgpu, whose kernels run on llvmpipe on machines without a GPU. */
const MEMORY_ITERATIONS = { cpu: 100, wasm: 100, webgpu: 20 };

describe.each(['cpu', 'wasm', 'webgpu'] as const)('tfjs-%s: tensor memory over training iterations', (which) => {
  it.each(runs)('%s: tf.memory().numTensors does not grow, and dispose() frees everything', async (_label, options) => {
    // tfjs-webgpu: its engines run in a worker thread from dist/, which counts its tensors when asked.
    const numTensors = which === 'webgpu' ? ((channel) => () => channel.numTensors())(await distTfjsWebgpuChannel()) : ((tf) => () => tf.memory().numTensors)((await loadTfjs(which)).tf);
    const backend = which === 'webgpu' ? (registerBackend(await distTfjsWebgpu()), 'tfjs-webgpu') : (await useBackend('tfjs', { tfjsBackend: which })).name;
    const model = createModel(doc);
    const batches = Array.from({ length: 4 }, (_, i) => makeBatch(model.net, data, Array.from({ length: options.batchSize ?? 10 }, (_, j) => (i * 3 + j) % 10)));
    const before = numTensors();
    const optimizer = createOptimizer(model, { ...options, backend }, 10);
    const step = (i: number) => optimizer.step(options.mode === 'minibatch' ? batches[i % batches.length] : batches[0]);
    // Warm-up: lanes, curvature state and the inverses of the first refresh.
    for (let i = 0; i < 6; i++) step(i);
    const held = numTensors();
    const counts: number[] = [];
    const losses: number[] = [];
    for (let i = 0; i < MEMORY_ITERATIONS[which]; i++) {
      losses.push(step(i).loss);
      counts.push(numTensors());
    }
    expect(Math.max(...counts)).toBe(held);
    expect(losses.every(Number.isFinite)).toBe(true);
    optimizer.dispose();
    expect(numTensors()).toBe(before);
  });
});
