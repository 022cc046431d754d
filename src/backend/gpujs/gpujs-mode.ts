import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { UsageError, problem } from '../../errors.js';

/** The gpu.js modes this backend runs in: a real GL pipeline, or WebAssembly where none exists. */
export type GpujsMode = 'headlessgl' | 'webasm';

/** Largest index a float32 kernel argument holds exactly (2^24). */
export const EXACT_INDEX_LIMIT = 1 << 24;

/** The gpu.js module and the mode chosen for it, with the reason (for reports). */
export interface GpujsSelection {
  readonly gpuModule: typeof import('gpu.js');
  readonly mode: GpujsMode;
  readonly reason: string;
}

const require = createRequire(import.meta.url);

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
 * Chooses the gpu.js mode: `headlessgl` when the optional `gl` module is built and a GL context
 * opens (a display exists, e.g. under `xvfb-run`), else `webasm`. `requested` forces a mode (the
 * UNITWISE_GPUJS_MODE environment variable does the same for the CLI); asking for headlessgl
 * where it cannot run is a UsageError saying why.
 */
export function selectGpujsMode(requested?: GpujsMode): GpujsSelection {
  const gpuModule = require('gpu.js') as typeof import('gpu.js');
  const glProblem = headlessGlProblem(gpuModule);
  const wanted = requested ?? (process.env.UNITWISE_GPUJS_MODE as GpujsMode | undefined);
  if (wanted !== undefined && wanted !== 'headlessgl' && wanted !== 'webasm') {
    throw new UsageError([problem('UNITWISE_GPUJS_MODE', `unknown gpu.js mode '${String(wanted)}'; use headlessgl or webasm`)]);
  }
  if (wanted === 'headlessgl' && glProblem) throw new UsageError([problem('gpujs', `headlessgl mode cannot run: ${glProblem}`)]);
  const mode: GpujsMode = wanted ?? (glProblem ? 'webasm' : 'headlessgl');
  const reason = mode === 'headlessgl' ? 'headless-gl context (Mesa or a real GPU)' : wanted === 'webasm' ? 'requested' : `headlessgl unavailable: ${glProblem}`;
  return { gpuModule, mode, reason };
}

/** The backend's report line for a mode: `gpu.js '<mode>' mode (<reason>; float32)`. */
export function gpujsDetail(selection: Pick<GpujsSelection, 'mode' | 'reason'>): string {
  return `gpu.js '${selection.mode}' mode (${selection.reason}; float32)`;
}
