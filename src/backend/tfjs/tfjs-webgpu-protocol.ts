import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { TfjsEngineOptions } from './tfjs-backend.js';
import type { ReadingMethod } from './engine-readers.js';

/**
 * Messages between the main thread's tfjs-webgpu engines (`tfjs-webgpu-engine.ts`) and the worker
 * thread that runs their `TfjsEngine`s (`tfjs-webgpu-worker.ts`).
 *
 * The main thread posts batches of {@link Call}s, which the worker runs in order. Buffers,
 * workspaces and Gram plans are numbered on the main thread ({@link Ref}); a call that makes one
 * says under which ids the worker keeps what it made ({@link Keep}). Calls marked `answer` (the
 * reading methods, transfer counts, tensor counts) are answered through the shared control
 * block, on which the main thread waits (`Atomics.wait`):
 * Int32 words [state, status, count, progress] then Float64 [uploads, uploadBytes, reads,
 * readBytes] (the engine's transfers after the call), the payload from byte {@link CONTROL_HEADER}:
 * `count` Float64 numbers (status 0), or `count` bytes of a UTF-8 {@link WorkerFailure} (status 1).
 * `state` goes 0 → 1 when answered; `progress` counts the calls the worker has run (the main
 * thread's timeout runs only while it stands still). The first failure of an unanswered call is
 * reported by the next answer instead of its result.
 */

/** Bytes before the payload in the control block. */
export const CONTROL_HEADER = 48;
/** Int32 slots of the control block's header. */
export const STATE = 0;
export const STATUS = 1;
export const COUNT = 2;
export const PROGRESS = 3;
/** Float64 slot of the transfer counts (4 numbers). */
export const TRANSFERS_AT = 2;

/** An object that lives in the worker, by the id the main thread gave it. */
export type Ref = { readonly $ref: number };

/** What a call's result is kept as in the worker: one object, or the fields of one (a workspace, the output metric's buffers). */
export type Keep = { readonly id: number; readonly fields?: Readonly<Record<string, number>> } | { readonly fields: Readonly<Record<string, number>> };

/** An argument as posted: numbers, flags, copies of arrays, {@link Ref}s, and plain objects or arrays of these. */
export type Arg = number | boolean | string | undefined | null | Float32Array | Float64Array | Int32Array | Ref | readonly Arg[] | { readonly [key: string]: Arg };

/** Engine methods run without an answer. */
export type PlainMethod =
  | 'alloc'
  | 'workspace'
  | 'upload'
  | 'free'
  | 'copy'
  | 'fill'
  | 'combine'
  | 'adamStep'
  | 'setBatch'
  | 'forwardLevel'
  | 'outputLayer'
  | 'backwardLevel'
  | 'gradient'
  | 'outputMetric'
  | 'outputModulus'
  | 'fisherModulus'
  | 'transferRates'
  | 'transferRateChunk'
  | 'monteCarloModulus'
  | 'outerProductModulus'
  | 'unitBlocks'
  | 'quasiDiagonalSolve'
  | 'diagonalSolve'
  | 'blocksTimesVector'
  | 'gramPlan'
  | 'groupGram'
  | 'accumulateWeighted'
  | 'sampledBackward';

/** One call of a batch. */
export type Call =
  | { op: 'open'; engine: number; net: CompiledNetwork; size: number; options: TfjsEngineOptions }
  | { op: 'call'; engine: number; method: PlainMethod; args: Arg[]; keep?: Keep; forget?: number[] }
  | { op: 'read'; engine: number; method: ReadingMethod; args: Arg[]; control?: SharedArrayBuffer }
  | { op: 'transfers'; engine: number; control?: SharedArrayBuffer }
  | { op: 'resetTransfers'; engine: number }
  | { op: 'tensors'; control?: SharedArrayBuffer }
  | { op: 'dispose'; engine: number };

/** Calls that are answered through the control block. */
export type Answered = Extract<Call, { control?: SharedArrayBuffer }>;

/** What the worker reports once, after loading tfjs on its adapter. */
export type WorkerHello = { ok: true; note: string } | { ok: false; failure: WorkerFailure };

/** An error thrown in the worker: its class name (a `UnitwiseError` subclass or another) and its problems or message. */
export interface WorkerFailure {
  name: string;
  message: string;
  problems?: { code: string; message: string }[];
}
