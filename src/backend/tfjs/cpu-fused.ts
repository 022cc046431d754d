import type * as TF from '@tensorflow/tfjs-core';
import { UsageError, problem } from '../../errors.js';
import { activate, activateAffine } from '../../engine/activations.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { Workspace } from '../../engine/workspace.js';
import { cpuPropagationKernels } from '../cpu/cpu-kernels.js';
import { cpuStorage, registerCpuKernel } from './gather.js';
import type { RowPiece } from './tensor-buffer.js';

/*
 * Fused kernels of the tfjs engine on tfjs's cpu backend: whole engine steps as one registered
 * kernel each, which runs the CSR loops of the Float64 reference (or loops like them) over the
 * backend's float32 arrays and writes its outputs once.
 * NOTE: at 10⁶ edges an iteration of tf ops allocated 270-1,000 MB of fresh Float32Arrays (every
 * op's output, the gathers' [units × F × size] rows, the concatenated source rows); V8 counts
 * them as external memory and starts a full mark-compact of the whole heap (the network's
 * description included) each ~64 MB, which took most of an iteration. These kernels allocate
 * their outputs only. The other tfjs backends keep the tf-op route (their ops run in wasm or on
 * a device, without this collector cost); the callers take this route only while the active
 * backend is 'cpu' ({@link onCpu}).
 */

/** Kernel names (registered on first use). */
export const CPU_FORWARD_LEVEL = 'UnitwiseForwardLevel';
export const CPU_BACKWARD_LEVEL = 'UnitwiseBackwardLevel';
export const CPU_GRADIENT = 'UnitwiseGradient';

export type KernelArgs = { inputs: TF.NamedTensorInfoMap; backend: unknown; attrs?: TF.NamedAttrMap };

/** Whether the fused kernels serve `tf`'s active backend (tfjs's plain JavaScript 'cpu' backend). */
export function onCpu(tf: typeof TF): boolean {
  return tf.getBackend() === 'cpu';
}

/** The float32 values behind a tensor of the cpu backend, typed as the reference kernels take them (they only index). */
function values(backend: unknown, t: TF.TensorInfo): Float64Array {
  return cpuStorage(backend).data.get(t.dataId).values as unknown as Float64Array;
}

/** The network handed to a fused kernel (an attribute: kernels are registered once per process). */
export function network(attrs?: TF.NamedAttrMap): CompiledNetwork {
  return (attrs as unknown as { net: CompiledNetwork }).net;
}

/** The arrays a kernel writes its outputs into (`attrs.dest`, from `TensorBuffer.writable`; undefined: a fresh array). */
export function destination(attrs: TF.NamedAttrMap | undefined, i: number, length: number): Float64Array {
  const given = (attrs as unknown as { dest?: Array<Float32Array | undefined> }).dest?.[i];
  return (given ?? new Float32Array(length)) as unknown as Float64Array;
}

/** Per-network scratch arrays of {@link whole} (kept: a unit-major array of the network is assembled into the same array each call). */
const scratch = new WeakMap<CompiledNetwork, Map<string, Float32Array>>();

/**
 * Pieces covering rows 0 .. nUnits-1 as one unit-major array, for the reference's loops (which
 * index rows absolutely): the piece itself when there is one, else a copy into scratch `key`.
 * NOTE: the copy (10 MB at 10⁶ edges, a few ms) into a kept array is what replaces the engine's
 * concatenation of the pieces, a fresh array per read.
 */
export function whole(net: CompiledNetwork, p: Pieces, S: number, key: string): Float64Array {
  const length = net.nUnits * S;
  if (p.arrays.length === 1 && p.rows[0] === 0 && p.arrays[0].length === length) return p.arrays[0];
  let arrays = scratch.get(net);
  if (!arrays) scratch.set(net, (arrays = new Map()));
  let out = arrays.get(`${key}${length}`);
  if (!out) arrays.set(`${key}${length}`, (out = new Float32Array(length)));
  p.arrays.forEach((a, i) => out.set(a as unknown as Float32Array, p.rows[i] * S));
  return out as unknown as Float64Array;
}

