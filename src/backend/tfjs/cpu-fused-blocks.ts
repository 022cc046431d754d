import type * as TF from '@tensorflow/tfjs-core';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { Workspace } from '../../engine/workspace.js';
import { cpuMetricKernels } from '../cpu/cpu-metric-kernels.js';
import { cpuUpdateKernels } from '../cpu/cpu-update-kernels.js';
import { metricLayout } from '../kernels.js';
import { destination, f32, network, pieces, runWithPieces, whole, type KernelArgs } from './cpu-fused.js';
import { cpuStorage, registerCpuKernel } from './gather.js';
import type { RowPiece } from './tensor-buffer.js';

/** Kernel names of the fused per-unit block kernels on tfjs's cpu backend (registered on first use; see `cpu-fused.ts`). */
export const CPU_UNIT_BLOCKS = 'UnitwiseUnitBlocks';
export const CPU_SOLVE_UNIT_BLOCKS = 'UnitwiseSolveUnitBlocks';

/** Per-network float64 copies of the blocks that the solves factor in place (kept, as the scratch of `whole`). */
const work = new WeakMap<CompiledNetwork, Float64Array>();

/** A_ij = E ψ̃_k ā_i ā_j of every non-input unit in the metric layout (the reference's `accumulateUnitBlocks`); groups `a` (act) and `m` (modulus), every row. */
function cpuUnitBlocks({ inputs, backend, attrs }: KernelArgs): TF.TensorInfo {
  const net = network(attrs);
  const { size: S, length } = attrs as unknown as { size: number; length: number };
  const ws = { size: S, act: whole(net, pieces(backend, inputs, attrs, 'a', S), S, 'a') } as Workspace;
  const out = destination(attrs, 0, length);
  cpuMetricKernels.accumulateUnitBlocks(net, metricLayout(net), ws, whole(net, pieces(backend, inputs, attrs, 'm', S), S, 'm'), out);
  return cpuStorage(backend).makeTensorInfo([length], 'float32', out as unknown as Float32Array);
}

/**
 * δw = (A + εI)⁻¹ G per unit (the reference's `solveUnitBlocks`: Cholesky of a float64 copy of
 * the blocks); outputs δw [nParams] and [1]: -1, or the first unit whose block is not positive
 * definite (the solve stops there).
 */
function cpuSolveUnitBlocks({ inputs, backend, attrs }: KernelArgs): TF.TensorInfo[] {
  const net = network(attrs);
  const epsilon = (attrs as unknown as { epsilon: number }).epsilon;
  const storage = cpuStorage(backend);
  const [blocks, gradient] = [inputs.blocks, inputs.gradient].map((t) => storage.data.get((t as TF.TensorInfo).dataId).values);
  let copy = work.get(net);
  if (!copy || copy.length !== blocks.length) work.set(net, (copy = new Float64Array(blocks.length)));
  copy.set(blocks);
  const out = destination(attrs, 0, net.nParams);
  const failed = cpuUpdateKernels.solveUnitBlocks(net, metricLayout(net), copy, gradient as unknown as Float64Array, epsilon, out);
  return [storage.makeTensorInfo([net.nParams], 'float32', out as unknown as Float32Array), storage.makeTensorInfo([1], 'float32', Float32Array.of(failed))];
}

/**
 * The per-unit blocks [length] (the metric layout's) on the cpu backend (see {@link cpuUnitBlocks}),
 * into `dest` when given; pieces of act (`a`) and the modulus (`m`), every row.
 */
export function fusedUnitBlocks(tf: typeof TF, net: CompiledNetwork, size: number, length: number, groups: { a: readonly RowPiece[]; m: readonly RowPiece[] }, dest?: Float32Array): TF.Tensor1D {
  registerCpuKernel(tf, CPU_UNIT_BLOCKS, cpuUnitBlocks as never);
  return runWithPieces(tf, CPU_UNIT_BLOCKS, undefined, groups, { net, size, length }, [dest])[0];
}

/** δw [nParams] (into `dest` when given) and the failing unit [1] (-1: none) on the cpu backend (see {@link cpuSolveUnitBlocks}). */
export function fusedSolveUnitBlocks(tf: typeof TF, net: CompiledNetwork, blocks: TF.Tensor, gradient: TF.Tensor, epsilon: number, dest?: Float32Array): [TF.Tensor1D, TF.Tensor1D] {
  registerCpuKernel(tf, CPU_SOLVE_UNIT_BLOCKS, cpuSolveUnitBlocks as never);
  const [out, failed] = tf.engine().runKernel(CPU_SOLVE_UNIT_BLOCKS, { blocks: f32(tf, blocks), gradient: f32(tf, gradient) }, { net, epsilon, dest: [dest] } as unknown as TF.NamedAttrMap) as TF.Tensor1D[];
  return [out, failed];
}
