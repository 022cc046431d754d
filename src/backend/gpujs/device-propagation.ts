import { UsageError, problem } from '../../errors.js';
import type { Batch } from '../../engine/batch.js';
import type { DeviceBuffer, EngineWorkspace } from '../engine.js';
import { dev, GpujsBuffer, type LaunchArg } from './device-memory.js';
import type { DeviceData, FusedKernel } from './device-runtime.js';
import type { GpujsEngine } from './gpujs-engine.js';

/** A stand-in for an argument a launch does not read. */
const UNREAD = new Float32Array(1);

/**
 * Propagation on the gpu.js engine's device: a batch, the forward and backward levels and the
 * output layer. Three ways, by mode and size:
 * - headlessgl, whole arrays of at least `GpujsEngine.rowsFrom` entries: row launches
 *   (`device-rows.ts`), each fused kernel drawn over the texture rows of the entries it computes
 *   and copied into the whole-array textures in place;
 * - headlessgl, smaller arrays: the fused kernels over the whole arrays (one draw each, entries
 *   outside the level copied through: cheaper than a copy per output while arrays are small);
 * - webasm: separate kernels over the level's rows only, written into the arrays in place.
 */

/** inputs and targets of `batch` into `ws` (two counted uploads). */
export function setBatch(engine: GpujsEngine, ws: EngineWorkspace, batch: Batch): void {
  if (batch.size !== engine.size) throw new UsageError([problem('batch-size', `a batch of ${batch.size} samples given to an engine opened for ${engine.size}`)]);
  if (engine.runtime.fused && batch.inputs.length > 0 && batch.targets.length > 0) {
    const inputs = Float32Array.from(batch.inputs);
    const targets = Float32Array.from(batch.targets);
    if (engine.rowLaunches && rowLaunch(engine, 'batchFused', 1, [ws.act], 0, inputs.length, ws.act, inputs, UNREAD, inputs.length, 0)) {
      engine.transfers.upload(inputs.byteLength);
      engine.upload(ws.targets, targets, 0);
      return;
    }
    // One launch for both: the counted uploads are the same two arrays as `upload`'s.
    engine.transfers.upload(inputs.byteLength);
    engine.transfers.upload(targets.byteLength);
    const out = engine.launchFused('batchFused', ws.act.length, 1, ws.act, inputs, targets, inputs.length, targets.length, 0, 1);
    engine.assign(ws.act, out.result);
    // NOTE: the targets keep the whole [nUnits × S] output texture; only their first rows are read.
    engine.assign(ws.targets, out.first);
    return;
  }
  engine.upload(ws.act, batch.inputs, 0);
  engine.upload(ws.targets, batch.targets, 0);
}

/** Pre-activations, activities and derivatives of one level's units (Eq. 2, 6). */
export function forwardLevel(engine: GpujsEngine, params: DeviceBuffer, ws: EngineWorkspace, level: number): void {
  const c = engine.constants;
  const [start, end] = engine.levelRange(level);
  const S = engine.size;
  const t = engine.packed;
  if (t) {
    const args = [ws.pre, ws.act, ws.deriv, dev(params), t.data, t.inSources, t.U, start, end, S] as const;
    if (engine.rowLaunches && rowLaunch(engine, 'forwardLevelFused', 2, [ws.pre, ws.act, ws.deriv], start * S, end * S, ...args)) return;
    const out = engine.launchFused('forwardLevelFused', engine.net.nUnits * S, 2, ...args, 0, 1);
    engine.assign(ws.pre, out.result);
    engine.assign(ws.act, out.first);
    if (out.second) engine.assign(ws.deriv, out.second);
    return;
  }
  updateRows(engine, ws.pre, start, end, 'forwardSum', ws.pre, ws.act, dev(params), c.inOffsets, c.inSources, c.blockOffsets, c.gain, start, end, S);
  updateRows(engine, ws.act, start, end, 'forwardActivation', ws.act, ws.pre, c.kind, c.scale, c.shift, c.gainScale, start, end, S, 0);
  updateRows(engine, ws.deriv, start, end, 'forwardActivation', ws.deriv, ws.pre, c.kind, c.scale, c.shift, c.gainScale, start, end, S, 1);
}

/** ℓ (when `loss` is given) and the output rows of b̃ into `backReduced`, from `targets`. */
export function writeOutputLayer(engine: GpujsEngine, ws: EngineWorkspace, targets: DeviceBuffer, backReduced: DeviceBuffer, loss?: DeviceBuffer): void {
  const c = engine.constants;
  const { nOutputs } = engine.net;
  const S = engine.size;
  const t = engine.packed;
  if (loss && t) {
    const args = [backReduced, ws.act, ws.pre, ws.deriv, targets, t.data, t.outputUnits, t.U, engine.interpretation, nOutputs, S] as const;
    if (engine.rowLaunches && rowLaunch(engine, 'outputLayerFused', 1, [backReduced], engine.outputSpan[0] * S, engine.outputSpan[1] * S, ...args)) {
      // The loss of a row launch is not the samples' (its threads are the output rows): a launch of its own.
      engine.update(loss, 'outputLoss', ws.act, ws.pre, targets, c.outputUnits, c.isTanh, engine.interpretation, nOutputs, S);
      return;
    }
    const out = engine.launchFused('outputLayerFused', engine.net.nUnits * S, 1, ...args, 0, 1);
    engine.assign(backReduced, out.result);
    // NOTE: the loss keeps the whole [nUnits × S] output texture; only its first S entries are read.
    engine.assign(loss, out.first);
    return;
  }
  if (loss) engine.update(loss, 'outputLoss', ws.act, ws.pre, targets, c.outputUnits, c.isTanh, engine.interpretation, nOutputs, S);
  engine.update(backReduced, 'outputBack', backReduced, ws.act, ws.deriv, targets, c.outputIndex, c.outputUnits, c.isTanh, engine.interpretation, nOutputs, S);
}

