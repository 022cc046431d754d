export { selectGpujsMode, gpujsDetail, EXACT_INDEX_LIMIT, type GpujsMode } from './gpujs-mode.js';
export { gpujsBackend } from './gpujs-backend.js';
export { GpujsEngine } from './gpujs-engine.js';
export { transferChunks } from './transfer-chunks.js';
