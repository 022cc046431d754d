import { UsageError, problem } from '../../errors.js';
import type * as TF from '@tensorflow/tfjs-core';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { DeviceBuffer, EngineWorkspace, TransferCounter } from '../engine.js';
import { buildEngineIndex, type EngineIndex } from './engine-index.js';
import { TensorBuffer } from './tensor-buffer.js';

/** What the tfjs engine's kernel modules share: the runtime, the network, its index tensors. */
export interface EngineContext {
  readonly tf: typeof TF;
  readonly net: CompiledNetwork;
  readonly size: number;
  readonly index: EngineIndex;
  readonly transfers: TransferCounter;
  /** Largest [rows × columns] intermediate the chunked kernels build (gradient gathers, column passes). */
  readonly chunkEntries: number;
  /** [2·size]: a row of zeros (padding of gathers) then a row of ones (the bias input). */
  readonly zeroOne: TF.Tensor1D;
  /**
   * A tensor derived from the parameters by `build(paramsExt)`, paramsExt = the parameters
   * followed by a zero (the weight of absent edges) [nParams + 1]: a level's weight matrix.
   * Kept (and owned) by the engine while the parameters' tensor data is unchanged.
   */
  weights(params: TensorBuffer, key: string, build: (paramsExt: TF.Tensor1D) => TF.Tensor): TF.Tensor;
}

/**
 * An engine's context: the index tensors built once at open ({@link buildEngineIndex}) and the
 * zero/one row, both given to `own` (kept for the engine's lifetime), and the engine's
 * transfer counter and weight cache.
 */
export function engineContext(tf: typeof TF, net: CompiledNetwork, size: number, chunkEntries: number, transfers: TransferCounter, own: <T extends TF.Tensor>(t: T) => T, weights: EngineContext['weights']): EngineContext {
  const index = buildEngineIndex(tf, net, size, chunkEntries, own);
  const zeroOne = own(tf.tidy(() => tf.concat([tf.zeros([size]), tf.ones([size])]) as TF.Tensor1D));
  return { tf, net, size, index, transfers, chunkEntries, zeroOne, weights };
}

/** An {@link EngineWorkspace} of tensor buffers; `deriv` starts at 1 on the input rows. */
export class TfjsWorkspace implements EngineWorkspace {
  readonly size: number;
  readonly pre: TensorBuffer;
  readonly act: TensorBuffer;
  readonly deriv: TensorBuffer;
  readonly back: TensorBuffer;
  readonly backReduced: TensorBuffer;
  readonly targets: TensorBuffer;
  readonly loss: TensorBuffer;

  constructor(tf: typeof TF, net: CompiledNetwork, size: number) {
    this.size = size;
    const n = net.nUnits * size;
    const inputs = net.nInputs * size;
    this.pre = new TensorBuffer(tf, n);
    this.act = new TensorBuffer(tf, n);
    this.deriv = new TensorBuffer(
      tf,
      n,
      tf.tidy(() => tf.concat([tf.ones([inputs]), tf.zeros([n - inputs])])),
    );
    this.back = new TensorBuffer(tf, n);
    this.backReduced = new TensorBuffer(tf, n);
    this.targets = new TensorBuffer(tf, net.nOutputs * size);
    this.loss = new TensorBuffer(tf, size);
  }

  buffers(): TensorBuffer[] {
    return [this.pre, this.act, this.deriv, this.back, this.backReduced, this.targets, this.loss];
  }
}

/** The tensor buffer behind a {@link DeviceBuffer} of a tfjs engine. */
export function tensorBuffer(b: DeviceBuffer): TensorBuffer {
  if (!(b instanceof TensorBuffer)) throw new UsageError([problem('engine', 'a buffer of another engine was given to the tfjs engine')]);
  return b;
}

/** The tfjs workspace behind an {@link EngineWorkspace}. */
export function tfjsWorkspace(ws: EngineWorkspace): TfjsWorkspace {
  if (!(ws instanceof TfjsWorkspace)) throw new UsageError([problem('engine', 'a workspace of another engine was given to the tfjs engine')]);
  return ws;
}

/** [rows × size] view of `[start, start + rows)` rows of a unit-major buffer (a piece, a slice or a concat). */
export function rows(ctx: EngineContext, buffer: TensorBuffer, start: number, count: number): TF.Tensor2D {
  return ctx.tf.reshape(buffer.range(start * ctx.size, count * ctx.size), [count, ctx.size]);
}

/** The output rows [nOutputs × size] of a unit-major buffer (each run of consecutive output units one range). */
export function outputRows(ctx: EngineContext, buffer: TensorBuffer): TF.Tensor2D {
  const { tf, net, size: S, index } = ctx;
  const ranges = index.outputs.runs.map((run) => buffer.range(run.unit * S, run.length * S));
  return tf.reshape(ranges.length === 1 ? ranges[0] : tf.concat(ranges), [net.nOutputs, S]);
}

/** Writes the output rows of a unit-major buffer from `values` [nOutputs × size] (a piece per run); other rows are kept. */
export function writeOutputRows(ctx: EngineContext, buffer: TensorBuffer, values: TF.Tensor): void {
  const { tf, net, size: S, index } = ctx;
  const { runs } = index.outputs;
  if (runs.length === 1) return buffer.write(runs[0].unit * S, values);
  const matrix = tf.reshape(values, [net.nOutputs, S]);
  for (const run of runs) buffer.write(run.unit * S, tf.slice(matrix, [run.output, 0], [run.length, S]));
}

/** A per-unit buffer of non-input rows `levelRows` (ascending levels, flat) with zero input rows. */
export function withZeroInputs(ctx: EngineContext, levelRows: TF.Tensor[]): TF.Tensor1D {
  const { tf, net, size } = ctx;
  return tf.concat([tf.zeros([net.nInputs * size]), ...levelRows.map((t) => tf.reshape(t, [-1]))]) as TF.Tensor1D;
}
