import type * as TF from '@tensorflow/tfjs-core';
import type { Engine, TransferCounter } from '../engine.js';
import * as blocksKernels from './engine-blocks.js';
import { tensorBuffer, tfjsWorkspace, type EngineContext } from './engine-context.js';
import * as propagation from './engine-propagation.js';
import { readThen, resolveLater, settled, type Readback } from './engine-readback.js';
import * as update from './engine-update.js';

/** The methods of {@link Engine} that read from the device: `TfjsEngine.callAsync` runs them with asynchronous reads. */
export type ReadingMethod = 'read' | 'squaredNorm' | 'allFinite' | 'meanLoss' | 'solveUnitBlocks' | 'invertBlocks' | 'onlineBlockStep';

/** Each reading method as a kernel that returns its reads ({@link Readback}) instead of making them. */
export type Readers = { [M in ReadingMethod]: (...args: Parameters<Engine[M]>) => Readback<ReturnType<Engine[M]>> };

/**
 * The tfjs engine's reading methods as {@link Readback} kernels, which the engine resolves at
 * once (`dataSync`) or awaits (`TfjsEngine.callAsync`); each must run inside a tfjs scope.
 */
export function engineReaders(ctx: EngineContext): Readers {
  const { tf } = ctx;
  return {
    read: (buffer, offset = 0, length = buffer.length - offset) => readThen(tensorBuffer(buffer).range(offset, length), (v) => settled(Float64Array.from(v))),
    squaredNorm: (buffer) => readThen(tf.sum(tf.square(tensorBuffer(buffer).tensor)), (v) => settled(v[0])),
    allFinite: (buffer) => readThen(tf.all(tf.isFinite(tensorBuffer(buffer).tensor)), (v) => settled(v[0] === 1)),
    meanLoss: (ws) => propagation.meanLoss(ctx, tfjsWorkspace(ws)),
    // NOTE: `work` is not written: the factors live in temporaries of the batched elimination.
    solveUnitBlocks: (blocks, gradient, epsilon, out) => blocksKernels.solveUnitBlocks(ctx, tensorBuffer(blocks), tensorBuffer(gradient), epsilon, tensorBuffer(out)),
    invertBlocks: (blocks, inverses, units) => blocksKernels.invertBlocks(ctx, tensorBuffer(blocks), tensorBuffer(inverses), units),
    onlineBlockStep: (blocks, inverses, ws, modulus, sample, gradient, decay, out) =>
      update.onlineBlockStep(ctx, tensorBuffer(blocks), tensorBuffer(inverses), tfjsWorkspace(ws), tensorBuffer(modulus), sample, tensorBuffer(gradient), decay, tensorBuffer(out)),
  };
}

/**
 * Runs a reading method with asynchronous reads (`tensor.data()`), for runtimes that have no
 * synchronous read (`TfjsEngine.callAsync`). Its tensors live in a tfjs scope until the last
 * read is done (reads may depend on earlier ones), then are freed as `tf.tidy` would. NOTE: no
 * other call of the engine, nor of another engine on the same tfjs backend, may run before the
 * promise settles (the scope is tfjs's current one); the worker awaits each call before the next.
 */
export async function readAsync<M extends ReadingMethod>(tf: typeof TF, readers: Readers, transfers: TransferCounter, method: M, args: Parameters<Engine[M]>): Promise<ReturnType<Engine[M]>> {
  const reader = readers[method] as (...a: Parameters<Engine[M]>) => Readback<ReturnType<Engine[M]>>;
  const scope = tf.engine();
  scope.startScope();
  try {
    return await resolveLater(reader(...args), transfers);
  } finally {
    scope.endScope();
  }
}
