import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import type { GPU as GpuClass, IKernelRunShortcut } from 'gpu.js';
import { UsageError, problem } from '../../errors.js';
import * as propagationSources from './gpujs-sources.js';
import * as updateSources from './gpujs-update-sources.js';

/** The gpu.js modes this backend runs in: a real GL pipeline, or WebAssembly where none exists. */
export type GpujsMode = 'headlessgl' | 'webasm';

const sources = { ...propagationSources, ...updateSources };
type SourceName = keyof typeof sources;
type Arg = Float32Array | number;

/** A gpu.js instance and the backend's kernels compiled on it. */
export interface GpujsRuntime {
  readonly mode: GpujsMode;
  /** Why this mode: what made headlessgl available or not. */
  readonly reason: string;
  /**
   * Runs kernel `name` over `threads` threads (1-D output) and returns its output, a fresh
   * Float32Array of length `threads`.
   */
  run(name: SourceName, threads: number, ...args: Arg[]): Float32Array;
}

/** Largest index a float32 kernel argument holds exactly (2^24). */
export const EXACT_INDEX_LIMIT = 1 << 24;

const require = createRequire(import.meta.url);
const runtimes = new Map<string, GpujsRuntime>();

/** Why headlessgl cannot run here, or undefined when it can. */
function headlessGlProblem(gpuModule: typeof import('gpu.js')): string | undefined {
  try {
    require.resolve('gl');
  } catch {
    return "the optional 'gl' module is not built (see README: apt packages for headless-gl)";
  }
  if (!gpuModule.GPU.isHeadlessGLSupported) {
    if (!process.env.DISPLAY) return 'no GL context could be created (no display: run under xvfb-run)';
    return isMainThread ? `no GL context could be created on display ${process.env.DISPLAY}` : 'headless-gl gives no GL context in worker threads';
  }
  return undefined;
}

/**
 * Loads gpu.js once per mode: `headlessgl` when the optional `gl` module is built and a GL
 * context opens (a display exists, e.g. under `xvfb-run`), else `webasm`. `requested` forces a
 * mode (the UNITWISE_GPUJS_MODE environment variable does the same for the CLI); asking for
 * headlessgl where it cannot run is a UsageError saying why.
 * NOTE: kernels use dynamic output and argument sizes, so one compiled kernel serves every
 * network, level and batch size; gpu.js recompiles only when an argument's type changes.
 */
export function loadGpujs(requested?: GpujsMode): GpujsRuntime {
  const gpuModule = require('gpu.js') as typeof import('gpu.js');
  const glProblem = headlessGlProblem(gpuModule);
  const wanted = requested ?? (process.env.UNITWISE_GPUJS_MODE as GpujsMode | undefined);
  if (wanted !== undefined && wanted !== 'headlessgl' && wanted !== 'webasm') {
    throw new UsageError([problem('UNITWISE_GPUJS_MODE', `unknown gpu.js mode '${String(wanted)}'; use headlessgl or webasm`)]);
  }
  if (wanted === 'headlessgl' && glProblem) throw new UsageError([problem('gpujs', `headlessgl mode cannot run: ${glProblem}`)]);
  const mode: GpujsMode = wanted ?? (glProblem ? 'webasm' : 'headlessgl');
  const known = runtimes.get(mode);
  if (known) return known;
  const reason = mode === 'headlessgl' ? 'headless-gl context (Mesa or a real GPU)' : wanted === 'webasm' ? 'requested' : `headlessgl unavailable: ${glProblem}`;
  const runtime = createRuntime(new gpuModule.GPU({ mode }), mode, reason);
  runtimes.set(mode, runtime);
  return runtime;
}

function createRuntime(gpu: GpuClass, mode: GpujsMode, reason: string): GpujsRuntime {
  const kernels = new Map<string, IKernelRunShortcut>();
  const kernel = (name: SourceName): IKernelRunShortcut => {
    let k = kernels.get(name);
    if (!k) {
      k = gpu.createKernel(sources[name] as never, {
        output: [1],
        dynamicOutput: true,
        dynamicArguments: true,
        precision: 'single',
        tactic: 'precision',
      });
      // Loops take their bound from an argument; GL needs a compile-time ceiling.
      k.setLoopMaxIterations(1 << 20);
      kernels.set(name, k);
    }
    return k;
  };
  return {
    mode,
    reason,
    run(name, threads, ...args) {
      const k = kernel(name);
      k.setOutput([threads]);
      const result = (k as unknown as (...a: Arg[]) => Float32Array)(...args);
      if (!(result instanceof Float32Array)) throw new TypeError(`gpu.js kernel ${name} returned ${typeof result}`);
      if (result.length !== threads) return result.slice(0, threads);
      return result;
    },
  };
}
