import { parentPort, workerData } from 'node:worker_threads';
import { UnitwiseError } from '../../errors.js';
import type { Engine } from '../engine.js';
import { loadTfjs, type TfjsRuntime } from './tf.js';
import { TfjsEngine } from './tfjs-engine.js';
import { CONTROL_HEADER, COUNT, PROGRESS, STATE, STATUS, TRANSFERS_AT, type Answered, type Arg, type Call, type Keep, type WorkerFailure, type WorkerHello } from './tfjs-webgpu-protocol.js';

/**
 * The worker thread of the tfjs-webgpu engines (started by `tfjs-webgpu-channel.ts`; see
 * `tfjs-webgpu-protocol.ts` for the messages). It loads TensorFlow.js on WebGPU (`loadTfjs`) and
 * runs real {@link TfjsEngine}s: plain calls at once, reading calls with asynchronous reads
 * (`callAsync`), answered through the shared control block.
 */

const port = parentPort;
if (!port) throw new Error('tfjs-webgpu-worker.ts runs as a worker thread');
let control = (workerData as { control: SharedArrayBuffer }).control;
const engines = new Map<number, TfjsEngine>();
/** Buffers, workspaces and Gram plans by the ids the main thread gave them, and the ids each engine owns. */
const objects = new Map<number, unknown>();
const owned = new Map<number, Set<number>>();
let failure: WorkerFailure | null = null;
let runtime: TfjsRuntime;

const describe = (err: unknown): WorkerFailure =>
  err instanceof UnitwiseError ? { name: err.name, message: err.message, problems: err.problems.map((p) => ({ code: p.code, message: p.message })) } : { name: 'Error', message: err instanceof Error ? err.message : String(err) };

const engine = (id: number) => {
  const found = engines.get(id);
  if (!found) throw new Error(`no tfjs-webgpu engine ${id} in the worker (disposed, or its open failed)`);
  return found;
};

/** An argument as the engine takes it: {@link Ref}s replaced by their objects. */
const decode = (arg: Arg): unknown => {
  if (arg === null || typeof arg !== 'object' || ArrayBuffer.isView(arg)) return arg;
  if (Array.isArray(arg)) return arg.map(decode);
  if ('$ref' in arg) {
    const found = objects.get(arg.$ref as number);
    if (found === undefined) throw new Error(`no object ${String(arg.$ref)} in the tfjs-webgpu worker (freed?)`);
    return found;
  }
  return Object.fromEntries(Object.entries(arg).map(([k, v]) => [k, decode(v as Arg)]));
};

const keep = (owner: number, value: unknown, spec: Keep) => {
  const ids = owned.get(owner)!;
  if ('id' in spec) {
    objects.set(spec.id, value);
    ids.add(spec.id);
  }
  for (const [field, id] of Object.entries(spec.fields ?? {})) {
    const part = (value as Record<string, unknown>)[field];
    if (part === undefined) continue;
    objects.set(id, part);
    ids.add(id);
  }
};

const run = (c: Exclude<Call, Answered>) => {
  switch (c.op) {
    case 'open':
      owned.set(c.engine, new Set());
      engines.set(c.engine, new TfjsEngine(runtime, c.net, c.size, c.options));
      return;
    case 'call': {
      const e = engine(c.engine) as unknown as Record<string, (...args: unknown[]) => unknown>;
      const value = e[c.method](...c.args.map(decode));
      if (c.keep) keep(c.engine, value, c.keep);
      for (const id of c.forget ?? []) {
        objects.delete(id);
        owned.get(c.engine)?.delete(id);
      }
      return;
    }
    case 'resetTransfers':
      engine(c.engine).transfers.reset();
      return;
    case 'dispose':
      engines.get(c.engine)?.dispose();
      engines.delete(c.engine);
      for (const id of owned.get(c.engine) ?? []) objects.delete(id);
      owned.delete(c.engine);
      return;
  }
};

/** Runs an answered call; returns its numbers. */
const answerOf = async (c: Answered): Promise<Float64Array> => {
  if (c.op === 'tensors') return Float64Array.of(runtime.tf.memory().numTensors);
  if (c.op === 'transfers') return new Float64Array(0);
  const e = engine(c.engine);
  const value: unknown = await (e.callAsync as (method: string, ...args: unknown[]) => Promise<unknown>)(c.method, ...c.args.map(decode));
  if (value instanceof Float64Array) return value;
  if (Array.isArray(value)) return Float64Array.from(value as number[]);
  return Float64Array.of(typeof value === 'boolean' ? Number(value) : (value as number));
};

const answer = (status: 0 | 1, payload: Uint8Array, transfers: Engine['transfers'] | undefined) => {
  const header = new Int32Array(control, 0, 4);
  const room = control.byteLength - CONTROL_HEADER;
  const data = payload.subarray(0, room);
  new Uint8Array(control, CONTROL_HEADER, data.length).set(data);
  new Float64Array(control, 0, CONTROL_HEADER / 8).set(transfers ? [transfers.uploads, transfers.uploadBytes, transfers.reads, transfers.readBytes] : [0, 0, 0, 0], TRANSFERS_AT);
  header[STATUS] = status;
  header[COUNT] = status === 0 ? data.length / 8 : data.length;
  Atomics.store(header, STATE, 1);
  Atomics.notify(header, STATE);
};

const progress = () => Atomics.add(new Int32Array(control, 0, 4), PROGRESS, 1);

const handle = async (batch: Call[]) => {
  for (const c of batch) {
    if (c.op === 'read' || c.op === 'transfers' || c.op === 'tensors') {
      if (c.control) control = c.control;
      let values: Float64Array = new Float64Array(0);
      try {
        values = await answerOf(c);
      } catch (err) {
        failure ??= describe(err);
      }
      progress();
      const counter = 'engine' in c ? engines.get(c.engine)?.transfers : undefined;
      if (failure) answer(1, new TextEncoder().encode(JSON.stringify(failure)), counter);
      else answer(0, new Uint8Array(values.buffer, values.byteOffset, values.byteLength), counter);
      failure = null;
      continue;
    }
    try {
      run(c);
    } catch (err) {
      failure ??= describe(err);
    }
    progress();
  }
};

// An error outside every call would otherwise leave a waiting main thread to its stall timeout:
// it is answered at once, and stays set for the next answer in case no one was waiting.
const uncaught = (err: unknown) => {
  failure ??= describe(err);
  answer(1, new TextEncoder().encode(JSON.stringify(failure)), undefined);
};
process.on('uncaughtException', uncaught);
process.on('unhandledRejection', uncaught);

let chain = loadTfjs('webgpu').then(
  (loaded) => {
    runtime = loaded;
    port.postMessage({ ok: true, note: loaded.note ?? '' } satisfies WorkerHello);
  },
  (err: unknown) => port.postMessage({ ok: false, failure: describe(err) } satisfies WorkerHello),
);
port.on('message', (batch: Call[]) => {
  // A failure outside a call (none is expected) is kept for the next answer; later batches still run.
  chain = chain.then(() => handle(batch)).catch((err: unknown) => void (failure ??= describe(err)));
});