/** The backward kernels of one level: b (when `back` is given), b̃ in place, m̃ in place (when `modulus` is given). */
export function backwardSums(engine: GpujsEngine, params: DeviceBuffer, deriv: DeviceBuffer, level: number, backReduced: DeviceBuffer, back?: DeviceBuffer, modulus?: DeviceBuffer): void {
  const c = engine.constants;
  const [start, end] = engine.levelRange(level);
  const S = engine.size;
  const t = engine.packed;
  if (t && (back || modulus)) {
    // One launch for b, b̃ and m̃; an output not asked for is computed from a stand-in and dropped.
    const outputs = modulus ? 2 : 1;
    const args = [backReduced, back ?? backReduced, modulus ?? backReduced, dev(params), t.data, t.outTargets, t.outParams, t.U, dev(deriv), start, end, S, modulus ? 1 : 0] as const;
    if (engine.rowLaunches && rowLaunch(engine, 'backwardLevelFused', outputs, [backReduced, back, modulus], start * S, end * S, ...args)) return;
    const out = engine.launchFused('backwardLevelFused', engine.net.nUnits * S, outputs, ...args, 0, 1);
    engine.assign(backReduced, out.result);
    if (back) engine.assign(back, out.first);
    else engine.release(out.first);
    if (modulus && out.second) engine.assign(modulus, out.second);
    return;
  }
  const edges = [dev(params), c.outOffsets, c.outTargets, c.outParams, c.outputIndex, dev(deriv), start, end, S] as const;
  if (back) updateRows(engine, back, start, end, 'backwardSum', back, dev(backReduced), ...edges, 1, 0);
  updateRows(engine, backReduced, start, end, 'backwardSum', backReduced, dev(backReduced), ...edges, 1, 1);
  if (modulus) updateRows(engine, modulus, start, end, 'backwardSum', modulus, dev(modulus), ...edges, 2, 1);
}

/**
 * A row launch of fused kernel `name` (see `DeviceRuntime.launchRows`) writing entries
 * [first, end) of the buffers `targets` (result, then `first` and `second` outputs; undefined:
 * dropped). False when the runtime has none or the arrays are too small (nothing ran).
 */
function rowLaunch(engine: GpujsEngine, name: FusedKernel, outputs: 1 | 2, targets: readonly (DeviceBuffer | undefined)[], first: number, end: number, ...args: LaunchArg[]): boolean {
  const launchRows = engine.runtime.launchRows;
  if (!launchRows) return false;
  const data = targets.map((b) => b && dev(b).data);
  const values = args.map((a) => (a instanceof GpujsBuffer ? a.data : (a as DeviceData | number)));
  return launchRows(name, outputs, data, first, end, ...values);
}

/**
 * Runs a level kernel (`forwardSum`, `forwardActivation`, `backwardSum`: its last argument is
 * `base`, the first entry its thread 0 computes) that writes the rows start ≤ k < end of the
 * [nUnits × S] `buffer` and keeps the others. headlessgl: over the whole array (base 0), a new
 * texture. webasm: over the level's rows only (base start·S), written into the buffer's array in
 * place.
 * NOTE: a webasm launch costs every thread it runs (~60 ns each on a loaded 2-core VM, even for
 * threads that only copy an old value: the SIMD code runs the kernel body for retired lanes), and
 * gpu.js hands back a fresh output array each launch; over the whole array, every level paid for
 * every unit, and the garbage of [nUnits × S] arrays per launch kept the collector busy.
 */
function updateRows(engine: GpujsEngine, buffer: DeviceBuffer, start: number, end: number, name: 'forwardSum' | 'forwardActivation' | 'backwardSum', ...args: LaunchArg[]): void {
  if (engine.runtime.mode !== 'webasm') return engine.update(buffer, name, ...args, 0);
  if (end <= start) return;
  const data = dev(buffer).data;
  if (!(data instanceof Float32Array)) throw new UsageError([problem('gpujs', `webasm buffer data of kernel ${name} is not a Float32Array`)]);
  const base = start * engine.size;
  // Over the level's rows the forward kernels never read `old` (every thread is in the level):
  // a one-entry stand-in spares gpu.js copying the whole buffer into the kernel's memory.
  const [old, ...rest] = args;
  engine.launchInto(data, base, name, (end - start) * engine.size, name === 'backwardSum' ? old : UNREAD, ...rest, base);
}
