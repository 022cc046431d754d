import type { Activation, DataDocument, Interpretation, NetworkDocument, SerializedEdge, SerializedNode } from '../../src/network/types.js';
import { Prng } from '../../src/random/prng.js';

export interface RandomNetworkOptions {
  interpretation: Interpretation;
  /** Activations drawn for non-input units (outputs under Bernoulli draw from sigmoid/tanh only, under spherical from all but relu). */
  activations?: Activation[];
  seed: number;
  inputs?: number;
  hidden?: number;
  outputs?: number;
  /** Probability of each allowed edge (skip connections included). */
  density?: number;
  /** Give hidden units random gain/scale/shift attributes (Def. 29). */
  affine?: boolean;
}

/**
 * A random small DAG: inputs, hidden units in a random topological order, outputs. Every
 * non-input unit gets at least one incoming edge; edges may skip levels (from any earlier
 * input or hidden unit). Weights N(0, 1), biases N(0, 0.5²).
 */
export function randomNetwork(o: RandomNetworkOptions): NetworkDocument {
  const rng = new Prng(o.seed);
  const nIn = o.inputs ?? 2 + rng.int(3);
  const nHid = o.hidden ?? 2 + rng.int(5);
  const nOut = o.outputs ?? 2 + rng.int(2);
  const acts = o.activations ?? ['sigmoid', 'tanh', 'linear'];
  const density = o.density ?? 0.5;
  const nodes: SerializedNode[] = [];
  for (let i = 0; i < nIn; i++) nodes.push({ key: `x${i}`, attributes: { role: 'input' } });
  const pick = (list: Activation[]) => list[rng.int(list.length)];
  for (let i = 0; i < nHid; i++) {
    const affine = o.affine ? { gain: 0.5 + rng.uniform(), scale: (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + rng.uniform()), shift: rng.normal() } : {};
    nodes.push({ key: `h${i}`, attributes: { role: 'hidden', bias: 0.5 * rng.normal(), activation: pick(acts), ...affine } });
  }
  // Bernoulli outputs are probabilities (sigmoid/tanh); relu outputs could all vanish under spherical (Σa² = 0).
  const outActs = o.interpretation === 'bernoulli' ? acts.filter((a) => a === 'sigmoid' || a === 'tanh') : o.interpretation === 'spherical' ? acts.filter((a) => a !== 'relu') : acts;
  for (let i = 0; i < nOut; i++) {
    nodes.push({ key: `y${i}`, attributes: { role: 'output', bias: 0.5 * rng.normal(), activation: pick(outActs.length ? outActs : ['sigmoid']) } });
  }
  const edges: SerializedEdge[] = [];
  for (let t = nIn; t < nodes.length; t++) {
    const candidates = nodes.slice(0, Math.min(t, nIn + nHid)).map((n) => n.key);
    const chosen = candidates.filter(() => rng.uniform() < density);
    if (chosen.length === 0) chosen.push(candidates[rng.int(candidates.length)]);
    for (const source of chosen) edges.push({ source, target: nodes[t].key, attributes: { weight: rng.normal() } });
  }
  return { options: { type: 'directed' }, attributes: { interpretation: o.interpretation, activation: 'sigmoid' }, nodes, edges };
}

/** Random data fitting a network: inputs N(0,1) or 0/1 bits; targets valid for the interpretation. */
export function randomData(doc: NetworkDocument, samples: number, seed: number, binaryInputs = false): DataDocument {
  const rng = new Prng(seed);
  const nIn = doc.nodes.filter((n) => n.attributes.role === 'input').length;
  const nOut = doc.nodes.filter((n) => n.attributes.role === 'output').length;
  const inputs = Array.from({ length: samples }, () => Array.from({ length: nIn }, () => (binaryInputs ? (rng.uniform() < 0.5 ? 1 : 0) : rng.normal())));
  const targets = Array.from({ length: samples }, () => randomTarget(doc.attributes.interpretation, nOut, rng));
  return { inputs, targets };
}

function randomTarget(interpretation: Interpretation, n: number, rng: Prng): number[] {
  if (interpretation === 'square') return Array.from({ length: n }, () => rng.normal());
  if (interpretation === 'bernoulli') return Array.from({ length: n }, () => (rng.uniform() < 0.3 ? rng.uniform() : rng.int(2)));
  if (rng.uniform() < 0.5) {
    const hot = rng.int(n);
    return Array.from({ length: n }, (_, i) => (i === hot ? 1 : 0));
  }
  const raw = Array.from({ length: n }, () => rng.uniform());
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((v) => v / sum);
}
