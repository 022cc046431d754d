import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs-core';
import { UsageError, problem } from '../../errors.js';

/** What Dawn reports of an adapter (`GPUAdapter.info`). */
interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** The parts of Dawn's node bindings (npm `webgpu`) used here. */
interface DawnModule {
  create(flags: string[]): GPU;
  globals: object;
}

/**
 * NOTE: Dawn's GPU instances and adapters must stay reachable for the device's whole life: when
 * the garbage collector frees dawn.node's instance, the device's native state goes with it (see
 * `webgpu-worker.ts`). They are kept here for the process (or worker thread).
 */
const keep: object[] = [];

/**
 * Initialises `@tensorflow/tfjs-backend-webgpu` on Dawn's Node bindings (npm `webgpu`) and says
 * which adapter runs it (for reports): a native GPU first (Vulkan, Metal or D3D12), else Dawn's
 * OpenGL ES backend in compatibility mode (Mesa's llvmpipe on a machine without a GPU). tfjs finds
 * WebGPU as `navigator.gpu`, which Node lacks: it is given a `navigator.gpu` that hands out the
 * chosen adapter, whose devices are asked for the adapter's storage-buffer limit (compatibility
 * mode's default is 4 per shader stage).
 *
 * NOTE: the backend's tensors can be read only asynchronously here (`data()`): its `dataSync`
 * copies through an `OffscreenCanvas`, which Node has none of, and a synchronous wait on the
 * thread that owns the device never sees a buffer mapped (mapping completes from the event
 * loop). Engines on it therefore run in a worker thread (`tfjs-webgpu-worker.ts`) that the main
 * thread waits on. Call this before anything imports `@tensorflow/tfjs-backend-webgpu` (it
 * registers itself only when `navigator.gpu` exists at import).
 */
export async function loadWebgpuBackend(tf: typeof TF): Promise<string> {
  const require = createRequire(import.meta.url);
  let dawn: DawnModule;
  try {
    dawn = require('webgpu') as DawnModule;
  } catch {
    throw new UsageError([problem('tfjs-backend', "--tfjs-backend webgpu needs the npm package 'webgpu' (Dawn's node bindings): npm install webgpu")]);
  }
  // Surfaceless EGL, as the main thread sets it (see `TfjsWebgpuChannel`), for a caller that loads this in its own thread.
  if (process.platform === 'linux' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
  Object.assign(globalThis, dawn.globals);
  const { adapter, detail } = await chooseAdapter(dawn);
  const storage = adapter.limits.maxStorageBuffersPerShaderStage;
  const info = (adapter as GPUAdapter & { info: AdapterInfo }).info;
  const shown = {
    features: adapter.features,
    limits: adapter.limits,
    info,
    requestDevice: (descriptor: GPUDeviceDescriptor = {}) => adapter.requestDevice({ ...descriptor, requiredLimits: { ...descriptor.requiredLimits, maxStorageBuffersPerShaderStage: storage } }),
  };
  const gpu = { requestAdapter: () => Promise.resolve(shown), getPreferredCanvasFormat: () => 'rgba8unorm', wgslLanguageFeatures: new Set<string>() };
  Object.defineProperty(globalThis, 'navigator', { value: { ...(globalThis as { navigator?: object }).navigator, gpu }, configurable: true, writable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new UsageError([problem('tfjs-backend', `tfjs: the webgpu backend failed to initialise on ${detail}`)]);
  return detail;
}

/** The first adapter that opens: native, then OpenGL ES in compatibility mode; `detail` names it and its route. */
async function chooseAdapter(dawn: DawnModule): Promise<{ adapter: GPUAdapter; detail: string }> {
  const native = process.platform === 'darwin' ? 'Metal' : process.platform === 'win32' ? 'D3D12' : 'Vulkan';
  const routes: [string[], GPURequestAdapterOptions & { featureLevel?: string }, string][] = [
    [[], { powerPreference: 'high-performance' }, native],
    [['backend=opengles'], { featureLevel: 'compatibility' }, 'OpenGL ES'],
  ];
  const tried: string[] = [];
  for (const [flags, options, route] of routes) {
    try {
      // NOTE: Mesa's EGL can fail to initialise for a moment (eglInitialize: EGL_NOT_INITIALIZED,
      // seen under xvfb-run with several test processes on one X server), so the GL ES route is
      // asked up to 3 times, 250 ms apart, before it counts as absent.
      let adapter: GPUAdapter | null = null;
      const attempts = route === 'OpenGL ES' ? 3 : 1;
      for (let attempt = 1; attempt <= attempts && !adapter; attempt++) {
        if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 250));
        const gpu = dawn.create(flags);
        keep.push(gpu);
        adapter = await gpu.requestAdapter(options);
      }
      if (!adapter) {
        tried.push(`${route}: no adapter`);
        continue;
      }
      keep.push(adapter);
      const info = (adapter as GPUAdapter & { info: AdapterInfo }).info;
      const name = [info.vendor, info.device || info.architecture].filter((s) => s).join(' ') || info.description || 'unknown adapter';
      const compat = (adapter as GPUAdapter & { featureLevel?: string }).featureLevel === 'compatibility' || route === 'OpenGL ES';
      return { adapter, detail: `${name} via ${route}${compat ? ', compatibility mode' : ''}` };
    } catch (err) {
      tried.push(`${route}: ${(err as Error).message}`);
    }
  }
  throw new UsageError([
    problem(
      'tfjs-backend',
      `--tfjs-backend webgpu found no WebGPU adapter (${tried.join('; ')}); install a GPU driver (Vulkan, Metal or D3D12), or Mesa's EGL and GL ES for the CPU fallback (Debian: apt-get install libegl1 libgles2 libgl1-mesa-dri; run with EGL_PLATFORM=surfaceless or under xvfb-run)`,
    ),
  ]);
}
