import { UsageError, problem } from '../../errors.js';
import { ActivationCode, type CompiledNetwork } from '../../engine/compiled-network.js';
import { paddedNetwork, perNetwork, type PaddedLevel, type ParameterMaps } from '../padded-lists.js';
import { EXACT_INDEX_LIMIT } from './gpu.js';

/** One level's index arrays and per-unit constants, as the float32 arrays gpu.js kernels take. */
export interface GpuLevel {
  readonly level: PaddedLevel;
  readonly inSource: Float32Array;
  readonly inParam: Float32Array;
  readonly biasParam: Float32Array;
  readonly outTarget: Float32Array;
  readonly outParam: Float32Array;
  /** [count]: bias index nParams (the zero weight), for sums without a bias. */
  readonly noBias: Float32Array;
  /** [count]: activation code, gain, scale, shift and scale·gain per unit (Def. 29 wrapping). */
  readonly code: Float32Array;
  readonly gain: Float32Array;
  readonly ones: Float32Array;
  readonly scale: Float32Array;
  readonly shift: Float32Array;
  readonly gainScale: Float32Array;
  /** [count]: output index of each unit, or -1. */
  readonly column: Float32Array;
}

/** Units with blocks of size n, split so that a batch of blocks stays below the exact-index limit. */
export interface GpuBlockGroup {
  readonly n: number;
  readonly units: Int32Array;
  readonly unitsF: Float32Array;
  readonly rows: Float32Array;
}

/** Everything the gpu.js kernels index with, per network. */
export interface GpuNetwork extends ParameterMaps<Float32Array> {
  readonly levels: readonly GpuLevel[];
  readonly blockGroups: readonly GpuBlockGroup[];
  /** [nOutputs]: 1 for tanh output units. */
  readonly outputIsTanh: Float32Array;
}

/** The float32 index arrays of a network. */
export const gpuNetwork: (net: CompiledNetwork) => GpuNetwork = perNetwork(build);

function build(net: CompiledNetwork): GpuNetwork {
  const padded = paddedNetwork(net);
  const f32 = (values: ArrayLike<number>) => Float32Array.from(values);
  const levels = padded.levels.map((level): GpuLevel => {
    const per = (f: (k: number) => number) => Float32Array.from({ length: level.count }, (_, i) => f(level.start + i));
    const gain = per((k) => net.affine?.gain[k] ?? 1);
    const scale = per((k) => net.affine?.scale[k] ?? 1);
    return {
      level,
      inSource: f32(level.inSource),
      inParam: f32(level.inParam),
      biasParam: f32(level.biasParam),
      outTarget: f32(level.outTarget),
      outParam: f32(level.outParam),
      noBias: new Float32Array(level.count).fill(net.nParams),
      code: per((k) => (net.activation[k] === ActivationCode.Sigmoid ? 1 : net.activation[k] === ActivationCode.Tanh ? 2 : 3)),
      gain,
      ones: new Float32Array(level.count).fill(1),
      scale,
      shift: per((k) => net.affine?.shift[k] ?? 0),
      gainScale: gain.map((g, i) => g * scale[i]),
      column: per((k) => net.outputIndex[k]),
    };
  });
  const blockGroups: GpuBlockGroup[] = [];
  for (const g of padded.blockGroups) {
    const perBatch = Math.max(1, Math.floor(EXACT_INDEX_LIMIT / (g.n * g.n)));
    for (let u0 = 0; u0 < g.units.length; u0 += perBatch) {
      const units = g.units.subarray(u0, u0 + perBatch);
      blockGroups.push({ n: g.n, units, unitsF: f32(units), rows: f32(g.rows.subarray(u0 * g.n, (u0 + units.length) * g.n)) });
    }
  }
  return {
    levels,
    paramUnit: f32(padded.paramUnit),
    paramSource: f32(padded.paramSource),
    paramBias: f32(padded.paramBias),
    paramBlockLast: f32(padded.paramBlockLast),
    blockGroups,
    outputIsTanh: Float32Array.from(net.outputUnits, (k) => Number(net.activation[k] === ActivationCode.Tanh)),
  };
}

/** The level holding unit `start`. */
export function gpuLevelAt(gnet: GpuNetwork, start: number): GpuLevel {
  const found = gnet.levels.find((l) => l.level.start === start);
  if (!found) throw new RangeError(`no level starts at unit ${start}`);
  return found;
}

/** Refuses unit-major arrays whose flat indices float32 cannot hold exactly. */
export function checkExact(net: CompiledNetwork, size: number): void {
  if ((net.nUnits + 1) * size > EXACT_INDEX_LIMIT) {
    throw new UsageError([
      problem('gpujs', `${net.nUnits} units × ${size} samples exceed 2^24 entries, the largest index float32 kernels address exactly; use smaller batches (mini-batch mode) or the cpu backend`),
    ]);
  }
}

/**
 * rows × size entries of a unit-major array as float32, with `extraRows` rows of `fill`
 * appended (the zero padding row, or the row of ones that bias parameters read).
 */
export function rowsF32(values: Float64Array, rows: number, size: number, extraRows = 0, fill = 0): Float32Array {
  const out = new Float32Array((rows + extraRows) * size);
  const n = rows * size;
  for (let i = 0; i < n; i++) out[i] = values[i];
  if (fill !== 0) out.fill(fill, n);
  return out;
}

/** The parameters as float32 with a trailing zero (the padding weight). */
export function paramsF32(params: Float64Array): Float32Array {
  const out = new Float32Array(params.length + 1);
  out.set(params);
  return out;
}

/** Columns s0 .. s0+width-1 of a [rows × size] unit-major array, as float32 [rows × width]. */
export function columnsF32(values: Float64Array | Float32Array, rows: number, size: number, s0: number, width: number, extraRows = 0): Float32Array {
  const out = new Float32Array((rows + extraRows) * width);
  for (let k = 0; k < rows; k++) for (let s = 0; s < width; s++) out[k * width + s] = values[k * size + s0 + s];
  return out;
}