/** Row-aligned pieces of unit-major buffers as kernel inputs `<group><i>`, and their first rows (`attrs.groups`). */
export type PieceGroups = Record<string, readonly RowPiece[] | undefined>;

/** A group of pieces inside a kernel: their arrays, first rows and ends (one past their last rows). */
export interface Pieces {
  readonly arrays: Float64Array[];
  readonly rows: readonly number[];
  readonly ends: number[];
}

export function pieces(backend: unknown, inputs: TF.NamedTensorInfoMap, attrs: TF.NamedAttrMap | undefined, name: string, S: number): Pieces {
  const rows = (attrs as unknown as { groups: Record<string, number[]> }).groups[name];
  const arrays = rows.map((_, i) => values(backend, inputs[`${name}${i}`] as TF.TensorInfo));
  return { arrays, rows, ends: rows.map((r, i) => r + arrays[i].length / S) };
}

/** The index of the piece holding row `u` (read by unit `k`); a typed error when none does. */
function locate(p: Pieces, u: number, k: number): number {
  let j = 0;
  while (j < p.rows.length && !(u >= p.rows[j] && u < p.ends[j])) j++;
  if (j === p.rows.length) throw new UsageError([problem('engine', `unit ${k} reads row ${u}, which no piece given to its level's kernel holds (an engine index is wrong)`)]);
  return j;
}

/** Copies row `u` of `p` into `out` at `at`. */
function copyRow(p: Pieces, u: number, S: number, out: Float64Array, at: number): void {
  const j = locate(p, u, u);
  const from = (u - p.rows[j]) * S;
  for (let s = 0; s < S; s++) out[at + s] = p.arrays[j][from + s];
}

/**
 * Forward pass of units start .. start+count-1 (the reference's loop, a level at a time): V
 * from the bias and the incoming edges, then a and r ({@link activate}); outputs pre, act,
 * deriv [count × S] each. The source activities arrive as row-aligned pieces of the act
 * buffer (group `a`), so that the level reads them without a concatenation.
 */
function cpuForwardLevel({ inputs, backend, attrs }: KernelArgs): TF.TensorInfo[] {
  const net = network(attrs);
  const { start, count, size: S } = attrs as unknown as { start: number; count: number; size: number };
  const params = values(backend, inputs.params as TF.TensorInfo);
  const a = pieces(backend, inputs, attrs, 'a', S);
  const [pre, act, deriv] = [0, 1, 2].map((i) => destination(attrs, i, count * S));
  const sum = new Float64Array(S);
  const { inOffsets, inSources, blockOffsets } = net;
  for (let i = 0; i < count; i++) {
    const k = start + i;
    let p = blockOffsets[k];
    sum.fill(params[p++]);
    for (let e = inOffsets[k]; e < inOffsets[k + 1]; e++, p++) {
      const u = inSources[e];
      const j = locate(a, u, k);
      const from = a.arrays[j];
      const src = (u - a.rows[j]) * S;
      const w = params[p];
      for (let s = 0; s < S; s++) sum[s] += w * from[src + s];
    }
    const row = i * S;
    for (let s = 0; s < S; s++) pre[row + s] = sum[s];
    if (net.affine) activateAffine(net.activation[k], net.affine.gain[k], net.affine.scale[k], net.affine.shift[k], pre, act, deriv, row, S);
    else activate(net.activation[k], pre, act, deriv, row, S);
  }
  const storage = cpuStorage(backend);
  return [pre, act, deriv].map((v) => storage.makeTensorInfo([count * S], 'float32', v as unknown as Float32Array));
}

