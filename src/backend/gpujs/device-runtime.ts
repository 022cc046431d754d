import { NumericalError, problem } from '../../errors.js';
import type { GPU as GpuClass, IGPUKernelSettings, IKernelRunShortcut, Texture } from 'gpu.js';
import { selectGpujsMode, type GpujsMode } from './gpujs-mode.js';
import { backwardLevelFused, batchFused, forwardLevelFused, mapFirst, mapSecond, momentsFused, outputLayerFused } from './device-fused-sources.js';
import * as curvatureSources from './device-curvature-sources.js';
import * as packingSources from './device-packing-sources.js';
import * as gramSources from './device-gram-sources.js';
import { activationSlope, activationValue } from './device-helpers.js';
import * as metricSources from './device-metric-sources.js';
import * as outputSources from './device-output-sources.js';
import * as propagationSources from './device-sources.js';
import * as updateSources from './device-update-sources.js';
import { copyRows, rowWindow } from './device-rows.js';
import { useFloatAddressing } from './device-glsl.js';

const sources = { ...propagationSources, ...outputSources, ...metricSources, ...curvatureSources, ...packingSources, ...updateSources, ...gramSources };

const fusedSources = { forwardLevelFused, backwardLevelFused, momentsFused, outputLayerFused, batchFused };

/** The name of a fused device kernel (headlessgl mode only: see `device-fused-sources.ts`). */
export type FusedKernel = keyof typeof fusedSources;

/** The outputs of one fused launch, each new device data owned by the caller. */
export interface FusedOutputs {
  result: DeviceData;
  first: DeviceData;
  /** Only when two extra outputs were asked for. */
  second?: DeviceData;
}

/** The name of a device kernel (a function of the `device-*sources.ts` modules). */
export type DeviceKernel = keyof typeof sources;

/**
 * Device-resident data: a texture in headlessgl mode (pipeline output, alive until deleted), a
 * Float32Array in webasm mode (the "device" is host memory there).
 */
export type DeviceData = Texture | Float32Array;

/** A kernel argument: device data, or a number (a uniform: a launch parameter, not a transfer). */
export type KernelArg = DeviceData | number;

/** A gpu.js instance whose kernels keep their outputs on the device. */
export interface DeviceRuntime {
  readonly mode: GpujsMode;
  /** Why this mode: what made headlessgl available or not. */
  readonly reason: string;
  /**
   * Runs kernel `name` over `threads` threads (1-D output) and returns its output, new device
   * data of length `threads` owned by the caller (release it with {@link release}). Float32Array
   * arguments are copied to the device by gpu.js: callers count them as uploads.
   */
  launch(name: DeviceKernel, threads: number, ...args: KernelArg[]): DeviceData;
  /**
   * webasm mode only (absent in headlessgl mode): runs kernel `name` over `threads` threads and
   * copies its output into `target` from `offset`, allocating nothing (see `viewOutputs`).
   */
  launchInto?(name: DeviceKernel, threads: number, target: Float32Array, offset: number, ...args: KernelArg[]): void;
  /** Whether {@link launchFused} is available (headlessgl mode: gpu.js kernel maps). */
  readonly fused: boolean;
  /**
   * Runs fused kernel `name` (one draw; the result and `outputs` extra outputs of length
   * `threads`, as {@link launch}). With `outputs` = 1 the kernel's `mapSecond` is a plain function.
   * NOTE: on llvmpipe each render target of a draw costs ~0.2 ms, so outputs nobody reads are not drawn.
   */
  launchFused(name: FusedKernel, threads: number, outputs: 1 | 2, ...args: KernelArg[]): FusedOutputs;
  /**
   * headlessgl mode only (absent in webasm mode): runs fused kernel `name` over the texture rows
   * holding entries [first, end) of the whole-array textures `targets` (see `device-rows.ts`; the
   * kernel gets `base` and `width` as two more arguments) and copies its result, `first` and
   * `second` outputs into those rows of `targets[0]`, `[1]`, `[2]` in place (an output whose
   * target is undefined is dropped). False, with nothing run, when the textures have fewer than
   * two rows (draw the whole array instead).
   */
  launchRows?(name: FusedKernel, outputs: 1 | 2, targets: readonly (DeviceData | undefined)[], first: number, end: number, ...args: KernelArg[]): boolean;
  /** The first `length` values of device data, on the host (callers count this read). */
  toHost(data: DeviceData, length: number): Float32Array;
  /** Frees device data (deletes a texture; drops nothing else). */
  release(data: DeviceData): void;
}

