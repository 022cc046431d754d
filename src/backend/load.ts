import { UsageError, problem } from '../errors.js';
import { cpuBackend } from './index.js';
import type { Backend } from './engine.js';
import { backendNames, getBackend, registerBackend } from './registry.js';

/** Backends that can be asked for by name (`--backend`). */
export const BACKENDS = ['cpu', 'gpujs', 'tfjs', 'webgpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** What ran: the backend and, for tfjs, gpu.js and WebGPU, the package, mode or adapter behind it. */
export interface BackendInfo {
  name: string;
  precision: 'float64' | 'float32';
  detail: string;
}

/**
 * Makes a backend available by name, loading it on first use (tfjs, gpu.js and WebGPU are
 * imported lazily: they are large, and their native parts are optional), and returns it.
 */
export async function useBackend(name: string): Promise<Backend> {
  if (backendNames().includes(name)) return getBackend(name);
  if (name === 'tfjs') {
    const [{ loadTfjs }, { tfjsBackend }] = await Promise.all([import('./tfjs/tf.js'), import('./tfjs/tfjs-backend.js')]);
    registerBackend(tfjsBackend(await loadTfjs()));
    return getBackend('tfjs');
  }
  if (name === 'gpujs') {
    const { gpujsBackend } = await import('./gpujs/index.js');
    registerBackend(gpujsBackend());
    return getBackend('gpujs');
  }
  if (name === 'webgpu') {
    const { webgpuBackend } = await import('./webgpu/webgpu-backend.js');
    registerBackend(await webgpuBackend());
    return getBackend('webgpu');
  }
  throw new UsageError([problem('backend', `unknown backend '${name}'; available: ${BACKENDS.join(', ')}`)]);
}

/** Which backend ran, for reports. */
export function backendInfo(name: string): BackendInfo {
  const backend = name === 'cpu' ? cpuBackend : getBackend(name);
  return { name, precision: backend.precision, detail: backend.detail };
}
