import { UsageError, problem } from '../../errors.js';
import type * as TF from '@tensorflow/tfjs-core';

/** The custom kernel of {@link gatherRows} on tfjs's cpu backend (registered on first use). */
export const CPU_GATHER_ROWS = 'UnitwiseGatherRows';

/** A tfjs kernel function as the engine's cpu kernels are written. */
type CpuKernel = (args: { inputs: TF.NamedTensorInfoMap; backend: unknown; attrs?: TF.NamedAttrMap }) => TF.TensorInfo;

/** What the engine's cpu kernels use of tfjs-backend-cpu's `MathBackendCPU`: its tensor storage. */
interface CpuStorage {
  data: { get(dataId: object): { values: ArrayLike<number> & { constructor: new (length: number) => Float32Array | Int32Array | Uint8Array } } };
  makeTensorInfo(shape: number[], dtype: TF.DataType, values: Float32Array | Int32Array | Uint8Array): TF.TensorInfo;
}

/** The tensor storage of tfjs's cpu backend (the `backend` a kernel function receives). */
export function cpuStorage(backend: unknown): CpuStorage {
  return backend as CpuStorage;
}

/** Registers `kernel` as `name` on tfjs's cpu backend, once per process (the registry is global). */
export function registerCpuKernel(tf: typeof TF, name: string, kernel: CpuKernel): void {
  if (!tf.getKernel(name, 'cpu')) tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc: kernel as unknown as TF.KernelFunc });
}

/** `row` when it indexes one of `rows` rows; otherwise a typed error (an engine index tensor is wrong), as GatherV2 refuses it. */
export function checkedRow(row: number, rows: number): number {
  if (!(row >= 0 && row < rows)) throw new UsageError([problem('engine', `gather index ${row} outside the ${rows} rows of a tensor (an engine index tensor is wrong)`)]);
  return row;
}

/** `t` itself when it has `dtype`, else a cast. */
export function withDtype<T extends TF.Tensor>(tf: typeof TF, t: T, dtype: TF.DataType): T {
  return t.dtype === dtype ? t : tf.cast(t, dtype);
}

/**
 * The cpu backend's kernel of {@link gatherRows}: for each index i, row `indices[i]` of `x`
 * (x.shape[1:] numbers) copied with one loop.
 */
function cpuGatherRows({ inputs, backend }: { inputs: TF.NamedTensorInfoMap; backend: unknown }): TF.TensorInfo {
  const { x, indices } = inputs as { x: TF.TensorInfo; indices: TF.TensorInfo };
  const storage = cpuStorage(backend);
  const from = storage.data.get(x.dataId).values;
  const index = storage.data.get(indices.dataId).values;
  const rows = x.shape[0];
  const width = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new from.constructor(index.length * width);
  for (let i = 0; i < index.length; i++) {
    const src = checkedRow(index[i], rows) * width;
    const dst = i * width;
    for (let j = 0; j < width; j++) out[dst + j] = from[src + j];
  }
  return storage.makeTensorInfo([...indices.shape, ...x.shape.slice(1)], x.dtype, out);
}

/**
 * `x` indexed along its first axis by `indices` (`tf.gather(x, indices)`): shape
 * indices.shape ++ x.shape[1:].
 *
 * NOTE: tfjs's own gathers compute a multi-index per number moved on the cpu backend (GatherV2:
 * `indexToLoc` and array copies per number, about 1 µs each, 80% of a backprop iteration at
 * 10⁶ edges) and on wasm (GatherV2, about 100 ns each). On wasm, GatherNd with indices
 * [..., 1] copies whole rows: 20-40x faster on the engine's row gathers (rows of `size`
 * samples) and on element gathers alike; on the cpu backend GatherNd is slower still, so there
 * the engine registers its own row-copy kernel ({@link CPU_GATHER_ROWS}, a plain loop over the
 * backend's typed arrays, like tfjs's own cpu kernels). Other backends use GatherV2.
 */
export function gatherRows<R extends TF.Rank = TF.Rank>(tf: typeof TF, x: TF.Tensor, indices: TF.Tensor): TF.Tensor<R> {
  const backend = tf.getBackend();
  if (indices.size === 0 || (backend !== 'wasm' && backend !== 'cpu')) return tf.gather(x, indices) as TF.Tensor<R>;
  if (backend === 'wasm') return tf.gatherND(x, tf.expandDims(indices, -1)) as TF.Tensor<R>;
  registerCpuKernel(tf, CPU_GATHER_ROWS, cpuGatherRows);
  return tf.engine().runKernel<TF.Tensor>(CPU_GATHER_ROWS, { x, indices: withDtype(tf, indices, 'int32') }) as TF.Tensor<R>;
}
