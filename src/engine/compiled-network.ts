import type { Activation, Interpretation } from '../network/types.js';

/**
 * Activation codes stored per unit in {@link CompiledNetwork.activation}. The gpu.js kernels
 * use the same numbers (see `device-helpers.ts`).
 */
export const ActivationCode = { Input: 0, Sigmoid: 1, Tanh: 2, Linear: 3, Relu: 4, Softplus: 5 } as const;

/** The activation of each non-input {@link ActivationCode} (indexed by code). */
export const ACTIVATION_OF_CODE: Readonly<Record<number, Activation>> = { 1: 'sigmoid', 2: 'tanh', 3: 'linear', 4: 'relu', 5: 'softplus' };

/**
 * A network compiled for computation: integer unit ids in topological order, CSR edge arrays
 * and a flat parameter layout. Nothing here refers to graphology or to the JSON document.
 *
 * Units are numbered so that level l holds ids `levelOffsets[l] .. levelOffsets[l+1]-1`;
 * level 0 is exactly the input units, in the order they appear in the document (so input
 * index j is unit id j). A non-input unit sits one level above its highest incoming unit.
 *
 * Parameters (one flat Float64Array of length `nParams`) are laid out in per-unit blocks:
 * unit k owns `params[blockOffsets[k] .. blockOffsets[k+1]-1]` = [w_0k (bias), w_ik for each
 * incoming edge in CSR order]. Input units own empty blocks.
 */
export interface CompiledNetwork {
  readonly nUnits: number;
  readonly nInputs: number;
  readonly nOutputs: number;
  readonly nEdges: number;
  readonly nParams: number;
  readonly interpretation: Interpretation;
  /** Document key of each unit id. */
  readonly unitKeys: readonly string[];
  /** Per unit id: an {@link ActivationCode}. */
  readonly activation: Uint8Array;
  /**
   * Affine wrapping a = scale·s(gain·V) + shift per unit id (Def. 29), as three arrays
   * [gain, scale, shift] of length nUnits; undefined when every unit has the plain activation.
   */
  readonly affine: { gain: Float64Array; scale: Float64Array; shift: Float64Array } | undefined;
  /** Level boundaries, length nLevels + 1. */
  readonly levelOffsets: Int32Array;
  /** Output index j -> unit id (document order of output nodes). */
  readonly outputUnits: Int32Array;
  /** Unit id -> output index, or -1 for non-output units. */
  readonly outputIndex: Int32Array;
  /** Incoming CSR: unit k's incoming edges are positions inOffsets[k] .. inOffsets[k+1]-1. Length nUnits + 1. */
  readonly inOffsets: Int32Array;
  /** Incoming CSR: source unit id per incoming edge position. Length nEdges. */
  readonly inSources: Int32Array;
  /** Outgoing CSR offsets, length nUnits + 1. */
  readonly outOffsets: Int32Array;
  /** Outgoing CSR: target unit id per outgoing edge position. Length nEdges. */
  readonly outTargets: Int32Array;
  /** Outgoing CSR: parameter index (into params) of the weight of each outgoing edge. Length nEdges. */
  readonly outParams: Int32Array;
  /** Parameter block boundaries, length nUnits + 1; block of k = [bias, incoming weights]. */
  readonly blockOffsets: Int32Array;
  /** Document edge index -> parameter index of its weight. Length nEdges. */
  readonly edgeParams: Int32Array;
  /** Unit id -> index of the unit in the document's `nodes` array. */
  readonly nodeIndex: Int32Array;
  /** Unit id -> the node attribute `group` (Kronecker groups, `--groups attribute`); undefined when no node has one. */
  readonly unitGroups?: readonly (string | undefined)[];
}

/** Number of levels (level 0 = inputs). */
export function levelCount(net: CompiledNetwork): number {
  return net.levelOffsets.length - 1;
}
