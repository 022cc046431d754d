/*
 * Reference for the tests: generateAutoencoder as it was before its initialisation moved to
 * src/generate/init.ts (commit 7608ace), kept verbatim so that the shared `paper` scheme can be
 * checked to reproduce it bit for bit (recorded networks and experiments depend on it).
 */
import { UsageError, problem } from '../../src/errors.js';
import type { NetworkDocument, SerializedEdge, SerializedNode } from '../../src/network/types.js';
import { Prng } from '../../src/random/prng.js';

/** Options of {@link referenceAutoencoder}. */
interface AutoencoderOptions {
  /** Layer sizes, input first. Default 100,30,10,30,100. */
  layers?: number[];
  /** Links per unit (Section 4: 5). */
  fan?: number;
  activation?: 'sigmoid' | 'tanh';
  seed?: number;
}

/**
 * Section 4's sparse autoencoder. Layers up to the smallest one are wired "fan-out": each unit
 * links to `fan` distinct random units of the next layer; after it, "fan-in": each unit is
 * linked from `fan` distinct random units of the previous layer. Initialisation (Section 4):
 * tanh weights N(0, 1/d_j) with d_j the fan-in of unit j and zero biases; the sigmoid network
 * is the Eq. 46-47 counterpart of the same draw, w = 4w' and w_0k = -Σ_i w_ik / 2, so that
 * for one seed the two activations give networks with identical responses (on 0/1 and ±1 inputs).
 * Bernoulli interpretation. Units are keyed `L{layer}_{index}` (e.g. `L0_17`).
 */
export function referenceAutoencoder(options: AutoencoderOptions = {}): NetworkDocument {
  const layers = options.layers ?? [100, 30, 10, 30, 100];
  const fan = options.fan ?? 5;
  const activation = options.activation ?? 'sigmoid';
  const rng = new Prng(options.seed ?? 1);
  if (layers.length < 2 || layers.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new UsageError([problem('layers', `--layers ${layers.join(',')}: give at least two positive integer layer sizes`)]);
  }
  const middle = layers.indexOf(Math.min(...layers));
  for (let l = 0; l + 1 < layers.length; l++) {
    const [chooser, among] = l < middle ? [l, layers[l + 1]] : [l + 1, layers[l]];
    if (!Number.isInteger(fan) || fan < 1 || fan > among) {
      throw new UsageError([problem('fan', `--fan ${fan}: units of layer ${chooser} must each pick ${fan} distinct units among ${among}; give a fan between 1 and ${among}`)]);
    }
  }
  const key = (l: number, i: number) => `L${l}_${i}`;
  const nodes: SerializedNode[] = [];
  layers.forEach((size, l) => {
    const role = l === 0 ? 'input' : l === layers.length - 1 ? 'output' : 'hidden';
    for (let i = 0; i < size; i++) nodes.push({ key: key(l, i), attributes: role === 'input' ? { role } : { role, bias: 0 } });
  });

  // Wiring: list of [source, target] pairs, grouped by the unit that chose them.
  const pairs: Array<[string, string]> = [];
  for (let l = 0; l + 1 < layers.length; l++) {
    if (l < middle) {
      for (let i = 0; i < layers[l]; i++) for (const j of rng.sampleWithoutReplacement(layers[l + 1], fan)) pairs.push([key(l, i), key(l + 1, j)]);
    } else {
      for (let j = 0; j < layers[l + 1]; j++) for (const i of rng.sampleWithoutReplacement(layers[l], fan)) pairs.push([key(l, i), key(l + 1, j)]);
    }
  }
  const fanIn = new Map<string, number>();
  for (const [, t] of pairs) fanIn.set(t, (fanIn.get(t) ?? 0) + 1);

  // Tanh weights w' ~ N(0, 1/d_j); sigmoid counterpart w = 4w', bias -Σw/2 (Eq. 46-47).
  const scale = activation === 'tanh' ? 1 : 4;
  const edges: SerializedEdge[] = pairs.map(([source, target]) => ({
    source,
    target,
    attributes: { weight: (scale * rng.normal()) / Math.sqrt(fanIn.get(target) as number) },
  }));
  if (activation === 'sigmoid') {
    const sums = new Map<string, number>();
    for (const e of edges) sums.set(e.target, (sums.get(e.target) ?? 0) + e.attributes.weight);
    for (const n of nodes) if (n.attributes.role !== 'input') n.attributes.bias = -(sums.get(n.key) ?? 0) / 2;
  }
  return {
    options: { type: 'directed', multi: false, allowSelfLoops: false },
    attributes: { interpretation: 'bernoulli', activation },
    nodes,
    edges,
  };
}