/**
 * Backward pass of units start .. start+count-1 (Eq. 5, 10, 26, as the reference's
 * `backwardLevel`): b = Σ_j w_kj b̃_j, b̃ = r b, and with group `m` m̃ = r² Σ_j w_kj² m̃_j, from
 * pieces of deriv (`d`), backReduced (`b`), back (`k`) and the modulus (`m`); output units keep
 * their rows (copied). Outputs back, backReduced (and modulus) [count × S].
 */
function cpuBackwardLevel({ inputs, backend, attrs }: KernelArgs): TF.TensorInfo[] {
  const net = network(attrs);
  const { start, count, size: S, groups } = attrs as unknown as { start: number; count: number; size: number; groups: Record<string, number[]> };
  const params = values(backend, inputs.params as TF.TensorInfo);
  const [d, b, k0] = ['d', 'b', 'k'].map((name) => pieces(backend, inputs, attrs, name, S));
  const m = groups.m ? pieces(backend, inputs, attrs, 'm', S) : undefined;
  const [back, reduced] = [0, 1].map((i) => destination(attrs, i, count * S));
  const modulus = m ? destination(attrs, 2, count * S) : undefined;
  const [sumB, sumM] = [new Float64Array(S), new Float64Array(S)];
  const { outOffsets, outTargets, outParams } = net;
  for (let i = 0; i < count; i++) {
    const k = start + i;
    const row = i * S;
    if (net.outputIndex[k] >= 0) {
      copyRow(k0, k, S, back, row);
      copyRow(b, k, S, reduced, row);
      if (m && modulus) copyRow(m, k, S, modulus, row);
      continue;
    }
    sumB.fill(0);
    sumM.fill(0);
    for (let e = outOffsets[k]; e < outOffsets[k + 1]; e++) {
      const w = params[outParams[e]];
      const u = outTargets[e];
      const j = locate(b, u, k);
      const from = b.arrays[j];
      const src = (u - b.rows[j]) * S;
      for (let s = 0; s < S; s++) sumB[s] += w * from[src + s];
      if (m) {
        const q = locate(m, u, k);
        const mFrom = m.arrays[q];
        const mSrc = (u - m.rows[q]) * S;
        for (let s = 0; s < S; s++) sumM[s] += w * w * mFrom[mSrc + s];
      }
    }
    const jd = locate(d, k, k);
    const r0 = (k - d.rows[jd]) * S;
    const r = d.arrays[jd];
    for (let s = 0; s < S; s++) {
      back[row + s] = sumB[s];
      reduced[row + s] = r[r0 + s] * sumB[s];
      if (modulus) modulus[row + s] = r[r0 + s] * r[r0 + s] * sumM[s];
    }
  }
  const storage = cpuStorage(backend);
  return [back, reduced, ...(modulus ? [modulus] : [])].map((v) => storage.makeTensorInfo([count * S], 'float32', v as unknown as Float32Array));
}

/**
 * G = E ā b̃ in the parameter layout (the reference's `gradient`), with group `m` also the
 * quasi-diagonal entries (diagonal, and cross unless `attrs.cross` is false); groups `a` and
 * `b`: the act and backReduced buffers (every row), `m` the modulus.
 */
function cpuGradient({ inputs, backend, attrs }: KernelArgs): TF.TensorInfo[] {
  const net = network(attrs);
  const { size: S, cross: withCross, groups } = attrs as unknown as { size: number; cross: boolean; groups: Record<string, number[]> };
  const read = (name: string) => whole(net, pieces(backend, inputs, attrs, name, S), S, name);
  const ws = { size: S, act: read('a'), backReduced: read('b') } as Workspace;
  const out = destination(attrs, 0, net.nParams);
  const results = [out];
  if (groups.m) {
    const diagonal = destination(attrs, 1, net.nParams);
    const cross = withCross ? destination(attrs, 2, net.nParams) : undefined;
    cpuPropagationKernels.gradient(net, ws, out, { modulus: read('m'), diagonal, cross });
    results.push(diagonal);
    if (cross) results.push(cross);
  } else {
    cpuPropagationKernels.gradient(net, ws, out);
  }
  const storage = cpuStorage(backend);
  return results.map((v) => storage.makeTensorInfo([net.nParams], 'float32', v as unknown as Float32Array));
}

