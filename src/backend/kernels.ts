import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { Workspace } from '../engine/workspace.js';

/**
 * The coarse batched kernels a backend implements. Each call covers one topological level
 * (a contiguous range of unit ids) for every sample of the batch, so a scheduler launches one
 * kernel per level, never one per unit or edge. Array layouts are those of {@link Workspace}.
 */
export interface Kernels {
  /** Backend name as given to `--backend`. */
  readonly name: string;
  /** Arithmetic precision; parity tests derive their tolerance from it. */
  readonly precision: 'float64' | 'float32';
  /** V, a and r (Eq. 2, 6) for units `start .. end-1`, whose incoming units are all computed. */
  forwardLevel(net: CompiledNetwork, params: Float64Array, ws: Workspace, start: number, end: number): void;
  /** ℓ per sample and b̃ of the output units (Eq. 3, 7, 9). `targets`: [nOutputs × size]. */
  outputLayer(net: CompiledNetwork, ws: Workspace, targets: Float64Array): void;
  /** b and b̃ (Eq. 5, 10) for the hidden units `start .. end-1`, whose outgoing units are all done. */
  backwardLevel(net: CompiledNetwork, params: Float64Array, ws: Workspace, start: number, end: number): void;
  /** G_ik = E_x a_i b̃_k (Eq. 8, 11, 19; minus the loss gradient) into `out`, laid out like params. */
  gradient(net: CompiledNetwork, ws: Workspace, out: Float64Array): void;
}

const registry = new Map<string, Kernels>();

/** Registers (or replaces) a backend's kernels under its name. */
export function registerBackend(kernels: Kernels): void {
  registry.set(kernels.name, kernels);
}

/** The kernels registered under `name`; throws RangeError naming the registered backends otherwise. */
export function getBackend(name: string): Kernels {
  const kernels = registry.get(name);
  if (!kernels) throw new RangeError(`unknown backend '${name}'; registered: ${[...registry.keys()].join(', ')}`);
  return kernels;
}

/** Names of the registered backends. */
export function backendNames(): string[] {
  return [...registry.keys()];
}
