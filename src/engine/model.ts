import type { NetworkDocument } from '../network/types.js';
import { compileNetwork, exportNetwork } from './compile.js';
import type { CompiledNetwork } from './compiled-network.js';

/**
 * A network ready to compute: the validated document it came from (kept to write results
 * back exactly), its compiled topology, and its current parameters (layout in
 * {@link CompiledNetwork}).
 */
export interface Model {
  readonly document: NetworkDocument;
  readonly net: CompiledNetwork;
  params: Float64Array;
}

/** Compiles a validated document into a {@link Model}. */
export function createModel(document: NetworkDocument): Model {
  const { net, params } = compileNetwork(document);
  return { document, net, params };
}

/** The model's document with its current parameters written in (same order, same other fields). */
export function modelDocument(model: Model): NetworkDocument {
  return exportNetwork(model.document, model.net, model.params);
}
