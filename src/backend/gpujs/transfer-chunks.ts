import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { EXACT_INDEX_LIMIT } from './gpujs-mode.js';

/** How the n_out transfer-rate backpropagations are split: outputs per launch and samples per chunk. */
export interface TransferChunks {
  outputs: number;
  samples: number;
}

/**
 * Chunk sizes for transfer rates of `size` samples: as many outputs per launch as keep the rate
 * array ([(nUnits + 1) × outputs × samples] float32) within `budget` entries (at most 2^24, the
 * exact-index limit; 64 MiB), and if one output over every sample is already too large, fewer samples.
 */
export function transferChunks(net: CompiledNetwork, size: number, budget = EXACT_INDEX_LIMIT): TransferChunks {
  const perOutputSample = net.nUnits + 1;
  const samples = Math.max(1, Math.min(size, Math.floor(budget / perOutputSample)));
  const outputs = Math.max(1, Math.min(net.nOutputs, Math.floor(budget / (perOutputSample * samples))));
  return { outputs, samples };
}
