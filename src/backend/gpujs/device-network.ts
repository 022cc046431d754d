import { UsageError, problem } from '../../errors.js';
import { ActivationCode, type CompiledNetwork } from '../../engine/compiled-network.js';
import type { MetricLayout } from '../kernels.js';
import { EXACT_INDEX_LIMIT } from './gpujs-mode.js';
import type { DeviceData } from './device-runtime.js';

/**
 * Units whose blocks are solved together, packed as [units × n × n] blocks of one size n (see
 * `device-curvature-sources.ts`): each block padded with the identity to n.
 */
export interface DeviceBlockGroup {
  /** Index of the group (`unitGroup` of its units). */
  readonly id: number;
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
  /** Per unit: activation kind (an {@link ActivationCode}; inputs: linear), gain, scale, shift, scale·gain (Def. 29). [nUnits] */
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
  /** Per unit: its block group, its index in the group and its block size n_k (-1, 0, 0 for inputs). [nUnits] */
  readonly unitGroup: DeviceData;
  readonly unitSlot: DeviceData;
  readonly unitSize: DeviceData;
  /** Per unit: k + 1 for every non-input unit, 0 for inputs (the mask "all units", in id order). [nUnits] */
  readonly allUnits: DeviceData;
  readonly groups: readonly DeviceBlockGroup[];
  /** Per level (index = level): whether it has hidden (non-output) units, whose b the backward pass computes. */
  readonly levelHasHidden: readonly boolean[];
  /**
   * Per level: one past the highest unit that this level or a lower one reads on the backward
   * pass (its levels' out-edge targets), at least the level's end: transfer-rate windows end there.
   */
  readonly windowEnd: readonly number[];
}

/** Block sizes with at least this many entries over their units are solved at their own size (2^20). */
export const PAD_ENTRIES = 1 << 20;

/**
 * The size a block of size n is padded to for the batched solves: the next of the ladder
 * ⌈2^(i/2)⌉ (1, 2, 3, 4, 6, 8, 12, 16, 23, 32, 46, 64, ...).
 * NOTE: a batched solve costs 3n/2 launches per block size (two Cholesky columns or two
 * substitution rows per launch), so exact sizes cost 1.5·Σ n over the distinct fan-ins (~444
 * launches on the Section 4 autoencoder); the √2 ladder bounds the sizes to a few (135 launches
 * there) for at most 2× the entries and 2.9× the arithmetic of a block.
 * That pays in headlessgl mode, where a launch costs far more than its threads, for block sizes
 * of fewer than {@link PAD_ENTRIES} entries in all; in webasm mode a launch is cheap and every
 * thread costs, so blocks are solved at their own size there.
 */
export function paddedSize(n: number): number {
  let i = 0;
  while (Math.ceil(2 ** (i / 2)) < n) i++;
  return Math.ceil(2 ** (i / 2));
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
 * the units by block size, padded to the {@link paddedSize} ladder when `pad` is set.
 */
export function deviceNetwork(net: CompiledNetwork, layout: MetricLayout, upload: (values: ArrayLike<number>) => DeviceData, pad: boolean): DeviceNetwork {
  const perUnit = (f: (k: number) => number) => upload(Float64Array.from({ length: net.nUnits }, (_, k) => f(k)));
  const nonEmpty = (values: ArrayLike<number>) => upload(values.length > 0 ? values : [0]);
  const gain = (k: number) => net.affine?.gain[k] ?? 1;
  const scale = (k: number) => net.affine?.scale[k] ?? 1;
  const size = (k: number) => net.blockOffsets[k + 1] - net.blockOffsets[k];
  const byN = new Map<number, number[]>();
  const units = new Map<number, number>();
  for (let k = net.nInputs; k < net.nUnits; k++) units.set(size(k), (units.get(size(k)) ?? 0) + 1);
  // NOTE: a size with many entries keeps its own size: its launches cost their threads, not the
  // launch, and the ladder would add up to 2× the threads (9 → 12: 1.8× at 10⁶ edges).
  const solved = (k: number) => (pad && (units.get(size(k)) ?? 0) * size(k) ** 2 < PAD_ENTRIES ? paddedSize(size(k)) : size(k));
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const n = solved(k);
    const ids = byN.get(n);
    // NOTE: push, not a spread copy per unit (that was O(nUnits²): minutes at 10⁵ units).
    if (ids) ids.push(k);
    else byN.set(n, [k]);
  }
  const slot = new Float64Array(net.nUnits);
  const group = new Float64Array(net.nUnits).fill(-1);
  const groups: DeviceBlockGroup[] = [];
  for (const [n, all] of [...byN].sort((a, b) => a[0] - b[0])) {
    // Packed groups stay within the exact-index limit (2^24 entries).
    const perGroup = Math.max(1, Math.floor(EXACT_INDEX_LIMIT / (n * n)));
    for (let u0 = 0; u0 < all.length; u0 += perGroup) {
      const ids = all.slice(u0, u0 + perGroup);
      ids.forEach((k, g) => {
        slot[k] = g;
        group[k] = groups.length;
      });
      groups.push({ id: groups.length, n, unitIds: Int32Array.from(ids), units: upload(ids) });
    }
  }
  const paramUnit = new Float64Array(net.nParams);
  for (let k = net.nInputs; k < net.nUnits; k++) paramUnit.fill(k, net.blockOffsets[k], net.blockOffsets[k + 1]);
  const levelHasHidden = Array.from({ length: net.levelOffsets.length - 1 }, (_, l) => {
    for (let k = net.levelOffsets[l]; k < net.levelOffsets[l + 1]; k++) if (net.outputIndex[k] < 0) return true;
    return false;
  });
  const windowEnd: number[] = [0];
  for (let l = 1, reach = 0; l < net.levelOffsets.length - 1; l++) {
    for (let e = net.outOffsets[net.levelOffsets[l]]; e < net.outOffsets[net.levelOffsets[l + 1]]; e++) reach = Math.max(reach, net.outTargets[e] + 1);
    windowEnd.push(Math.max(reach, net.levelOffsets[l + 1]));
  }
  return {
    inOffsets: upload(net.inOffsets),
    inSources: nonEmpty(net.inSources),
    outOffsets: upload(net.outOffsets),
    outTargets: nonEmpty(net.outTargets),
    outParams: nonEmpty(net.outParams),
    blockOffsets: upload(net.blockOffsets),
    matrixOffsets: upload(layout.matrixOffsets),
    kind: perUnit((k) => (net.activation[k] === ActivationCode.Input ? ActivationCode.Linear : net.activation[k])),
    gain: perUnit(gain),
    scale: perUnit(scale),
    shift: perUnit((k) => net.affine?.shift[k] ?? 0),
    gainScale: perUnit((k) => gain(k) * scale(k)),
    outputIndex: perUnit((k) => net.outputIndex[k]),
    outputUnits: nonEmpty(net.outputUnits),
    isTanh: nonEmpty(Array.from(net.outputUnits, (k) => Number(net.activation[k] === ActivationCode.Tanh))),
    paramUnit: nonEmpty(paramUnit),
    unitGroup: upload(group),
    unitSlot: upload(slot),
    unitSize: perUnit((k) => (k < net.nInputs ? 0 : size(k))),
    allUnits: perUnit((k) => (k < net.nInputs ? 0 : k + 1)),
    groups,
    levelHasHidden,
    windowEnd,
  };
}

