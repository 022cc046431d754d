import { problem, show, warning, type Problem } from '../errors.js';
import { ACTIVATIONS, INTERPRETATIONS, ROLES, type NetworkDocument, type SerializedNode } from './types.js';
import { checkTopology } from './validate-topology.js';

/** Options of {@link validateNetwork}. */
export interface ValidateNetworkOptions {
  /**
   * Accept a skeleton: edges without a weight and non-input units without a bias pass (what
   * `unitwise init` reads and completes); weights and biases that are present must still be
   * finite numbers. The document is then a {@link NetworkSkeleton}, not yet trainable.
   */
  skeleton?: boolean;
}

/** Result of validation: the typed document when there are no errors, and every finding. */
export interface NetworkValidation {
  document: NetworkDocument | undefined;
  problems: Problem[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isKey = (v: unknown): v is string | number => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/**
 * Checks a parsed JSON value against the network format and returns every problem found:
 * shape, unknown roles/activations/interpretations, duplicate units, edges to unknown units,
 * self-loops, duplicate edges, edges into inputs or out of outputs, missing or non-finite
 * biases and weights, no inputs/outputs, cycles; warnings for units cut off from the inputs
 * or outputs. Never throws on any JSON value. Missing weights and biases are errors that
 * suggest `unitwise init` (the first {@link MISSING_LISTED} are named, then a count), unless
 * `options.skeleton`.
 */
export function validateNetwork(value: unknown, options: ValidateNetworkOptions = {}): NetworkValidation {
  const problems: Problem[] = [];
  if (!isObject(value)) {
    problems.push(problem('shape', 'the network must be a JSON object with "attributes", "nodes" and "edges" (graphology serialisation)'));
    return { document: undefined, problems };
  }
  if (value.nodes === undefined && Array.isArray(value.inputs) && Array.isArray(value.targets)) {
    problems.push(problem('shape', 'this looks like a data file ("inputs", "targets"), not a network; give the network file first and the data with --data'));
    return { document: undefined, problems };
  }
  checkOptions(value.options, problems);
  checkGraphAttributes(value.attributes, problems);
  const missing: Missing = { biases: [], weights: [] };
  const nodes = checkNodes(value.nodes, problems, missing);
  const roles = new Map(nodes.map((n) => [n.key, n.attributes.role]));
  const edgesOk = checkEdges(value.edges, roles, problems, missing);
  if (!options.skeleton) reportMissing(missing, problems);
  if (problems.some((p) => p.severity === 'error')) return { document: undefined, problems };

  const document = { ...value, nodes, edges: value.edges } as NetworkDocument;
  checkOutputActivations(document, problems);
  if (edgesOk) checkTopology(document, problems);
  return { document: problems.some((p) => p.severity === 'error') ? undefined : document, problems };
}

function checkOptions(options: unknown, problems: Problem[]): void {
  if (options === undefined) return;
  if (!isObject(options)) {
    problems.push(problem('shape', '"options" must be an object such as {"type": "directed"}', '/options'));
    return;
  }
  if (options.type !== undefined && options.type !== 'directed') {
    problems.push(problem('graph-type', `"options.type" is ${show(options.type)}; a network is a directed graph: use "directed"`, '/options/type'));
  }
  if (options.multi === true) {
    problems.push(problem('graph-type', '"options.multi" is true; a network has at most one edge per pair of units: use false', '/options/multi'));
  }
}

function checkGraphAttributes(attributes: unknown, problems: Problem[]): void {
  if (!isObject(attributes)) {
    problems.push(problem('shape', `graph "attributes" must be an object with "interpretation" (${list(INTERPRETATIONS)}) and "activation" (${list(ACTIVATIONS)})`, '/attributes'));
    return;
  }
  if (!INTERPRETATIONS.includes(attributes.interpretation as never)) {
    problems.push(problem('unknown-interpretation', `output interpretation ${show(attributes.interpretation)} is unknown; use one of ${list(INTERPRETATIONS)}`, '/attributes/interpretation'));
  }
  if (!ACTIVATIONS.includes(attributes.activation as never)) {
    problems.push(problem('unknown-activation', `default activation ${show(attributes.activation)} is unknown; use one of ${list(ACTIVATIONS)}`, '/attributes/activation'));
  }
}

/** Checks the node list; returns the well-formed nodes with string keys. */
function checkNodes(nodes: unknown, problems: Problem[], missing: Missing): SerializedNode[] {
  if (!Array.isArray(nodes)) {
    problems.push(problem('shape', '"nodes" must be an array of {"key", "attributes": {"role", "bias"}}', '/nodes'));
    return [];
  }
  const seen = new Set<string>();
  const out: SerializedNode[] = [];
  nodes.forEach((node: unknown, i) => {
    const path = `/nodes/${i}`;
    if (!isObject(node) || !isKey(node.key)) {
      problems.push(problem('shape', `nodes[${i}] must be an object with a string "key"`, path));
      return;
    }
    const key = String(node.key);
    const name = `unit '${key}' (nodes[${i}])`;
    if (seen.has(key)) problems.push(problem('duplicate-unit', `${name}: the key is used by an earlier unit; unit keys must be unique`, `${path}/key`));
    seen.add(key);
    const attrs = node.attributes;
    if (!isObject(attrs)) {
      problems.push(problem('shape', `${name}: "attributes" must be an object with "role" and, unless the unit is an input, "bias"`, `${path}/attributes`));
      return;
    }
    if (!ROLES.includes(attrs.role as never)) {
      problems.push(problem('unknown-role', `${name}: role ${show(attrs.role)} is unknown; use one of ${list(ROLES)}`, `${path}/attributes/role`));
      return;
    }
    if (attrs.role === 'input') {
      if (attrs.bias !== undefined) problems.push(problem('input-bias', `${name}: input units take their value from the data and have no bias; remove "bias"`, `${path}/attributes/bias`));
      if (attrs.activation !== undefined) problems.push(problem('input-activation', `${name}: input units have no activation function; remove "activation"`, `${path}/attributes/activation`));
      if (attrs.group !== undefined) problems.push(problem('input-group', `${name}: input units belong to no Kronecker group (groups hold the units whose parameters they factor); remove "group"`, `${path}/attributes/group`));
    } else {
      if (attrs.group !== undefined && (typeof attrs.group !== 'string' || attrs.group === '')) {
        problems.push(problem('bad-group', `${name}: "group" is ${show(attrs.group)}; give the group's name as a non-empty string`, `${path}/attributes/group`));
      }
      if (attrs.bias === undefined || attrs.bias === null) {
        missing.biases.push(problem('missing-bias', `${name}: missing "bias"; every non-input unit needs a numeric bias (use 0 for none)`, `${path}/attributes/bias`));
      } else if (typeof attrs.bias !== 'number' || !Number.isFinite(attrs.bias)) {
        problems.push(problem('non-finite-bias', `${name}: bias ${show(attrs.bias)} is not a finite number`, `${path}/attributes/bias`));
      }
      for (const field of ['gain', 'scale', 'shift'] as const) {
        const v = attrs[field];
        if (v === undefined) continue;
        if (attrs.role !== 'hidden') problems.push(problem('affine-attribute', `${name}: "${field}" (Def. 29's affine reparametrisation) is only allowed on hidden units; remove it`, `${path}/attributes/${field}`));
        else if (typeof v !== 'number' || !Number.isFinite(v) || (field !== 'shift' && v === 0)) {
          problems.push(problem('affine-attribute', `${name}: "${field}" is ${show(v)}; give a finite number${field === 'shift' ? '' : ' other than 0'}`, `${path}/attributes/${field}`));
        }
      }
      if (attrs.activation !== undefined && !ACTIVATIONS.includes(attrs.activation as never)) {
        problems.push(problem('unknown-activation', `${name}: activation ${show(attrs.activation)} is unknown; use one of ${list(ACTIVATIONS)}`, `${path}/attributes/activation`));
      }
    }
    out.push({ key, attributes: attrs as SerializedNode['attributes'] });
  });
  const count = (role: string) => out.filter((n) => n.attributes.role === role).length;
  if (count('input') === 0) problems.push(problem('no-inputs', 'the network has no input units; mark at least one unit with "role": "input"', '/nodes'));
  if (count('output') === 0) problems.push(problem('no-outputs', 'the network has no output units; mark at least one unit with "role": "output"', '/nodes'));
  return out;
}

/** Checks the edge list; returns true when every edge is well-formed (topology can be checked). */
function checkEdges(edges: unknown, roles: Map<string, string>, problems: Problem[], missing: Missing): boolean {
  if (!Array.isArray(edges)) {
    problems.push(problem('shape', '"edges" must be an array of {"source", "target", "attributes": {"weight"}}', '/edges'));
    return false;
  }
  const before = problems.length;
  const seen = new Map<string, number>();
  edges.forEach((edge: unknown, i) => {
    const path = `/edges/${i}`;
    if (!isObject(edge) || !isKey(edge.source) || !isKey(edge.target)) {
      problems.push(problem('shape', `edges[${i}] must be an object with string "source" and "target"`, path));
      return;
    }
    const [source, target] = [String(edge.source), String(edge.target)];
    const name = `edge '${source}' -> '${target}' (edges[${i}])`;
    if (edge.undirected === true) problems.push(problem('graph-type', `${name} is undirected; every edge of a network is directed`, `${path}/undirected`));
    if (!roles.has(source)) problems.push(problem('unknown-source', `${name}: no unit has key '${source}'; add the unit or fix the edge's "source"`, `${path}/source`));
    if (!roles.has(target)) problems.push(problem('unknown-target', `${name}: no unit has key '${target}'; add the unit or fix the edge's "target"`, `${path}/target`));
    if (source === target) problems.push(problem('self-loop', `${name} is a self-loop; a unit cannot feed itself`, path));
    if (roles.get(target) === 'input') problems.push(problem('input-incoming', `${name}: input unit '${target}' cannot have incoming edges; make it "hidden" or remove the edge`, path));
    if (roles.get(source) === 'output') problems.push(problem('output-outgoing', `${name}: output unit '${source}' cannot have outgoing edges; make it "hidden" or remove the edge`, path));
    const pair = JSON.stringify([source, target]);
    const first = seen.get(pair);
    if (first !== undefined) problems.push(problem('duplicate-edge', `${name} duplicates edges[${first}]; keep one edge per pair of units`, path));
    else seen.set(pair, i);
    const attrs = edge.attributes;
    if (attrs !== undefined && !isObject(attrs)) {
      problems.push(problem('shape', `${name}: "attributes" must be an object {"weight": number}`, `${path}/attributes`));
    } else if (attrs === undefined || attrs.weight === undefined || attrs.weight === null) {
      missing.weights.push(problem('missing-weight', `${name}: missing "attributes": {"weight": number}; give it a weight`, `${path}/attributes`));
    } else if (typeof attrs.weight !== 'number' || !Number.isFinite(attrs.weight)) {
      problems.push(problem('non-finite-weight', `${name}: weight ${show(attrs.weight)} is not a finite number`, `${path}/attributes/weight`));
    }
  });
  return problems.length === before;
}

/** Missing parameters, kept apart: errors for a trainable network, fine in a skeleton. */
interface Missing {
  biases: Problem[];
  weights: Problem[];
}

/** How many missing weights (and biases) are named one by one before a count of the rest. */
export const MISSING_LISTED = 5;

/** Reports missing biases and weights: the first few by name, then a count, and how to draw them all. */
function reportMissing(missing: Missing, problems: Problem[]): void {
  const fix = 'draw the missing ones with `unitwise init NET --scheme paper|glorot|he --seed S --keep --out NET2`';
  for (const [list, what] of [[missing.biases, 'units lack a "bias"'], [missing.weights, 'edges lack a "weight"']] as const) {
    for (const p of list.slice(0, MISSING_LISTED)) problems.push({ ...p, message: `${p.message}, or ${fix}` });
    if (list.length > MISSING_LISTED) problems.push(problem(list[0].code, `${list.length - MISSING_LISTED} more ${what} (${list.length} in all); give them one, or ${fix}`, list[MISSING_LISTED].path));
  }
}

/**
 * Bernoulli reads output activities as probabilities, so they must lie in [0,1] (sigmoid) or
 * [-1,1] (tanh): linear, relu and softplus outputs are refused. Spherical divides by Σa², so
 * outputs that are all (unshifted) relu, which vanish together on a set of positive measure, are refused.
 */
function checkOutputActivations(doc: NetworkDocument, problems: Problem[]): void {
  const outputs = doc.nodes.filter((n) => n.attributes.role === 'output');
  if (doc.attributes.interpretation === 'bernoulli') {
    doc.nodes.forEach((n, i) => {
      if (n.attributes.role !== 'output') return;
      const act = n.attributes.activation ?? doc.attributes.activation;
      if (act !== 'sigmoid' && act !== 'tanh') {
        problems.push(problem('bernoulli-activation', `unit '${n.key}' (nodes[${i}]): a Bernoulli output needs a sigmoid or tanh activation (its activity is a probability), not ${show(act)}; set its "activation" to "sigmoid" or "tanh", or use another interpretation`, `/nodes/${i}/attributes/activation`));
      }
    });
  }
  const relu = (n: SerializedNode) => (n.attributes.activation ?? doc.attributes.activation) === 'relu' && !n.attributes.shift;
  if (doc.attributes.interpretation === 'spherical' && outputs.length > 0 && outputs.every(relu)) {
    problems.push(
      problem('spherical-relu', `every output unit is relu, so all of them can be 0 at once, where the spherical distribution a_i²/Σa² is undefined; give at least one output unit another activation (softplus is positive)`, '/nodes'),
    );
  }
  if ((doc.attributes.interpretation === 'softmax' || doc.attributes.interpretation === 'spherical') && outputs.length === 1) {
    problems.push(warning('single-class', `the ${doc.attributes.interpretation} interpretation over a single output unit always gives probability 1; add output units or use "bernoulli"`, '/nodes'));
  }
}
