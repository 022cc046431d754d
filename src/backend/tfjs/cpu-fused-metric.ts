import type * as TF from '@tensorflow/tfjs-core';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { Workspace } from '../../engine/workspace.js';
import { buildTransferPlan, type TransferPlan } from '../../metrics/transfer-plan.js';
import { cpuMetricKernels } from '../cpu/cpu-metric-kernels.js';
import { cpuStorage, registerCpuKernel } from './gather.js';

/** Kernel name of the fused Fisher modulus on tfjs's cpu backend (registered on first use). */
export const CPU_FISHER_MODULUS = 'UnitwiseFisherModulus';

/** Transfer plans per network, built on first use (as the host engines build theirs). */
const plans = new WeakMap<CompiledNetwork, TransferPlan>();

type KernelArgs = { inputs: TF.NamedTensorInfoMap; backend: unknown; attrs?: TF.NamedAttrMap };

/**
 * The reduced Fisher modulus φ̃ (the reference's `fisherModulus`, Eq. 14-17) over the backend's
 * float32 arrays: params, deriv [nUnits × size], and the output metric (seeds, beta [nOutputs ×
 * size], gamma, betaExtra [size] when present); output φ̃ [nUnits × size] (inputs 0).
 * NOTE: the reference's scratch rows are float64 ([nUnits × size], one or two per call: 20-40 MB
 * at 10⁶ edges), against the 430 MB of op outputs the column passes of the tf-op route allocated.
 */
function cpuFisherModulus({ inputs, backend, attrs }: KernelArgs): TF.TensorInfo {
  const { net, size } = attrs as unknown as { net: CompiledNetwork; size: number };
  const storage = cpuStorage(backend);
  const read = (name: string) => (inputs[name] ? (storage.data.get((inputs[name] as TF.TensorInfo).dataId).values as unknown as Float64Array) : undefined);
  let plan = plans.get(net);
  if (!plan) plans.set(net, (plan = buildTransferPlan(net)));
  const out = new Float32Array(net.nUnits * size);
  const ws = { size, deriv: read('deriv') } as Workspace;
  const metric = { seeds: read('seeds') as Float64Array, beta: read('beta') as Float64Array, gamma: read('gamma'), betaExtra: read('betaExtra') };
  cpuMetricKernels.fisherModulus(net, plan, read('params') as Float64Array, ws, metric, out as unknown as Float64Array);
  return storage.makeTensorInfo([net.nUnits * size], 'float32', out);
}

/** The output metric's tensors as {@link fusedFisherModulus} takes them (`beta` undefined: 1). */
export interface FusedMetric {
  readonly seeds: TF.Tensor;
  readonly beta?: TF.Tensor;
  readonly gamma?: TF.Tensor;
  readonly betaExtra?: TF.Tensor;
}

/** φ̃ [nUnits·size] on tfjs's cpu backend (see {@link cpuFisherModulus}); `deriv` the whole derivative buffer. */
export function fusedFisherModulus(tf: typeof TF, net: CompiledNetwork, size: number, params: TF.Tensor, deriv: TF.Tensor, metric: FusedMetric): TF.Tensor1D {
  registerCpuKernel(tf, CPU_FISHER_MODULUS, cpuFisherModulus as never);
  const f32 = (t: TF.Tensor) => (t.dtype === 'float32' ? t : tf.cast(t, 'float32'));
  const inputs: TF.NamedTensorMap = { params: f32(params), deriv: f32(deriv), seeds: f32(metric.seeds), beta: f32(metric.beta ?? tf.onesLike(metric.seeds)) };
  if (metric.gamma) inputs.gamma = f32(metric.gamma);
  if (metric.betaExtra) inputs.betaExtra = f32(metric.betaExtra);
  return tf.engine().runKernel(CPU_FISHER_MODULUS, inputs, { net, size } as unknown as TF.NamedAttrMap) as TF.Tensor1D;
}
