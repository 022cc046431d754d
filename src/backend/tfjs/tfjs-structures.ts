import type * as TF from '@tensorflow/tfjs-core';
import { ActivationCode, type CompiledNetwork } from '../../engine/compiled-network.js';

/** Index tensors of one topological level, built once per network. */
export interface LevelTensors {
  start: number;
  count: number;
  /**
   * Incoming edges padded to the level's largest fan-in F (ELL layout, [count × F] flattened):
   * source unit id and parameter index; padding points at a zero row (unit nUnits) and a zero
   * weight (parameter nParams).
   * NOTE: padded gathers and a sum over the fan-in axis replace unsorted segment sums, which
   * tfjs's CPU backend evaluates with one mask per segment (cost count × edges × samples).
   */
  inSource: TF.Tensor1D;
  inParam: TF.Tensor1D;
  fanIn: number;
  biasParam: TF.Tensor1D;
  /** [count, 1] masks and affine wrapping (Def. 29) per unit. */
  isSigmoid: TF.Tensor2D;
  isTanh: TF.Tensor2D;
  isLinear: TF.Tensor2D;
  gain: TF.Tensor2D;
  scale: TF.Tensor2D;
  shift: TF.Tensor2D;
  /** Outgoing edges padded likewise to the largest fan-out: target unit id (zero row as padding) and parameter index. */
  outTarget: TF.Tensor1D;
  outParam: TF.Tensor1D;
  fanOut: number;
  /** Local indices of the level's hidden (non-output) units, whose b is computed here. */
  hidden: number[];
}

/** Everything the tfjs kernels index with, per network. */
export interface NetTensors {
  levels: LevelTensors[];
  /** Per parameter: its unit, and its source unit (nUnits, a row of ones, for a bias). */
  paramUnit: TF.Tensor1D;
  paramSource: TF.Tensor1D;
  /** Per parameter: the parameter index of its unit's bias, and of its unit's last parameter. */
  paramBias: TF.Tensor1D;
  paramBlockLast: TF.Tensor1D;
  outputUnits: TF.Tensor1D;
  /** [nOutputs, 1]: 1 for tanh output units. */
  outputIsTanh: TF.Tensor2D;
  /** Units grouped by block size n: ids, and [units × n] indices into the activities extended by a row of ones. */
  blockGroups: Array<{ n: number; units: Int32Array; rows: TF.Tensor2D }>;
}

const cache = new WeakMap<CompiledNetwork, NetTensors>();

/** The index tensors of a network (built on first use, then kept with it). */
export function netTensors(tf: typeof TF, net: CompiledNetwork): NetTensors {
  const known = cache.get(net);
  if (known) return known;
  // Built once and kept with the network: tf.keep protects them from any enclosing tf.tidy.
  const result = build(tf, net);
  cache.set(net, result);
  return result;
}