const runtimes = new Map<GpujsMode, DeviceRuntime>();

/**
 * The device runtime of a gpu.js mode (see {@link selectGpujsMode}), created once per mode and
 * process; its kernels are compiled on first use and shared by every engine of that mode.
 * NOTE: kernels run with `pipeline: true` and `immutable: true`: each launch returns a fresh
 * texture (a clone gpu.js reference-counts) that stays valid while the same kernel runs again,
 * so one kernel can read its own previous output; the engine deletes each texture when its
 * buffer is overwritten or freed. Shared kernels keep a reference to their last output until
 * their next launch, so up to one texture per kernel outlives an engine's `dispose`.
 */
export function deviceRuntime(requested?: GpujsMode): DeviceRuntime {
  const { gpuModule, mode, reason } = selectGpujsMode(requested);
  let runtime = runtimes.get(mode);
  if (!runtime) {
    runtime = createRuntime(new gpuModule.GPU({ mode }), mode, reason);
    runtimes.set(mode, runtime);
  }
  return runtime;
}

const isArray = (data: DeviceData): data is Float32Array => data instanceof Float32Array;

/** Helper functions the kernels may call (gpu.js compiles in those a kernel uses). */
const HELPERS = [activationValue, activationSlope] as unknown as Array<(...args: number[]) => number>;

function createRuntime(gpu: GpuClass, mode: GpujsMode, reason: string): DeviceRuntime {
  const kernels = new Map<string, { run: IKernelRunShortcut; output: string }>();
  // Row launches (2-D outputs) have kernels of their own: sizes alternate less.
  const kernel = (name: DeviceKernel | FusedKernel, outputs: number, rows: boolean) => {
    const key = `${name}/${outputs}${rows ? '/rows' : ''}`;
    let k = kernels.get(key);
    if (!k) {
      const options: IGPUKernelSettings = { output: [1], dynamicOutput: true, dynamicArguments: true, precision: 'single', tactic: 'precision', pipeline: true, immutable: true, functions: HELPERS };
      const fused = fusedSources[name as FusedKernel] as never;
      const run =
        outputs === 2
          ? (gpu.createKernelMap({ first: mapFirst, second: mapSecond }, fused, options) as unknown as IKernelRunShortcut)
          : outputs === 1
            ? (gpu.createKernelMap({ first: mapFirst }, fused, { ...options, functions: [...HELPERS, mapSecond] }) as unknown as IKernelRunShortcut)
            : gpu.createKernel(sources[name as DeviceKernel] as never, options);
      // Loops take their bounds from arguments; GL needs a compile-time ceiling.
      run.setLoopMaxIterations(1 << 20);
      keepModules(run);
      if (mode === 'headlessgl') useFloatAddressing(run.kernel);
      k = { run, output: '1' };
      kernels.set(key, k);
    }
    return k;
  };
  const run = (name: DeviceKernel | FusedKernel, outputs: number, threads: number | [number, number], args: KernelArg[]): unknown => {
    const k = kernel(name, outputs, typeof threads !== 'number');
    // NOTE: gpu.js reallocates a kernel's output texture on every setOutput, so only on a change.
    const output = String(threads);
    if (k.output !== output) {
      k.run.setOutput(typeof threads === 'number' ? [threads] : threads);
      k.output = output;
      forgetPreviousArguments(k.run);
    }
    const result = (k.run as unknown as (...a: KernelArg[]) => unknown)(...args);
    if (mode === 'webasm') viewOutputs(k.run);
    return result;
  };
  return {
    mode,
    reason,
    fused: mode === 'headlessgl',
    launchFused(name, threads, outputs, ...args) {
      if (mode !== 'headlessgl') throw new NumericalError([problem('gpujs', `fused kernel ${name} launched in ${mode} mode`)]);
      return run(name, outputs, threads, args) as FusedOutputs;
    },
    ...(mode === 'headlessgl'
      ? {
          launchRows(name: FusedKernel, outputs: 1 | 2, targets: readonly (DeviceData | undefined)[], first: number, end: number, ...args: KernelArg[]) {
            const whole = targets[0];
            if (!whole || isArray(whole)) throw new NumericalError([problem('gpujs', `row launch of ${name} without a texture to write`)]);
            const window = rowWindow(whole, first, end);
            if (!window) return false;
            const out = run(name, outputs, [window.width, window.rows], [...args, window.base, window.width]) as FusedOutputs;
            [out.result, out.first, out.second].forEach((data, i) => {
              if (!data || isArray(data)) return;
              const target = targets[i];
              if (target && !isArray(target)) copyRows(data, target, window);
              data.delete();
            });
            return true;
          },
        }
      : {}),
    launch(name, threads, ...args) {
      const result = run(name, 0, threads, args) as DeviceData;
      // A copy: webasm outputs may be views of the kernel's memory (see viewOutputs).
      if (isArray(result)) return new Float32Array(result.subarray(0, threads));
      if (typeof result?.delete !== 'function') throw new NumericalError([problem('gpujs', `gpu.js kernel ${name} returned ${typeof result}`)]);
      return result;
    },
    ...(mode === 'webasm'
      ? {
          launchInto(name: DeviceKernel, threads: number, target: Float32Array, offset: number, ...args: KernelArg[]) {
            const result = run(name, 0, threads, args);
            if (!(result instanceof Float32Array)) throw new NumericalError([problem('gpujs', `gpu.js webasm kernel ${name} returned ${typeof result}`)]);
            target.set(result.subarray(0, threads), offset);
          },
        }
      : {}),
    toHost(data, length) {
      const values = isArray(data) ? data : (data.toArray() as Float32Array);
      return values.length === length ? values : values.subarray(0, length);
    },
    release(data) {
      if (!isArray(data)) data.delete();
    },
  };
}

