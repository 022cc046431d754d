import type { Backend } from '../engine.js';
import { deviceRuntime } from './device-runtime.js';
import { GpujsEngine } from './gpujs-engine.js';
import { EXACT_INDEX_LIMIT, gpujsDetail, type GpujsMode } from './gpujs-mode.js';

/**
 * The gpu.js backend: engines whose buffers stay on the device (see {@link GpujsEngine}), in
 * `mode` (default: headlessgl where it can run, else webasm; see `selectGpujsMode`). `detail`
 * says which mode ran and why. `transferBudget` caps the entries of one transfer-rate chunk
 * (tests lower it to exercise chunking).
 */
export function gpujsBackend(mode?: GpujsMode, transferBudget = EXACT_INDEX_LIMIT): Backend & { readonly mode: GpujsMode } {
  const runtime = deviceRuntime(mode);
  return {
    name: 'gpujs',
    precision: 'float32',
    detail: gpujsDetail(runtime),
    mode: runtime.mode,
    open: (net, size) => new GpujsEngine(runtime, net, size, transferBudget),
  };
}
