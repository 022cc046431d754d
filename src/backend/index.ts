import { cpuKernels } from './cpu/cpu-kernels.js';
import { registerBackend } from './kernels.js';

registerBackend(cpuKernels);

export { backendNames, getBackend, registerBackend, type Kernels } from './kernels.js';
export { cpuKernels } from './cpu/cpu-kernels.js';
