/**
 * The worker thread that owns the WebGPU device (see `webgpu-device.ts` for the main-thread
 * side). {@link webgpuWorker} runs there from its source text (`Function.prototype.toString`), so
 * it must stay self-contained: no imported values, only its arguments and globals.
 *
 * Protocol: the main thread posts batches of {@link Command}s (kept in order). Kernels, copies
 * and uploads are recorded into one command encoder until a read, an upload or a free needs it
 * submitted. A read or sync answers through the shared control block: Int32 words [state,
 * status, byteLength] (state 0 → 1 when answered; status 0 ok, 1 error with a UTF-8 message as
 * payload), payload from byte {@link CONTROL_HEADER}. The first device error since the last
 * answer is reported by the next read or sync (and cleared): the caller gets it as a typed
 * error and must not trust what the failed commands were to write.
 */

/** Bytes before the payload in the control block. */
export const CONTROL_HEADER = 16;

/** One command of a batch. Offsets and sizes in bytes. */
export type Command =
  | { op: 'create'; id: number; bytes: number }
  | { op: 'destroy'; id: number }
  | { op: 'write'; id: number; offset: number; data: ArrayBuffer }
  | { op: 'copy'; src: number; srcOffset: number; dst: number; dstOffset: number; bytes: number }
  | { op: 'pipeline'; name: string; code: string; writes: boolean[] }
  | { op: 'dispatch'; name: string; buffers: number[]; params: ArrayBuffer; groups: [number, number] }
  | { op: 'read'; id: number; offset: number; bytes: number; control?: SharedArrayBuffer }
  | { op: 'sync'; control?: SharedArrayBuffer };

/** What the worker reports once, after choosing its adapter. */
export type WorkerHello = { ok: true; detail: string; maxBufferBytes: number } | { ok: false; message: string };

/** What Dawn reports of an adapter (`GPUAdapter.info`). */
interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** The parts of the `webgpu` package the worker uses. */
export interface WebgpuModule {
  create(flags: string[]): GPU;
  globals: object;
}

/** The worker's side of the message channel. */
export interface WorkerPort {
  postMessage(message: WorkerHello): void;
  on(event: 'message', listener: (batch: Command[]) => void): void;
}

