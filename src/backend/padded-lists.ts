import type { CompiledNetwork } from '../engine/compiled-network.js';
import { onlineVector } from './kernels.js';

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

/** Per parameter: its unit; its source unit (`nUnits`, the row of ones, for a bias); its unit's bias and last parameter. [nParams] each. */
export type ParameterMaps<T> = Readonly<Record<'paramUnit' | 'paramSource' | 'paramBias' | 'paramBlockLast', T>>;

/** Everything padded, per network. */
export interface PaddedNetwork extends ParameterMaps<Int32Array> {
  /** Levels 1 .. L (the input level has no kernels). */
  readonly levels: readonly PaddedLevel[];
  readonly blockGroups: readonly BlockGroup[];
}

/** `build` memoised per compiled network (built on first use, then kept with it while the network lives). */
export function perNetwork<T>(build: (net: CompiledNetwork) => T): (net: CompiledNetwork) => T {
  const cache = new WeakMap<CompiledNetwork, T>();
  return (net) => {
    let value = cache.get(net);
    if (value === undefined) {
      value = build(net);
      cache.set(net, value);
    }
    return value;
  };
}

/** The padded index arrays of a network. */
export const paddedNetwork: (net: CompiledNetwork) => PaddedNetwork = perNetwork(build);

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

/** The n × n blocks of `units` (row-major at `matrixOffsets[k]`), packed as float32 [units × n × n] for a batched kernel. */
export function packBlocks(matrixOffsets: Int32Array, units: Int32Array, n: number, blocks: Float64Array): Float32Array {
  const packed = new Float32Array(units.length * n * n);
  units.forEach((k, i) => packed.set(blocks.subarray(matrixOffsets[k], matrixOffsets[k] + n * n), i * n * n));
  return packed;
}

/** The parameter-shaped entries (a gradient) of `units`' blocks of size n, packed as float32 [units × n]. */
export function packBlockVectors(net: CompiledNetwork, units: Int32Array, n: number, values: Float64Array): Float32Array {
  const packed = new Float32Array(units.length * n);
  units.forEach((k, i) => packed.set(values.subarray(net.blockOffsets[k], net.blockOffsets[k] + n), i * n));
  return packed;
}

/** Online (Eq. 37) vectors u of `units` (blocks of size n), as float32 [units × n]; see {@link onlineVector}. */
export function onlineVectors(net: CompiledNetwork, units: Int32Array, n: number, act: Float64Array, modulus: Float64Array, size: number, sample: number): Float32Array {
  const u = new Float32Array(units.length * n);
  units.forEach((k, g) => onlineVector(net, k, act, modulus, size, sample, u, g * n));
  return u;
}

/**
 * The Sherman-Morrison coefficients of one online step (Eq. 37) for a batch of units:
 * f = c / (1 + c uᵀHu) with c = γ/(1-γ), from u and Hu ([units × n]); NaN where 1 + c uᵀHu is
 * not positive and finite (the update is refused).
 */
export function shermanMorrisonCoefficients(u: Float32Array, hu: Float32Array, units: number, n: number, decay: number): Float32Array {
  const c = decay / (1 - decay);
  const coef = new Float32Array(units);
  for (let g = 0; g < units; g++) {
    let uhu = 0;
    for (let i = 0; i < n; i++) uhu += u[g * n + i] * hu[g * n + i];
    const denominator = 1 + c * uhu;
    coef[g] = denominator > 0 && Number.isFinite(denominator) ? c / denominator : Number.NaN;
  }
  return coef;
}

/**
 * Writes a batch's updated blocks A and inverses H ([units × n × n]) and directions ([units × n])
 * back into the Float64 state and `out`; units with a refused update (NaN coefficient) keep
 * their H and direction and are returned.
 */
export function storeOnlineStep(net: CompiledNetwork, matrixOffsets: Int32Array, units: Int32Array, n: number, coef: Float32Array, blocks: Float64Array, inverses: Float64Array, a: ArrayLike<number>, h: ArrayLike<number>, direction: ArrayLike<number>, out: Float64Array): number[] {
  const refused: number[] = [];
  const nn = n * n;
  units.forEach((k, g) => {
    const off = matrixOffsets[k];
    for (let i = 0; i < nn; i++) blocks[off + i] = a[g * nn + i];
    if (Number.isNaN(coef[g])) {
      refused.push(k);
      return;
    }
    for (let i = 0; i < nn; i++) inverses[off + i] = h[g * nn + i];
    for (let i = 0; i < n; i++) out[net.blockOffsets[k] + i] = direction[g * n + i];
  });
  return refused;
}
