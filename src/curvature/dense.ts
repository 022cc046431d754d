import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { MetricLayout } from '../backend/kernels.js';

/**
 * Conversions between a dense P × P matrix (row-major, parameters in the network's layout) and
 * the structured arrays of the curvatures, shared by their `toDense`/`fromDense`.
 */

/** Each unit's n_k × n_k block (metricLayout) placed on the diagonal of a dense P × P matrix. */
export function blocksToDense(net: CompiledNetwork, layout: MetricLayout, blocks: ArrayLike<number>): Float64Array {
  const P = net.nParams;
  const dense = new Float64Array(P * P);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const p0 = net.blockOffsets[k];
    const n = net.blockOffsets[k + 1] - p0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) dense[(p0 + i) * P + p0 + j] = blocks[layout.matrixOffsets[k] + i * n + j];
  }
  return dense;
}

/** The per-unit blocks of a dense P × P matrix (its restriction to the block-diagonal structure). */
export function denseToBlocks(net: CompiledNetwork, layout: MetricLayout, dense: Float64Array): Float64Array {
  const P = net.nParams;
  const blocks = new Float64Array(layout.matrixOffsets[net.nUnits]);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const p0 = net.blockOffsets[k];
    const n = net.blockOffsets[k + 1] - p0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) blocks[layout.matrixOffsets[k] + i * n + j] = dense[(p0 + i) * P + p0 + j];
  }
  return blocks;
}

/**
 * Quasi-diagonal entries (laid out like the parameters: `diagonal[p]` = A_pp, `cross[p]` = A_0p
 * with the unit's bias 0) as a dense P × P matrix: the diagonal, and the bias row and column of
 * each unit when `cross` is given.
 */
export function entriesToDense(net: CompiledNetwork, diagonal: ArrayLike<number>, cross?: ArrayLike<number>): Float64Array {
  const P = net.nParams;
  const dense = new Float64Array(P * P);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const p0 = net.blockOffsets[k];
    for (let p = p0; p < net.blockOffsets[k + 1]; p++) {
      dense[p * P + p] = diagonal[p];
      if (cross && p > p0) dense[p0 * P + p] = dense[p * P + p0] = cross[p];
    }
  }
  return dense;
}

/** The quasi-diagonal entries of a dense P × P matrix (see {@link entriesToDense}). */
export function denseToEntries(net: CompiledNetwork, dense: Float64Array): { diagonal: Float64Array; cross: Float64Array } {
  const P = net.nParams;
  const diagonal = new Float64Array(P);
  const cross = new Float64Array(P);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const p0 = net.blockOffsets[k];
    for (let p = p0; p < net.blockOffsets[k + 1]; p++) {
      diagonal[p] = dense[p * P + p];
      cross[p] = dense[p0 * P + p];
    }
  }
  return { diagonal, cross };
}
