import type { CompiledNetwork } from '../engine/compiled-network.js';

/**
 * The index arrays batched backends (tfjs, gpu.js) launch their kernels with, built once per
 * network from its CSR arrays. Edge lists are padded to a common length per level (ELL layout):
 * padding points at unit `nUnits` (a row of zeros, or of ones, appended by the backend) and at
 * parameter `nParams` (a zero weight appended by the backend), so a kernel needs no bounds.
 * NOTE: padding wastes work where fan-ins within a level differ widely; it buys one kernel per
 * level with a fixed inner loop, which is what GPUs and tfjs's gathers want.
 */
export interface PaddedLevel {
  /** First unit id of the level; its units are `start .. start+count-1`. */
  readonly start: number;
  readonly count: number;
  /** Largest fan-in F of the level; `inSource`/`inParam` are [count × F] (source unit, weight parameter). */
  readonly fanIn: number;
  readonly inSource: Int32Array;
  readonly inParam: Int32Array;
  /** [count]: parameter index of each unit's bias. */
  readonly biasParam: Int32Array;
  /** Largest fan-out; `outTarget`/`outParam` are [count × fanOut] (target unit, weight parameter). */
  readonly fanOut: number;
  readonly outTarget: Int32Array;
  readonly outParam: Int32Array;
  /** Local indices of the level's hidden (non-output) units, whose b is computed on the backward pass. */
  readonly hidden: readonly number[];
}

/** Units whose blocks have one size n, for batched block products and solves. */
export interface BlockGroup {
  readonly n: number;
  readonly units: Int32Array;
  /** [units × n]: the rows of the activities (extended by a row of ones at `nUnits`) that make each unit's ā. */
  readonly rows: Int32Array;
}

/** Everything padded, per network. */
export interface PaddedNetwork {
  /** Levels 1 .. L (the input level has no kernels). */
  readonly levels: readonly PaddedLevel[];
  /** Per parameter: its unit; its source unit (`nUnits`, the row of ones, for a bias); its unit's bias and last parameter. [nParams] */
  readonly paramUnit: Int32Array;
  readonly paramSource: Int32Array;
  readonly paramBias: Int32Array;
  readonly paramBlockLast: Int32Array;
  readonly blockGroups: readonly BlockGroup[];
}

const cache = new WeakMap<CompiledNetwork, PaddedNetwork>();

/** The padded index arrays of a network (built on first use, then kept with it). */
export function paddedNetwork(net: CompiledNetwork): PaddedNetwork {
  let padded = cache.get(net);
  if (!padded) {
    padded = build(net);
    cache.set(net, padded);
  }
  return padded;
}

/** [count × width] padded list of CSR rows `offsets[k] .. offsets[k+1]-1` for k = start .. start+count-1. */
function pad(offsets: Int32Array, start: number, count: number, values: (e: number, k: number, i: number) => number, padding: number): { width: number; list: Int32Array } {
  let width = 1;
  for (let k = start; k < start + count; k++) width = Math.max(width, offsets[k + 1] - offsets[k]);
  const list = new Int32Array(count * width).fill(padding);
  for (let k = start; k < start + count; k++) {
    for (let e = offsets[k], i = 0; e < offsets[k + 1]; e++, i++) list[(k - start) * width + i] = values(e, k, i);
  }
  return { width, list };
}

function build(net: CompiledNetwork): PaddedNetwork {
  const levels: PaddedLevel[] = [];
  for (let l = 1; l < net.levelOffsets.length - 1; l++) {
    const start = net.levelOffsets[l];
    const count = net.levelOffsets[l + 1] - start;
    const inSource = pad(net.inOffsets, start, count, (e) => net.inSources[e], net.nUnits);
    const inParam = pad(net.inOffsets, start, count, (_e, k, i) => net.blockOffsets[k] + 1 + i, net.nParams);
    const outTarget = pad(net.outOffsets, start, count, (e) => net.outTargets[e], net.nUnits);
    const outParam = pad(net.outOffsets, start, count, (e) => net.outParams[e], net.nParams);
    const hidden: number[] = [];
    for (let i = 0; i < count; i++) if (net.outputIndex[start + i] < 0) hidden.push(i);
    levels.push({
      start,
      count,
      fanIn: inSource.width,
      inSource: inSource.list,
      inParam: inParam.list,
      biasParam: Int32Array.from({ length: count }, (_, i) => net.blockOffsets[start + i]),
      fanOut: outTarget.width,
      outTarget: outTarget.list,
      outParam: outParam.list,
      hidden,
    });
  }
  const paramUnit = new Int32Array(net.nParams);
  const paramSource = new Int32Array(net.nParams);
  const paramBias = new Int32Array(net.nParams);
  const paramBlockLast = new Int32Array(net.nParams);
  const groups = new Map<number, { units: number[]; rows: number[] }>();
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const p0 = net.blockOffsets[k];
    const n = net.blockOffsets[k + 1] - p0;
    const sources = [net.nUnits, ...net.inSources.subarray(net.inOffsets[k], net.inOffsets[k + 1])];
    sources.forEach((source, i) => {
      paramUnit[p0 + i] = k;
      paramSource[p0 + i] = source;
      paramBias[p0 + i] = p0;
      paramBlockLast[p0 + i] = p0 + n - 1;
    });
    const group = groups.get(n) ?? { units: [], rows: [] };
    group.units.push(k);
    group.rows.push(...sources);
    groups.set(n, group);
  }
  const blockGroups = [...groups].map(([n, g]) => ({ n, units: Int32Array.from(g.units), rows: Int32Array.from(g.rows) }));
  return { levels, paramUnit, paramSource, paramBias, paramBlockLast, blockGroups };
}
