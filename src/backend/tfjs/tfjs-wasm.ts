import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TF from '@tensorflow/tfjs-core';

/**
 * Initialises `@tensorflow/tfjs-backend-wasm` and says how it runs (for reports).
 *
 * The `.wasm` binaries ship in the package's `dist/` beside its Node entry point; they are
 * pointed at by file path (`setWasmPaths`, resolved through Node's module resolution) and read
 * from disk: nothing is fetched. tfjs picks the SIMD build when the runtime validates WebAssembly
 * SIMD (Node 20 does).
 *
 * NOTE: threads stay off in Node. tfjs-backend-wasm reports no multithreading under Node
 * (tensorflow/tfjs#3830), and forcing its `WASM_HAS_MULTITHREAD_SUPPORT` flag fails: the threaded
 * build starts its pthread workers from `blob:` URLs, which Node's `worker_threads` refuses
 * (ERR_WORKER_PATH), and initialisation fails.
 *
 * NOTE: every kernel the engine uses is registered by the wasm backend (it lacks
 * UnsortedSegmentSum, FFT, Einsum, complex numbers and some gradients of convolutions, none of
 * which the engine uses); the parity suites run on it. Its GatherV2 is slow, so the engine
 * gathers through GatherNd there (see `gatherRows`).
 */
export async function loadWasmBackend(tf: typeof TF): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(join(dirname(entry), '/'));
  if (!(await tf.setBackend('wasm'))) throw new Error(`tfjs: the wasm backend failed to initialise from ${dirname(entry)}`);
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threads = wasm.getThreadsCount();
  return [
    simd ? 'SIMD on' : 'SIMD off (this runtime does not validate WebAssembly SIMD)',
    threads > 1 ? `${threads} threads` : 'threads off (its threaded build starts workers from blob: URLs, which Node refuses)',
  ].join(', ');
}
