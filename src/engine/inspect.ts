import type { BaselineChoices } from '../curvature/baselines.js';
import { baselineChoices, createMethod, kroneckerChoices, type KroneckerChoices, type MethodName } from '../methods/methods.js';
import { evaluateMethodOnce } from '../methods/runner.js';
import { Prng } from '../random/prng.js';
import { prepareBatch, type PreparedBatch } from '../methods/context.js';
import { inspectQuantities, type QuantitiesReport, type QuantityName } from '../methods/quantities.js';
import type { DataDocument } from '../network/types.js';
import type { Model } from './model.js';
import { BITS_PER_NAT } from './propagate.js';

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
  gradient: ParameterValues;
  /** With a method: its direction δw (the step is w ← w + η δw), same layout as the gradient. */
  direction?: ParameterValues & { method: string; epsilon: number; solve?: unknown };
  quantities?: QuantitiesReport;
}

/** Values laid out like the parameters, keyed for people: biases by unit key (document order), edges in document order. */
export interface ParameterValues {
  biases: Record<string, number>;
  edges: Array<{ source: string; target: string; value: number }>;
}

/** Keys a parameter-layout array by the document's unit keys and edges. */
export function parameterValues(model: Model, values: Float64Array): ParameterValues {
  const { net, document } = model;
  const idOfNode = new Int32Array(net.nUnits);
  net.nodeIndex.forEach((node, id) => (idOfNode[node] = id));
  const biases: Record<string, number> = {};
  document.nodes.forEach((node, i) => {
    if (node.attributes.role !== 'input') biases[node.key] = values[net.blockOffsets[idOfNode[i]]];
  });
  return {
    biases,
    edges: document.edges.map((e, i) => ({ source: String(e.source), target: String(e.target), value: values[net.edgeParams[i]] })),
  };
}

export interface InspectOptions extends KroneckerChoices, BaselineChoices {
  /** Also compute this method's direction. */
  method?: MethodName;
  epsilon?: number;
  mcSamples?: number;
  seed?: number;
  /** Intermediate quantities to include. */
  quantities?: QuantityName[];
  backend?: string;
}

/** Runs forward, backward and the gradient on the whole data set (and optionally a method's direction) and reports them. */
export function inspectModel(model: Model, data: DataDocument, options: InspectOptions = {}): InspectReport {
  const prepared = prepareBatch(model, data, options);
  try {
    return buildReport(model, prepared, options);
  } finally {
    prepared.engine.dispose();
  }
}

function buildReport(model: Model, prepared: PreparedBatch, options: InspectOptions): InspectReport {
  const { net } = model;
  const { engine, gradient, lossNats } = prepared;
  const S = prepared.ws.size;
  const act = engine.read(prepared.ws.act);
  const loss = engine.read(prepared.ws.loss);
  const activations: Record<string, number[]> = {};
  const idOfNode = new Int32Array(net.nUnits);
  net.nodeIndex.forEach((node, id) => (idOfNode[node] = id));
  model.document.nodes.forEach((node, i) => (activations[node.key] = Array.from(act.subarray(idOfNode[i] * S, (idOfNode[i] + 1) * S))));
  const report: InspectReport = {
    units: net.nUnits,
    edges: net.nEdges,
    parameters: net.nParams,
    levels: net.levelOffsets.length - 1,
    samples: S,
    interpretation: net.interpretation,
    loss: { meanBits: lossNats * BITS_PER_NAT, meanNats: lossNats, perSampleBits: Array.from(loss, (l) => l * BITS_PER_NAT) },
    activations,
    gradient: parameterValues(model, gradient),
  };
  if (options.method) {
    const epsilon = options.epsilon ?? 1e-4;
    const method = createMethod(options.method, { ...kroneckerChoices(options), ...baselineChoices(options) });
    const { direction, solve } = evaluateMethodOnce(engine, method, model.params, prepared.batch, { epsilon, mcSamples: options.mcSamples ?? 1, rng: new Prng(options.seed ?? 1) });
    report.direction = { method: options.method, epsilon, ...parameterValues(model, direction), ...(solve ? { solve } : {}) };
  }
  if (options.quantities && options.quantities.length > 0) report.quantities = inspectQuantities(prepared, options.quantities, options);
  return report;
}
