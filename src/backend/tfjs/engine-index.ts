import type * as TF from '@tensorflow/tfjs-core';
import { ActivationCode, type CompiledNetwork } from '../../engine/compiled-network.js';
import { metricLayout } from '../kernels.js';
import { blockBuckets, type BucketArrays } from './engine-buckets.js';

/**
 * Index tensors of one topological level (levels ≥ 1), built once when the engine opens.
 *
 * Forward gathers read the activities of units `inBase .. inBase+inSpan-1` (the lowest level
 * that feeds this one up to the level below), followed by a zero row (`inSpan`, padding) and a
 * row of ones (`inSpan + 1`, the bias input); backward gathers read the rows of units
 * `outBase .. outBase+outSpan-1` followed by a zero row (`outSpan`).
 * NOTE: local indices let a layered network gather from the one adjacent level instead of
 * concatenating the whole workspace array; padded (ELL) lists replace segment sums (see
 * `padded-lists.ts`), and one batched matMul per level sums each unit's row.
 */
export interface LevelIndex {
  readonly start: number;
  readonly count: number;
  readonly inBase: number;
  readonly inSpan: number;
  /** [count × (1 + largest fan-in)]: bias column first, then incoming edges in CSR order. */
  readonly inSource: TF.Tensor2D;
  /** [count × 1 × (1 + largest fan-in)]: parameter of each column (padding: nParams, the appended zero). */
  readonly inParam: TF.Tensor3D;
  readonly activation: 'sigmoid' | 'tanh' | 'linear' | 'mixed';
  /** [count × 1 × 1] activation masks, for levels that mix activations. */
  readonly masks?: { sigmoid: TF.Tensor3D; tanh: TF.Tensor3D; linear: TF.Tensor3D };
  /** [count × 1 × 1] gain, scale, shift and scale·gain (Def. 29), when some unit of the level has them. */
  readonly affine?: { gain: TF.Tensor3D; scale: TF.Tensor3D; shift: TF.Tensor3D; scaleGain: TF.Tensor3D };
  /** Largest fan-out (0: no unit of the level has outgoing edges). */
  readonly fanOut: number;
  readonly outBase: number;
  readonly outSpan: number;
  /** [count × fanOut] target rows; [count × 1 × fanOut] weight parameters (padding: nParams). */
  readonly outTarget?: TF.Tensor2D;
  readonly outParam?: TF.Tensor3D;
  /** Number of hidden (non-output) units; with outputs among them, a [count × 1 × 1] mask of the hidden ones. */
  readonly hidden: number;
  readonly hiddenMask?: TF.Tensor3D;
  /** For levels holding output units: [count] output index of each unit, nOutputs for hidden units. */
  readonly outputOf?: TF.Tensor1D;
}

/** The per-network index tensors of a tfjs engine. */
export interface EngineIndex {
  /** `levels[l - 1]` is level l. */
  readonly levels: readonly LevelIndex[];
  readonly outputs: {
    /** [nOutputs] unit ids. */
    readonly units: TF.Tensor1D;
    /** First unit id when the outputs are units `first .. first+nOutputs-1` in order, else -1. */
    readonly first: number;
    /** Else: [nUnits] rows of concat(array [nUnits rows], output rows [nOutputs]) that put the output rows in place. */
    readonly merge?: TF.Tensor1D;
    /** [nOutputs × 1]: 1 for tanh output units (Bernoulli outputs read as (1+a)/2); undefined when there is none. */
    readonly isTanh?: TF.Tensor2D;
  };
  readonly params: {
    /** Per parameter chunk (NOTE: [chunk × size] gathers stay under `chunkEntries`): source row in act ‖ zero ‖ one, and unit. */
    readonly chunks: ReadonlyArray<{ start: number; count: number; source: TF.Tensor1D; unit: TF.Tensor1D }>;
    /** [nParams]: the parameter index of its unit's bias; whether it is a bias; its unit's position in bucket order. */
    readonly bias: TF.Tensor1D;
    readonly isBias: TF.Tensor1D;
    readonly bucketUnit: TF.Tensor1D;
  };
  readonly buckets: readonly Bucket[];
  /** [blockLength]: each metric-layout entry's position in the concatenated flat bucket blocks. */
  readonly blocksPerm: TF.Tensor1D;
  /** [nParams]: each parameter's position in the concatenated flat bucket vectors. */
  readonly paramsPerm: TF.Tensor1D;
  readonly blockLength: number;
  /** The metric layout's block offsets (see `metricLayout`). */
  readonly matrixOffsets: Int32Array;
}

