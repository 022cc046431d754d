import { describe, expect, it } from 'vitest';
import { webgpuDevice, type WebgpuDevice } from '../src/backend/webgpu/webgpu-device.js';
import { WebgpuEngine } from '../src/backend/webgpu/webgpu-engine.js';
import { createModel } from '../src/engine/model.js';
import { randomNetwork } from './helpers/random-network.js';

/**
 * The WebGPU device bridge (a worker thread owning the device, synchronous reads through
 * Atomics.wait): many round trips, 2-D launch grids, large reads, device errors as typed
 * errors, and the engine's usage errors. Skipped, with the reason printed, only where no WebGPU
 * adapter can be opened.
 */

let device: WebgpuDevice | undefined;
try {
  device = await webgpuDevice();
} catch (err) {
  console.log(`webgpu-device tests skipped: ${(err as Error).message}`);
}

const net = createModel(randomNetwork({ interpretation: 'softmax', seed: 90, inputs: 4, hidden: 6, outputs: 3, density: 0.6 })).net;

describe.skipIf(device === undefined)('webgpu device bridge', () => {
  it('survives many kernel and read round trips (the worker keeps its GPU instance alive)', () => {
    const engine = new WebgpuEngine(device as WebgpuDevice, net, 2);
    const x = engine.alloc(4);
    for (let i = 0; i < 300; i++) {
      engine.fill(x, i);
      expect(engine.read(x, 3, 1)[0]).toBe(i);
    }
    engine.dispose();
  });

  it('launches past one grid row (2-D grids) and reads more than the control block holds', () => {
    const engine = new WebgpuEngine(device as WebgpuDevice, net, 2);
    // 65535 workgroups of 64 threads per grid row: this fill needs a second row.
    const huge = engine.alloc(65535 * 64 + 1000);
    engine.fill(huge, 3);
    expect(Array.from(engine.read(huge, huge.length - 2))).toEqual([3, 3]);
    expect(Array.from(engine.read(huge, 0, 1))).toEqual([3]);
    // A read of 400 KB: the shared control block (64 KiB at first) grows for it.
    const long = Float64Array.from({ length: 100_000 }, (_, i) => i);
    const x = engine.alloc(long.length);
    engine.upload(x, long);
    expect(engine.read(x)).toEqual(long);
    engine.dispose();
  });

  it('reports a device error as a typed error on the next read, then carries on', () => {
    const d = device as WebgpuDevice;
    const id = d.createBuffer(16);
    d.dispatch({ name: 'broken', bindings: [{ name: 'a', type: 'f32', write: true }], params: [], body: '  a[x] = undefinedName;' }, 4, [id], []);
    expect(() => d.read(id, 0, 16)).toThrow(/WebGPU validation error/);
    d.write(id, 0, new Float32Array([1, 2, 3, 4]));
    expect(Array.from(new Float32Array(d.read(id, 4, 8)))).toEqual([2, 3]);
    d.destroy(id);
  });

  it('refuses buffers of another engine, freed buffers and out-of-range reads with usage errors', () => {
    const [a, b] = [new WebgpuEngine(device as WebgpuDevice, net, 2), new WebgpuEngine(device as WebgpuDevice, net, 2)];
    const x = a.alloc(3);
    expect(() => b.read(x)).toThrow(/another engine/);
    expect(() => a.read(x, 2, 2)).toThrow(/read of 2 values at 2/);
    a.free(x);
    expect(() => a.read(x)).toThrow(/freed buffer/);
    expect(() => a.alloc((device as WebgpuDevice).maxBufferBytes / 4 + 1)).toThrow(/exceeds the device's largest storage binding/);
    a.dispose();
    b.dispose();
  });
});
