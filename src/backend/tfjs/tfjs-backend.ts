import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { Backend } from '../engine.js';
import type { TfjsRuntime } from './tf.js';
import { TfjsEngine } from './tfjs-engine.js';

/** Options of {@link tfjsBackend}. */
export interface TfjsEngineOptions {
  /**
   * Largest intermediate of the chunked kernels, in numbers (default 2^22, 16 MiB of float32):
   * a level's dense weight matrix (larger levels use padded lists), the gradient's
   * [units × fan-in × size] gathers of padded levels, the column passes' [nUnits × size × columns].
   */
  chunkEntries?: number;
}

/**
 * The TensorFlow.js backend on one tfjs backend: engines whose buffers stay in tensors (see
 * {@link TfjsEngine}), registered as `tfjs-<tfjs backend>` (`tfjs-cpu`, `tfjs-wasm`, ...).
 */
export function tfjsBackend(runtime: TfjsRuntime, options: TfjsEngineOptions = {}): Backend {
  const note = runtime.note ? `; ${runtime.note}` : '';
  return {
    name: `tfjs-${runtime.backend}`,
    precision: 'float32',
    detail: `TensorFlow.js '${runtime.backend}' backend from ${runtime.provider} (float32${note})`,
    open: (net: CompiledNetwork, size: number) => new TfjsEngine(runtime, net, size, options),
  };
}
