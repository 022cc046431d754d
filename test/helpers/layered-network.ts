import type { Activation, Interpretation, NetworkDocument } from '../../src/network/types.js';
import { Prng } from '../../src/random/prng.js';

/** A layered network (sizes per layer), every unit of a layer fed by a random subset (or all) of the layer below. */
export function layeredNetwork(sizes: number[], o: { interpretation: Interpretation; activation?: Activation; density?: number; seed: number }): NetworkDocument {
  const rng = new Prng(o.seed);
  const nodes: NetworkDocument['nodes'] = [];
  const edges: NetworkDocument['edges'] = [];
  const layers = sizes.map((n, l) => Array.from({ length: n }, (_, i) => `l${l}u${i}`));
  layers.forEach((keys, l) =>
    keys.forEach((key) => nodes.push({ key, attributes: l === 0 ? { role: 'input' } : { role: l === sizes.length - 1 ? 'output' : 'hidden', bias: 0.3 * rng.normal() } })),
  );
  for (let l = 1; l < sizes.length; l++) {
    for (const target of layers[l]) {
      const chosen = layers[l - 1].filter(() => rng.uniform() < (o.density ?? 1));
      if (chosen.length === 0) chosen.push(layers[l - 1][rng.int(layers[l - 1].length)]);
      for (const source of chosen) edges.push({ source, target, attributes: { weight: 0.8 * rng.normal() } });
    }
  }
  return { options: { type: 'directed' }, attributes: { interpretation: o.interpretation, activation: o.activation ?? 'tanh' }, nodes, edges };
}
