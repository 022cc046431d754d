import { hostBackend } from '../host-engine.js';
import type { Kernels } from '../kernels.js';
import { cpuPropagationKernels } from './cpu-kernels.js';
import { cpuMetricKernels } from './cpu-metric-kernels.js';
import { cpuUpdateKernels } from './cpu-update-kernels.js';

/** The Float64 CPU reference kernels. */
export const cpuKernels: Kernels = { ...cpuPropagationKernels, ...cpuMetricKernels, ...cpuUpdateKernels };

/** The Float64 CPU reference backend: its engine's buffers are the host arrays themselves. */
export const cpuBackend = hostBackend(cpuKernels, 'Float64 reference (typed arrays)');
