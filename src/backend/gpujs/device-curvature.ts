import { UsageError, problem } from '../../errors.js';
import type { DeviceBuffer, EngineWorkspace } from '../engine.js';
import type { DeviceBlockGroup } from './device-network.js';
import type { DeviceData } from './device-runtime.js';
import type { GpujsBuffer } from './device-memory.js';
import type { GpujsEngine } from './gpujs-engine.js';

/**
 * The curvature phase of the gpu.js engine on the device: per-unit blocks (Eq. 18, 28), their
 * solves (Eq. 20, 30) and inverses, the quasi-diagonal (Eq. 22-23) and diagonal steps, and the
 * online Sherman-Morrison step (Eq. 37-38). Solves are batched over groups of units whose blocks
 * are padded with the identity to one size n (`paddedSize`): Cholesky two columns per launch
 * (thread = unit × entry), then forward and backward substitution two rows per launch; 3n/2
 * launches per group, whatever the number of units. Failures come back as one number: the
 * minimum over per-unit flags.
 * NOTE: a launch per column keeps every thread's work O(n) without per-thread scratch arrays,
 * which gpu.js kernels cannot allocate; each launch rewrites the group's packed [u × n × n]
 * factors (copying the other columns), O(u n³) device work per group, as the factorisation itself.
 */

const NO_FAILURE = 1e29;

/** Per-unit blocks A_ij = E_x ψ̃_k ā_i ā_j of every non-input unit into `blocks` (metricLayout). */
export function unitBlocks(engine: GpujsEngine, ws: EngineWorkspace, modulus: GpujsBuffer, blocks: DeviceBuffer): void {
  const { net, size: S, constants: c } = engine;
  if (blocks.length === 0) return;
  engine.update(blocks, 'blockEntry', ws.act, modulus, c.matrixOffsets, c.blockOffsets, c.inOffsets, c.inSources, net.nUnits, S);
}

/** Cholesky factors of A + εI for a group's packed blocks, [u × n × n] (lower triangle; a failed pivot is -1). */
function factorGroup(engine: GpujsEngine, blocks: GpujsBuffer, group: DeviceBlockGroup, epsilon: number): DeviceData {
  const { n } = group;
  const entries = group.unitIds.length * n * n;
  const packed = engine.launch('gatherBlocks', entries, blocks, group.units, engine.constants.matrixOffsets, engine.constants.unitSize, n);
  // NOTE: no zero-filled start: step j reads only columns < j of its `old`, so the first step
  // copies the packed blocks through and every lower column is written before it is read.
  let factors = packed;
  for (let j = 0; j < n; j += 2) {
    const next = engine.launch('choleskyStep', entries, factors, packed, j, Math.min(2, n - j), n, epsilon);
    if (factors !== packed) engine.release(factors);
    factors = next;
  }
  engine.release(packed);
  return factors;
}

/** Batched triangular solves with R right-hand sides ([u × n × R]; `rhs` undefined: the identity's columns). */
function triangular(engine: GpujsEngine, factors: DeviceData, rhs: DeviceData | undefined, units: number, n: number, R: number, upper: boolean): DeviceData {
  // NOTE: no zero-filled start: a step reads only the rows already solved of its `old`, so the
  // first step copies through the right-hand sides (or the factors, as large as the identity's n columns).
  const start = rhs ?? factors;
  let known = start;
  for (let step = 0; step < n; step += 2) {
    const row = upper ? n - 1 - step : step;
    const count = Math.min(2, n - step);
    const next = engine.launch('triangularStep', units * n * R, known, factors, start, row, count, n, R, upper ? 1 : 0, rhs ? 0 : 1);
    if (known !== start) engine.release(known);
    known = next;
  }
  return known;
}

/** The unit a flag minimum names: -1, or the unit at 1-based position `value` of `units` (ids + 1 without a list). */
function failedUnit(value: number, units?: readonly number[]): number {
  if (!(value < NO_FAILURE)) return -1;
  const position = Math.round(value) - 1;
  return units ? units[position] : position;
}

/**
 * δw = (A + εI)⁻¹ G per unit by batched Cholesky into `out` (`blocks` unchanged); returns -1 or
 * the first unit whose block is not positive definite (one number read back).
 * NOTE: the factors live in per-group device scratch, not in the caller's `work` buffer.
 */
export function solveUnitBlocks(engine: GpujsEngine, blocks: GpujsBuffer, gradient: GpujsBuffer, epsilon: number, out: DeviceBuffer): number {
  if (epsilon === 0) {
    throw new UsageError([problem('epsilon', 'the gpujs backend solves per-unit blocks by Cholesky in float32 and needs ε > 0; use the cpu backend for the least-squares solves of ε = 0')]);
  }
  const { net, constants: c } = engine;
  const flags = engine.alloc(net.nUnits);
  engine.fill(flags, 2 * NO_FAILURE);
  for (const group of c.groups) {
    const { n } = group;
    const u = group.unitIds.length;
    const factors = factorGroup(engine, blocks, group, epsilon);
    const rhs = engine.launch('gatherVector', u * n, gradient, group.units, c.blockOffsets, c.unitSize, n);
    const forward = triangular(engine, factors, rhs, u, n, 1, false);
    const solution = triangular(engine, factors, forward, u, n, 1, true);
    engine.update(out, 'scatterParams', out, solution, c.paramUnit, c.blockOffsets, c.unitGroup, c.unitSlot, c.allUnits, group.id, n);
    engine.update(flags, 'blockFlags', flags, factors, solution, c.unitGroup, c.unitSlot, c.allUnits, group.id, n, 1, 1);
    engine.release(factors, rhs, forward, solution);
  }
  const failed = failedUnit(engine.reduce(flags, net.nUnits, 'min'));
  engine.free(flags);
  return failed;
}

