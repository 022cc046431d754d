import { beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import type { Backend } from '../src/backend/engine.js';
import { fusedCombine } from '../src/backend/tfjs/cpu-fused-update.js';
import { loadTfjs, type TfjsRuntime } from '../src/backend/tfjs/tf.js';
import { TensorBuffer } from '../src/backend/tfjs/tensor-buffer.js';
import { tfjsBackend } from '../src/backend/tfjs/tfjs-backend.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { createMethod, type MethodName } from '../src/methods/methods.js';
import { MethodRunner } from '../src/methods/runner.js';
import { Prng } from '../src/random/prng.js';
import { relative } from './helpers/compare.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

/*
 * The fused kernels of the tfjs engine on tfjs's cpu backend (src/backend/tfjs/cpu-fused*.ts)
 * write into their buffers' own arrays: the buffers must never share storage with a tensor held
 * elsewhere, and several training iterations in a row must match the Float64 reference.
 */

let runtime: TfjsRuntime;
beforeAll(async () => {
  runtime = await loadTfjs('cpu');
});

describe('tfjs cpu: buffers written in place', () => {
  it('writes into a piece of its own, never into storage another buffer or a copy holds', () => {
    runtime.activate();
    const { tf } = runtime;
    tf.tidy(() => {
      const a = new TensorBuffer(tf, 4, tf.tensor1d([1, 2, 3, 4]));
      const ones = tf.ones([4]);
      // b takes a view of a's array (a contiguous slice): the buffer copies it.
      const b = new TensorBuffer(tf, 2);
      b.set(a.range(1, 2));
      const own = a.writable(0, 4);
      expect(own).toBeInstanceOf(Float32Array);
      expect(a.writable(0, 2)).toBeUndefined(); // not exactly one piece
      a.writeWith(0, 4, (dest) => fusedCombine(tf, 1, a.tensor, 1, ones, dest));
      expect(a.writable(0, 4)).toBe(own); // the same array, written in place
      expect(Array.from(a.tensor.dataSync())).toEqual([2, 3, 4, 5]);
      expect(Array.from(b.tensor.dataSync())).toEqual([2, 3]);
      // A copy shares the tensor's data (a clone): neither buffer may write in place until one is rewritten.
      const c = new TensorBuffer(tf, 4);
      c.set(tf.clone(a.tensor), a);
      expect(a.writable(0, 4)).toBeUndefined();
      expect(c.writable(0, 4)).toBeUndefined();
      a.writeWith(0, 4, (dest) => fusedCombine(tf, 2, a.tensor, 0, ones, dest));
      expect(Array.from(a.tensor.dataSync())).toEqual([4, 6, 8, 10]);
      expect(Array.from(c.tensor.dataSync())).toEqual([2, 3, 4, 5]);
      expect(c.writable(0, 4)).toBeInstanceOf(Float32Array);
      for (const buffer of [a, b, c]) buffer.dispose();
    });
  });
});

describe('tfjs cpu: training iterations against the cpu reference', () => {
  const doc = randomNetwork({ interpretation: 'softmax', seed: 7, inputs: 5, hidden: 12, outputs: 3, density: 0.5, activations: ['sigmoid', 'tanh', 'linear'], affine: true });
  const methods: MethodName[] = ['backprop', 'quasi-diagonal-backpropagated-metric', 'quasi-diagonal-natural', 'backpropagated-metric', 'unitwise-natural'];

  /**
   * Parameters after `iterations` training iterations (each batch's curvature, w ← w + 0.05 δw) on
   * `backend`. 40 samples, more than any unit's parameters: with fewer, the unit blocks are
   * singular and ε = 10⁻³ amplifies float32 rounding in their null directions (float32 against
   * float64 then differs by far more than rounding, whatever the route).
   */
  function train(backend: Backend, method: MethodName, iterations: number): Float64Array {
    const model = createModel(doc);
    const batch = makeBatch(model.net, randomData(doc, 40, 3));
    const engine = backend.open(model.net, batch.size);
    const p = engine.alloc(model.net.nParams);
    engine.upload(p, model.params);
    const ws = engine.workspace();
    const runner = new MethodRunner(engine, createMethod(method));
    for (let i = 0; i < iterations; i++) {
      engine.setBatch(ws, batch);
      runner.measure(p, ws, 1, { rng: new Prng(1), mcSamples: 1 });
      engine.combine(p, 1, p, 0.05, runner.solve(1e-3));
    }
    const params = engine.read(p);
    runner.dispose();
    engine.dispose();
    return params;
  }

  it.each(methods)('%s: parameters after 4 iterations', (method) => {
    runtime.activate();
    const tfjs = tfjsBackend(runtime);
    const start = createModel(doc).params;
    const ref = train(cpuBackend, method, 4);
    const dev = train(tfjs, method, 4);
    const moved = relative(ref, start, 1e-3);
    expect(moved).toBeGreaterThan(1e-3); // the iterations did move the parameters
    expect(relative(dev, ref, 1e-3)).toBeLessThan(1e-3);
  });
});
