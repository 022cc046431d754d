import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as errors from '../../errors.js';
import { NumericalError, UsageError, problem } from '../../errors.js';
import type { TransferStats } from '../engine.js';
import { CONTROL_HEADER, COUNT, PROGRESS, STATE, STATUS, TRANSFERS_AT, type Answered, type Call, type WorkerFailure, type WorkerHello } from './tfjs-webgpu-protocol.js';

/** Calls queued before a batch is posted even without an answer (bounds the queue's memory). */
const BATCH = 256;
/** How long a wait may see the worker make no progress before it is declared hung (ms). */
const STALL_TIMEOUT_MS = 300_000;
/** Payload room of the control block at first, in bytes (grown when an answer needs more). */
const INITIAL_ROOM = 1 << 16;

/** What an answered call returns: its numbers, and the engine's transfers after it. */
export interface Answer {
  values: Float64Array;
  transfers: TransferStats;
}

/**
 * The main thread's end of the tfjs-webgpu worker (`tfjs-webgpu-worker.ts`; messages in
 * `tfjs-webgpu-protocol.ts`). Calls are queued and posted in batches (fire and forget: the worker
 * keeps their order); a call that needs an answer posts the queue and blocks this thread in
 * `Atomics.wait` on the shared control block until the worker has awaited its reads and written
 * the numbers there, so that the engines above stay synchronous (as `WebgpuDevice` does for the
 * webgpu backend). Failures in the worker come back as the typed errors they were, on the next
 * answer; a worker that makes no progress for {@link STALL_TIMEOUT_MS} is a NumericalError.
 */
export class TfjsWebgpuChannel {
  private queue: Call[] = [];
  private nextId = 1;

  private constructor(
    private readonly worker: Worker,
    private control: SharedArrayBuffer,
    /** Which adapter runs, e.g. `llvmpipe via OpenGL ES, compatibility mode`. */
    readonly note: string,
  ) {}

  /** Starts the worker and loads tfjs on WebGPU there (see {@link tfjsWebgpuChannel}, which shares one per process). */
  static async open(): Promise<TfjsWebgpuChannel> {
    const script = new URL('./tfjs-webgpu-worker.js', import.meta.url);
    if (!existsSync(fileURLToPath(script))) {
      throw new UsageError([problem('tfjs-backend', `--tfjs-backend webgpu runs its engines in a worker thread from compiled modules, and ${fileURLToPath(script)} is missing: run \`npm run build\` and import unitwise from dist/`)]);
    }
    // Dawn computes without a window, so Mesa's EGL renders surfaceless unless told otherwise: it
    // needs no display, and no X server (under xvfb-run, EGL displays opened by many test
    // processes on one X server made eglInitialize fail now and then). Set here: a worker's process.env is its own copy.
    if (process.platform === 'linux' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
    const control = new SharedArrayBuffer(CONTROL_HEADER + INITIAL_ROOM);
    const worker = new Worker(script, { workerData: { control } });
    worker.unref();
    const hello = await new Promise<WorkerHello>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', (err) => resolve({ ok: false, failure: { name: 'Error', message: err.message } }));
    });
    if (!hello.ok) {
      await worker.terminate();
      throw rebuild(hello.failure);
    }
    return new TfjsWebgpuChannel(worker, control, hello.note);
  }

  /** A fresh id for an engine or an object of one. */
  id(): number {
    return this.nextId++;
  }

  /** Queues a call that needs no answer. */
  post(call: Exclude<Call, Answered>): void {
    this.queue.push(call);
    if (this.queue.length >= BATCH) this.flush();
  }

  /** Posts the queue and `call`, and waits for its answer of at most `count` numbers (throws the worker's first failure since the last answer). */
  ask(call: Answered, count: number): Answer {
    const needed = CONTROL_HEADER + Math.max(count * 8, INITIAL_ROOM);
    if (needed > this.control.byteLength) {
      this.control = new SharedArrayBuffer(needed);
      call = { ...call, control: this.control };
    }
    const header = new Int32Array(this.control, 0, 4);
    Atomics.store(header, STATE, 0);
    this.queue.push(call);
    this.flush();
    let seen = Atomics.load(header, PROGRESS);
    let since = Date.now();
    while (Atomics.load(header, STATE) === 0) {
      Atomics.wait(header, STATE, 0, 1000);
      const now = Atomics.load(header, PROGRESS);
      if (now !== seen) [seen, since] = [now, Date.now()];
      else if (Atomics.load(header, STATE) === 0 && Date.now() - since > STALL_TIMEOUT_MS) {
        throw new NumericalError([problem('tfjs-webgpu', `the tfjs-webgpu worker made no progress for ${STALL_TIMEOUT_MS / 1000} s (device hung or worker exited)`)]);
      }
    }
    const n = header[COUNT];
    const [uploads, uploadBytes, reads, readBytes] = new Float64Array(this.control, TRANSFERS_AT * 8, 4);
    const transfers = { uploads, uploadBytes, reads, readBytes };
    if (header[STATUS] !== 0) {
      const text = new TextDecoder().decode(new Uint8Array(this.control, CONTROL_HEADER, n).slice());
      let failure: WorkerFailure;
      try {
        failure = JSON.parse(text) as WorkerFailure;
      } catch {
        failure = { name: 'Error', message: text };
      }
      throw rebuild(failure);
    }
    return { values: new Float64Array(this.control, CONTROL_HEADER, n).slice(), transfers };
  }

  /** Tensors alive in the worker's tfjs (`tf.memory().numTensors`), for leak checks. */
  numTensors(): number {
    return this.ask({ op: 'tensors' }, 1).values[0];
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.worker.postMessage(batch);
  }
}

/** The worker's error as this thread's typed error: its own class for a UnitwiseError, a NumericalError (code tfjs-webgpu) otherwise. */
function rebuild(failure: WorkerFailure): Error {
  const kind = (errors as Record<string, unknown>)[failure.name];
  if (failure.problems && typeof kind === 'function' && (kind === errors.UnitwiseError || kind.prototype instanceof errors.UnitwiseError)) {
    const Kind = kind as new (problems: errors.Problem[]) => Error;
    return new Kind(failure.problems.map((p) => problem(p.code, p.message)));
  }
  return new NumericalError([problem('tfjs-webgpu', `the tfjs-webgpu worker failed: ${failure.message}`)]);
}

let shared: Promise<TfjsWebgpuChannel> | undefined;

/** The process's tfjs-webgpu worker (one thread and one WebGPU device; engines share it and own their tensors). */
export function tfjsWebgpuChannel(): Promise<TfjsWebgpuChannel> {
  shared ??= TfjsWebgpuChannel.open();
  shared.catch(() => (shared = undefined));
  return shared;
}
