import type { MessagePort } from 'node:worker_threads';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { ThreadCommand, ThreadResult } from './thread-commands.js';

/**
 * The protocol between `KernelThreads` and its workers. The control block is an Int32Array over
 * a SharedArrayBuffer: slot 0 holds the number of the latest command; worker t stores the number
 * of the command it finished in {@link doneSlot}(t), and in {@link readySlot}(t) 1 once its
 * modules are loaded (2: they failed to, the reason on its port). Waits and wake-ups are
 * `Atomics.wait` / `Atomics.notify`; commands and replies travel on a MessagePort per worker,
 * read synchronously with `receiveMessageOnPort`.
 */
export const SEQUENCE_SLOT = 0;
/** Slot where worker t stores the number of the last command it finished. */
export const doneSlot = (t: number) => 1 + 2 * t;
/** Slot where worker t says it is ready (1) or failed to load (2). */
export const readySlot = (t: number) => 2 + 2 * t;
/** Int32 slots of a control block for `workers` workers. */
export const controlSlots = (workers: number) => 1 + 2 * workers;

/** What the main thread posts to a worker on its port before waking it. */
export type WorkerMessage = { command: ThreadCommand } | { stop: true };
/** What a worker posts back after each command (or once, if its modules failed to load). */
export type WorkerReply = { ok: true; result: ThreadResult } | { ok: false; error: string };

/** The data a worker starts with (its `workerData`). */
export interface WorkerStart {
  net: CompiledNetwork;
  control: Int32Array;
  port: MessagePort;
  index: number;
}
