import { UsageError, problem } from '../errors.js';
import { cpuKernels } from './index.js';
import { getBackend, registerBackend, backendNames, type Kernels } from './kernels.js';

/** Backends that can be asked for by name (`--backend`). */
export const BACKENDS = ['cpu', 'gpujs', 'tfjs'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** What ran: the backend and, for tfjs, the package behind it. */
export interface BackendInfo {
  name: string;
  precision: 'float64' | 'float32';
  detail: string;
}

const details = new Map<string, string>([['cpu', 'Float64 reference (typed arrays)']]);

/**
 * Makes a backend available by name, loading it on first use (tfjs and gpu.js are imported
 * lazily: they are large, and their native parts are optional), and returns its kernels.
 */
export async function useBackend(name: string): Promise<Kernels> {
  if (backendNames().includes(name)) return getBackend(name);
  if (name === 'tfjs') {
    const [{ loadTfjs }, { tfjsPropagationKernels }, { tfjsMetricKernels }] = await Promise.all([import('./tfjs/tf.js'), import('./tfjs/tfjs-propagation.js'), import('./tfjs/tfjs-metric.js')]);
    const runtime = await loadTfjs();
    registerBackend({ name: 'tfjs', precision: 'float32', ...tfjsPropagationKernels(runtime.tf), ...tfjsMetricKernels(runtime.tf) });
    details.set('tfjs', `TensorFlow.js '${runtime.backend}' backend from ${runtime.provider} (float32)`);
    return getBackend('tfjs');
  }
  if (name === 'gpujs') {
    const { gpujsKernels } = await import('./gpujs/index.js');
    const { kernels, detail } = gpujsKernels();
    registerBackend(kernels);
    details.set('gpujs', detail);
    return getBackend('gpujs');
  }
  throw new UsageError([problem('backend', `unknown backend '${name}'; available: ${BACKENDS.join(', ')}`)]);
}

/** Which backend ran, for reports. */
export function backendInfo(name: string): BackendInfo {
  const kernels = name === 'cpu' ? cpuKernels : getBackend(name);
  return { name, precision: kernels.precision, detail: details.get(name) ?? name };
}
