import { UsageError, problem } from '../errors.js';
import { threadedCpuBackend } from './cpu/threaded-engine.js';
import type { Backend } from './engine.js';
import { backendNames, getBackend, registerBackend } from './registry.js';
import { TFJS_BACKENDS, type TfjsBackendName } from './tfjs/tf.js';

/** Backends that can be asked for by name (`--backend`). */
export const BACKENDS = ['cpu', 'gpujs', 'tfjs', 'webgpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** What ran: the backend and, for tfjs, gpu.js and WebGPU, the package, mode or adapter behind it. */
export interface BackendInfo {
  name: string;
  precision: 'float64' | 'float32';
  detail: string;
}

/** Choices of a backend's variant (`--tfjs-backend`). */
export interface BackendChoices {
  /** tfjs: the TensorFlow.js backend that runs the engines (default: `tensorflow` when tfjs-node is importable, else `wasm`). */
  tfjsBackend?: TfjsBackendName;
  /**
   * cpu: threads per engine (`--threads`), the main thread included; networks of at least 10⁵
   * edges then split each kernel call over them, with bit-identical results (see `ThreadedEngine`).
   * Registers the cpu backend with this many threads (1: the plain engine). Other backends refuse more than 1.
   */
  threads?: number;
}

/**
 * Makes a backend available by name, loading it on first use (tfjs, gpu.js and WebGPU are
 * imported lazily: they are large, and their native parts are optional), and returns it. Its `name` is
 * the backend's identity, for `openEngine`, the optimizer's options and saved settings: `cpu`, `webgpu`,
 * `gpujs`, or `tfjs-<tfjs backend>` for TensorFlow.js (`useBackend('tfjs', { tfjsBackend:
 * 'wasm' })` and `useBackend('tfjs-wasm')` are one backend). `tfjs` without a choice is the
 * default tfjs backend, registered under both names.
 */
export async function useBackend(name: string, choices: BackendChoices = {}): Promise<Backend> {
  if (choices.threads !== undefined) {
    if (name === 'cpu') registerBackend(threadedCpuBackend({ threads: choices.threads }));
    else if (choices.threads !== 1) throw new UsageError([problem('threads', `--threads ${choices.threads} applies to --backend cpu, not '${name}': drop it or give --backend cpu`)]);
  }
  if (name === 'tfjs' || name.startsWith('tfjs-')) return useTfjs(name, choices.tfjsBackend);
  if (choices.tfjsBackend !== undefined) throw new UsageError([problem('tfjs-backend', `--tfjs-backend ${choices.tfjsBackend} applies to --backend tfjs, not '${name}'`)]);
  if (backendNames().includes(name)) return getBackend(name);
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
  throw new UsageError([problem('backend', `unknown backend '${name}'; available: ${BACKENDS.join(', ')} (tfjs also as ${TFJS_BACKENDS.map((b) => `tfjs-${b}`).join(', ')})`)]);
}

/** The tfjs backend of `name` ('tfjs' or 'tfjs-<tfjs backend>') and an optional choice, which must agree. */
async function useTfjs(name: string, choice: TfjsBackendName | undefined): Promise<Backend> {
  const named = name === 'tfjs' ? undefined : name.slice('tfjs-'.length);
  for (const which of [named, choice]) {
    if (which !== undefined && !(TFJS_BACKENDS as readonly string[]).includes(which)) throw new UsageError([problem('tfjs-backend', `unknown TensorFlow.js backend '${which}'; use ${TFJS_BACKENDS.join(', ')}`)]);
  }
  if (named !== undefined && choice !== undefined && named !== choice) throw new UsageError([problem('tfjs-backend', `backend '${name}' and --tfjs-backend ${choice} disagree: give one of them`)]);
  if (backendNames().includes(name) && choice === undefined) return getBackend(name);
  if ((named ?? choice) === 'webgpu') {
    // Engines on tfjs's WebGPU backend run in a worker thread (its reads are asynchronous only).
    if (backendNames().includes('tfjs-webgpu')) return getBackend('tfjs-webgpu');
    const { tfjsWebgpuBackend } = await import('./tfjs/tfjs-webgpu-engine.js');
    registerBackend(await tfjsWebgpuBackend());
    return getBackend('tfjs-webgpu');
  }
  const [{ loadTfjs }, { tfjsBackend }] = await Promise.all([import('./tfjs/tf.js'), import('./tfjs/tfjs-backend.js')]);
  const runtime = await loadTfjs((named ?? choice) as TfjsBackendName | undefined);
  const backend = backendNames().includes(`tfjs-${runtime.backend}`) ? getBackend(`tfjs-${runtime.backend}`) : tfjsBackend(runtime);
  registerBackend(backend);
  if (name === 'tfjs' && choice === undefined) registerBackend(backend, 'tfjs');
  return backend;
}

/** Which backend ran, for reports. */
export function backendInfo(name: string): BackendInfo {
  const backend = getBackend(name);
  return { name, precision: backend.precision, detail: backend.detail };
}
