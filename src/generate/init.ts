import { UsageError, problem } from '../errors.js';
import type { NetworkDocument, SerializedEdge } from '../network/types.js';
import { Prng } from '../random/prng.js';

export const INIT_SCHEMES = ['paper', 'glorot', 'he'] as const;
/** Weight initialisation scheme of {@link initialiseNetwork}. */
export type InitScheme = (typeof INIT_SCHEMES)[number];

/** An edge whose weight may still be missing (a hand-written skeleton). */
export type SkeletonEdge = Omit<SerializedEdge, 'attributes'> & { attributes?: { weight?: number; [extra: string]: unknown } };

/** A network whose weights and biases may be missing: what {@link initialiseNetwork} reads. */
export type NetworkSkeleton = Omit<NetworkDocument, 'edges'> & { edges: SkeletonEdge[] };

/** Options of {@link initialiseNetwork}. */
export interface InitOptions {
  scheme: InitScheme;
  /** PRNG seed (xoshiro128**); default 1. Ignored when `prng` is given. */
  seed?: number;
  /** Continue this generator's stream instead of seeding a new one (generators wiring and initialising with one stream). */
  prng?: Prng;
  /** Keep the weights and biases the document already has and draw only the missing ones; default false (replace all). */
  keep?: boolean;
}

/**
 * (Re)initialises the weights and biases of any network DAG, one draw per edge in the
 * document's edge order (so a seed gives the same network on every machine). With d_j the
 * fan-in (in-degree) of unit j and o_i the fan-out (out-degree) of unit i:
 *
 * - `paper` (Section 4): w'_ij ~ N(0, 1/d_j) and zero biases for tanh units; a sigmoid unit j
 *   gets the Eq. 46-47 counterpart of the same draw, w_ij = 4w'_ij and w_0j = −Σ_i w_ij / 2
 *   (its response to 0/1 inputs equals the tanh unit's to ±1 inputs). Units with any other
 *   activation (linear, relu, softplus) are treated like tanh units: N(0, 1/d_j), zero bias
 *   (LeCun's initialisation).
 * - `glorot` (Glorot & Bengio 2010, "normalized" uniform): w_ij ~ U(−√(6/(d_j + o_i)), √(6/(d_j + o_i))),
 *   variance 2/(d_j + o_i), zero biases. On a dense layer d_j and o_i are the sizes of the two
 *   layers, so this is Glorot's rule; on a DAG each edge uses its own target's fan-in and its
 *   own source's fan-out.
 * - `he` (He et al. 2015): w_ij ~ N(0, 2/d_j), zero biases.
 *
 * With `keep`, weights and biases already present are kept (a sigmoid unit's missing `paper`
 * bias is then −Σw/2 over its final weights); the draws are made for every edge all the same,
 * so a weight drawn for an edge does not depend on which other edges had one.
 * Returns a new document; `doc` is not modified (see {@link assignParameters} for the in-place form). Throws {@link UsageError} on an unknown scheme.
 */
export function initialiseNetwork(doc: NetworkSkeleton, options: InitOptions): NetworkDocument {
  const copy: NetworkSkeleton = {
    ...doc,
    nodes: doc.nodes.map((n) => ({ key: n.key, attributes: { ...n.attributes } })),
    edges: doc.edges.map((e) => ({ ...e, attributes: { ...e.attributes } })),
  };
  return assignParameters(copy, options);
}

/**
 * {@link initialiseNetwork} in place: writes the weights and biases into `doc`'s own edge and
 * node objects (for generators that have just built them) and returns `doc`, now complete.
 */
export function assignParameters(doc: NetworkSkeleton, options: InitOptions): NetworkDocument {
  const { scheme, keep = false } = options;
  if (!INIT_SCHEMES.includes(scheme)) {
    throw new UsageError([problem('scheme', `--scheme ${String(scheme)} is unknown; use one of ${INIT_SCHEMES.join(', ')}`)]);
  }
  const rng = options.prng ?? new Prng(options.seed ?? 1);
  const fanIn = new Map<string, number>();
  const fanOut = new Map<string, number>();
  for (const e of doc.edges) {
    const [s, t] = [String(e.source), String(e.target)];
    fanIn.set(t, (fanIn.get(t) ?? 0) + 1);
    fanOut.set(s, (fanOut.get(s) ?? 0) + 1);
  }
  const sigmoid = new Set<string>();
  for (const n of doc.nodes) if (n.attributes.role !== 'input' && (n.attributes.activation ?? doc.attributes.activation) === 'sigmoid') sigmoid.add(String(n.key));

  const sums = new Map<string, number>();
  for (const e of doc.edges) {
    const [s, t] = [String(e.source), String(e.target)];
    const d = fanIn.get(t) as number;
    let w: number;
    if (scheme === 'paper') w = ((sigmoid.has(t) ? 4 : 1) * rng.normal()) / Math.sqrt(d);
    else if (scheme === 'he') w = rng.normal() * Math.sqrt(2 / d);
    else w = (2 * rng.uniform() - 1) * Math.sqrt(6 / (d + (fanOut.get(s) as number)));
    const old = e.attributes?.weight;
    if (keep && typeof old === 'number') w = old;
    if (e.attributes === undefined) e.attributes = { weight: w };
    else e.attributes.weight = w;
    sums.set(t, (sums.get(t) ?? 0) + w);
  }
  for (const n of doc.nodes) {
    if (n.attributes.role === 'input' || (keep && typeof n.attributes.bias === 'number')) continue;
    const key = String(n.key);
    n.attributes.bias = scheme === 'paper' && sigmoid.has(key) ? -(sums.get(key) ?? 0) / 2 : 0;
  }
  return doc as NetworkDocument;
}

/** The default scheme of a generator for hidden activation `activation`: `paper` for tanh, sigmoid and linear, `he` for relu and softplus. */
export function defaultScheme(activation: string): InitScheme {
  return activation === 'relu' || activation === 'softplus' ? 'he' : 'paper';
}