/** Every device array of a {@link DeviceNetwork}, for freeing. */
export function deviceNetworkData(constants: DeviceNetwork): DeviceData[] {
  return [...Object.values(constants).filter((v): v is DeviceData => !Array.isArray(v)), ...constants.groups.map((g) => g.units)];
}

/**
 * The network's constants of the fused headlessgl kernels in ONE device array (`device-fused-sources.ts`):
 * [inOffsets | blockOffsets | outOffsets] ([nUnits + 1] each, from 0), then kind, gain, scale,
 * shift, gainScale, outputIndex ([nUnits] each, from 3·(nUnits + 1)), then the arrays at the
 * offsets below. Built on the device from {@link DeviceNetwork}'s arrays (no transfer).
 * NOTE: on llvmpipe every texture a kernel reads costs ~0.05–0.07 ms of draw time, whether or
 * not its threads read it; one table instead of up to nine arrays is most of a fused launch's cost.
 */
export interface PackedNetwork {
  readonly data: DeviceData;
  /** nUnits, and where inSources, outTargets, outParams, outputUnits (then isTanh) and paramUnit start. */
  readonly U: number;
  readonly inSources: number;
  readonly outTargets: number;
  readonly outParams: number;
  readonly outputUnits: number;
  readonly paramUnit: number;
}

/** Packs `c` into a {@link PackedNetwork} with `splice` launches (`launch` runs a kernel, `release` frees). */
export function packNetwork(
  net: CompiledNetwork,
  c: DeviceNetwork,
  launch: (name: 'fillValue' | 'splice', threads: number, ...args: (DeviceData | number)[]) => DeviceData,
  release: (data: DeviceData) => void,
): PackedNetwork {
  const U = net.nUnits;
  const E = Math.max(1, net.nEdges);
  const O = Math.max(1, net.nOutputs);
  const P = Math.max(1, net.nParams);
  const segments: [DeviceData, number][] = [
    [c.inOffsets, U + 1],
    [c.blockOffsets, U + 1],
    [c.outOffsets, U + 1],
    ...[c.kind, c.gain, c.scale, c.shift, c.gainScale, c.outputIndex].map((d): [DeviceData, number] => [d, U]),
    [c.inSources, E],
    [c.outTargets, E],
    [c.outParams, E],
    [c.outputUnits, O],
    [c.isTanh, O],
    [c.paramUnit, P],
  ];
  const total = segments.reduce((n, [, length]) => n + length, 0);
  let data = launch('fillValue', total, 0);
  const starts: number[] = [];
  let offset = 0;
  for (const [values, length] of segments) {
    const next = launch('splice', total, data, values, offset, length);
    release(data);
    data = next;
    starts.push(offset);
    offset += length;
  }
  return { data, U, inSources: starts[9], outTargets: starts[10], outParams: starts[11], outputUnits: starts[12], paramUnit: starts[14] };
}
