import type * as TF from '@tensorflow/tfjs-core';
import { UsageError, problem } from '../../errors.js';
import { loadWasmBackend } from './tfjs-wasm.js';
import { loadWebgpuBackend } from './tfjs-webgpu.js';

/**
 * The TensorFlow.js backends an engine can run on (`--tfjs-backend`): `cpu` (tfjs's plain
 * JavaScript kernels), `wasm` (`@tensorflow/tfjs-backend-wasm`, XNNPACK kernels in WebAssembly),
 * `webgpu` (`@tensorflow/tfjs-backend-webgpu` on Dawn's Node bindings, its engines in a worker
 * thread: see `tfjs-webgpu-engine.ts`) and `tensorflow` (libtensorflow through
 * `@tensorflow/tfjs-node` or `@tensorflow/tfjs-node-gpu`, when installed).
 */
export const TFJS_BACKENDS = ['cpu', 'wasm', 'webgpu', 'tensorflow'] as const;
export type TfjsBackendName = (typeof TFJS_BACKENDS)[number];

/** The TensorFlow.js namespace in use, and which of its backends runs an engine. */
export interface TfjsRuntime {
  tf: typeof TF;
  /** The package that provides the backend ('@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-cpu' or '@tensorflow/tfjs-backend-wasm'). */
  provider: string;
  /** tfjs's name of the backend: tf.getBackend() while an engine of this runtime runs. */
  backend: TfjsBackendName;
  /** What else is worth reporting (wasm: whether SIMD and threads are on, and why not; webgpu: the adapter). */
  note?: string;
  /** False when tensors can be read only asynchronously (`data()`, not `dataSync()`): webgpu in Node. */
  syncReads?: boolean;
  /**
   * Makes this runtime's backend the active tfjs backend. tfjs has one active backend per
   * process; engines of different runtimes (tfjs-cpu beside tfjs-wasm) call this before each
   * kernel so that their tensors stay on their own backend.
   */
  activate(): void;
}

const loading = new Map<TfjsBackendName, Promise<TfjsRuntime>>();
/** The native runtime once found (see `nativeTfjs`). */
let native: TfjsRuntime | undefined;

/** Packages that provide the native `tensorflow` backend, in the order they are tried. */
const NATIVE_PROVIDERS = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/**
 * The tfjs backend `--backend tfjs` runs without `--tfjs-backend`: `tensorflow` when
 * `@tensorflow/tfjs-node(-gpu)` is importable, else `wasm`, measured 2-4x faster than tfjs's
 * `cpu` backend on the autoencoder and 10-26x on a 120,000-edge network (README, Benchmarks).
 */
export async function defaultTfjsBackend(): Promise<TfjsBackendName> {
  return (await nativeTfjs()) ? 'tensorflow' : 'wasm';
}

/**
 * Loads TensorFlow.js with one backend, once per backend (a process can hold several and
 * switch between them: see {@link TfjsRuntime.activate}); `which` defaults to
 * {@link defaultTfjsBackend}. Production mode silences tfjs's advice to install the native
 * binding; which route ran is reported instead.
 *
 * - `tensorflow`: `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` (their install step
 *   downloads libtensorflow, which this project's machines cannot); a UsageError saying how to
 *   install them when neither is importable.
 * - `wasm`: see `loadWasmBackend` (SIMD build; threads are not available in Node).
 * - `webgpu`: see `loadWebgpuBackend`. Its tensors can be read only asynchronously in Node
 *   (`syncReads: false`), so engines on it run in a worker thread where this runtime is loaded
 *   (`useBackend('tfjs-webgpu')` starts it); loaded on the main thread, it serves asynchronous
 *   code only (`TfjsEngine.callAsync`).
 */
export async function loadTfjs(which?: TfjsBackendName): Promise<TfjsRuntime> {
  const name = which ?? (await defaultTfjsBackend());
  let pending = loading.get(name);
  if (!pending) {
    pending = loadRuntime(name);
    loading.set(name, pending);
    pending.catch(() => loading.delete(name));
  }
  return pending;
}

/** Loads one runtime (see {@link loadTfjs}); concurrent calls share one promise. */
async function loadRuntime(name: TfjsBackendName): Promise<TfjsRuntime> {
  let runtime: TfjsRuntime;
  if (name === 'tensorflow') {
    const found = await nativeTfjs();
    if (!found) throw new UsageError([problem('tfjs-backend', `--tfjs-backend tensorflow needs @tensorflow/tfjs-node (or @tensorflow/tfjs-node-gpu for CUDA GPUs), which is not installed: run 'npm install @tensorflow/tfjs-node@4.22.0' (its install step downloads libtensorflow), or use --tfjs-backend cpu or wasm`)]);
    runtime = found;
  } else {
    const tf = await import('@tensorflow/tfjs-core');
    tf.enableProdMode();
    if (name === 'webgpu') {
      runtime = withActivate(tf, { tf, provider: '@tensorflow/tfjs-backend-webgpu', backend: 'webgpu', note: await loadWebgpuBackend(tf), syncReads: false });
    } else if (name === 'wasm') {
      runtime = withActivate(tf, { tf, provider: '@tensorflow/tfjs-backend-wasm', backend: 'wasm', note: await loadWasmBackend(tf) });
    } else {
      await import('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: the cpu backend failed to initialise');
      runtime = withActivate(tf, { tf, provider: '@tensorflow/tfjs-backend-cpu', backend: 'cpu' });
    }
  }
  return runtime;
}

/** The native runtime, or undefined when neither tfjs-node package is importable. */
async function nativeTfjs(): Promise<TfjsRuntime | undefined> {
  if (native) return native;
  for (const provider of NATIVE_PROVIDERS) {
    try {
      const tf = (await import(provider)) as typeof TF;
      await tf.setBackend('tensorflow');
      native = withActivate(tf, { tf, provider, backend: 'tensorflow' });
      return native;
    } catch {
      // Not installed (or libtensorflow missing): try the next route.
    }
  }
  return undefined;
}

/**
 * Adds {@link TfjsRuntime.activate}. NOTE: `tf.setBackend` is async only to initialise a backend;
 * for one already initialised (each runtime initialises its own when it loads) it switches
 * before it returns, so the promise can be left alone (a backend not initialised is an error).
 */
function withActivate(tf: typeof TF, runtime: Omit<TfjsRuntime, 'activate'>): TfjsRuntime {
  const name = runtime.backend;
  return {
    ...runtime,
    activate: () => {
      if (tf.getBackend() === name) return;
      if (!tf.findBackend(name)) throw new Error(`tfjs: the '${name}' backend is not initialised (was it removed?)`);
      void tf.setBackend(name);
    },
  };
}
