import type { MetricLayout } from '../../src/backend/kernels.js';
import type { CompiledNetwork } from '../../src/engine/compiled-network.js';
import { INTERPRETATIONS, type NetworkDocument } from '../../src/network/types.js';
import { randomNetwork } from './random-network.js';

/** The engine parity suites' networks: every interpretation (affine but for Bernoulli), and relu/softplus units plain and affine. */
export const PARITY_NETWORKS: Array<[string, NetworkDocument]> = [
  ...INTERPRETATIONS.map((interpretation): [string, NetworkDocument] => [
    interpretation,
    randomNetwork({ interpretation, seed: 90, inputs: 4, hidden: 6, outputs: 3, density: 0.6, activations: ['sigmoid', 'tanh', 'linear'], affine: interpretation !== 'bernoulli' }),
  ]),
  ['spherical (relu/softplus, affine)', randomNetwork({ interpretation: 'spherical', seed: 91, inputs: 4, hidden: 6, outputs: 3, density: 0.6, activations: ['relu', 'softplus', 'sigmoid'], affine: true })],
  ['bernoulli (relu/softplus hidden)', randomNetwork({ interpretation: 'bernoulli', seed: 92, inputs: 4, hidden: 6, outputs: 3, density: 0.6, activations: ['relu', 'softplus', 'tanh'] })],
];

/** Per-unit blocks (metricLayout) with `ridge` added to every diagonal entry. */
export function withRidge(net: CompiledNetwork, layout: MetricLayout, values: Float64Array, ridge: number): Float64Array {
  const out = values.slice();
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
    for (let i = 0; i < n; i++) out[layout.matrixOffsets[k] + i * n + i] += ridge;
  }
  return out;
}
