import { describe, expect, it } from 'vitest';
import { backwardPass, forwardPass, type Backend, type DeviceBuffer, type Engine, type EngineWorkspace } from '../src/backend/engine.js';
import { deviceRuntime } from '../src/backend/gpujs/device-runtime.js';
import { GpujsEngine, gpujsBackend } from '../src/backend/gpujs/index.js';
import { cpuBackend } from '../src/backend/index.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import type { NetworkDocument } from '../src/network/types.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

/**
 * Row launches of headlessgl mode (`device-rows.ts`): propagation drawn over only the texture
 * rows it writes and copied into the whole-array textures in place gives what the whole-array
 * draws and the cpu engine give, and a buffer sharing a texture with another (a `copy`) keeps its
 * values when the other is written in place. The engine's threshold is lowered to 0 so small
 * networks take that path. Skipped where headlessgl cannot run.
 */

const glAvailable = gpujsBackend().mode === 'headlessgl';
const SAMPLES = 7;

const networks: NetworkDocument[] = [
  randomNetwork({ interpretation: 'softmax', seed: 81, inputs: 6, hidden: 14, outputs: 3, density: 0.5, activations: ['sigmoid', 'tanh', 'relu'] }),
  randomNetwork({ interpretation: 'bernoulli', seed: 82, inputs: 4, hidden: 9, outputs: 2, density: 1, activations: ['sigmoid', 'tanh'], affine: true }),
  randomNetwork({ interpretation: 'square', seed: 83, inputs: 40, hidden: 60, outputs: 5, density: 0.3, activations: ['tanh', 'softplus'] }),
];

/** Engines of the headlessgl runtime with row launches from `rowsFrom` entries. */
const rowsBackend = (rowsFrom: number): Backend => ({ ...gpujsBackend('headlessgl'), open: (net, size) => new GpujsEngine(deviceRuntime('headlessgl'), net, size, undefined, rowsFrom) });

/** One pass: batch, forward, output layer and loss, backward with the backpropagated modulus, gradient with its entries. */
function pass(backend: Backend, doc: NetworkDocument) {
  const model = createModel(doc);
  const { net } = model;
  const batch = makeBatch(net, randomData(doc, SAMPLES, 5));
  const engine = backend.open(net, batch.size);
  const params = engine.alloc(net.nParams);
  engine.upload(params, model.params);
  const ws = engine.workspace();
  const modulus = engine.alloc(net.nUnits * SAMPLES);
  const [g, diagonal, cross] = [0, 1, 2].map(() => engine.alloc(net.nParams));
  engine.setBatch(ws, batch);
  forwardPass(engine, params, ws);
  engine.outputLayer(ws);
  const loss = engine.meanLoss(ws);
  engine.outputModulus(ws, modulus);
  backwardPass(engine, params, ws, modulus);
  engine.gradient(ws, g, { modulus, diagonal, cross });
  const read = (b: DeviceBuffer) => Array.from(engine.read(b));
  const values = { loss: [loss], pre: read(ws.pre), act: read(ws.act), deriv: read(ws.deriv), back: read(ws.back), backReduced: read(ws.backReduced), modulus: read(modulus), g: read(g), diagonal: read(diagonal), cross: read(cross) };
  return { engine, params, ws, values };
}

function expectClose(actual: Record<string, number[]>, expected: Record<string, number[]>, digits: number) {
  for (const [name, values] of Object.entries(expected)) {
    expect(actual[name].length, name).toBe(values.length);
    values.forEach((v, i) => expect(actual[name][i], `${name}[${i}]`).toBeCloseTo(v, digits));
  }
}

describe.runIf(glAvailable)('gpujs row launches (headlessgl)', () => {
  it('give what whole-array draws and the cpu engine give, level by level', () => {
    for (const doc of networks) {
      const rows = pass(rowsBackend(0), doc);
      expect((rows.engine as GpujsEngine).rowLaunches).toBe(true);
      const whole = pass(rowsBackend(Number.POSITIVE_INFINITY), doc);
      expect((whole.engine as GpujsEngine).rowLaunches).toBe(false);
      const cpu = pass(cpuBackend, doc);
      // Same kernels, same float32 arithmetic: the row launches give the whole-array draws' numbers.
      expectClose(rows.values, whole.values, 6);
      expectClose(rows.values, cpu.values, 3);
      for (const side of [rows, whole, cpu]) side.engine.dispose();
    }
  });

  it('writes in place only the texture it owns: a copy of a buffer keeps its values', () => {
    const doc = networks[0];
    const { engine, params, ws } = pass(rowsBackend(0), doc);
    const saved = (engine: Engine, ws: EngineWorkspace) => {
      const copy = engine.alloc(ws.act.length);
      engine.copy(ws.act, copy);
      return copy;
    };
    const copy = saved(engine, ws);
    const before = Array.from(engine.read(copy));
    // New parameters: the next forward pass writes other activities into ws.act's rows.
    engine.combine(params, 2, params, 0, params);
    forwardPass(engine, params, ws);
    const after = Array.from(engine.read(ws.act));
    expect(after.some((v, i) => Math.abs(v - before[i]) > 1e-3)).toBe(true);
    expect(Array.from(engine.read(copy))).toEqual(before);
    engine.dispose();
  });
});
