import type * as TF from '@tensorflow/tfjs-core';
import { ACTIVATION_OF_CODE, ActivationCode, type CompiledNetwork } from '../../engine/compiled-network.js';
import type { Activation } from '../../network/types.js';
import { metricLayout } from '../kernels.js';
import { blockBuckets, type BucketArrays } from './engine-buckets.js';

/**
 * How a level's edges are multiplied: as a dense [count × span] weight matrix (one matMul with
 * the rows it reads) or as padded (ELL) lists (a gather of [count × F] rows and a batched matMul).
 * NOTE: dense matrices waste work on absent edges; gathers cost per gathered number far more
 * than a multiply-add on tfjs (on its CPU backend about 50 times), so a level is dense unless
 * its matrix exceeds {@link DENSE_FACTOR} times its padded lists, or `chunkEntries` numbers.
 */
export const DENSE_FACTOR = 64;

/**
 * Index tensors of one topological level (levels ≥ 1), built once when the engine opens.
 *
 * Forward kernels read the activities of units `inBase .. inBase+inSpan-1` (the lowest level
 * feeding this one up to the level below) followed by a zero row (`inSpan`, the padding of ELL
 * lists) and a row of ones (`inSpan + 1`, the bias input); backward kernels read the rows of
 * units `outBase .. outBase+outSpan-1` (followed by a zero row for ELL lists). Local row indices
 * let a layered network read one adjacent level, not the whole workspace array.
 */
export interface LevelIndex {
  readonly start: number;
  readonly count: number;
  readonly inBase: number;
  readonly inSpan: number;
  /** Dense: [count·(inSpan+2)] parameter of each (unit, source row), nParams (the appended zero) where there is no edge. */
  readonly inDense?: TF.Tensor1D;
  /** ELL: [count × F] source rows (bias column first) and [count × 1 × F] parameters (padding: nParams). */
  readonly inSource?: TF.Tensor2D;
  readonly inParam?: TF.Tensor3D;
  /** Columns of the level's gradient block: inSpan + 2 (dense) or F (ELL). */
  readonly gradWidth: number;
  /** Offset of the level's gradient block in the concatenation of all levels' blocks. */
  readonly gradOffset: number;
  readonly activation: Activation | 'mixed';
  /** [count × size] masks of each activation present, for levels that mix activations. */
  readonly masks?: Partial<Record<Activation, TF.Tensor2D>>;
  /** [count × size] gain, scale, shift and scale·gain (Def. 29), when some unit of the level has them. */
  readonly affine?: { gain: TF.Tensor2D; scale: TF.Tensor2D; shift: TF.Tensor2D; scaleGain: TF.Tensor2D };
  readonly outBase: number;
  readonly outSpan: number;
  /** Dense: [count·outSpan] parameter of each edge to a unit above (nParams: none). */
  readonly outDense?: TF.Tensor1D;
  /** ELL: [count × Fo] target rows (padding: outSpan, a zero row) and [count × 1 × Fo] parameters. */
  readonly outTarget?: TF.Tensor2D;
  readonly outParam?: TF.Tensor3D;
  /** Number of hidden (non-output) units; with outputs among them, a [count × size] (bool) mask of the hidden ones. */
  readonly hidden: number;
  readonly hiddenMask?: TF.Tensor2D;
  /** For levels holding outputs: the first output index when the level is outputs `first .. first+count-1`, else -1. */
  readonly outputRun?: number;
  /** For levels holding outputs: [count] output index of each unit (nOutputs for hidden units). */
  readonly outputOf?: TF.Tensor1D;
}

