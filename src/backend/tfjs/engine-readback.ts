import type * as TF from '@tensorflow/tfjs-core';
import { UsageError, problem } from '../../errors.js';
import type { TransferCounter } from '../engine.js';

/**
 * What a tfjs kernel that reads from the device returns: its result, or a tensor to read first
 * and what follows from its values (which may read again: `onlineBlockStep` reads a count, then
 * that many ids). The engine resolves it at once with `dataSync` ({@link resolveNow}), or, on a
 * backend whose reads are asynchronous (tfjs-webgpu in Node), by awaiting `tensor.data()`
 * ({@link resolveLater}); the kernels are written once for both.
 * Every read is counted on the engine's transfers as 4 bytes per number.
 */
export type Readback<T> = { readonly done: true; readonly value: T } | { readonly done: false; readonly tensor: TF.Tensor; readonly then: (values: Float32Array) => Readback<T> };

/** A result that needs no read. */
export function settled<T>(value: T): Readback<T> {
  return { done: true, value };
}

/** Reads `tensor`, then goes on with `then(values)` (a {@link settled} value, or another read). */
export function readThen<T>(tensor: TF.Tensor, then: (values: Float32Array) => Readback<T>): Readback<T> {
  return { done: false, tensor, then };
}

/**
 * Resolves `r` on this thread with `dataSync`. `sync` false (the runtime's reads are only
 * asynchronous) refuses with a UsageError naming the way that works.
 */
export function resolveNow<T>(r: Readback<T>, transfers: TransferCounter, sync: boolean): T {
  let step = r;
  while (!step.done) {
    if (!sync) throw new UsageError([problem('tfjs-backend', "this TensorFlow.js backend reads only asynchronously (tfjs-webgpu in Node has no OffscreenCanvas for dataSync): open engines through useBackend('tfjs-webgpu'), which runs them in a worker thread")]);
    transfers.read(step.tensor.size * 4);
    step = step.then(Float32Array.from(step.tensor.dataSync()));
  }
  return step.value;
}

/** Resolves `r` by awaiting each read (`tensor.data()`); the tensors must stay alive until then (see `TfjsEngine.callAsync`). */
export async function resolveLater<T>(r: Readback<T>, transfers: TransferCounter): Promise<T> {
  let step = r;
  while (!step.done) {
    transfers.read(step.tensor.size * 4);
    step = step.then(Float32Array.from(await step.tensor.data()));
  }
  return step.value;
}