function build(tf: typeof TF, net: CompiledNetwork): NetTensors {
  const ones = net.nUnits; // index of the appended row of ones
  const levels: LevelTensors[] = [];
  for (let l = 1; l < net.levelOffsets.length - 1; l++) {
    const start = net.levelOffsets[l];
    const end = net.levelOffsets[l + 1];
    const inSource: number[] = [];
    const inParam: number[] = [];
    const outTarget: number[] = [];
    const outParam: number[] = [];
    const hidden: number[] = [];
    const column = (f: (k: number) => number) => tf.tensor2d(Array.from({ length: end - start }, (_, i) => f(start + i)), [end - start, 1]);
    let fanIn = 1;
    let fanOut = 1;
    for (let k = start; k < end; k++) {
      fanIn = Math.max(fanIn, net.inOffsets[k + 1] - net.inOffsets[k]);
      fanOut = Math.max(fanOut, net.outOffsets[k + 1] - net.outOffsets[k]);
    }
    for (let k = start; k < end; k++) {
      for (let i = 0; i < fanIn; i++) {
        const e = net.inOffsets[k] + i;
        const real = e < net.inOffsets[k + 1];
        inSource.push(real ? net.inSources[e] : net.nUnits);
        inParam.push(real ? net.blockOffsets[k] + 1 + i : net.nParams);
      }
      for (let i = 0; i < fanOut; i++) {
        const e = net.outOffsets[k] + i;
        const real = e < net.outOffsets[k + 1];
        outTarget.push(real ? net.outTargets[e] : net.nUnits);
        outParam.push(real ? net.outParams[e] : net.nParams);
      }
      if (net.outputIndex[k] < 0) hidden.push(k - start);
    }
    const affine = net.affine;
    levels.push({
      start,
      count: end - start,
      inSource: tf.tensor1d(inSource, 'int32'),
      inParam: tf.tensor1d(inParam, 'int32'),
      fanIn,
      biasParam: tf.tensor1d(Array.from({ length: end - start }, (_, i) => net.blockOffsets[start + i]), 'int32'),
      isSigmoid: column((k) => Number(net.activation[k] === ActivationCode.Sigmoid)),
      isTanh: column((k) => Number(net.activation[k] === ActivationCode.Tanh)),
      isLinear: column((k) => Number(net.activation[k] === ActivationCode.Linear)),
      gain: column((k) => affine?.gain[k] ?? 1),
      scale: column((k) => affine?.scale[k] ?? 1),
      shift: column((k) => affine?.shift[k] ?? 0),
      outTarget: tf.tensor1d(outTarget, 'int32'),
      outParam: tf.tensor1d(outParam, 'int32'),
      fanOut,
      hidden,
    });
  }
  const paramUnit: number[] = [];
  const paramSource: number[] = [];
  const paramBias: number[] = [];
  const paramBlockLast: number[] = [];
  const groups = new Map<number, { units: number[]; rows: number[] }>();
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const p0 = net.blockOffsets[k];
    const n = net.blockOffsets[k + 1] - p0;
    const sources = [ones, ...Array.from(net.inSources.subarray(net.inOffsets[k], net.inOffsets[k + 1]))];
    for (const source of sources) {
      paramUnit.push(k);
      paramSource.push(source);
      paramBias.push(p0);
      paramBlockLast.push(p0 + n - 1);
    }
    const group = groups.get(n) ?? { units: [], rows: [] };
    group.units.push(k);
    group.rows.push(...sources);
    groups.set(n, group);
  }
  const result: NetTensors = {
    levels,
    paramUnit: tf.tensor1d(paramUnit, 'int32'),
    paramSource: tf.tensor1d(paramSource, 'int32'),
    paramBias: tf.tensor1d(paramBias, 'int32'),
    paramBlockLast: tf.tensor1d(paramBlockLast, 'int32'),
    outputUnits: tf.tensor1d(Array.from(net.outputUnits), 'int32'),
    outputIsTanh: tf.tensor2d(Array.from(net.outputUnits, (k) => Number(net.activation[k] === ActivationCode.Tanh)), [net.nOutputs, 1]),
    blockGroups: [...groups].map(([n, g]) => ({ n, units: Int32Array.from(g.units), rows: tf.tensor2d(g.rows, [g.units.length, n], 'int32') })),
  };
  return keepAll(tf, result);
}

/** tf.keep on every tensor inside a structure of plain objects and arrays. */
export function keepAll<T>(tf: typeof TF, value: T): T {
  if (value instanceof tf.Tensor) tf.keep(value);
  else if (Array.isArray(value)) value.forEach((v) => keepAll(tf, v));
  else if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) Object.values(value).forEach((v) => keepAll(tf, v));
  return value;
}

/** The level holding unit `start`. */
export function levelAt(tensors: NetTensors, start: number): LevelTensors {
  const level = tensors.levels.find((l) => l.start === start);
  if (!level) throw new RangeError(`no level starts at unit ${start}`);
  return level;
}