/** The per-network index tensors of a tfjs engine. */
export interface EngineIndex {
  /** `levels[l - 1]` is level l. */
  readonly levels: readonly LevelIndex[];
  readonly outputs: {
    /** Runs of consecutive unit ids holding consecutive outputs: unit, output index, length. */
    readonly runs: ReadonlyArray<{ unit: number; output: number; length: number }>;
    /** [nOutputs × size]: 1 for tanh output units (Bernoulli outputs read as (1+a)/2), when there is one. */
    readonly isTanh?: TF.Tensor2D;
    /** [1 × nOutputs] ones: sums over the outputs as a product. */
    readonly ones: TF.Tensor2D;
  };
  readonly params: {
    /** [nParams]: each parameter's position in the concatenated flat gradient blocks of the levels. */
    readonly gradPerm: TF.Tensor1D;
    /** [nParams]: the parameter index of its unit's bias; 1 at biases; its unit's position in bucket order. */
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
 * Builds every index tensor of `net` for batches of `size`; dense level matrices stay under
 * `chunkEntries` numbers. Each tensor goes through `own` (the engine disposes them).
 */
export function buildEngineIndex(tf: typeof TF, net: CompiledNetwork, size: number, chunkEntries: number, own: <T extends TF.Tensor>(t: T) => T): EngineIndex {
  const int1 = (values: ArrayLike<number>) => own(tf.tensor1d(Int32Array.from(values), 'int32'));
  const levelOf = new Int32Array(net.nUnits);
  const L = net.levelOffsets.length - 1;
  for (let l = 0; l < L; l++) levelOf.fill(l, net.levelOffsets[l], net.levelOffsets[l + 1]);
  const gradPerm = new Int32Array(net.nParams);
  const levels: LevelIndex[] = [];
  let gradOffset = 0;
  for (let l = 1; l < L; l++) {
    const lv = levelIndex(tf, net, l, levelOf, size, chunkEntries, gradOffset, gradPerm, own);
    levels.push(lv);
    gradOffset += lv.count * lv.gradWidth;
  }

  const runs: Array<{ unit: number; output: number; length: number }> = [];
  net.outputUnits.forEach((k, j) => {
    const last = runs[runs.length - 1];
    if (last && last.unit + last.length === k && last.output + last.length === j) last.length++;
    else runs.push({ unit: k, output: j, length: 1 });
  });
  const tanhOut = Array.from(net.outputUnits, (k) => Number(net.activation[k] === ActivationCode.Tanh));
  const outputs = {
    runs,
    isTanh: tanhOut.some((t) => t === 1) ? own(tf.tensor2d(tanhOut.flatMap((t) => new Array<number>(size).fill(t)), [net.nOutputs, size])) : undefined,
    ones: own(tf.ones([1, net.nOutputs]) as TF.Tensor2D),
  };

  const layout = metricLayout(net);
  const { buckets, blocksPerm, paramsPerm, paramBucketUnit } = blockBuckets(net, layout.matrixOffsets);
  const bias = new Int32Array(net.nParams);
  const isBias = new Float32Array(net.nParams);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const p0 = net.blockOffsets[k];
    bias.fill(p0, p0, net.blockOffsets[k + 1]);
    isBias[p0] = 1;
  }
  return {
    levels,
    outputs,
    params: { gradPerm: int1(gradPerm), bias: int1(bias), isBias: own(tf.tensor1d(isBias)), bucketUnit: int1(paramBucketUnit) },
    buckets: bucketTensors(tf, buckets, own),
    blocksPerm: int1(blocksPerm),
    paramsPerm: int1(paramsPerm),
    blockLength: layout.matrixOffsets[net.nUnits],
    matrixOffsets: layout.matrixOffsets,
  };
}

function levelIndex(tf: typeof TF, net: CompiledNetwork, l: number, levelOf: Int32Array, S: number, chunkEntries: number, gradOffset: number, gradPerm: Int32Array, own: <T extends TF.Tensor>(t: T) => T): LevelIndex {
  const start = net.levelOffsets[l];
  const end = net.levelOffsets[l + 1];
  const count = end - start;
  const units = Array.from({ length: count }, (_, i) => start + i);
  const full = (f: (k: number) => number) => own(tf.tensor2d(units.flatMap((k) => new Array<number>(S).fill(f(k))), [count, S]));

  // Forward: sources from the lowest feeding level up to this one, then a zero row and a row of ones.
  let minLevel = l;
  let fanIn = 0;
  for (const k of units) {
    fanIn = Math.max(fanIn, net.inOffsets[k + 1] - net.inOffsets[k]);
    for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) minLevel = Math.min(minLevel, levelOf[net.inSources[e]]);
  }
  const inBase = net.levelOffsets[minLevel];
  const inSpan = start - inBase;
  const width = fanIn + 1;
  const rows = inSpan + 2;
  const denseIn = count * rows <= Math.min(chunkEntries, DENSE_FACTOR * count * width);
  const inDense = new Int32Array(denseIn ? count * rows : 0).fill(net.nParams);
  const inSource = new Int32Array(denseIn ? 0 : count * width).fill(inSpan);
  const inParam = new Int32Array(denseIn ? 0 : count * width).fill(net.nParams);
  units.forEach((k, i) => {
    for (let c = 0; c <= net.inOffsets[k + 1] - net.inOffsets[k]; c++) {
      const row = c === 0 ? inSpan + 1 : net.inSources[net.inOffsets[k] + c - 1] - inBase;
      const p = net.blockOffsets[k] + c;
      if (denseIn) {
        inDense[i * rows + row] = p;
        gradPerm[p] = gradOffset + i * rows + row;
      } else {
        inSource[i * width + c] = row;
        inParam[i * width + c] = p;
        gradPerm[p] = gradOffset + i * width + c;
      }
    }
  });