/** Units whose blocks are solved together, padded to one size n (see `engine-buckets.ts`). */
export interface Bucket {
  readonly n: number;
  readonly size: number;
  readonly unitIds: Int32Array;
  /** [u] unit ids (int32, and float32 for the min-reduction of failures). */
  readonly units: TF.Tensor1D;
  readonly unitValues: TF.Tensor1D;
  /** [u × n] rows of act ‖ zero ‖ one making each ā (bias: the row of ones; padding: the zero row). */
  readonly rows: TF.Tensor2D;
  /** [u × n] parameter indices (padding: nParams, a zero appended to the vector). */
  readonly params: TF.Tensor2D;
  /** [u·n·n] indices into the blocks (padding: blockLength, a zero appended). */
  readonly blocks: TF.Tensor1D;
  /** [u × n × n]: 1 on the diagonal of padding rows, of real rows, of all rows. */
  readonly padEye: TF.Tensor3D;
  readonly realEye: TF.Tensor3D;
  readonly eye: TF.Tensor3D;
}

/** Index tensors of `buckets` (host arrays from {@link blockBuckets}); every tensor goes through `own`. */
export function bucketTensors(tf: typeof TF, buckets: readonly BucketArrays[], own: <T extends TF.Tensor>(t: T) => T): Bucket[] {
  return buckets.map((b) => {
    const u = b.unitIds.length;
    return {
      n: b.n,
      size: u,
      unitIds: b.unitIds,
      units: own(tf.tensor1d(b.unitIds, 'int32')),
      unitValues: own(tf.tensor1d(Float32Array.from(b.unitIds))),
      rows: own(tf.tensor2d(b.rows, [u, b.n], 'int32')),
      params: own(tf.tensor2d(b.params, [u, b.n], 'int32')),
      blocks: own(tf.tensor1d(b.blocks, 'int32')),
      padEye: own(tf.tensor3d(b.padEye, [u, b.n, b.n])),
      realEye: own(tf.tensor3d(b.realEye, [u, b.n, b.n])),
      eye: own(tf.tensor3d(b.realEye.map((v, i) => v + b.padEye[i]), [u, b.n, b.n])),
    };
  });
}

/**
 * Builds every index tensor of `net` for batches of `size`, parameters in chunks of at most
 * `chunkEntries / size`; each tensor goes through `own` (the engine disposes them).
 */
export function buildEngineIndex(tf: typeof TF, net: CompiledNetwork, size: number, chunkEntries: number, own: <T extends TF.Tensor>(t: T) => T): EngineIndex {
  const int1 = (values: ArrayLike<number>) => own(tf.tensor1d(Int32Array.from(values), 'int32'));
  const levelOf = new Int32Array(net.nUnits);
  const L = net.levelOffsets.length - 1;
  for (let l = 0; l < L; l++) levelOf.fill(l, net.levelOffsets[l], net.levelOffsets[l + 1]);
  const levels: LevelIndex[] = [];
  for (let l = 1; l < L; l++) levels.push(levelIndex(tf, net, l, levelOf, own));

  const outputUnits = Array.from(net.outputUnits);
  const first = outputUnits.every((k, j) => k === outputUnits[0] + j) ? outputUnits[0] : -1;
  const merge = Int32Array.from({ length: net.nUnits }, (_, k) => (net.outputIndex[k] >= 0 ? net.nUnits + net.outputIndex[k] : k));
  const tanhOut = outputUnits.map((k) => Number(net.activation[k] === ActivationCode.Tanh));
  const outputs = {
    units: int1(outputUnits),
    first: net.nOutputs > 0 ? first : -1,
    merge: first < 0 ? int1(merge) : undefined,
    isTanh: tanhOut.some((t) => t === 1) ? own(tf.tensor2d(tanhOut, [net.nOutputs, 1])) : undefined,
  };

  const layout = metricLayout(net);
  const blockLength = layout.matrixOffsets[net.nUnits];
  const { buckets, blocksPerm, paramsPerm, paramBucketUnit } = blockBuckets(net, layout.matrixOffsets);

  const source = new Int32Array(net.nParams);
  const unit = new Int32Array(net.nParams);
  const bias = new Int32Array(net.nParams);
  const isBias = new Float32Array(net.nParams);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const p0 = net.blockOffsets[k];
    for (let p = p0; p < net.blockOffsets[k + 1]; p++) {
      unit[p] = k;
      bias[p] = p0;
      source[p] = p === p0 ? net.nUnits + 1 : net.inSources[net.inOffsets[k] + p - p0 - 1];
    }
    isBias[p0] = 1;
  }
  const chunk = Math.max(1, Math.floor(chunkEntries / size));
  const chunks = [];
  for (let start = 0; start < net.nParams; start += chunk) {
    const count = Math.min(chunk, net.nParams - start);
    chunks.push({ start, count, source: int1(source.subarray(start, start + count)), unit: int1(unit.subarray(start, start + count)) });
  }
  return {
    levels,
    outputs,
    params: { chunks, bias: int1(bias), isBias: own(tf.tensor1d(isBias)), bucketUnit: int1(paramBucketUnit) },
    buckets: bucketTensors(tf, buckets, own),
    blocksPerm: int1(blocksPerm),
    paramsPerm: int1(paramsPerm),
    blockLength,
    matrixOffsets: layout.matrixOffsets,
  };
}

