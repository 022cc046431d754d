import type * as TF from '@tensorflow/tfjs-core';

/** The TensorFlow.js namespace in use, and which implementation runs it. */
export interface TfjsRuntime {
  tf: typeof TF;
  /** The package that provides the backend ('@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node' or '@tensorflow/tfjs-backend-cpu'). */
  provider: string;
  /** tf.getBackend(): 'tensorflow' (native) or 'cpu'. */
  backend: string;
}

let runtime: TfjsRuntime | undefined;

/**
 * Loads TensorFlow.js once: the native `tensorflow` backend when `@tensorflow/tfjs-node-gpu` or
 * `@tensorflow/tfjs-node` is importable (the GPU route for users who can install them; their
 * install step downloads libtensorflow, which this project's machines cannot), else tfjs-core
 * with its pure-JavaScript `cpu` backend. Production mode silences tfjs's advice to install the
 * native binding; which route ran is reported instead.
 */
export async function loadTfjs(): Promise<TfjsRuntime> {
  if (runtime) return runtime;
  for (const provider of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      const tf = (await import(provider)) as typeof TF;
      await tf.ready();
      runtime = { tf, provider, backend: tf.getBackend() };
      return runtime;
    } catch {
      // Not installed: try the next route.
    }
  }
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  tf.enableProdMode();
  await tf.setBackend('cpu');
  runtime = { tf, provider: '@tensorflow/tfjs-backend-cpu', backend: tf.getBackend() };
  return runtime;
}
