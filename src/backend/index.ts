export { cpuBackend, cpuKernels } from './cpu/cpu-backend.js';
export { backendNames, getBackend, openEngine, registerBackend } from './registry.js';
export { hostBackend } from './host-engine.js';
export { backwardPass, forwardPass, TransferCounter, type Backend, type DeviceBuffer, type Engine, type EngineWorkspace, type TransferStats } from './engine.js';
export { metricLayout, type Kernels, type MetricKernels, type MetricLayout, type PropagationKernels, type UpdateKernels } from './kernels.js';
