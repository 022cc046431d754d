import { UsageError, problem } from '../../errors.js';
import { ActivationCode, type CompiledNetwork } from '../../engine/compiled-network.js';
import type { MetricLayout } from '../kernels.js';
import { EXACT_INDEX_LIMIT } from './gpujs-mode.js';
import type { DeviceData } from './device-runtime.js';

/** Units whose blocks have one size n, packed for batched Cholesky (see `device-curvature-sources.ts`). */
export interface DeviceBlockGroup {
  readonly n: number;
  /** Unit ids of the group, ascending (host copy). */
  readonly unitIds: Int32Array;
  /** The same ids on the device. [units] */
  readonly units: DeviceData;
}

/**
 * A network's constant index arrays and per-unit constants on the device, uploaded once when an
 * engine opens (the engine counts these uploads then, not per iteration). Offsets and ids are
 * those of `CompiledNetwork`, as float32; every array has at least one entry (gpu.js has no
 * empty arrays).
 */
export interface DeviceNetwork {
  /** CSR of incoming edges: [nUnits + 1], [nEdges]. */
  readonly inOffsets: DeviceData;
  readonly inSources: DeviceData;
  /** CSR of outgoing edges: [nUnits + 1], [nEdges] (target unit, weight parameter). */
  readonly outOffsets: DeviceData;
  readonly outTargets: DeviceData;
  readonly outParams: DeviceData;
  /** Parameter blocks [nUnits + 1] and metric blocks (`metricLayout`) [nUnits + 1]. */
  readonly blockOffsets: DeviceData;
  readonly matrixOffsets: DeviceData;
  /** Per unit: activation kind (1 sigmoid, 2 tanh, 3 linear), gain, scale, shift, scale·gain (Def. 29). [nUnits] */
  readonly kind: DeviceData;
  readonly gain: DeviceData;
  readonly scale: DeviceData;
  readonly shift: DeviceData;
  readonly gainScale: DeviceData;
  /** Per unit its output index or -1 [nUnits]; per output its unit and whether it is tanh [nOutputs]. */
  readonly outputIndex: DeviceData;
  readonly outputUnits: DeviceData;
  readonly isTanh: DeviceData;
  /** Per parameter its unit. [nParams] */
  readonly paramUnit: DeviceData;
  /** Per unit: index in its block group and block size n (0 for inputs). [nUnits] */
  readonly unitSlot: DeviceData;
  readonly unitSize: DeviceData;
  /** Per unit: k + 1 for every non-input unit, 0 for inputs (the mask "all units", in id order). [nUnits] */
  readonly allUnits: DeviceData;
  readonly groups: readonly DeviceBlockGroup[];
  /** Per level (index = level): whether it has hidden (non-output) units, whose b the backward pass computes. */
  readonly levelHasHidden: readonly boolean[];
}

/** Refuses engines whose arrays float32 indices cannot address exactly (2^24 entries). */
export function checkDeviceSizes(net: CompiledNetwork, size: number): void {
  if ((net.nUnits + 1) * size > EXACT_INDEX_LIMIT) {
    throw new UsageError([
      problem('gpujs', `${net.nUnits} units × ${size} samples exceed 2^24 entries, the largest index float32 kernels address exactly; use smaller batches (mini-batch mode) or the cpu backend`),
    ]);
  }
  if (Math.max(net.nParams, net.nEdges) + 1 > EXACT_INDEX_LIMIT) {
    throw new UsageError([problem('gpujs', `${net.nParams} parameters exceed 2^24, the largest index float32 kernels address exactly; use the cpu backend`)]);
  }
}

/**
 * Builds and uploads the constants of `net` with `upload` (which counts the bytes) and groups
 * the units by block size.
 */
export function deviceNetwork(net: CompiledNetwork, layout: MetricLayout, upload: (values: ArrayLike<number>) => DeviceData): DeviceNetwork {
  const perUnit = (f: (k: number) => number) => upload(Float64Array.from({ length: net.nUnits }, (_, k) => f(k)));
  const nonEmpty = (values: ArrayLike<number>) => upload(values.length > 0 ? values : [0]);
  const gain = (k: number) => net.affine?.gain[k] ?? 1;
  const scale = (k: number) => net.affine?.scale[k] ?? 1;
  const size = (k: number) => net.blockOffsets[k + 1] - net.blockOffsets[k];
  const byN = new Map<number, number[]>();
  for (let k = net.nInputs; k < net.nUnits; k++) byN.set(size(k), [...(byN.get(size(k)) ?? []), k]);
  const slot = new Float64Array(net.nUnits);
  const groups = [...byN].map(([n, ids]): DeviceBlockGroup => {
    ids.forEach((k, g) => (slot[k] = g));
    return { n, unitIds: Int32Array.from(ids), units: upload(ids) };
  });
  const paramUnit = new Float64Array(net.nParams);
  for (let k = net.nInputs; k < net.nUnits; k++) paramUnit.fill(k, net.blockOffsets[k], net.blockOffsets[k + 1]);
  const levelHasHidden = Array.from({ length: net.levelOffsets.length - 1 }, (_, l) => {
    for (let k = net.levelOffsets[l]; k < net.levelOffsets[l + 1]; k++) if (net.outputIndex[k] < 0) return true;
    return false;
  });
  return {
    inOffsets: upload(net.inOffsets),
    inSources: nonEmpty(net.inSources),
    outOffsets: upload(net.outOffsets),
    outTargets: nonEmpty(net.outTargets),
    outParams: nonEmpty(net.outParams),
    blockOffsets: upload(net.blockOffsets),
    matrixOffsets: upload(layout.matrixOffsets),
    kind: perUnit((k) => (net.activation[k] === ActivationCode.Sigmoid ? 1 : net.activation[k] === ActivationCode.Tanh ? 2 : 3)),
    gain: perUnit(gain),
    scale: perUnit(scale),
    shift: perUnit((k) => net.affine?.shift[k] ?? 0),
    gainScale: perUnit((k) => gain(k) * scale(k)),
    outputIndex: perUnit((k) => net.outputIndex[k]),
    outputUnits: nonEmpty(net.outputUnits),
    isTanh: nonEmpty(Array.from(net.outputUnits, (k) => Number(net.activation[k] === ActivationCode.Tanh))),
    paramUnit: nonEmpty(paramUnit),
    unitSlot: upload(slot),
    unitSize: perUnit((k) => (k < net.nInputs ? 0 : size(k))),
    allUnits: perUnit((k) => (k < net.nInputs ? 0 : k + 1)),
    groups,
    levelHasHidden,
  };
}

/** Every device array of a {@link DeviceNetwork}, for freeing. */
export function deviceNetworkData(constants: DeviceNetwork): DeviceData[] {
  return [...Object.values(constants).filter((v): v is DeviceData => !Array.isArray(v)), ...constants.groups.map((g) => g.units)];
}