  const present = [...new Set(units.map((k) => ACTIVATION_OF_CODE[net.activation[k]]))];
  const kind = present.length > 1 ? 'mixed' : present[0];
  const masks = kind === 'mixed' ? Object.fromEntries(present.map((a) => [a, full((k) => Number(ACTIVATION_OF_CODE[net.activation[k]] === a))])) : undefined;
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
  const denseOut = fanOut > 0 && count * outSpan <= Math.min(chunkEntries, DENSE_FACTOR * count * fanOut);
  const outDense = new Int32Array(denseOut ? count * outSpan : 0).fill(net.nParams);
  const outTarget = new Int32Array(denseOut ? 0 : count * fanOut).fill(outSpan);
  const outParam = new Int32Array(denseOut ? 0 : count * fanOut).fill(net.nParams);
  units.forEach((k, i) => {
    for (let e = net.outOffsets[k], c = 0; e < net.outOffsets[k + 1]; e++, c++) {
      if (denseOut) outDense[i * outSpan + net.outTargets[e] - outBase] = net.outParams[e];
      else {
        outTarget[i * fanOut + c] = net.outTargets[e] - outBase;
        outParam[i * fanOut + c] = net.outParams[e];
      }
    }
  });
  const hidden = units.filter((k) => net.outputIndex[k] < 0).length;
  const first = net.outputIndex[start];
  const run = units.every((k, i) => net.outputIndex[k] === first + i) ? first : -1;
  return {
    start,
    count,
    inBase,
    inSpan,
    inDense: denseIn ? own(tf.tensor1d(inDense, 'int32')) : undefined,
    inSource: denseIn ? undefined : own(tf.tensor2d(inSource, [count, width], 'int32')),
    inParam: denseIn ? undefined : own(tf.tensor3d(inParam, [count, 1, width], 'int32')),
    gradWidth: denseIn ? rows : width,
    gradOffset,
    activation: kind,
    masks,
    affine: wrapped
      ? { gain: full((k) => affine.gain[k]), scale: full((k) => affine.scale[k]), shift: full((k) => affine.shift[k]), scaleGain: full((k) => affine.scale[k] * affine.gain[k]) }
      : undefined,
    outBase,
    outSpan,
    outDense: denseOut ? own(tf.tensor1d(outDense, 'int32')) : undefined,
    outTarget: fanOut > 0 && !denseOut ? own(tf.tensor2d(outTarget, [count, fanOut], 'int32')) : undefined,
    outParam: fanOut > 0 && !denseOut ? own(tf.tensor3d(outParam, [count, 1, fanOut], 'int32')) : undefined,
    hidden,
    hiddenMask: hidden > 0 && hidden < count ? own(tf.cast(full((k) => Number(net.outputIndex[k] < 0)), 'bool')) : undefined,
    outputRun: hidden < count ? run : undefined,
    outputOf: hidden < count ? own(tf.tensor1d(Int32Array.from(units, (k) => (net.outputIndex[k] >= 0 ? net.outputIndex[k] : net.nOutputs)), 'int32')) : undefined,
  };
}
