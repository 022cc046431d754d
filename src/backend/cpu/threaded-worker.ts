import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { SEQUENCE_SLOT, doneSlot, readySlot, type WorkerMessage, type WorkerReply, type WorkerStart } from './thread-protocol.js';

/**
 * A worker thread of `KernelThreads`: it waits on the control block for the next command number,
 * takes the command from its port (synchronously), runs its share and replies, until told to stop.
 * Its modules are imported dynamically, so that a failure to load them is reported, not a hang.
 */
const { net, control, port, index } = workerData as WorkerStart;

async function start(): Promise<void> {
  let modules: [typeof import('./thread-commands.js'), typeof import('./cpu-backend.js')];
  try {
    modules = await Promise.all([import('./thread-commands.js'), import('./cpu-backend.js')]);
  } catch (error) {
    port.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
    Atomics.store(control, readySlot(index), 2);
    Atomics.notify(control, readySlot(index));
    return;
  }
  const [{ ThreadContext, runThreadCommand }, { cpuKernels }] = modules;
  const context = new ThreadContext(net, cpuKernels);
  Atomics.store(control, readySlot(index), 1);
  Atomics.notify(control, readySlot(index));
  let sequence = 0;
  for (;;) {
    Atomics.wait(control, SEQUENCE_SLOT, sequence);
    const next = Atomics.load(control, SEQUENCE_SLOT);
    if (next === sequence) continue;
    sequence = next;
    const message = receiveMessageOnPort(port)?.message as WorkerMessage | undefined;
    if (!message || 'stop' in message) break;
    let reply: WorkerReply;
    try {
      reply = { ok: true, result: runThreadCommand(context, message.command) };
    } catch (error) {
      reply = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
    Atomics.store(control, doneSlot(index), sequence);
    Atomics.notify(control, doneSlot(index));
  }
  port.close();
}

await start();
