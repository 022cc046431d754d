import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { NumericalError, UsageError, problem } from '../../errors.js';
import { kernelSource, launchGrid, packParams, type KernelSpec } from './wgsl-kernel.js';
import { CONTROL_HEADER, webgpuWorker, type Command, type WorkerHello } from './webgpu-worker.js';

/** Commands queued before a batch is posted even without a read (bounds the queue's memory). */
const BATCH = 256;
/** How long a synchronous read waits for the worker before it is declared hung (ms). */
const READ_TIMEOUT_MS = 120_000;

/**
 * The main-thread side of the WebGPU device: GPU buffers are numeric ids here and GPUBuffers in
 * the worker thread that owns the device (`webgpu-worker.ts`).
 * NOTE: WebGPU reads are asynchronous (mapAsync) while the Engine interface, and the optimizers
 * above it, are synchronous. Kernels, uploads and frees are queued and posted in batches (fire and
 * forget: a worker keeps their order); a read posts the queue and blocks this thread in
 * `Atomics.wait` on a shared control block until the worker has mapped the result and copied it
 * there. A round trip costs ~0.3 ms on llvmpipe; in exchange the whole optimizer stack stays
 * synchronous, and a GPU that is still busy with earlier kernels overlaps with the host until the
 * next read. The wait has a timeout, and device errors come back on the next read or sync.
 */
export class WebgpuDevice {
  private queue: Command[] = [];
  private nextId = 1;
  private readonly compiled = new Set<string>();
  private control: SharedArrayBuffer;

  private constructor(
    private readonly worker: Worker,
    control: SharedArrayBuffer,
    /** Which adapter runs, e.g. `webgpu (llvmpipe via OpenGL ES, compatibility mode)`. */
    readonly detail: string,
    /** The largest buffer a kernel can bind (the device's storage-binding and buffer limits), in bytes. */
    readonly maxBufferBytes: number,
  ) {
    this.control = control;
  }

  /** Starts the worker and its device (see {@link webgpuDevice}, which shares one per process). */
  static async open(): Promise<WebgpuDevice> {
    const require = createRequire(import.meta.url);
    let moduleUrl: string;
    try {
      moduleUrl = pathToFileURL(require.resolve('webgpu')).href;
    } catch {
      throw new UsageError([problem('backend', "the webgpu backend needs the npm package 'webgpu' (Dawn's node bindings): npm install webgpu")]);
    }
    // Dawn computes without a window, so Mesa's EGL renders surfaceless unless told otherwise: it
    // needs no display, and no X server (under xvfb-run, EGL displays opened by many test
    // processes on one X server made eglInitialize fail now and then).
    if (process.platform === 'linux' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
    const control = new SharedArrayBuffer(CONTROL_HEADER + (1 << 16));
    const source = `const __name = (f) => f;\nconst { parentPort, workerData } = require('node:worker_threads');\nimport(workerData.moduleUrl).then((m) => (${webgpuWorker.toString()})(m, parentPort, workerData.control, ${CONTROL_HEADER}));`;
    const worker = new Worker(source, { eval: true, workerData: { moduleUrl, control } });
    worker.unref();
    const hello = await new Promise<WorkerHello>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', (err) => resolve({ ok: false, message: err.message }));
    });
    if (!hello.ok) {
      await worker.terminate();
      throw new UsageError([
        problem(
          'backend',
          `no WebGPU adapter could be opened (${hello.message}); install a GPU driver (Vulkan, Metal or D3D12), or Mesa's EGL and GL ES for the CPU fallback (Debian: apt-get install libegl1 libgles2 libgl1-mesa-dri; run with EGL_PLATFORM=surfaceless or under xvfb-run)`,
        ),
      ]);
    }
    return new WebgpuDevice(worker, control, hello.detail, hello.maxBufferBytes);
  }

  /** A zero-filled GPU buffer of `bytes` bytes; returns its id. */
  createBuffer(bytes: number): number {
    const id = this.nextId++;
    this.post({ op: 'create', id, bytes });
    return id;
  }

  destroy(id: number): void {
    this.post({ op: 'destroy', id });
  }

  /** Host → device copy of `data` at byte `offset`. */
  write(id: number, offset: number, data: ArrayBufferView): void {
    const bytes = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    this.post({ op: 'write', id, offset, data: bytes as ArrayBuffer });
  }

  /** Device copy of `bytes` bytes between buffers (offsets in bytes). */
  copy(src: number, srcOffset: number, dst: number, dstOffset: number, bytes: number): void {
    if (bytes > 0) this.post({ op: 'copy', src, srcOffset, dst, dstOffset, bytes });
  }

  /** Launches `spec` over `threads` threads (or one workgroup), its storage bindings `buffers` (ids, in order), its parameters `values`. */
  dispatch(spec: KernelSpec, threads: number, buffers: readonly number[], values: readonly number[]): void {
    if (buffers.length !== spec.bindings.length) throw new Error(`kernel ${spec.name}: ${buffers.length} buffers for ${spec.bindings.length} bindings`);
    if (!this.compiled.has(spec.name)) {
      this.compiled.add(spec.name);
      this.post({ op: 'pipeline', name: spec.name, code: kernelSource(spec), writes: spec.bindings.map((b) => b.write === true) });
    }
    if (threads <= 0 && (!spec.workgroup || spec.perWorkgroup)) return;
    const { groups, stride } = launchGrid(threads, spec.workgroup, spec.perWorkgroup);
    this.post({ op: 'dispatch', name: spec.name, buffers: [...buffers], params: packParams(spec, threads, stride, values), groups });
  }

  /** Device → host copy of `bytes` bytes from byte `offset` (blocks until the worker answers). */
  read(id: number, offset: number, bytes: number): ArrayBuffer {
    let control: SharedArrayBuffer | undefined;
    if (bytes > this.control.byteLength - CONTROL_HEADER) this.control = control = new SharedArrayBuffer(CONTROL_HEADER + bytes);
    const payload = this.await({ op: 'read', id, offset, bytes, control });
    return payload;
  }

  /** Waits until every queued command ran; throws the device's first error, if any. */
  sync(): void {
    this.await({ op: 'sync' });
  }

  private post(command: Command): void {
    this.queue.push(command);
    if (this.queue.length >= BATCH) this.flush();
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.worker.postMessage(batch);
  }

  private await(command: Command): ArrayBuffer {
    const header = new Int32Array(this.control, 0, 3);
    Atomics.store(header, 0, 0);
    this.queue.push(command);
    this.flush();
    const started = Date.now();
    while (Atomics.load(header, 0) === 0) {
      Atomics.wait(header, 0, 0, 1000);
      if (Atomics.load(header, 0) === 0 && Date.now() - started > READ_TIMEOUT_MS) {
        throw new NumericalError([problem('webgpu', `the WebGPU worker did not answer within ${READ_TIMEOUT_MS / 1000} s (device hung or worker exited)`)]);
      }
    }
    const length = header[2];
    const payload = new Uint8Array(length);
    payload.set(new Uint8Array(this.control, CONTROL_HEADER, length));
    if (header[1] !== 0) throw new NumericalError([problem('webgpu', new TextDecoder().decode(payload))]);
    return payload.buffer;
  }
}

let shared: Promise<WebgpuDevice> | undefined;

/** The process's WebGPU device (one worker thread; engines share it and own their buffers). */
export function webgpuDevice(): Promise<WebgpuDevice> {
  shared ??= WebgpuDevice.open();
  shared.catch(() => (shared = undefined));
  return shared;
}
