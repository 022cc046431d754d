import type { GPU as GpuClass, IKernelRunShortcut } from 'gpu.js';
import { selectGpujsMode, type GpujsMode } from './gpujs-mode.js';
import * as propagationSources from './gpujs-sources.js';
import * as updateSources from './gpujs-update-sources.js';

export { EXACT_INDEX_LIMIT, type GpujsMode } from './gpujs-mode.js';

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

const runtimes = new Map<string, GpujsRuntime>();

/**
 * Loads gpu.js once per mode (see {@link selectGpujsMode} for how the mode is chosen).
 * NOTE: kernels use dynamic output and argument sizes, so one compiled kernel serves every
 * network, level and batch size; gpu.js recompiles only when an argument's type changes.
 */
export function loadGpujs(requested?: GpujsMode): GpujsRuntime {
  const { gpuModule, mode, reason } = selectGpujsMode(requested);
  const known = runtimes.get(mode);
  if (known) return known;
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
