import { createRequire } from 'node:module';
import { backendInfo, useBackend } from '../../backend/load.js';
import { parseMethodList } from '../../cli/options.js';
import { METHODS, type MethodName } from '../../methods/methods.js';
import { benchAutoencoder } from '../autoencoder.js';
import { compareBackends } from '../backends.js';
import { methodLoop, transfersPerIteration } from '../loop.js';
import { benchSetup } from '../random-setup.js';
import { median, timeIterations } from '../scaling.js';
import { measureTransfers } from '../transfers.js';
import type { ChildMessage, ChildRequest } from './protocol.js';

/** Writes one message of the protocol (one JSON line on stdout). */
function send(message: ChildMessage): void {
  process.stdout.write(JSON.stringify(message) + '\n');
}

/** What {@link glVersion} uses of a headless-gl context. */
interface GlContext {
  RENDERER: number;
  VERSION: number;
  getParameter(name: number): unknown;
  getExtension(name: string): { destroy(): void } | null;
}

/** The GL renderer and version of a headless-gl context (gpu.js's GL mode runs on it), or undefined where none opens. */
function glVersion(): string | undefined {
  try {
    const createGl = createRequire(import.meta.url)('gl') as (w: number, h: number) => GlContext | null;
    const gl = createGl(1, 1);
    if (!gl) return undefined;
    const text = `${String(gl.getParameter(gl.RENDERER))}, ${String(gl.getParameter(gl.VERSION))}`;
    gl.getExtension('STACKGL_destroy_context')?.destroy();
    return text;
  } catch {
    return undefined;
  }
}

/**
 * One backend's part of `npm run bench -- --backend all`, in a process of its own (clean memory;
 * a crash ends only this part): `node dist/bench/all/child.js '<ChildRequest as JSON>'`. It loads
 * the backend (gpu.js's mode from UNITWISE_GPUJS_MODE, as the parent sets it), measures the part
 * with the single-backend benchmarks' code (`benchAutoencoder`, `measureTransfers`,
 * `methodLoop` on `benchSetup`'s network) and writes {@link ChildMessage} lines as it goes.
 */
async function main(request: ChildRequest): Promise<void> {
  const backend = (await useBackend(request.backend)).name;
  const methods = parseMethodList(request.methods.join(','), [...METHODS]);
  const progress = (message: string) => send({ kind: 'progress', message });
  if (request.part === 'probe') {
    const info = backendInfo(backend);
    const gl = process.env.UNITWISE_GPUJS_MODE === 'headlessgl' ? glVersion() : undefined;
    send({ kind: 'probe', detail: info.detail, precision: info.precision, ...(gl ? { gl } : {}) });
  } else if (request.part === 'autoencoder') {
    send({ kind: 'autoencoder', result: benchAutoencoder(backend, methods, { rounds: request.rounds, solves: request.solves, onProgress: progress }) });
  } else if (request.part === 'transfers') {
    send({ kind: 'transfers', networks: measureTransfers(backend, methods, (network, method) => progress(`transfers ${network.label} ${method}`)) });
  } else if (request.part === 'goal3') {
    send({ kind: 'goal3', result: await compareBackends({ backends: request.compare ?? [backend], methods, rounds: request.rounds, onLine: progress }) });
  } else {
    large(backend, methods, request);
  }
}

/** The `large` part: each method's time per sample and transfers on one random DAG (see {@link ChildRequest}). */
function large(backend: string, methods: MethodName[], request: ChildRequest): void {
  const size = request.size ?? { units: 160_000, fanIn: 8, outputs: 8 };
  const batchSize = 16;
  // Only the compiled network and parameters are kept: the network document (a JS object per unit
  // and edge, about 170 MB of heap at 10⁶ edges) would be marked again by every full GC of the run.
  const {
    model: { net, params },
    batch,
  } = benchSetup(size, batchSize);
  send({ kind: 'ready', edges: net.nEdges, batch: batchSize });
  for (const method of methods) {
    send({ kind: 'start', method });
    const loop = methodLoop(backend, net, params, batch, method);
    send({ kind: 'opened', method });
    let warmupSeconds = 0;
    let before = loop.engine.transfers.snapshot();
    const times = timeIterations(loop, {
      repeats: request.repeats ?? 3,
      maxSeconds: request.maxSeconds,
      onIteration: (seconds, warmup) => {
        if (warmup) {
          warmupSeconds = seconds;
          before = loop.engine.transfers.snapshot();
        }
        send({ kind: 'iteration', method, seconds, warmup });
      },
    });
    const transfers = transfersPerIteration(before, loop.engine.transfers.snapshot(), times.length);
    loop.dispose();
    send({ kind: 'method', method, figures: { microsPerSample: (median(times) * 1e6) / batchSize, warmupSeconds, iterationSeconds: times, transfers } });
  }
}

try {
  await main(JSON.parse(process.argv[2]) as ChildRequest);
} catch (error) {
  // The parent reports this line as the reason the part failed.
  process.stderr.write(`error: ${(error instanceof Error ? `${error.name}: ${error.message}` : String(error)).replace(/\s*\n\s*/g, '; ')}\n`);
  process.exitCode = 1;
}
