import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { SEQUENCE_SLOT, readySlot, takeChunks, type ChunkedCommand, type WorkerMessage, type WorkerReply, type WorkerStart } from './thread-protocol.js';

/**
 * A worker thread of `KernelThreads`: it waits on the control block for the next command number,
 * takes that command from its port (synchronously, skipping older ones the others finished
 * without it), runs chunks of it until none is left, and posts back what they return, until told
 * to stop. Its kernel modules are imported dynamically, so that a failure to load them is
 * reported, not a hang.
 */
const { net, control, chunks, port, index } = workerData as WorkerStart;

/** The message of command `sequence`, skipping older ones; undefined when told to stop. */
function commandOf(sequence: number): ChunkedCommand | undefined {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const message = m.message as WorkerMessage;
    if ('stop' in message) return undefined;
    if (message.sequence === sequence) return message;
  }
  return undefined;
}

async function start(): Promise<void> {
  let modules: [typeof import('./thread-commands.js'), typeof import('./cpu-backend.js')];
  try {
    modules = await Promise.all([import('./thread-commands.js'), import('./cpu-backend.js')]);
  } catch (error) {
    port.postMessage({ sequence: 0, chunk: -1, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
    Atomics.store(control, readySlot(index), 2);
    Atomics.notify(control, readySlot(index));
    return;
  }
  const [{ ThreadContext, chunkCommand, runThreadCommand }, { cpuKernels }] = modules;
  const context = new ThreadContext(net, cpuKernels);
  Atomics.store(control, readySlot(index), 1);
  Atomics.notify(control, readySlot(index));
  let seen = 0;
  for (;;) {
    Atomics.wait(control, SEQUENCE_SLOT, seen);
    seen = Atomics.load(control, SEQUENCE_SLOT);
    const message = commandOf(seen);
    if (!message) break;
    const { sequence, command, ranges } = message;
    takeChunks(chunks, sequence, ranges.length - 1, (chunk) => {
      try {
        const result = runThreadCommand(context, chunkCommand(command, ranges[chunk], ranges[chunk + 1]));
        if (result !== undefined) port.postMessage({ sequence, chunk, ok: true, result } satisfies WorkerReply);
      } catch (error) {
        port.postMessage({ sequence, chunk, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
      }
    });
  }
  port.close();
}

await start();
