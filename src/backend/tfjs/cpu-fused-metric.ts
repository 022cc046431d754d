import type * as TF from '@tensorflow/tfjs-core';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { Workspace } from '../../engine/workspace.js';
import { buildTransferPlan, type TransferPlan } from '../../metrics/transfer-plan.js';
import { cpuMetricKernels } from '../cpu/cpu-metric-kernels.js';
import { destination, pieces, runWithPieces, whole } from './cpu-fused.js';
import { cpuStorage, registerCpuKernel } from './gather.js';
import type { RowPiece } from './tensor-buffer.js';

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
  const out = destination(attrs, 0, net.nUnits * size);
  out.fill(0); // the reference accumulates into a zeroed modulus
  const ws = { size, deriv: whole(net, pieces(backend, inputs, attrs, 'd', size), size, 'deriv') } as Workspace;
  const metric = { seeds: read('seeds') as Float64Array, beta: read('beta') as Float64Array, gamma: read('gamma'), betaExtra: read('betaExtra') };
  cpuMetricKernels.fisherModulus(net, plan, read('params') as Float64Array, ws, metric, out);
  return storage.makeTensorInfo([net.nUnits * size], 'float32', out as unknown as Float32Array);
}

/** The output metric's tensors as {@link fusedFisherModulus} takes them (`beta` undefined: 1). */
export interface FusedMetric {
  readonly seeds: TF.Tensor;
  readonly beta?: TF.Tensor;
  readonly gamma?: TF.Tensor;
  readonly betaExtra?: TF.Tensor;
}

/**
 * φ̃ [nUnits·size] on tfjs's cpu backend (see {@link cpuFisherModulus}), into `dest` when given;
 * `deriv` the derivative buffer's pieces (every row).
 */
export function fusedFisherModulus(tf: typeof TF, net: CompiledNetwork, size: number, params: TF.Tensor, deriv: readonly RowPiece[], metric: FusedMetric, dest?: Float32Array): TF.Tensor1D {
  registerCpuKernel(tf, CPU_FISHER_MODULUS, cpuFisherModulus as never);
  const extra = { seeds: metric.seeds, beta: metric.beta ?? tf.onesLike(metric.seeds), ...(metric.gamma ? { gamma: metric.gamma } : {}), ...(metric.betaExtra ? { betaExtra: metric.betaExtra } : {}) };
  return runWithPieces(tf, CPU_FISHER_MODULUS, params, { d: deriv }, { net, size }, [dest], extra)[0];
}
