import { getBackend } from '../backend/index.js';
import { makeBatch } from './batch.js';
import type { Model } from './model.js';
import { BITS_PER_NAT, lossAndGradient } from './propagate.js';
import { createWorkspace } from './workspace.js';
import type { DataDocument } from '../network/types.js';

/** What `unitwise inspect` prints: everything keyed by the document's unit keys. */
export interface InspectReport {
  units: number;
  edges: number;
  parameters: number;
  levels: number;
  samples: number;
  interpretation: string;
  loss: { meanBits: number; meanNats: number; perSampleBits: number[] };
  /** Activity a_k of every unit (document order), one value per sample. */
  activations: Record<string, number[]>;
  /** G = E_x a_i b̃_k = -∂L/∂w (Eq. 8, 19): per bias (unit key) and per edge (document order). */
  gradient: { biases: Record<string, number>; edges: Array<{ source: string; target: string; gradient: number }> };
}

/** Runs forward, backward and the gradient on the whole data set and reports them. */
export function inspectModel(model: Model, data: DataDocument, backend = 'cpu'): InspectReport {
  const { net, params, document } = model;
  const batch = makeBatch(net, data);
  const ws = createWorkspace(net, batch.size);
  const gradient = new Float64Array(net.nParams);
  const meanNats = lossAndGradient(getBackend(backend), net, params, batch, ws, gradient);
  const idOf = new Map(net.unitKeys.map((k, id) => [k, id]));
  const activations: Record<string, number[]> = {};
  const biases: Record<string, number> = {};
  for (const node of document.nodes) {
    const id = idOf.get(node.key) as number;
    activations[node.key] = Array.from(ws.act.subarray(id * batch.size, (id + 1) * batch.size));
    if (node.attributes.role !== 'input') biases[node.key] = gradient[net.blockOffsets[id]];
  }
  return {
    units: net.nUnits,
    edges: net.nEdges,
    parameters: net.nParams,
    levels: net.levelOffsets.length - 1,
    samples: batch.size,
    interpretation: net.interpretation,
    loss: { meanBits: meanNats * BITS_PER_NAT, meanNats, perSampleBits: Array.from(ws.loss, (l) => l * BITS_PER_NAT) },
    activations,
    gradient: {
      biases,
      edges: document.edges.map((e, i) => ({ source: String(e.source), target: String(e.target), gradient: gradient[net.edgeParams[i]] })),
    },
  };
}
