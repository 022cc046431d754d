import { BACKENDS, backendInfo, useBackend } from '../backend/load.js';
import { UsageError, problem } from '../errors.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import { checkCurvatureMemory } from '../engine/size-guard.js';
import { isMethodName, METHOD_SPECS, METHODS, type MethodName } from '../methods/methods.js';

/** yargs options shared by the commands that compute a method's direction. */
export const methodOptions = {
  method: { choices: METHODS, default: 'backprop' as const, describe: 'training method (metric and reduction of Sections 1 and 2.5)' },
  epsilon: { type: 'number' as const, default: 1e-4, describe: 'regularisation ε added to the metric before solving (Section 4)' },
  'mc-samples': { type: 'number' as const, default: 1, describe: 'outputs drawn per sample by the Monte-Carlo Fisher methods (K of Eq. 100)' },
  seed: { type: 'number' as const, default: 1, describe: 'seed of the Monte-Carlo draws' },
  backend: { choices: BACKENDS, default: 'cpu' as const, describe: 'compute backend: cpu (Float64 reference), gpujs (gpu.js: headlessgl, else webasm; float32; UNITWISE_GPUJS_MODE forces a mode) or tfjs (TensorFlow.js, float32)' },
};

/** A comma-separated --methods list, or `fallback` when none is given; unknown names are a usage error. */
export function parseMethodList(text: string | undefined, fallback: MethodName[]): MethodName[] {
  if (text === undefined) return fallback;
  const names = String(text).split(',').map((m) => m.trim());
  const unknown = names.filter((m) => !isMethodName(m));
  if (unknown.length > 0) throw new UsageError([problem('methods', `--methods: unknown ${unknown.join(', ')}; available: ${METHODS.join(', ')}`)]);
  return names as MethodName[];
}

/** Loads the backend named on the command line and says which ran (on stderr) when it is not the CPU reference. */
export async function prepareBackend(name: string): Promise<string> {
  await useBackend(name);
  if (name !== 'cpu') process.stderr.write(`backend: ${backendInfo(name).detail}\n`);
  return name;
}

/** `--force` of the commands that write files. */
export const forceOption = {
  force: { type: 'boolean' as const, default: false, describe: 'replace existing read-only output files' },
};

/**
 * Refuses (UsageError) a method whose per-unit metric blocks the network cannot hold, before any
 * work, and prints the expected memory on stderr when it is large (see `checkCurvatureMemory`).
 */
export function guardCurvatureMemory(net: CompiledNetwork, methods: readonly MethodName[], options: { copies?: number; blocks?: boolean; quiet?: boolean } = {}): void {
  const full = methods.filter((m) => METHOD_SPECS[m].reduction === 'full');
  if (full.length === 0 && !options.blocks) return;
  const method = full.length === 0 ? 'the blocks quantity' : full.length === 1 ? full[0] : `the full-block methods (${full.join(', ')})`;
  const memory = checkCurvatureMemory(net, 'full', { method, copies: options.copies });
  if (memory?.notice && !options.quiet) process.stderr.write(memory.notice + '\n');
}
