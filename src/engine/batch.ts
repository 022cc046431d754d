import type { DataDocument } from '../network/types.js';
import type { CompiledNetwork } from './compiled-network.js';

/**
 * Samples laid out for the engine, unit-major: `inputs[j * size + s]` is input j of sample s,
 * `targets[j * size + s]` target j of sample s.
 */
export interface Batch {
  readonly size: number;
  /** [nInputs × size] */
  readonly inputs: Float64Array;
  /** [nOutputs × size] */
  readonly targets: Float64Array;
}

/** Lays out a validated data document (or the rows `indices` of it) for the engine. */
export function makeBatch(net: CompiledNetwork, data: DataDocument, indices?: ArrayLike<number>): Batch {
  const rows = indices ?? Array.from({ length: data.inputs.length }, (_, i) => i);
  const size = rows.length;
  const inputs = new Float64Array(net.nInputs * size);
  const targets = new Float64Array(net.nOutputs * size);
  for (let s = 0; s < size; s++) {
    const x = data.inputs[rows[s]];
    const y = data.targets[rows[s]];
    for (let j = 0; j < net.nInputs; j++) inputs[j * size + s] = x[j];
    for (let j = 0; j < net.nOutputs; j++) targets[j * size + s] = y[j];
  }
  return { size, inputs, targets };
}
