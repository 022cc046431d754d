import type { Kernels } from '../kernels.js';
import { EXACT_INDEX_LIMIT, loadGpujs, type GpujsMode } from './gpu.js';
import { gpujsMetricKernels } from './gpujs-metric.js';
import { gpujsPropagationKernels } from './gpujs-propagation.js';
import { gpujsUpdateKernels } from './gpujs-update.js';

export { loadGpujs, type GpujsMode } from './gpu.js';
export { gpujsBackend } from './gpujs-backend.js';
export { GpujsEngine } from './gpujs-engine.js';
export { transferChunks } from './transfer-chunks.js';

/**
 * The gpu.js backend's kernels in `mode` (default: headlessgl where it can run, else webasm;
 * see {@link loadGpujs}), with `detail` saying which mode ran and why. `transferBudget` caps the
 * entries of one transfer-rate chunk (tests lower it to exercise chunking).
 */
export function gpujsKernels(mode?: GpujsMode, transferBudget = EXACT_INDEX_LIMIT): { kernels: Kernels; detail: string; mode: GpujsMode } {
  const gpu = loadGpujs(mode);
  const kernels: Kernels = { name: 'gpujs', precision: 'float32', ...gpujsPropagationKernels(gpu), ...gpujsMetricKernels(gpu, transferBudget), ...gpujsUpdateKernels(gpu) };
  return { kernels, detail: `gpu.js '${gpu.mode}' mode (${gpu.reason}; float32)`, mode: gpu.mode };
}
