import type * as TF from '@tensorflow/tfjs-core';
import { ActivationCode, type CompiledNetwork } from '../../engine/compiled-network.js';
import { paddedNetwork } from '../padded-lists.js';

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
  const padded = paddedNetwork(net);
  const int = (values: Int32Array) => tf.tensor1d(values, 'int32');
  const levels = padded.levels.map((lv): LevelTensors => {
    const column = (f: (k: number) => number) => tf.tensor2d(Array.from({ length: lv.count }, (_, i) => f(lv.start + i)), [lv.count, 1]);
    const affine = net.affine;
    return {
      start: lv.start,
      count: lv.count,
      inSource: int(lv.inSource),
      inParam: int(lv.inParam),
      fanIn: lv.fanIn,
      biasParam: int(lv.biasParam),
      isSigmoid: column((k) => Number(net.activation[k] === ActivationCode.Sigmoid)),
      isTanh: column((k) => Number(net.activation[k] === ActivationCode.Tanh)),
      isLinear: column((k) => Number(net.activation[k] === ActivationCode.Linear)),
      gain: column((k) => affine?.gain[k] ?? 1),
      scale: column((k) => affine?.scale[k] ?? 1),
      shift: column((k) => affine?.shift[k] ?? 0),
      outTarget: int(lv.outTarget),
      outParam: int(lv.outParam),
      fanOut: lv.fanOut,
      hidden: [...lv.hidden],
    };
  });
  const result: NetTensors = {
    levels,
    paramUnit: int(padded.paramUnit),
    paramSource: int(padded.paramSource),
    paramBias: int(padded.paramBias),
    paramBlockLast: int(padded.paramBlockLast),
    outputUnits: int(net.outputUnits),
    outputIsTanh: tf.tensor2d(Array.from(net.outputUnits, (k) => Number(net.activation[k] === ActivationCode.Tanh)), [net.nOutputs, 1]),
    blockGroups: padded.blockGroups.map((g) => ({ n: g.n, units: g.units, rows: tf.tensor2d(g.rows, [g.units.length, g.n], 'int32') })),
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
