import { UsageError, problem } from '../errors.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import { cpuBackend } from './cpu/cpu-backend.js';
import type { Backend, Engine } from './engine.js';

/** Loaded backends by name; the CPU reference is always there. */
const registry = new Map<string, Backend>([['cpu', cpuBackend]]);

/** Registers (or replaces) a backend under its name, or under another `name` (an alias, as 'tfjs' for the default tfjs backend). */
export function registerBackend(backend: Backend, name = backend.name): void {
  registry.set(name, backend);
}

/** The backend registered under `name`; a UsageError naming the loaded backends otherwise (see `useBackend`, which loads them). */
export function getBackend(name: string): Backend {
  const backend = registry.get(name);
  if (!backend) throw new UsageError([problem('backend', `backend '${name}' is not loaded; loaded: ${[...registry.keys()].join(', ')} (useBackend('${name}') loads it)`)]);
  return backend;
}

/** Names of the loaded backends. */
export function backendNames(): string[] {
  return [...registry.keys()];
}

/** Opens an engine of a loaded backend for a network and batch size. */
export function openEngine(name: string, net: CompiledNetwork, size: number): Engine {
  if (!(Number.isInteger(size) && size >= 1)) throw new UsageError([problem('batch-size', `an engine needs a positive integer batch size, not ${size}`)]);
  return getBackend(name).open(net, size);
}
