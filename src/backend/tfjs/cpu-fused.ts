import type * as TF from '@tensorflow/tfjs-core';
import { UsageError, problem } from '../../errors.js';
import { activate, activateAffine } from '../../engine/activations.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { Workspace } from '../../engine/workspace.js';
import { cpuPropagationKernels } from '../cpu/cpu-kernels.js';
import { cpuUpdateKernels } from '../cpu/cpu-update-kernels.js';
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
export const CPU_QUASI_DIAGONAL_SOLVE = 'UnitwiseQuasiDiagonalSolve';

type KernelArgs = { inputs: TF.NamedTensorInfoMap; backend: unknown; attrs?: TF.NamedAttrMap };

/** Whether the fused kernels serve `tf`'s active backend (tfjs's plain JavaScript 'cpu' backend). */
export function onCpu(tf: typeof TF): boolean {
  return tf.getBackend() === 'cpu';
}

/** The float32 values behind a tensor of the cpu backend, typed as the reference kernels take them (they only index). */
function values(backend: unknown, t: TF.TensorInfo): Float64Array {
  return cpuStorage(backend).data.get(t.dataId).values as unknown as Float64Array;
}

/** The network handed to a fused kernel (an attribute: kernels are registered once per process). */
function network(attrs?: TF.NamedAttrMap): CompiledNetwork {
  return (attrs as unknown as { net: CompiledNetwork }).net;
}

/** Row-aligned pieces of unit-major buffers as kernel inputs `<group><i>`, and their first rows (`attrs.groups`). */
type PieceGroups = Record<string, readonly RowPiece[] | undefined>;

/** A group of pieces inside a kernel: their arrays, first rows and ends (one past their last rows). */
interface Pieces {
  readonly arrays: Float64Array[];
  readonly rows: readonly number[];
  readonly ends: number[];
}

