import { cpuPropagationKernels } from './cpu/cpu-kernels.js';
import { cpuMetricKernels } from './cpu/cpu-metric-kernels.js';
import { cpuUpdateKernels } from './cpu/cpu-update-kernels.js';
import type { Kernels } from './kernels.js';
import { hostBackend, registerBackend } from './registry.js';

/** The Float64 CPU reference kernels. */
export const cpuKernels: Kernels = { ...cpuPropagationKernels, ...cpuMetricKernels, ...cpuUpdateKernels };

/** The Float64 CPU reference backend: its engine's buffers are the host arrays themselves. */
export const cpuBackend = hostBackend(cpuKernels, 'Float64 reference (typed arrays)');
registerBackend(cpuBackend);

export { backendNames, getBackend, openEngine, registerBackend } from './registry.js';
export { backwardPass, forwardPass, TransferCounter, type Backend, type DeviceBuffer, type Engine, type EngineWorkspace, type TransferStats } from './engine.js';
export { metricLayout, type Kernels, type MetricKernels, type MetricLayout, type PropagationKernels, type UpdateKernels } from './kernels.js';
