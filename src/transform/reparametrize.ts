import type { Activation, DataDocument, NetworkDocument } from '../network/types.js';

/**
 * An (α, β, γ)-affine reparametrisation of one unit (Def. 29): the unit's activity becomes
 * a'_k = α·f_{γθ'}(...) + β. For input units γ is ignored (they have no incoming parameters).
 * `activation`, when given, is the unit's activation function after the rewrite (for the
 * sigmoid↔tanh correspondence, where α f_{γθ} + β is again a standard activation); otherwise
 * the unit's `gain`, `scale` and `shift` attributes absorb (α, β, γ) (hidden units only).
 */
export interface AffineReparametrization {
  alpha: number;
  beta: number;
  gamma: number;
  activation?: Activation;
}

/**
 * Applies Def. 29 to the units named in `units` (by key) and returns a new document whose
 * outputs on correspondingly transformed inputs are the same (Eq. 108):
 * for every edge k→j out of a reparametrised unit k, w'_kj = w_kj/α_k and w'_0j = w_0j - w_kj β_k/α_k;
 * then for a reparametrised non-input unit k, w'_ik = w_ik/γ_k for every incoming parameter, bias included.
 * Units keep explicit `activation` attributes where their activation differs from the new graph default.
 */
export function reparametrize(
  doc: NetworkDocument,
  units: ReadonlyMap<string, AffineReparametrization>,
  defaultActivation: Activation = doc.attributes.activation,
): NetworkDocument {
  const out = structuredClone(doc);
  const byKey = new Map(out.nodes.map((n) => [n.key, n]));
  const origBias = new Map(doc.nodes.map((n) => [n.key, n.attributes.bias ?? 0]));
  const bias = new Map(origBias);
  for (const edge of out.edges) {
    const r = units.get(String(edge.source));
    if (!r) continue;
    const w = edge.attributes.weight;
    edge.attributes.weight = w / r.alpha;
    const target = String(edge.target);
    bias.set(target, (bias.get(target) as number) - (w * r.beta) / r.alpha);
  }
  for (const edge of out.edges) {
    const r = units.get(String(edge.target));
    if (r) edge.attributes.weight /= r.gamma;
  }
  for (const node of out.nodes) {
    if (node.attributes.role === 'input') continue;
    const r = units.get(node.key);
    node.attributes.bias = (bias.get(node.key) as number) / (r ? r.gamma : 1);
    if (r && r.activation === undefined) {
      // a' = α (scale·s(gain·γ·V') + shift) + β, V' computed with the new weights θ/γ.
      const a = node.attributes;
      a.gain = (a.gain ?? 1) * r.gamma;
      a.scale = r.alpha * (a.scale ?? 1);
      a.shift = r.alpha * (a.shift ?? 0) + r.beta;
    }
  }
  // Activations: keep every unit's effective activation, under the new default.
  out.attributes.activation = defaultActivation;
  for (const node of doc.nodes) {
    if (node.attributes.role === 'input') continue;
    const effective = units.get(node.key)?.activation ?? node.attributes.activation ?? doc.attributes.activation;
    const target = byKey.get(node.key) as (typeof out.nodes)[number];
    if (node.attributes.activation !== undefined || effective !== defaultActivation) target.attributes.activation = effective;
  }
  return out;
}

/** Applies x' = αx + β to every input of a data file (targets unchanged). */
export function transformInputs(data: DataDocument, alpha: number, beta: number): DataDocument {
  return { ...data, inputs: data.inputs.map((row) => row.map((x) => alpha * x + beta)), targets: data.targets.map((row) => [...row]) };
}
