import { DirectedGraph } from 'graphology';
import { hasCycle } from 'graphology-dag';
import { problem, warning, type Problem } from '../errors.js';
import type { NetworkDocument } from './types.js';

/**
 * Builds the graphology graph of a document whose nodes and edges are individually valid.
 * Node attributes are the document's; edges carry their index in `doc.edges`.
 */
export function toGraph(doc: NetworkDocument): DirectedGraph {
  const graph = new DirectedGraph({ multi: false, allowSelfLoops: false });
  for (const node of doc.nodes) graph.addNode(node.key, node.attributes);
  doc.edges.forEach((edge, index) => graph.addDirectedEdge(String(edge.source), String(edge.target), { index }));
  return graph;
}

/**
 * Graph-level checks: a cycle is an error (one cycle is printed, unit by unit); units that no
 * input reaches, and hidden units that reach no output, are warnings (they still compute, but
 * their parameters are constant functions of the data or never influence the loss).
 */
export function checkTopology(doc: NetworkDocument, problems: Problem[]): void {
  const graph = toGraph(doc);
  if (hasCycle(graph)) {
    const cycle = findCycle(graph);
    problems.push(problem('cycle', `the network has a cycle: ${cycle.map((k) => `'${k}'`).join(' -> ')}; a network must be acyclic, remove one of these edges`, '/edges'));
    return;
  }
  const fromInputs = reach(graph, doc.nodes.filter((n) => n.attributes.role === 'input').map((n) => n.key), 'out');
  const toOutputs = reach(graph, doc.nodes.filter((n) => n.attributes.role === 'output').map((n) => n.key), 'in');
  doc.nodes.forEach((n, i) => {
    const role = n.attributes.role;
    if (role !== 'input' && !fromInputs.has(n.key)) {
      problems.push(warning('unreachable', `unit '${n.key}' (nodes[${i}]) is not reached from any input unit: its activity is a constant`, `/nodes/${i}`));
    }
    if (role === 'hidden' && !toOutputs.has(n.key)) {
      problems.push(warning('dead-end', `hidden unit '${n.key}' (nodes[${i}]) reaches no output unit: its parameters never affect the loss`, `/nodes/${i}`));
    }
  });
}

/** Breadth-first closure from `starts`, following out- or in-edges. */
function reach(graph: DirectedGraph, starts: string[], direction: 'out' | 'in'): Set<string> {
  const seen = new Set(starts);
  const queue = [...starts];
  while (queue.length > 0) {
    const node = queue.pop() as string;
    const visit = (next: string) => {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    };
    if (direction === 'out') graph.forEachOutNeighbor(node, visit);
    else graph.forEachInNeighbor(node, visit);
  }
  return seen;
}

/** Returns the units of one directed cycle, first unit repeated at the end. Iterative DFS. */
function findCycle(graph: DirectedGraph): string[] {
  const state = new Map<string, 1 | 2>(); // 1: on the stack, 2: done
  for (const root of graph.nodes()) {
    if (state.has(root)) continue;
    const stack: Array<{ node: string; next: string[]; i: number }> = [{ node: root, next: graph.outNeighbors(root), i: 0 }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.i === top.next.length) {
        state.set(top.node, 2);
        stack.pop();
        continue;
      }
      const next = top.next[top.i++];
      const s = state.get(next);
      if (s === 1) {
        const path = stack.map((f) => f.node);
        return [...path.slice(path.indexOf(next)), next];
      }
      if (s === undefined) {
        state.set(next, 1);
        stack.push({ node: next, next: graph.outNeighbors(next), i: 0 });
      }
    }
  }
  return [];
}