/** What gpu.js's GL kernels keep per texture argument (internal: see `updateTextureArgumentRefs`). */
interface TextureArgument {
  prevArg?: Texture | null;
}

/**
 * Drops the textures an immutable GL kernel kept from earlier launches to ping-pong with.
 * NOTE: when a kernel is given its own last output, gpu.js 2.24.1 renders into the texture it
 * kept from the previous such launch if nothing else holds it, whatever that texture's size; after
 * the output size changes (another level count, block group or engine), that texture is the wrong
 * size and the output is garbage. Forgetting them on every size change keeps the ping-pong within
 * one size. (Internal fields; webasm kernels have none.)
 */
function forgetPreviousArguments(run: IKernelRunShortcut): void {
  const args = (run.kernel as unknown as { kernelArguments?: TextureArgument[] }).kernelArguments ?? [];
  for (const arg of args) {
    if (arg.prevArg) {
      arg.prevArg.delete();
      arg.prevArg = null;
    }
  }
}

/**
 * Raises a webasm kernel's cache of compiled modules (internal field; GL kernels have none).
 * NOTE: gpu.js's webasm backend bakes argument and output sizes into each module and keeps 8 per
 * kernel; the batched solves cycle through more size signatures than that per iteration (one per
 * block-size group), and a rebuild costs ~1 ms, so each kernel keeps up to 64.
 */
function keepModules(run: IKernelRunShortcut): void {
  const kernel = run.kernel as unknown as { moduleCacheLimit?: number };
  if (typeof kernel.moduleCacheLimit === 'number') kernel.moduleCacheLimit = 64;
}

/** A Float32Array whose `slice` is a view (`subarray`), not a copy. */
class OutputView extends Float32Array<ArrayBuffer> {
  override slice(start?: number, end?: number): Float32Array<ArrayBuffer> {
    return this.subarray(start, end);
  }
}

/**
 * Makes a webasm kernel's output a view of its wasm memory instead of a fresh copy (internal
 * field: gpu.js 2.24.1 reads each output with `entry.f32.slice(...)`): the view is valid until the
 * kernel's next launch, so `launch` copies it and `launchInto` writes it where it belongs.
 * NOTE: a fresh [nUnits × S] array per launch is external memory to V8, and tens of MB of it per
 * iteration trigger a full mark-compact each iteration, whose cost grows with the whole JS heap
 * (a 10⁶-edge network's model is ~0.5 GB of objects): 2–4 s per collection on a loaded 2-core VM,
 * most of an iteration's time. Only an entry's first launch (before this swaps its view) copies.
 */
function viewOutputs(run: IKernelRunShortcut): void {
  const entry = (run.kernel as unknown as { _active?: { f32?: Float32Array | null; memory?: { buffer: ArrayBuffer } | null } | null })._active;
  if (entry?.f32 && entry.memory && !(entry.f32 instanceof OutputView)) entry.f32 = new OutputView(entry.memory.buffer);
}
