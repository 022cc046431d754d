import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { NumericalError, UsageError, problem } from '../../errors.js';
import { cpuKernels } from './cpu-backend.js';
import { ThreadContext, chunkCommand, runThreadCommand, type ThreadCommand, type ThreadResult } from './thread-commands.js';
import { DONE_SLOT, MAX_CHUNKS, awaitChunks, NEXT_SLOT, SEQUENCE_SLOT, chunkTag, controlSlots, readySlot, takeChunks, type WorkerMessage, type WorkerReply, type WorkerStart } from './thread-protocol.js';

/** How long the workers may take to load their modules before the engine gives up. */
const READY_TIMEOUT_MS = 60_000;

/**
 * How long a call waits with no chunk finishing before it decides a worker died holding one: at
 * least this, and at least {@link STALL_FACTOR} times the longest chunk the main thread ran in
 * that call (a live worker's chunks take about as long as the main thread's).
 */
export const STALL_TIMEOUT_MS = 120_000;
const STALL_FACTOR = 50;

/**
 * A fixed set of worker threads that run kernel calls on shared memory with the main thread
 * (see `thread-protocol.ts`). A call posts one command and its chunk ranges to every worker,
 * wakes them through the control block, takes chunks itself until none is left, and waits until
 * every chunk is done: calls are synchronous, as the engine's are, and a worker the system does
 * not schedule in time simply takes no chunk. The workers are unref'd (an engine that is never
 * disposed does not keep the process alive) and stop on {@link close}.
 */
export class KernelThreads {
  /** Number of threads, the main thread included. */
  readonly threads: number;
  /** Resolves once every worker has exited (after {@link close}). */
  readonly exited: Promise<void>;
  private readonly control: Int32Array;
  private readonly chunks: BigInt64Array;
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly context: ThreadContext;
  private sequence = 0;
  private closed = false;

  /**
   * @param stallTimeoutMs the least time a call waits with no chunk finishing before it gives up
   *   (see {@link STALL_TIMEOUT_MS}, the default).
   */
  constructor(net: CompiledNetwork, threads: number, private readonly stallTimeoutMs = STALL_TIMEOUT_MS) {
    const script = new URL('./threaded-worker.js', import.meta.url);
    if (!existsSync(fileURLToPath(script))) {
      throw new UsageError([problem('threads', `the threaded CPU engine runs its workers from compiled modules, and ${fileURLToPath(script)} is missing: run \`npm run build\` and import unitwise from dist/, or give --threads 1`)]);
    }
    this.threads = threads;
    this.context = new ThreadContext(net, cpuKernels);
    this.control = new Int32Array(new SharedArrayBuffer(4 * controlSlots(threads - 1)));
    this.chunks = new BigInt64Array(new SharedArrayBuffer(16));
    for (let t = 0; t < threads - 1; t++) {
      const { port1, port2 } = new MessageChannel();
      const start: WorkerStart = { net, control: this.control, chunks: this.chunks, port: port2, index: t };
      const worker = new Worker(script, { workerData: start, transferList: [port2] });
      worker.unref();
      this.workers.push(worker);
      this.ports.push(port1);
    }
    this.exited = Promise.all(this.workers.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())))).then(() => undefined);
    this.awaitReady();
  }

  /**
   * Runs `command` on the chunks `ranges[i] .. ranges[i+1]-1` (see `chunkCommand`) over every
   * thread and returns the chunks' results in chunk order. A failure in any chunk is thrown once
   * every chunk is done (no worker is still writing when the caller sees it).
   */
  run(command: ThreadCommand, ranges: Int32Array): ThreadResult[] {
    if (this.closed) throw new UsageError([problem('threads', 'the threaded CPU engine was disposed; open another engine')]);
    const count = ranges.length - 1;
    if (count > MAX_CHUNKS) throw new RangeError(`${count} chunks: at most ${MAX_CHUNKS}`);
    const sequence = ++this.sequence;
    const tag = chunkTag(sequence);
    Atomics.store(this.chunks, NEXT_SLOT, tag);
    Atomics.store(this.chunks, DONE_SLOT, tag);
    for (const port of this.ports) port.postMessage({ sequence, command, ranges } satisfies WorkerMessage);
    Atomics.store(this.control, SEQUENCE_SLOT, sequence);
    Atomics.notify(this.control, SEQUENCE_SLOT);
    const results: ThreadResult[] = new Array<ThreadResult>(count);
    const failures: Array<string | undefined> = new Array<string | undefined>(count);
    let longest = 0;
    takeChunks(this.chunks, sequence, count, (i) => {
      const started = Date.now();
      try {
        results[i] = runThreadCommand(this.context, chunkCommand(command, ranges[i], ranges[i + 1]));
      } catch (error) {
        failures[i] = error instanceof Error ? error.message : String(error);
      }
      longest = Math.max(longest, Date.now() - started);
    });
    const stallMs = Math.max(this.stallTimeoutMs, STALL_FACTOR * longest);
    if (!awaitChunks(this.chunks, tag + BigInt(count), stallMs)) {
      const missing = Number(tag + BigInt(count) - Atomics.load(this.chunks, DONE_SLOT));
      this.terminate();
      throw new NumericalError([problem('threads', `the threaded CPU engine stopped on '${command.op}': ${missing} of ${count} chunks were still unfinished after ${Math.round(stallMs / 1000)} s with none finishing, so a worker thread died holding them (out of memory?) or was not scheduled; the engine is closed: open another, or give --threads 1`)]);
    }
    for (const port of this.ports) {
      for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
        const reply = m.message as WorkerReply;
        if (reply.sequence !== sequence) continue;
        if (reply.ok) results[reply.chunk] = reply.result;
        else failures[reply.chunk] = reply.error;
      }
    }
    const failed = failures.findIndex((f) => f !== undefined);
    if (failed >= 0) throw new NumericalError([problem('threads', `the threaded CPU engine failed on '${command.op}' (chunk ${failed}): ${failures[failed]}`)]);
    return results;
  }

  /** Stops the workers (they leave their loop and exit); the engine cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const port of this.ports) port.postMessage({ stop: true } satisfies WorkerMessage);
    Atomics.store(this.control, SEQUENCE_SLOT, ++this.sequence);
    Atomics.notify(this.control, SEQUENCE_SLOT);
    for (const port of this.ports) port.close();
  }

  /** Blocks until every worker has loaded its modules; a worker that cannot is a thrown error. */
  private awaitReady(): void {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (let t = 0; t < this.workers.length; t++) {
      const slot = readySlot(t);
      while (Atomics.load(this.control, slot) === 0) {
        const left = deadline - Date.now();
        if (left <= 0) {
          this.terminate();
          throw new NumericalError([problem('threads', `worker ${t + 1} of the threaded CPU engine did not start within ${READY_TIMEOUT_MS / 1000} s; give --threads 1`)]);
        }
        Atomics.wait(this.control, slot, 0, Math.min(left, 1000));
      }
      if (Atomics.load(this.control, slot) !== 1) {
        const reply = receiveMessageOnPort(this.ports[t])?.message as WorkerReply | undefined;
        this.terminate();
        throw new NumericalError([problem('threads', `worker ${t + 1} of the threaded CPU engine failed to start: ${reply && !reply.ok ? reply.error : 'no reason given'}; give --threads 1`)]);
      }
    }
  }

  private terminate(): void {
    this.closed = true;
    for (const worker of this.workers) void worker.terminate();
  }
}
