import type { MessagePort } from 'node:worker_threads';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { ThreadCommand, ThreadResult } from './thread-commands.js';

/**
 * The protocol between `KernelThreads` and its workers. A kernel call is one command cut into
 * chunks (ranges of units, entries or samples); the threads take chunks one at a time from a
 * shared counter until none is left, so a thread the system holds back leaves its chunks to the
 * others instead of stalling the call. Which thread runs a chunk never changes its numbers.
 *
 * Two control blocks over SharedArrayBuffers, waited on and woken with `Atomics.wait`/`notify`:
 * - `control` (Int32Array): {@link SEQUENCE_SLOT} holds the number of the latest command; worker
 *   t stores 1 in {@link readySlot}(t) once its modules are loaded (2: they failed to, the
 *   reason on its port).
 * - `chunks` (BigInt64Array): {@link NEXT_SLOT} = command·2¹⁶ + the next chunk to take,
 *   {@link DONE_SLOT} = command·2¹⁶ + chunks finished. A chunk is taken by compare-and-swap on the
 *   whole word, so a thread still holding an older command can never take a chunk of a newer one.
 * The command itself travels on a MessagePort per worker (posted before the wake-up, read
 * synchronously with `receiveMessageOnPort`); a worker posts back a chunk's result or error
 * before counting it done.
 */
export const SEQUENCE_SLOT = 0;
/** Slot where worker t says it is ready (1) or failed to load (2). */
export const readySlot = (t: number) => 1 + t;
/** Int32 slots of a control block for `workers` workers. */
export const controlSlots = (workers: number) => 1 + workers;
export const NEXT_SLOT = 0;
export const DONE_SLOT = 1;
/** Chunks per command at most (the low 16 bits of the chunk words). */
export const MAX_CHUNKS = 0xffff;

/** The high part of the chunk words for command `sequence`. */
export const chunkTag = (sequence: number) => BigInt(sequence) << 16n;

/** A command cut into chunks: chunk i is `command` on `ranges[i] .. ranges[i+1]-1` (see `chunkCommand`). */
export interface ChunkedCommand {
  sequence: number;
  command: ThreadCommand;
  ranges: Int32Array;
}

/** What the main thread posts to a worker on its port before waking it. */
export type WorkerMessage = ChunkedCommand | { stop: true };
/** What a worker posts back for a chunk whose result is not empty, or that failed (or once, if its modules failed to load: chunk -1). */
export type WorkerReply = { sequence: number; chunk: number } & ({ ok: true; result: ThreadResult } | { ok: false; error: string });

/** The data a worker starts with (its `workerData`). */
export interface WorkerStart {
  net: CompiledNetwork;
  control: Int32Array;
  chunks: BigInt64Array;
  port: MessagePort;
  index: number;
}

/**
 * Takes chunks of command `sequence` (of `count` chunks) until none is left, running each with
 * `run`; stops at once if the counter has moved on to a newer command. The thread that finishes
 * the last chunk wakes the waiters on {@link DONE_SLOT}.
 */
export function takeChunks(chunks: BigInt64Array, sequence: number, count: number, run: (chunk: number) => void): void {
  const tag = chunkTag(sequence);
  const last = tag + BigInt(count);
  for (;;) {
    const word = Atomics.load(chunks, NEXT_SLOT);
    if (word < tag || word >= last) return;
    if (Atomics.compareExchange(chunks, NEXT_SLOT, word, word + 1n) !== word) continue;
    run(Number(word - tag));
    if (Atomics.add(chunks, DONE_SLOT, 1n) + 1n === last) Atomics.notify(chunks, DONE_SLOT);
  }
}

/**
 * Blocks until {@link DONE_SLOT} reaches `last` (every chunk of the command is done), waking
 * every second. Returns false, without waiting longer, once `stallMs` pass with no chunk
 * finishing: a worker that took a chunk and then died (out of memory, terminated) never counts
 * it done, and the caller must not wait forever for it.
 */
export function awaitChunks(chunks: BigInt64Array, last: bigint, stallMs: number): boolean {
  let done = Atomics.load(chunks, DONE_SLOT);
  let since = Date.now();
  while (done !== last) {
    const left = since + stallMs - Date.now();
    if (left <= 0) return false;
    Atomics.wait(chunks, DONE_SLOT, done, Math.min(left, 1000));
    const now = Atomics.load(chunks, DONE_SLOT);
    if (now !== done) since = Date.now();
    done = now;
  }
  return true;
}