function levelIndex(tf: typeof TF, net: CompiledNetwork, l: number, levelOf: Int32Array, own: <T extends TF.Tensor>(t: T) => T): LevelIndex {
  const start = net.levelOffsets[l];
  const end = net.levelOffsets[l + 1];
  const count = end - start;
  const units = Array.from({ length: count }, (_, i) => start + i);
  const column = (f: (k: number) => number) => own(tf.tensor3d(units.map(f), [count, 1, 1]));

  // Forward: sources from the lowest feeding level up to this one.
  let minLevel = l;
  let fanIn = 0;
  for (const k of units) {
    fanIn = Math.max(fanIn, net.inOffsets[k + 1] - net.inOffsets[k]);
    for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) minLevel = Math.min(minLevel, levelOf[net.inSources[e]]);
  }
  const inBase = net.levelOffsets[minLevel];
  const inSpan = start - inBase;
  const width = fanIn + 1;
  const inSource = new Int32Array(count * width).fill(inSpan);
  const inParam = new Int32Array(count * width).fill(net.nParams);
  units.forEach((k, i) => {
    inSource[i * width] = inSpan + 1;
    for (let e = net.inOffsets[k], c = 0; e <= net.inOffsets[k + 1]; e++, c++) {
      inParam[i * width + c] = net.blockOffsets[k] + c;
      if (c > 0) inSource[i * width + c] = net.inSources[e - 1] - inBase;
    }
  });

  const codes = new Set(units.map((k) => net.activation[k]));
  const kind = codes.size > 1 ? 'mixed' : codes.has(ActivationCode.Sigmoid) ? 'sigmoid' : codes.has(ActivationCode.Tanh) ? 'tanh' : 'linear';
  const is = (code: number) => column((k) => Number(net.activation[k] === code));
  const affine = net.affine;
  const wrapped = affine && units.some((k) => affine.gain[k] !== 1 || affine.scale[k] !== 1 || affine.shift[k] !== 0);

  // Backward: targets from the level above up to the highest level fed.
  let maxLevel = l;
  let fanOut = 0;
  for (const k of units) {
    fanOut = Math.max(fanOut, net.outOffsets[k + 1] - net.outOffsets[k]);
    for (let e = net.outOffsets[k]; e < net.outOffsets[k + 1]; e++) maxLevel = Math.max(maxLevel, levelOf[net.outTargets[e]]);
  }
  const outBase = end;
  const outSpan = net.levelOffsets[maxLevel + 1] - end;
  const outTarget = new Int32Array(count * fanOut).fill(outSpan);
  const outParam = new Int32Array(count * fanOut).fill(net.nParams);
  units.forEach((k, i) => {
    for (let e = net.outOffsets[k], c = 0; e < net.outOffsets[k + 1]; e++, c++) {
      outTarget[i * fanOut + c] = net.outTargets[e] - outBase;
      outParam[i * fanOut + c] = net.outParams[e];
    }
  });
  const hidden = units.filter((k) => net.outputIndex[k] < 0).length;
  return {
    start,
    count,
    inBase,
    inSpan,
    inSource: own(tf.tensor2d(inSource, [count, width], 'int32')),
    inParam: own(tf.tensor3d(inParam, [count, 1, width], 'int32')),
    activation: kind,
    masks: kind === 'mixed' ? { sigmoid: is(ActivationCode.Sigmoid), tanh: is(ActivationCode.Tanh), linear: is(ActivationCode.Linear) } : undefined,
    affine: wrapped
      ? {
          gain: column((k) => affine.gain[k]),
          scale: column((k) => affine.scale[k]),
          shift: column((k) => affine.shift[k]),
          scaleGain: column((k) => affine.scale[k] * affine.gain[k]),
        }
      : undefined,
    fanOut,
    outBase,
    outSpan,
    outTarget: fanOut > 0 ? own(tf.tensor2d(outTarget, [count, fanOut], 'int32')) : undefined,
    outParam: fanOut > 0 ? own(tf.tensor3d(outParam, [count, 1, fanOut], 'int32')) : undefined,
    hidden,
    hiddenMask: hidden > 0 && hidden < count ? column((k) => Number(net.outputIndex[k] < 0)) : undefined,
    outputOf: hidden < count ? own(tf.tensor1d(Int32Array.from(units, (k) => (net.outputIndex[k] >= 0 ? net.outputIndex[k] : net.nOutputs)), 'int32')) : undefined,
  };
}
