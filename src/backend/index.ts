import { cpuPropagationKernels } from './cpu/cpu-kernels.js';
import { cpuMetricKernels } from './cpu/cpu-metric-kernels.js';
import { cpuUpdateKernels } from './cpu/cpu-update-kernels.js';
import { registerBackend, type Kernels } from './kernels.js';

/** The Float64 CPU reference backend. */
export const cpuKernels: Kernels = { ...cpuPropagationKernels, ...cpuMetricKernels, ...cpuUpdateKernels };
registerBackend(cpuKernels);

export { backendNames, getBackend, metricLayout, registerBackend, type Kernels, type MetricKernels, type MetricLayout, type PropagationKernels, type UpdateKernels } from './kernels.js';
