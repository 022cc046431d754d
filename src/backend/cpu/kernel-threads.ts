import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { NumericalError, UsageError, problem } from '../../errors.js';
import { cpuKernels } from './cpu-backend.js';
import { ThreadContext, runThreadCommand, type ThreadCommand, type ThreadResult } from './thread-commands.js';
import { SEQUENCE_SLOT, controlSlots, doneSlot, readySlot, type WorkerMessage, type WorkerReply, type WorkerStart } from './thread-protocol.js';

/** How long the workers may take to load their modules before the engine gives up. */
const READY_TIMEOUT_MS = 60_000;

/**
 * A fixed set of worker threads that run shares of kernel calls on shared memory, the main thread
 * taking the first share itself (see `thread-protocol.ts`). A call posts one {@link ThreadCommand} to each worker, wakes them
 * all through the control block, runs its own share, and waits until every worker is done: calls
 * are synchronous, as the engine's are. The workers are unref'd (an engine that is never disposed
 * does not keep the process alive) and stop on {@link close}.
 */
export class KernelThreads {
  /** Number of threads, the main thread included. */
  readonly threads: number;
  /** Resolves once every worker has exited (after {@link close}). */
  readonly exited: Promise<void>;
  private readonly control: Int32Array;
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly context: ThreadContext;
  private sequence = 0;
  private closed = false;

  constructor(net: CompiledNetwork, threads: number) {
    const script = new URL('./threaded-worker.js', import.meta.url);
    if (!existsSync(fileURLToPath(script))) {
      throw new UsageError([problem('threads', `the threaded CPU engine runs its workers from compiled modules, and ${fileURLToPath(script)} is missing: run \`npm run build\` and import unitwise from dist/, or give --threads 1`)]);
    }
    this.threads = threads;
    this.context = new ThreadContext(net, cpuKernels);
    this.control = new Int32Array(new SharedArrayBuffer(4 * controlSlots(threads - 1)));
    for (let t = 0; t < threads - 1; t++) {
      const { port1, port2 } = new MessageChannel();
      const start: WorkerStart = { net, control: this.control, port: port2, index: t };
      const worker = new Worker(script, { workerData: start, transferList: [port2] });
      worker.unref();
      this.workers.push(worker);
      this.ports.push(port1);
    }
    this.exited = Promise.all(this.workers.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())))).then(() => undefined);
    this.awaitReady();
  }

  /**
   * Runs `commands[0]` on this thread and `commands[t + 1]` on worker t (one per thread), and
   * returns their results in that order once all are done. A failure in any share is thrown
   * after every share has finished (no worker is still writing when the caller sees it).
   */
  run(commands: ThreadCommand[]): ThreadResult[] {
    if (this.closed) throw new UsageError([problem('threads', 'the threaded CPU engine was disposed; open another engine')]);
    const sequence = ++this.sequence;
    for (let t = 0; t < this.workers.length; t++) this.ports[t].postMessage({ command: commands[t + 1] ?? { op: 'idle' } } satisfies WorkerMessage);
    Atomics.store(this.control, SEQUENCE_SLOT, sequence);
    Atomics.notify(this.control, SEQUENCE_SLOT);
    let own: ThreadResult = undefined;
    let failure: unknown;
    try {
      own = runThreadCommand(this.context, commands[0]);
    } catch (error) {
      failure = error;
    }
    const results: ThreadResult[] = [own];
    for (let t = 0; t < this.workers.length; t++) {
      const slot = doneSlot(t);
      for (let seen = Atomics.load(this.control, slot); seen !== sequence; seen = Atomics.load(this.control, slot)) Atomics.wait(this.control, slot, seen);
      const reply = receiveMessageOnPort(this.ports[t])?.message as WorkerReply | undefined;
      if (!reply) failure ??= new NumericalError([problem('threads', `worker ${t + 1} finished command ${sequence} without a reply`)]);
      else if (!reply.ok) failure ??= new NumericalError([problem('threads', `worker ${t + 1} failed on '${commands[t + 1]?.op}': ${reply.error}`)]);
      else results.push(reply.result);
    }
    if (failure !== undefined) throw failure;
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