/**
 * Uploads (counted) the mask of a unit list: 1-based position of each listed unit, 0 elsewhere.
 * NOTE: the list is the host's (the caller's refused units, say), so it has to cross: nUnits
 * numbers per call with a list; calls without one use the mask uploaded at open.
 */
function unitMask(engine: GpujsEngine, units: readonly number[]): DeviceData {
  const mask = new Float64Array(engine.net.nUnits);
  units.forEach((k, i) => {
    if (k >= engine.net.nInputs && mask[k] === 0) mask[k] = i + 1;
  });
  return engine.toDevice(mask);
}

/** Inverts the blocks of `units` (all non-input units when omitted) into `inverses` by Cholesky; -1 or the first failure in `units`' order. */
export function invertBlocks(engine: GpujsEngine, blocks: GpujsBuffer, inverses: DeviceBuffer, units?: readonly number[]): number {
  const { net, constants: c } = engine;
  if (units && units.length === 0) return -1;
  const mask = units ? unitMask(engine, units) : c.allUnits;
  const wanted = units && new Set(units);
  const flags = engine.alloc(net.nUnits);
  engine.fill(flags, 2 * NO_FAILURE);
  for (const group of c.groups) {
    if (wanted && !group.unitIds.some((k) => wanted.has(k))) continue;
    const { n } = group;
    const u = group.unitIds.length;
    const factors = factorGroup(engine, blocks, group, 0);
    const forward = triangular(engine, factors, undefined, u, n, n, false);
    const inverse = triangular(engine, factors, forward, u, n, n, true);
    engine.update(inverses, 'scatterBlocks', inverses, inverse, c.matrixOffsets, c.unitGroup, c.unitSlot, c.unitSize, mask, net.nUnits, group.id, n);
    engine.update(flags, 'blockFlags', flags, factors, inverse, c.unitGroup, c.unitSlot, mask, group.id, n, n, 0);
    engine.release(factors, forward, inverse);
  }
  const failed = failedUnit(engine.reduce(flags, net.nUnits, 'min'), units);
  engine.free(flags);
  if (units) engine.release(mask);
  return failed;
}

/** out ← H G per unit for `units` (all when omitted); other entries of `out` untouched. */
export function blocksTimesVector(engine: GpujsEngine, inverses: GpujsBuffer, gradient: GpujsBuffer, out: DeviceBuffer, units?: readonly number[]): void {
  const c = engine.constants;
  const mask = units ? unitMask(engine, units) : c.allUnits;
  engine.update(out, 'blockTimesVector', out, inverses, gradient, c.paramUnit, c.blockOffsets, c.matrixOffsets, mask);
  if (units) engine.release(mask);
}

/** Quasi-diagonal step (Eq. 22-23): weights and biases in one launch. */
export function quasiDiagonalSolve(engine: GpujsEngine, diagonal: GpujsBuffer, cross: GpujsBuffer, gradient: GpujsBuffer, epsilon: number, out: DeviceBuffer): void {
  const c = engine.constants;
  engine.update(out, 'quasiDiagonalStep', diagonal, cross, gradient, c.paramUnit, c.blockOffsets, epsilon);
}

/** δw_p = G_p / (A_pp + ε), or G_p / √(A_pp + ε) with `root`. */
export function diagonalSolve(engine: GpujsEngine, diagonal: GpujsBuffer, gradient: GpujsBuffer, epsilon: number, root: boolean, out: DeviceBuffer): void {
  engine.update(out, 'diagonalStep', diagonal, gradient, epsilon, root ? 1 : 0);
}

/**
 * One online step of every unit (Eq. 37-38) on the whole block layout: H u, the coefficients,
 * A', H' and δw = H' G in five launches; the refused units come back as one count, and only when
 * it is not zero as the per-unit coefficients (nUnits numbers).
 */
export function onlineBlockStep(engine: GpujsEngine, blocks: DeviceBuffer, inverses: DeviceBuffer, ws: EngineWorkspace, modulus: GpujsBuffer, sample: number, gradient: GpujsBuffer, decay: number, out: DeviceBuffer): number[] {
  const { net, size: S, constants: c } = engine;
  const keep = 1 - decay;
  const source = [ws.act, modulus] as const;
  const edges = [c.inOffsets, c.inSources] as const;
  const hu = engine.launch('onlineHu', net.nParams, inverses, ...source, c.paramUnit, c.blockOffsets, c.matrixOffsets, ...edges, S, sample);
  const coef = engine.launch('onlineCoefficient', net.nUnits, hu, ...source, c.blockOffsets, ...edges, net.nInputs, S, sample, decay / keep);
  if (blocks.length > 0) {
    engine.update(blocks, 'onlineBlocks', blocks, ...source, c.matrixOffsets, c.blockOffsets, ...edges, net.nUnits, S, sample, keep, decay);
    engine.update(inverses, 'onlineInverse', inverses, hu, coef, c.matrixOffsets, c.blockOffsets, net.nUnits, keep);
  }
  engine.update(out, 'onlineDirection', out, inverses, gradient, coef, c.paramUnit, c.blockOffsets, c.matrixOffsets);
  const refused: number[] = [];
  if (engine.reduce(coef, net.nUnits, 'negative') > 0) {
    engine.toHost(coef, net.nUnits).forEach((f, k) => {
      if (f < 0) refused.push(k);
    });
  }
  engine.release(hu, coef);
  return refused;
}
