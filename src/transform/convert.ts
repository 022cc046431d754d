import { UsageError, problem, show } from '../errors.js';
import { unitActivation, type DataDocument, type NetworkDocument } from '../network/types.js';
import { reparametrize, transformInputs, type AffineReparametrization } from './reparametrize.js';

/** The activation families that `convert` maps into each other. */
export type ConvertTarget = 'tanh' | 'sigmoid';

/** The (α, β, γ) of Def. 29 taking the other family to `to`: inputs and data map by x' = αx + β. */
const CONVERSIONS = { tanh: { from: 'sigmoid', alpha: 2, beta: -1, gamma: 2 }, sigmoid: { from: 'tanh', alpha: 0.5, beta: 0.5, gamma: 0.5 } } as const;

/**
 * Section 3.2's sigmoid↔tanh correspondence, tanh(x) = 2 sigm(2x) - 1: the (2, -1, 2)
 * reparametrisation of Def. 29 applied to every input unit and every sigmoid unit (to tanh),
 * or its inverse (1/2, 1/2, 1/2) applied to every input unit and every tanh unit (to sigmoid).
 * For a unit fed by converted units this gives Eq. 46-47: w_ik = 4w'_ik (i ≠ 0),
 * w_0k = 2w'_0k - 2Σ_i w'_ik. Output units are converted only under the Bernoulli
 * interpretation, where a tanh output is read as p = (1 + a)/2; under the other
 * interpretations, and for linear, relu and softplus units, only the incoming weights change
 * (their pre-activations, hence outputs, stay the same). Only sigmoid↔tanh: relu, softplus and
 * linear have no affine twin in another family, and any other `to` is refused with a
 * {@link UsageError}. Its input data converts with {@link convertData}.
 */
export function convertNetwork(doc: NetworkDocument, to: ConvertTarget): { document: NetworkDocument } {
  const { from, alpha, beta, gamma } = conversion(to);
  const units = new Map<string, AffineReparametrization>();
  let converted = 0;
  for (const node of doc.nodes) {
    const role = node.attributes.role;
    if (role === 'input') {
      units.set(node.key, { alpha, beta, gamma: 1 });
    } else if (unitActivation(doc, node) === from && (role === 'hidden' || doc.attributes.interpretation === 'bernoulli')) {
      const a = node.attributes;
      if (a.gain !== undefined || a.scale !== undefined || a.shift !== undefined) {
        throw new UsageError([problem('affine-attribute', `unit '${node.key}' has gain/scale/shift attributes; convert maps plain ${from} units to ${to} only`)]);
      }
      units.set(node.key, { alpha, beta, gamma, activation: to });
      converted++;
    }
  }
  if (converted === 0) {
    throw new UsageError([problem('nothing-to-convert', `the network has no ${from} unit to convert to ${to} (convert maps sigmoid↔tanh only; linear, relu and softplus units are kept as they are)`)]);
  }
  const defaultActivation = doc.attributes.activation === from ? to : doc.attributes.activation;
  return { document: reparametrize(doc, units, defaultActivation) };
}

/** The family a sigmoid↔tanh twin converts to: tanh when the network has a sigmoid non-input unit, else sigmoid. */
export function twinTarget(doc: NetworkDocument): ConvertTarget {
  return doc.nodes.some((n) => n.attributes.role !== 'input' && unitActivation(doc, n) === 'sigmoid') ? 'tanh' : 'sigmoid';
}

/** Converts a data file for a network converted with {@link convertNetwork}: inputs x' = αx + β. */
export function convertData(data: DataDocument, to: ConvertTarget): DataDocument {
  const { alpha, beta } = conversion(to);
  return transformInputs(data, alpha, beta);
}

/** The conversion to `to`, or a {@link UsageError} for a target outside sigmoid↔tanh (JavaScript callers, or casts). */
function conversion(to: ConvertTarget): (typeof CONVERSIONS)[ConvertTarget] {
  if (to !== 'tanh' && to !== 'sigmoid') {
    throw new UsageError([
      problem('convert-target', `convert maps sigmoid↔tanh only (Section 3.2); it cannot convert to ${show(to)}: relu, softplus and linear have no affine twin in another family. Use "tanh" or "sigmoid"`),
    ]);
  }
  return CONVERSIONS[to];
}
