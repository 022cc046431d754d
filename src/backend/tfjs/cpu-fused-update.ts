import type * as TF from '@tensorflow/tfjs-core';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { cpuUpdateKernels } from '../cpu/cpu-update-kernels.js';
import { destination, f32, network, type KernelArgs } from './cpu-fused.js';
import { cpuStorage, registerCpuKernel } from './gather.js';

/** Kernel names of the fused update steps on tfjs's cpu backend (registered on first use; see `cpu-fused.ts`). */
export const CPU_QUASI_DIAGONAL_SOLVE = 'UnitwiseQuasiDiagonalSolve';
export const CPU_COMBINE = 'UnitwiseCombine';

/** The float32 values behind a tensor of the cpu backend, typed as the reference kernels take them. */
function values(backend: unknown, t: TF.TensorInfo): Float64Array {
  return cpuStorage(backend).data.get(t.dataId).values as unknown as Float64Array;
}

/** The quasi-diagonal step (the reference's `quasiDiagonalSolve`, Eq. 22-23) of [nParams] diagonal, cross, gradient. */
function cpuQuasiDiagonalSolve({ inputs, backend, attrs }: KernelArgs): TF.TensorInfo {
  const net = network(attrs);
  const epsilon = (attrs as unknown as { epsilon: number }).epsilon;
  const out = destination(attrs, 0, net.nParams);
  const [d, c, g] = (['diagonal', 'cross', 'gradient'] as const).map((name) => values(backend, inputs[name] as TF.TensorInfo));
  cpuUpdateKernels.quasiDiagonalSolve(net, d, c, g, epsilon, out);
  return cpuStorage(backend).makeTensorInfo([net.nParams], 'float32', out as unknown as Float32Array);
}

/** out = α x + β y elementwise (in float64, rounded once); `out` may be x's or y's own array (each entry is read before it is written). */
function cpuCombine({ inputs, backend, attrs }: KernelArgs): TF.TensorInfo {
  const { alpha, beta } = attrs as unknown as { alpha: number; beta: number };
  const [x, y] = [inputs.x, inputs.y].map((t) => values(backend, t as TF.TensorInfo));
  const out = destination(attrs, 0, x.length);
  for (let i = 0; i < x.length; i++) out[i] = alpha * x[i] + beta * y[i];
  return cpuStorage(backend).makeTensorInfo([x.length], 'float32', out as unknown as Float32Array);
}

/** The quasi-diagonal step [nParams] on the cpu backend (see {@link cpuQuasiDiagonalSolve}), into `dest` when given. */
export function fusedQuasiDiagonalSolve(tf: typeof TF, net: CompiledNetwork, diagonal: TF.Tensor, cross: TF.Tensor, gradient: TF.Tensor, epsilon: number, dest?: Float32Array): TF.Tensor1D {
  registerCpuKernel(tf, CPU_QUASI_DIAGONAL_SOLVE, cpuQuasiDiagonalSolve as never);
  const inputs = { diagonal: f32(tf, diagonal), cross: f32(tf, cross), gradient: f32(tf, gradient) };
  return tf.engine().runKernel(CPU_QUASI_DIAGONAL_SOLVE, inputs, { net, epsilon, dest: [dest] } as unknown as TF.NamedAttrMap) as TF.Tensor1D;
}

/** α x + β y (see {@link cpuCombine}) on the cpu backend, into `dest` when given (`TensorBuffer.writable`). */
export function fusedCombine(tf: typeof TF, alpha: number, x: TF.Tensor, beta: number, y: TF.Tensor, dest?: Float32Array): TF.Tensor1D {
  registerCpuKernel(tf, CPU_COMBINE, cpuCombine as never);
  return tf.engine().runKernel(CPU_COMBINE, { x: f32(tf, x), y: f32(tf, y) }, { alpha, beta, dest: [dest] } as unknown as TF.NamedAttrMap) as TF.Tensor1D;
}
