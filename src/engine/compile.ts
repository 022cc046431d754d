import { topologicalSort } from 'graphology-dag';
import { toGraph } from '../network/validate-topology.js';
import { unitActivation, type NetworkDocument } from '../network/types.js';
import { ActivationCode, type CompiledNetwork } from './compiled-network.js';

const CODES = {
  sigmoid: ActivationCode.Sigmoid,
  tanh: ActivationCode.Tanh,
  linear: ActivationCode.Linear,
  relu: ActivationCode.Relu,
  softplus: ActivationCode.Softplus,
} as const;

/**
 * Compiles a validated network document: graphology gives a topological order, then units
 * are renumbered level by level (inputs first, in document order) and the CSR arrays and the
 * parameter layout of {@link CompiledNetwork} are built. Returns the compiled topology and the
 * document's parameters in that layout.
 */
export function compileNetwork(doc: NetworkDocument): { net: CompiledNetwork; params: Float64Array } {
  const nodeIndexByKey = new Map(doc.nodes.map((n, i) => [n.key, i]));
  const nNodes = doc.nodes.length;

  // Longest-path level of each node, in document index space.
  const incoming: number[][] = Array.from({ length: nNodes }, () => []); // document edge indices
  doc.edges.forEach((e, i) => incoming[nodeIndexByKey.get(String(e.target)) as number].push(i));
  const level = new Int32Array(nNodes);
  for (const key of topologicalSort(toGraph(doc))) {
    const i = nodeIndexByKey.get(key) as number;
    if (doc.nodes[i].attributes.role === 'input') continue;
    let depth = 0;
    for (const e of incoming[i]) depth = Math.max(depth, level[nodeIndexByKey.get(String(doc.edges[e].source)) as number]);
    level[i] = depth + 1;
  }

  // Renumber: by level, then document order (inputs are exactly level 0).
  const order = Array.from({ length: nNodes }, (_, i) => i).sort((a, b) => level[a] - level[b] || a - b);
  const idOfNode = new Int32Array(nNodes);
  order.forEach((node, id) => (idOfNode[node] = id));
  const nLevels = nNodes === 0 ? 1 : level[order[nNodes - 1]] + 1;
  const levelOffsets = new Int32Array(nLevels + 1);
  for (const node of order) levelOffsets[level[node] + 1]++;
  for (let l = 0; l < nLevels; l++) levelOffsets[l + 1] += levelOffsets[l];

  // Incoming CSR and parameter blocks, per unit id.
  const nEdges = doc.edges.length;
  const inOffsets = new Int32Array(nNodes + 1);
  const blockOffsets = new Int32Array(nNodes + 1);
  const inSources = new Int32Array(nEdges);
  const edgeParams = new Int32Array(nEdges);
  const activation = new Uint8Array(nNodes);
  const unitKeys: string[] = [];
  const params: number[] = [];
  for (let id = 0; id < nNodes; id++) {
    const node = doc.nodes[order[id]];
    unitKeys.push(node.key);
    inOffsets[id + 1] = inOffsets[id] + incoming[order[id]].length;
    if (node.attributes.role === 'input') {
      activation[id] = ActivationCode.Input;
    } else {
      activation[id] = CODES[unitActivation(doc, node)];
      params.push(node.attributes.bias as number);
      incoming[order[id]].forEach((e, j) => {
        inSources[inOffsets[id] + j] = idOfNode[nodeIndexByKey.get(String(doc.edges[e].source)) as number];
        edgeParams[e] = params.length;
        params.push(doc.edges[e].attributes.weight);
      });
    }
    blockOffsets[id + 1] = params.length;
  }

  // Outgoing CSR (for backpropagation), with the parameter index of each weight.
  const outOffsets = new Int32Array(nNodes + 1);
  for (let e = 0; e < nEdges; e++) outOffsets[inSources[e] + 1]++;
  for (let id = 0; id < nNodes; id++) outOffsets[id + 1] += outOffsets[id];
  const fill = outOffsets.slice(0, nNodes);
  const outTargets = new Int32Array(nEdges);
  const outParams = new Int32Array(nEdges);
  for (let k = 0; k < nNodes; k++) {
    for (let e = inOffsets[k]; e < inOffsets[k + 1]; e++) {
      const pos = fill[inSources[e]]++;
      outTargets[pos] = k;
      outParams[pos] = blockOffsets[k] + 1 + (e - inOffsets[k]);
    }
  }

  let affine: CompiledNetwork['affine'];
  if (doc.nodes.some((n) => n.attributes.gain !== undefined || n.attributes.scale !== undefined || n.attributes.shift !== undefined)) {
    affine = { gain: new Float64Array(nNodes).fill(1), scale: new Float64Array(nNodes).fill(1), shift: new Float64Array(nNodes) };
    for (let id = 0; id < nNodes; id++) {
      const a = doc.nodes[order[id]].attributes;
      affine.gain[id] = a.gain ?? 1;
      affine.scale[id] = a.scale ?? 1;
      affine.shift[id] = a.shift ?? 0;
    }
  }
  const groups = doc.nodes.some((n) => n.attributes.group !== undefined) ? Array.from(order, (i) => doc.nodes[i].attributes.group) : undefined;
  const outputNodes = doc.nodes.map((n, i) => (n.attributes.role === 'output' ? i : -1)).filter((i) => i >= 0);
  const outputUnits = Int32Array.from(outputNodes, (i) => idOfNode[i]);
  const outputIndex = new Int32Array(nNodes).fill(-1);
  outputUnits.forEach((id, j) => (outputIndex[id] = j));
  const net: CompiledNetwork = {
    nUnits: nNodes,
    nInputs: levelOffsets[1],
    nOutputs: outputNodes.length,
    nEdges,
    nParams: params.length,
    interpretation: doc.attributes.interpretation,
    unitKeys,
    activation,
    affine,
    levelOffsets,
    outputUnits,
    outputIndex,
    inOffsets,
    inSources,
    outOffsets,
    outTargets,
    outParams,
    blockOffsets,
    edgeParams,
    nodeIndex: Int32Array.from(order),
    unitGroups: groups,
  };
  return { net, params: Float64Array.from(params) };
}

/**
 * Writes parameters back into a copy of the document: every other field, and the order of
 * nodes and edges, is kept as it was, so reading the result back gives the same numbers bit for bit.
 */
export function exportNetwork(doc: NetworkDocument, net: CompiledNetwork, params: Float64Array): NetworkDocument {
  const out = structuredClone(doc);
  for (let id = 0; id < net.nUnits; id++) {
    if (net.activation[id] !== ActivationCode.Input) out.nodes[net.nodeIndex[id]].attributes.bias = params[net.blockOffsets[id]];
  }
  out.edges.forEach((edge, i) => (edge.attributes.weight = params[net.edgeParams[i]]));
  return out;
}