/** float32 `t` (the engine's buffers are float32; a cast otherwise). */
export function f32(tf: typeof TF, t: TF.Tensor): TF.Tensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

/** Output arrays of a fused kernel: for each output, the array to write it into (`TensorBuffer.writable`) or undefined (a fresh one). */
export type Destinations = ReadonlyArray<Float32Array | undefined>;

/** Runs fused kernel `name` with `params`, the pieces of `groups`, the `extra` inputs and `attrs` (see {@link PieceGroups}), writing into `dest`. */
export function runWithPieces(tf: typeof TF, name: string, params: TF.Tensor | undefined, groups: PieceGroups, attrs: Record<string, unknown>, dest: Destinations, extra: TF.NamedTensorMap = {}): TF.Tensor1D[] {
  const inputs: TF.NamedTensorMap = params ? { params: f32(tf, params) } : {};
  for (const [key, t] of Object.entries(extra)) inputs[key] = f32(tf, t);
  const rows: Record<string, number[]> = {};
  for (const [group, list] of Object.entries(groups)) {
    if (!list) continue;
    rows[group] = list.map((p) => p.row);
    list.forEach((p, i) => (inputs[`${group}${i}`] = f32(tf, p.tensor)));
  }
  const result = tf.engine().runKernel(name, inputs, { ...attrs, groups: rows, dest } as unknown as TF.NamedAttrMap) as TF.Tensor1D | TF.Tensor1D[];
  return Array.isArray(result) ? result : [result];
}

/**
 * pre, act and deriv [count·size] of the level of units start .. start+count-1 on the cpu
 * backend (see {@link cpuForwardLevel}); `sources` the act buffer's pieces covering the rows it reads.
 */
export function fusedForwardLevel(tf: typeof TF, net: CompiledNetwork, size: number, params: TF.Tensor, sources: readonly RowPiece[], start: number, count: number, dest: Destinations): TF.Tensor1D[] {
  registerCpuKernel(tf, CPU_FORWARD_LEVEL, cpuForwardLevel as never);
  return runWithPieces(tf, CPU_FORWARD_LEVEL, params, { a: sources }, { net, start, count, size }, dest);
}

/**
 * back, backReduced (and with `m` the modulus) [count·size] of the level of units
 * start .. start+count-1 on the cpu backend (see {@link cpuBackwardLevel}); pieces of deriv
 * (`d`, the level's rows), backReduced (`b`: its rows and those above), back (`k`: its rows) and
 * the modulus (`m`, as `b`).
 */
export function fusedBackwardLevel(tf: typeof TF, net: CompiledNetwork, size: number, params: TF.Tensor, groups: { d: readonly RowPiece[]; b: readonly RowPiece[]; k: readonly RowPiece[]; m?: readonly RowPiece[] }, start: number, count: number, dest: Destinations): TF.Tensor1D[] {
  registerCpuKernel(tf, CPU_BACKWARD_LEVEL, cpuBackwardLevel as never);
  return runWithPieces(tf, CPU_BACKWARD_LEVEL, params, groups, { net, start, count, size }, dest);
}

/**
 * G (and with `m` the quasi-diagonal entries: diagonal, then cross when `cross`) [nParams] on the
 * cpu backend (see {@link cpuGradient}); pieces of act (`a`), backReduced (`b`) and the modulus (`m`), every row.
 */
export function fusedGradient(tf: typeof TF, net: CompiledNetwork, size: number, groups: { a: readonly RowPiece[]; b: readonly RowPiece[]; m?: readonly RowPiece[] }, cross: boolean, dest: Destinations): TF.Tensor1D[] {
  registerCpuKernel(tf, CPU_GRADIENT, cpuGradient as never);
  return runWithPieces(tf, CPU_GRADIENT, undefined, groups, { net, size, cross }, dest);
}
