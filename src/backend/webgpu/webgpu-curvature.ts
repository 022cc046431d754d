import { UsageError, problem } from '../../errors.js';
import type { DeviceBuffer, EngineWorkspace } from '../engine.js';
import type { WebgpuBuffer } from './webgpu-memory.js';
import type { WebgpuEngine } from './webgpu-engine.js';
import { blocksTimesVectorKernel, invertBlocksKernel, onlineStepKernel, solveBlocksKernel, unitBlocksKernel } from './wgsl-curvature.js';

/**
 * The curvature phase of the WebGPU engine (kernels in `wgsl-curvature.ts`): per-unit blocks,
 * their Cholesky solves and inverses, H G, and the online step. Failures and refusals come back
 * as one number (the smallest positive flag, or the count of refusals); only when that count is
 * not zero are the per-unit flags read (nUnits numbers).
 */

/** Per-unit blocks A_ij = E_x ψ̃_k ā_i ā_j of every non-input unit (metricLayout). */
export function unitBlocks(engine: WebgpuEngine, ws: EngineWorkspace, modulus: DeviceBuffer, blocks: DeviceBuffer): void {
  engine.launch(unitBlocksKernel, blocks.length, [engine.dev(ws.act), engine.dev(modulus), engine.table, engine.dev(blocks)], [engine.size]);
}

/**
 * δw = (A + εI)⁻¹ G per unit into `out`, factorising in `work` (a copy of `blocks`, which are
 * left unchanged); -1 or the first unit whose block is not positive definite (then the `out`
 * entries of every failing unit are left as they were, and those of the others are solved).
 */
export function solveUnitBlocks(engine: WebgpuEngine, blocks: DeviceBuffer, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer, work: DeviceBuffer): number {
  if (epsilon === 0) {
    throw new UsageError([problem('epsilon', 'the webgpu backend solves per-unit blocks by Cholesky in float32 and needs ε > 0; use the cpu backend for the least-squares solves of ε = 0')]);
  }
  if (work.length < blocks.length) throw new UsageError([problem('engine', `solveUnitBlocks: a work buffer of ${work.length} for blocks of ${blocks.length}`)]);
  const { net } = engine;
  engine.copyRange(engine.dev(blocks), engine.dev(work), blocks.length);
  engine.launch(solveBlocksKernel, net.nUnits - net.nInputs, [engine.dev(work), engine.dev(gradient), engine.table, engine.dev(out), engine.flags], [net.nInputs, epsilon]);
  const first = engine.reduce(engine.flags, 'minPositive');
  return first > 0 ? Math.round(first) - 1 : -1;
}

/**
 * The mask of a unit list ([nUnits]: the 1-based position of each listed non-input unit, 0
 * elsewhere), uploaded (counted); without a list, the engine's mask of every non-input unit.
 */
function unitMask(engine: WebgpuEngine, units?: readonly number[]): WebgpuBuffer {
  if (!units) return engine.allUnits;
  const mask = new Float32Array(engine.net.nUnits);
  units.forEach((k, i) => {
    if (k >= engine.net.nInputs && k < engine.net.nUnits && mask[k] === 0) mask[k] = i + 1;
  });
  return engine.constant(mask);
}

/** Inverts the blocks of `units` (every non-input unit when omitted); -1 or the first failure in `units`' order. */
export function invertBlocks(engine: WebgpuEngine, blocks: DeviceBuffer, inverses: DeviceBuffer, units?: readonly number[]): number {
  const { net } = engine;
  if (units?.length === 0) return -1;
  const mask = unitMask(engine, units);
  const work = engine.alloc(blocks.length);
  engine.launch(invertBlocksKernel, net.nUnits - net.nInputs, [engine.dev(blocks), engine.dev(work), engine.table, mask, engine.dev(inverses), engine.flags], [net.nInputs]);
  engine.free(work);
  if (units) engine.free(mask);
  const first = engine.reduce(engine.flags, 'minPositive');
  if (!(first > 0)) return -1;
  const position = Math.round(first) - 1;
  return units ? units[position] : position;
}

/** out ← H G per unit for `units` (all when omitted); other entries of `out` untouched. */
export function blocksTimesVector(engine: WebgpuEngine, inverses: DeviceBuffer, gradient: DeviceBuffer, out: DeviceBuffer, units?: readonly number[]): void {
  const mask = unitMask(engine, units);
  engine.launch(blocksTimesVectorKernel, engine.net.nParams, [engine.dev(inverses), engine.dev(gradient), engine.table, mask, engine.dev(out)]);
  if (units) engine.free(mask);
}

/** One online step of every unit (Eq. 37-38); returns the refused units (one count read, and the flags only when it is not zero). */
export function onlineBlockStep(engine: WebgpuEngine, blocks: DeviceBuffer, inverses: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer, sample: number, gradient: DeviceBuffer, decay: number, out: DeviceBuffer): number[] {
  const { net } = engine;
  const buffers = [blocks, inverses, ws.act, modulus, gradient].map((b) => engine.dev(b));
  engine.launch(onlineStepKernel, net.nUnits - net.nInputs, [...buffers, engine.table, engine.dev(out), engine.flags], [net.nInputs, engine.size, sample, decay]);
  if (engine.reduce(engine.flags, 'sum') === 0) return [];
  const refused: number[] = [];
  engine.read(engine.flags).forEach((f, k) => {
    if (f > 0) refused.push(k);
  });
  return refused;
}
