import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { UsageError, problem } from '../../errors.js';

/** How units are grouped for the Kronecker-factored curvatures (`--groups`). */
export const GROUPINGS = ['levels', 'attribute', 'units'] as const;
export type Grouping = (typeof GROUPINGS)[number];

/**
 * One group g of non-input units and the Kronecker structure of its parameters (seeds 001,
 * 002, 004 on a layer; here any set of units of a DAG). Its homogeneous activity is
 * ā(x) = (1, a_{S_g}(x)), length n_g + 1; its parameters (i, k) with i ∈ {0} ∪ S_k, k ∈ U_g, are
 * a subset of the dense (n_g + 1) × m_g grid.
 */
export interface KroneckerGroup {
  /** The group's name in reports ('level 2', the `group` attribute, or the unit's key). */
  readonly name: string;
  /** U_g: unit ids, in the order of the file's `nodes` (m_g of them). */
  readonly units: Int32Array;
  /** S_g: the union of the units' incoming units, ids in the order of the file's `nodes` (n_g). */
  readonly sources: Int32Array;
  /** Rows of ā for {@link Engine.groupGram}: -1 (the bias's constant 1), then the sources. */
  readonly activityRows: Int32Array;
  /** The group's parameter indices (into the network's parameters), unit by unit in `units` order. */
  readonly params: Int32Array;
  /** Per entry of `params`: its row i in ā (0 = bias) and its column (position of k in `units`). */
  readonly rowOf: Int32Array;
  readonly colOf: Int32Array;
  /** Whether every unit is fed by all of S_g (the parameters fill the grid: matrix-form solves). */
  readonly complete: boolean;
}

/**
 * The groups of a compiled network:
 * - levels: the topological levels (a non-input unit sits one above its highest incoming unit,
 *   on level 1 when it has none), the layers of a layered network;
 * - attribute: the node attribute `group` of every non-input unit (an error names the units
 *   without one);
 * - units: every unit its own group (the per-unit blocks, factored).
 * Groups are listed by their first unit's id (levels: bottom up).
 */
export function buildGroups(net: CompiledNetwork, grouping: Grouping): KroneckerGroup[] {
  const members: Array<{ name: string; units: number[] }> = [];
  if (grouping === 'levels') {
    for (let l = 1; l < net.levelOffsets.length - 1; l++) {
      const units: number[] = [];
      for (let k = net.levelOffsets[l]; k < net.levelOffsets[l + 1]; k++) units.push(k);
      members.push({ name: `level ${l}`, units });
    }
  } else if (grouping === 'units') {
    for (let k = net.nInputs; k < net.nUnits; k++) members.push({ name: net.unitKeys[k], units: [k] });
  } else if (grouping === 'attribute') {
    const byName = new Map<string, number[]>();
    const missing: string[] = [];
    for (let k = net.nInputs; k < net.nUnits; k++) {
      const name = net.unitGroups?.[k];
      if (name === undefined) missing.push(net.unitKeys[k]);
      else byName.set(name, [...(byName.get(name) ?? []), k]);
    }
    if (missing.length > 0) {
      const shown = missing.slice(0, 8).map((k) => `'${k}'`).join(', ') + (missing.length > 8 ? ` and ${missing.length - 8} more` : '');
      throw new UsageError([problem('group-attribute', `--groups attribute: ${missing.length} non-input unit(s) have no "group" attribute (${shown}); give every hidden and output unit a group name, or use --groups levels`)]);
    }
    for (const [name, units] of byName) members.push({ name, units });
  } else {
    throw new UsageError([problem('groups', `--groups ${String(grouping)}: use one of ${GROUPINGS.join(', ')}`)]);
  }
  return members.map(({ name, units }) => groupOf(net, name, units));
}

function groupOf(net: CompiledNetwork, name: string, unitList: number[]): KroneckerGroup {
  const byNode = (a: number, b: number) => net.nodeIndex[a] - net.nodeIndex[b];
  const units = Int32Array.from(unitList).sort(byNode);
  const sourceSet = new Set<number>();
  for (const k of units) for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) sourceSet.add(net.inSources[e]);
  const sources = Int32Array.from(sourceSet).sort(byNode);
  const rowOfSource = new Map<number, number>();
  sources.forEach((u, i) => rowOfSource.set(u, i + 1));
  const params: number[] = [];
  const rowOf: number[] = [];
  const colOf: number[] = [];
  units.forEach((k, c) => {
    const p0 = net.blockOffsets[k];
    params.push(p0);
    rowOf.push(0);
    colOf.push(c);
    for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) {
      params.push(p0 + 1 + e - net.inOffsets[k]);
      rowOf.push(rowOfSource.get(net.inSources[e]) as number);
      colOf.push(c);
    }
  });
  const activityRows = Int32Array.from([-1, ...sources]);
  return { name, units, sources, activityRows, params: Int32Array.from(params), rowOf: Int32Array.from(rowOf), colOf: Int32Array.from(colOf), complete: params.length === (sources.length + 1) * units.length };
}

/**
 * For KFRA's recursion (seed 002): the groups in an order where every group comes after the
 * groups its units send edges to (reverse topological), refusing edges inside a group or a
 * cycle between groups with a UsageError naming an offending edge.
 */
export function recursionOrder(net: CompiledNetwork, groups: readonly KroneckerGroup[]): number[] {
  const groupOf = new Int32Array(net.nUnits).fill(-1);
  groups.forEach((g, i) => g.units.forEach((k) => (groupOf[k] = i)));
  const edgeName = (k: number, l: number) => `'${net.unitKeys[k]}' → '${net.unitKeys[l]}'`;
  const downstream = groups.map(() => new Set<number>());
  const witness = new Map<string, string>();
  groups.forEach((g, i) => {
    for (const k of g.units) {
      for (let e = net.outOffsets[k]; e < net.outOffsets[k + 1]; e++) {
        const l = net.outTargets[e];
        const h = groupOf[l];
        if (h === i) throw new UsageError([problem('kfra-groups', `kfra: edge ${edgeName(k, l)} lies inside group '${g.name}'; KFRA's recursion needs groups with no edge inside a group (use --groups levels, or move one unit to another group)`)]);
        if (!downstream[i].has(h)) witness.set(`${i},${h}`, edgeName(k, l));
        downstream[i].add(h);
      }
    }
  });
  // Depth-first: a group is placed once every group it sends edges to is placed.
  const state = new Uint8Array(groups.length); // 0 new, 1 on the stack, 2 placed
  const order: number[] = [];
  const visit = (i: number, from: number): void => {
    if (state[i] === 2) return;
    if (state[i] === 1) throw new UsageError([problem('kfra-groups', `kfra: the groups form a cycle (edge ${witness.get(`${from},${i}`)} from group '${groups[from].name}' back to '${groups[i].name}'); KFRA needs an acyclic order between groups (use --groups levels)`)]);
    state[i] = 1;
    for (const h of downstream[i]) visit(h, i);
    state[i] = 2;
    order.push(i);
  };
  groups.forEach((_, i) => visit(i, i));
  return order;
}