function pieces(backend: unknown, inputs: TF.NamedTensorInfoMap, attrs: TF.NamedAttrMap | undefined, name: string, S: number): Pieces {
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
  const [pre, act, deriv] = [0, 0, 0].map(() => new Float32Array(count * S) as unknown as Float64Array);
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
  const make = () => new Float32Array(count * S) as unknown as Float64Array;
  const [back, reduced] = [make(), make()];
  const modulus = m ? make() : undefined;
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
 * G = E ā b̃ in the parameter layout (the reference's `gradient`), with `modulus` also the
 * quasi-diagonal entries (diagonal, and cross unless `attrs.cross` is false); inputs the whole
 * act, backReduced (and modulus) buffers [nUnits × size].
 */
function cpuGradient({ inputs, backend, attrs }: KernelArgs): TF.TensorInfo[] {
  const net = network(attrs);
  const { size, cross: withCross } = attrs as unknown as { size: number; cross: boolean };
  const ws = { size, act: values(backend, inputs.act as TF.TensorInfo), backReduced: values(backend, inputs.backReduced as TF.TensorInfo) } as Workspace;
  const make = () => new Float32Array(net.nParams) as unknown as Float64Array;
  const out = make();
  const results = [out];
  if (inputs.modulus) {
    const diagonal = make();
    const cross = withCross ? make() : undefined;
    cpuPropagationKernels.gradient(net, ws, out, { modulus: values(backend, inputs.modulus as TF.TensorInfo), diagonal, cross });
    results.push(diagonal);
    if (cross) results.push(cross);
  } else {
    cpuPropagationKernels.gradient(net, ws, out);
  }
  const storage = cpuStorage(backend);
  return results.map((v) => storage.makeTensorInfo([net.nParams], 'float32', v as unknown as Float32Array));
}

/** The quasi-diagonal step (the reference's `quasiDiagonalSolve`, Eq. 22-23) of [nParams] diagonal, cross, gradient. */
function cpuQuasiDiagonalSolve({ inputs, backend, attrs }: KernelArgs): TF.TensorInfo {
  const net = network(attrs);
  const epsilon = (attrs as unknown as { epsilon: number }).epsilon;
  const out = new Float32Array(net.nParams);
  const [d, c, g] = (['diagonal', 'cross', 'gradient'] as const).map((name) => values(backend, inputs[name] as TF.TensorInfo));
  cpuUpdateKernels.quasiDiagonalSolve(net, d, c, g, epsilon, out as unknown as Float64Array);
  return cpuStorage(backend).makeTensorInfo([net.nParams], 'float32', out);
}

/** float32 `t` (the engine's buffers are float32; a cast otherwise). */
function f32(tf: typeof TF, t: TF.Tensor): TF.Tensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

/** Runs fused kernel `name` with `params`, the pieces of `groups` and `attrs` (see {@link PieceGroups}). */
function runWithPieces(tf: typeof TF, name: string, params: TF.Tensor, groups: PieceGroups, attrs: Record<string, unknown>): TF.Tensor1D[] {
  const inputs: TF.NamedTensorMap = { params: f32(tf, params) };
  const rows: Record<string, number[]> = {};
  for (const [group, list] of Object.entries(groups)) {
    if (!list) continue;
    rows[group] = list.map((p) => p.row);
    list.forEach((p, i) => (inputs[`${group}${i}`] = f32(tf, p.tensor)));
  }
  return tf.engine().runKernel(name, inputs, { ...attrs, groups: rows } as unknown as TF.NamedAttrMap) as unknown as TF.Tensor1D[];
}

/**
 * pre, act and deriv [count·size] of the level of units start .. start+count-1 on the cpu
 * backend (see {@link cpuForwardLevel}); `sources` the act buffer's pieces covering the rows it reads.
 */
export function fusedForwardLevel(tf: typeof TF, net: CompiledNetwork, size: number, params: TF.Tensor, sources: readonly RowPiece[], start: number, count: number): TF.Tensor1D[] {
  registerCpuKernel(tf, CPU_FORWARD_LEVEL, cpuForwardLevel as never);
  return runWithPieces(tf, CPU_FORWARD_LEVEL, params, { a: sources }, { net, start, count, size });
}

/**
 * back, backReduced (and with `m` the modulus) [count·size] of the level of units
 * start .. start+count-1 on the cpu backend (see {@link cpuBackwardLevel}); pieces of deriv
 * (`d`, the level's rows), backReduced (`b`: its rows and those above), back (`k`: its rows) and
 * the modulus (`m`, as `b`).
 */
export function fusedBackwardLevel(tf: typeof TF, net: CompiledNetwork, size: number, params: TF.Tensor, groups: { d: readonly RowPiece[]; b: readonly RowPiece[]; k: readonly RowPiece[]; m?: readonly RowPiece[] }, start: number, count: number): TF.Tensor1D[] {
  registerCpuKernel(tf, CPU_BACKWARD_LEVEL, cpuBackwardLevel as never);
  return runWithPieces(tf, CPU_BACKWARD_LEVEL, params, groups, { net, start, count, size });
}

/** G (and with `modulus` the quasi-diagonal entries: diagonal, then cross when `cross`) on the cpu backend (see {@link cpuGradient}). */
export function fusedGradient(tf: typeof TF, net: CompiledNetwork, size: number, act: TF.Tensor, backReduced: TF.Tensor, modulus?: TF.Tensor, cross = true): TF.Tensor1D[] {
  registerCpuKernel(tf, CPU_GRADIENT, cpuGradient as never);
  const inputs: TF.NamedTensorMap = { act: f32(tf, act), backReduced: f32(tf, backReduced), ...(modulus ? { modulus: f32(tf, modulus) } : {}) };
  return tf.engine().runKernel(CPU_GRADIENT, inputs, { net, size, cross } as unknown as TF.NamedAttrMap) as unknown as TF.Tensor1D[];
}

/** The quasi-diagonal step [nParams] on the cpu backend (see {@link cpuQuasiDiagonalSolve}). */
export function fusedQuasiDiagonalSolve(tf: typeof TF, net: CompiledNetwork, diagonal: TF.Tensor, cross: TF.Tensor, gradient: TF.Tensor, epsilon: number): TF.Tensor1D {
  registerCpuKernel(tf, CPU_QUASI_DIAGONAL_SOLVE, cpuQuasiDiagonalSolve as never);
  const inputs = { diagonal: f32(tf, diagonal), cross: f32(tf, cross), gradient: f32(tf, gradient) };
  return tf.engine().runKernel(CPU_QUASI_DIAGONAL_SOLVE, inputs, { net, epsilon } as unknown as TF.NamedAttrMap) as TF.Tensor1D;
}
