import { expect } from 'vitest';
import type { MetricLayout } from '../../src/backend/kernels.js';
import type { CompiledNetwork } from '../../src/engine/compiled-network.js';
import { invertBlock } from '../../src/linalg/sherman-morrison.js';
import type { Prng } from '../../src/random/prng.js';

/**
 * State for the online Sherman-Morrison step's tests: per-unit blocks A near the identity
 * (symmetric, entries 1 ± 0.025 on the diagonal, ±0.025 off it) and their inverses H, laid out as
 * `layout.matrixOffsets`; the units in `refused` get H = -I, so that their update is refused.
 */
export function onlineBlocks(net: CompiledNetwork, layout: MetricLayout, rng: Prng, refused: readonly number[]): { a: Float64Array; h: Float64Array } {
  const length = layout.matrixOffsets[net.nUnits];
  const a = new Float64Array(length);
  const h = new Float64Array(length);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
    const off = layout.matrixOffsets[k];
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[off + i * n + j] = a[off + j * n + i] = (i === j ? 1 : 0) + 0.05 * (rng.uniform() - 0.5);
    expect(invertBlock(a, h, off, n)).toBe(true);
  }
  for (const k of refused) {
    const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[layout.matrixOffsets[k] + i * n + j] = i === j ? -1 : 0;
  }
  return { a, h };
}
