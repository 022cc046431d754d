import type { Backend } from '../engine.js';
import { webgpuDevice } from './webgpu-device.js';
import { WebgpuEngine } from './webgpu-engine.js';

/**
 * The WebGPU backend: engines whose buffers live on the process's WebGPU device (one worker
 * thread, see `webgpuDevice`); `detail` names the adapter and the route to it, e.g. `webgpu
 * (llvmpipe via OpenGL ES, compatibility mode)`. Rejects with a UsageError saying what to
 * install when no adapter can be opened.
 */
export async function webgpuBackend(): Promise<Backend> {
  const device = await webgpuDevice();
  return { name: 'webgpu', precision: 'float32', detail: device.detail, open: (net, size) => new WebgpuEngine(device, net, size) };
}
