import type { Backend } from '../../src/backend/engine.js';
import type { TfjsWebgpuChannel } from '../../src/backend/tfjs/tfjs-webgpu-channel.js';

/**
 * The tfjs-webgpu backend as dist/ builds it: its engines run in a worker thread from compiled
 * modules (`npm test` builds them first), as the threaded CPU engine's do. Its engines take
 * networks and batches made from src/ (plain data); only the errors they throw are dist/'s classes.
 */
export async function distTfjsWebgpu(): Promise<Backend> {
  const { useBackend } = (await import(new URL('../../dist/backend/load.js', import.meta.url).href)) as typeof import('../../src/backend/load.js');
  return useBackend('tfjs-webgpu');
}

/** The worker of dist/'s tfjs-webgpu engines (for its tensor count). */
export async function distTfjsWebgpuChannel(): Promise<TfjsWebgpuChannel> {
  const { tfjsWebgpuChannel } = (await import(new URL('../../dist/backend/tfjs/tfjs-webgpu-channel.js', import.meta.url).href)) as typeof import('../../src/backend/tfjs/tfjs-webgpu-channel.js');
  return tfjsWebgpuChannel();
}