/** Runs the device: adapter selection (a native GPU first, then OpenGL ES), then commands; answers after `headerBytes` ({@link CONTROL_HEADER}). */
export function webgpuWorker(gpuModule: WebgpuModule, port: WorkerPort, initialControl: SharedArrayBuffer, headerBytes: number): void {
  Object.assign(globalThis, gpuModule.globals);
  const STORAGE = 0x80 | 0x4 | 0x8; // GPUBufferUsage.STORAGE | COPY_SRC | COPY_DST
  const ARENA = 1 << 16;
  let control = initialControl;
  let device: GPUDevice;
  // NOTE: the GPU instance and the adapter must stay reachable for the device's whole life: when
  // the garbage collector frees dawn.node's instance, the device's native state goes with it and
  // later calls crash the process (seen on Dawn's GL ES backend after a few dozen reads).
  const keep: object[] = [];
  let failure: string | null = null;
  const fail = (message: string) => (failure ??= message);
  const buffers = new Map<number, GPUBuffer>();
  const pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout; module: GPUShaderModule }>();
  let arena: GPUBuffer;
  let alignment = 256;
  const arenaStaging = new Uint8Array(ARENA);
  let arenaUsed = 0;
  let encoder: GPUCommandEncoder | null = null;
  let pass: GPUComputePassEncoder | null = null;
  let staging: GPUBuffer | null = null;
  const scopes: Promise<void>[] = [];

  const native = process.platform === 'darwin' ? 'Metal' : process.platform === 'win32' ? 'D3D12' : 'Vulkan';
  const describe = (adapter: GPUAdapter, route: string) => {
    const info = (adapter as GPUAdapter & { info: AdapterInfo }).info;
    const name = [info.vendor, info.device || info.architecture].filter((s) => s).join(' ') || info.description || 'unknown adapter';
    const compat = (adapter as GPUAdapter & { featureLevel?: string }).featureLevel === 'compatibility' || route === 'OpenGL ES';
    return `webgpu (${name} via ${route}${compat ? ', compatibility mode' : ''})`;
  };

  const start = async (): Promise<WorkerHello> => {
    const routes: [string[], GPURequestAdapterOptions & { featureLevel?: string }, string][] = [
      [[], { powerPreference: 'high-performance' }, native],
      [['backend=opengles'], { featureLevel: 'compatibility' }, 'OpenGL ES'],
    ];
    const tried: string[] = [];
    for (const [flags, options, route] of routes) {
      let adapter: GPUAdapter | null = null;
      try {
        // NOTE: Mesa's EGL can fail to initialise for a moment (eglInitialize: EGL_NOT_INITIALIZED,
        // seen under xvfb-run with several test processes on one X server), so the GL ES route is
        // asked up to 3 times, 250 ms apart, before it counts as absent.
        const attempts = route === 'OpenGL ES' ? 3 : 1;
        for (let attempt = 1; attempt <= attempts && !adapter; attempt++) {
          if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 250));
          const gpu = gpuModule.create(flags);
          keep.push(gpu);
          adapter = await gpu.requestAdapter(options);
        }
      } catch (err) {
        tried.push(`${route}: ${(err as Error).message}`);
        continue;
      }
      if (!adapter) {
        tried.push(`${route}: no adapter`);
        continue;
      }
      const storage = adapter.limits.maxStorageBuffersPerShaderStage;
      if (storage < 8) {
        tried.push(`${route}: ${storage} storage buffers per shader stage (8 needed)`);
        continue;
      }
      keep.push(adapter);
      device = await adapter.requestDevice({
        requiredLimits: {
          maxStorageBuffersPerShaderStage: Math.min(storage, 10),
          maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
          maxBufferSize: adapter.limits.maxBufferSize,
        },
      });
      device.addEventListener('uncapturederror', (event) => fail(`WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`));
      void device.lost.then((info) => fail(`WebGPU device lost: ${info.message}`));
      alignment = Math.max(16, device.limits.minUniformBufferOffsetAlignment);
      arena = device.createBuffer({ size: ARENA, usage: 0x40 | 0x8 }); // UNIFORM | COPY_DST
      return { ok: true, detail: describe(adapter, route), maxBufferBytes: Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize) };
    }
    return { ok: false, message: tried.join('; ') };
  };

  const endPass = () => {
    pass?.end();
    pass = null;
  };
  const submit = () => {
    endPass();
    if (!encoder) return;
    if (arenaUsed > 0) device.queue.writeBuffer(arena, 0, arenaStaging, 0, arenaUsed);
    device.queue.submit([encoder.finish()]);
    encoder = null;
    arenaUsed = 0;
  };
  const commands = () => (encoder ??= device.createCommandEncoder());
  const buffer = (id: number) => {
    const b = buffers.get(id);
    if (!b) throw new Error(`no buffer ${id} on the device (freed?)`);
    return b;
  };
  const openScopes = () => {
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
  };
  const closeScopes = () => {
    for (let i = 0; i < 2; i++) scopes.push(device.popErrorScope().then((e) => void (e && fail(`WebGPU ${i ? 'out of memory' : 'validation error'}: ${e.message}`))));
  };
  const answer = (status: number, payload: Uint8Array) => {
    const header = new Int32Array(control, 0, 3);
    const room = control.byteLength - headerBytes;
    const data = status === 0 ? payload : payload.subarray(0, room);
    new Uint8Array(control, headerBytes, data.length).set(data);
    header[1] = status;
    header[2] = data.length;
    Atomics.store(header, 0, 1);
    Atomics.notify(header, 0);
  };
  const answerFailure = () => {
    answer(1, new TextEncoder().encode(failure ?? 'unknown failure'));
    failure = null;
  };

  const run = (c: Command) => {
    switch (c.op) {
      case 'create':
        buffers.set(c.id, device.createBuffer({ size: Math.max(4, Math.ceil(c.bytes / 4) * 4), usage: STORAGE }));
        return;
      case 'destroy':
        submit();
        buffers.get(c.id)?.destroy();
        buffers.delete(c.id);
        return;
      case 'write':
        submit();
        device.queue.writeBuffer(buffer(c.id), c.offset, c.data);
        return;
      case 'copy':
        endPass();
        commands().copyBufferToBuffer(buffer(c.src), c.srcOffset, buffer(c.dst), c.dstOffset, c.bytes);
        return;
      case 'pipeline': {
        const layout = device.createBindGroupLayout({
          entries: [
            { binding: 0, visibility: 0x4, buffer: { type: 'uniform' } },
            ...c.writes.map((write, i): GPUBindGroupLayoutEntry => ({ binding: i + 1, visibility: 0x4, buffer: { type: write ? 'storage' : 'read-only-storage' } })),
          ],
        });
        const module = device.createShaderModule({ code: c.code, label: c.name });
        const pipeline = device.createComputePipeline({ label: c.name, layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: 'main' } });
        pipelines.set(c.name, { pipeline, layout, module });
        return;
      }
      case 'dispatch': {
        const p = pipelines.get(c.name);
        if (!p) throw new Error(`kernel ${c.name} was never compiled`);
        const size = c.params.byteLength;
        let at = Math.ceil(arenaUsed / alignment) * alignment;
        if (at + size > ARENA) {
          submit();
          at = 0;
        }
        arenaStaging.set(new Uint8Array(c.params), at);
        const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: arena, offset: at, size } }];
        c.buffers.forEach((id, i) => entries.push({ binding: i + 1, resource: { buffer: buffer(id) } }));
        const group = device.createBindGroup({ layout: p.layout, entries });
        commands();
        arenaUsed = at + size;
        pass ??= commands().beginComputePass();
        pass.setPipeline(p.pipeline);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(c.groups[0], c.groups[1]);
        return;
      }
      default:
        throw new Error(`unexpected command ${c.op}`);
    }
  };

  const read = async (c: Extract<Command, { op: 'read' }>) => {
    if (!staging || staging.size < c.bytes) {
      staging?.destroy();
      staging = device.createBuffer({ size: Math.max(256, Math.ceil(c.bytes / 256) * 256), usage: 0x1 | 0x8 }); // MAP_READ | COPY_DST
    }
    endPass();
    commands().copyBufferToBuffer(buffer(c.id), c.offset, staging, 0, c.bytes);
    submit();
    await staging.mapAsync(0x1, 0, c.bytes);
    const values = new Uint8Array(staging.getMappedRange(0, c.bytes)).slice();
    staging.unmap();
    return values;
  };

  const handle = async (batch: Command[]) => {
    openScopes();
    for (const c of batch) {
      if (c.op !== 'read' && c.op !== 'sync') {
        try {
          run(c);
        } catch (err) {
          fail(`WebGPU command ${c.op} failed: ${(err as Error).message}`);
        }
        continue;
      }
      if (c.control) control = c.control;
      let values: Uint8Array = new Uint8Array(0);
      try {
        if (c.op === 'read') values = await read(c);
        else submit();
      } catch (err) {
        fail(`WebGPU read failed: ${(err as Error).message}`);
      }
      closeScopes();
      await Promise.all(scopes.splice(0));
      if (failure) answerFailure();
      else answer(0, values);
      openScopes();
    }
    try {
      submit();
    } catch (err) {
      fail(`WebGPU submit failed: ${(err as Error).message}`);
    }
    closeScopes();
  };

  let chain = start().then(
    (hello) => port.postMessage(hello),
    (err: Error) => port.postMessage({ ok: false, message: err.message }),
  );
  port.on('message', (batch) => {
    chain = chain.then(() => handle(batch)).catch((err: Error) => {
      fail(`WebGPU worker failed: ${err.message}`);
      answerFailure();
    });
  });
}
