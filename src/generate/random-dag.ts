import { UsageError, problem } from '../errors.js';
import type { Interpretation, NetworkDocument, SerializedEdge, SerializedNode } from '../network/types.js';
import { Prng } from '../random/prng.js';

/** Options of {@link generateRandomDag}. */
export interface RandomDagOptions {
  /** Total number of units, inputs and outputs included. */
  units: number;
  /** Incoming edges per non-input unit (exactly, where the earlier levels have that many units). */
  fanIn: number;
  /** Output units (the last level). */
  outputs: number;
  /** Levels of non-input units (hidden levels and the output level); default 4. */
  levels?: number;
  /** Probability that an incoming edge skips levels (comes from a random earlier level); default 0. */
  skip?: number;
  interpretation?: Interpretation;
  activation?: 'sigmoid' | 'tanh';
  seed?: number;
}

/**
 * A large random sparse layered DAG: an input level, `levels - 1` hidden levels of equal size,
 * and `outputs` output units. Each non-input unit draws `fanIn` distinct sources, each from the
 * level just below, or with probability `skip` from a uniformly chosen earlier level.
 * Initialisation as Section 4's (tanh: N(0, 1/d); sigmoid: the Eq. 46-47 image, std 4/√d,
 * bias −Σw/2). Unit keys `u{id}`; generation is O(edges).
 */
export function generateRandomDag(o: RandomDagOptions): NetworkDocument {
  const levels = o.levels ?? 4;
  const skip = o.skip ?? 0;
  const fail = (code: string, message: string): never => {
    throw new UsageError([problem(code, message)]);
  };
  if (!Number.isInteger(levels) || levels < 1) fail('levels', `--levels ${levels}: give a positive integer`);
  if (!Number.isInteger(o.fanIn) || o.fanIn < 1) fail('fan-in', `--fan-in ${o.fanIn}: give a positive integer`);
  if (!Number.isInteger(o.outputs) || o.outputs < 1) fail('outputs', `--outputs ${o.outputs}: give a positive integer`);
  if (!(skip >= 0 && skip <= 1)) fail('skip', `--skip ${skip}: give a probability in [0, 1]`);
  const rest = o.units - o.outputs;
  const perLevel = Math.floor(rest / levels); // input level and each hidden level
  if (!Number.isInteger(o.units) || perLevel < 1) fail('units', `--units ${o.units}: need at least ${levels + o.outputs} units for ${levels} levels and ${o.outputs} outputs`);
  const sizes = [rest - perLevel * (levels - 1), ...Array.from({ length: levels - 1 }, () => perLevel), o.outputs];
  const starts = [0];
  for (const s of sizes) starts.push(starts[starts.length - 1] + s);
  const rng = new Prng(o.seed ?? 1);
  const activation = o.activation ?? 'sigmoid';
  const nodes: SerializedNode[] = [];
  sizes.forEach((size, l) => {
    const role = l === 0 ? 'input' : l === sizes.length - 1 ? 'output' : 'hidden';
    for (let i = 0; i < size; i++) nodes.push({ key: `u${starts[l] + i}`, attributes: role === 'input' ? { role } : { role, bias: 0 } });
  });
  const edges: SerializedEdge[] = [];
  const chosen = new Set<number>();
  for (let l = 1; l < sizes.length; l++) {
    const below = starts[l]; // units available as sources: ids < starts[l]
    for (let t = starts[l]; t < starts[l + 1]; t++) {
      chosen.clear();
      const d = Math.min(o.fanIn, skip > 0 && l > 1 ? below : sizes[l - 1]);
      let sum = 0;
      while (chosen.size < d) {
        const from = skip > 0 && l > 1 && rng.uniform() < skip ? rng.int(l - 1) : l - 1;
        const source = starts[from] + rng.int(sizes[from]);
        if (chosen.has(source)) continue;
        chosen.add(source);
        const w = ((activation === 'tanh' ? 1 : 4) * rng.normal()) / Math.sqrt(d);
        sum += w;
        edges.push({ source: `u${source}`, target: `u${t}`, attributes: { weight: w } });
      }
      if (activation === 'sigmoid') nodes[t].attributes.bias = -sum / 2;
    }
  }
  return { options: { type: 'directed', multi: false, allowSelfLoops: false }, attributes: { interpretation: o.interpretation ?? 'bernoulli', activation }, nodes, edges };
}
