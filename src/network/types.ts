/**
 * The on-disk network format: graphology's standard serialisation (what `graph.export()`
 * writes and `Graph.from()` reads), with the attributes below. See
 * `schema/network.schema.json` and the README for the full description.
 */

export const INTERPRETATIONS = ['square', 'bernoulli', 'softmax', 'spherical'] as const;
/** Output interpretation (Example 1): how output activities become a distribution ω. */
export type Interpretation = (typeof INTERPRETATIONS)[number];

export const ACTIVATIONS = ['sigmoid', 'tanh', 'linear', 'relu', 'softplus'] as const;
/** Activation function s of a non-input unit (Eq. 2). */
export type Activation = (typeof ACTIVATIONS)[number];

export const ROLES = ['input', 'hidden', 'output'] as const;
export type Role = (typeof ROLES)[number];

export interface NodeAttributes {
  role: Role;
  /** Bias w_0k; present on every non-input unit, absent on input units. */
  bias?: number;
  /** Overrides the graph's default activation (non-input units only). */
  activation?: Activation;
  /**
   * Affine wrapping of a hidden unit's activation, a = scale·s(gain·V) + shift with
   * V = w_0 + Σ w_i a_i: the (α, β, γ)-reparametrisation of Def. 29 written into the unit
   * (scale = α, shift = β, gain = γ). Defaults 1, 1, 0.
   */
  gain?: number;
  scale?: number;
  shift?: number;
  /** Name of the unit's group for the Kronecker-factored methods with `--groups attribute` (non-input units). */
  group?: string;
  [extra: string]: unknown;
}

export interface SerializedNode {
  key: string;
  attributes: NodeAttributes;
}

export interface SerializedEdge {
  key?: string;
  source: string;
  target: string;
  attributes: { weight: number; [extra: string]: unknown };
  undirected?: boolean;
}

export interface GraphAttributes {
  interpretation: Interpretation;
  /** Default activation of non-input units. */
  activation: Activation;
  [extra: string]: unknown;
}

/** A validated network document. Node keys are strings (numbers are read as strings). */
export interface NetworkDocument {
  options?: { type?: string; multi?: boolean; allowSelfLoops?: boolean };
  attributes: GraphAttributes;
  nodes: SerializedNode[];
  edges: SerializedEdge[];
}

/** A data file: one row per sample, inputs in input-node order, targets in output-node order. */
export interface DataDocument {
  inputs: number[][];
  targets: number[][];
}

/** Effective activation of a unit: its own attribute, else the graph default. */
export function unitActivation(doc: NetworkDocument, node: SerializedNode): Activation {
  return node.attributes.activation ?? doc.attributes.activation;
}
