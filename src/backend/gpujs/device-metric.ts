import { UsageError, problem } from '../../errors.js';
import { checkRateChunk, type DeviceBuffer, type EngineWorkspace, type OutputMetricBuffers } from '../engine.js';
import type { DeviceData } from './device-runtime.js';
import { dev, type GpujsBuffer, type LaunchArg } from './device-memory.js';
import type { GpujsEngine } from './gpujs-engine.js';
import { transferChunks } from './transfer-chunks.js';

/**
 * The metric phase of the gpu.js engine on the device: the output metric, transfer rates (Def. 2,
 * Eq. 13), the Fisher modulus (Def. 3, Eq. 14-17) and the Monte-Carlo modulus (Eq. 100).
 * Transfer rates run level by level (deepest first) for a chunk of outputs and samples at once,
 * thread = unit × output × sample, so a launch covers a whole level of C backpropagations.
 * NOTE: the dense (unit × output) layout also computes the zero rates of units that are not
 * ancestors of an output; on layered networks every unit is one, and it buys one launch per
 * level instead of one per output and level. Chunks keep [(nUnits + 1) × C × W] within the
 * engine's transfer budget (at most 2^24 entries, the exact-index limit).
 */

/**
 * Writes (allocating on first use) the output metric of the forward pass in `ws`: seeds σ and
 * β [nOutputs × size], and for softmax and spherical outputs γ [nOutputs × size] and β_x [size].
 */
export function outputMetric(engine: GpujsEngine, ws: EngineWorkspace, into?: OutputMetricBuffers): OutputMetricBuffers {
  const { net, size: S } = engine;
  const n = net.nOutputs * S;
  const classes = net.interpretation === 'softmax' || net.interpretation === 'spherical';
  const metric: OutputMetricBuffers = into ?? {
    seeds: engine.alloc(n),
    beta: engine.alloc(n),
    ...(classes ? { gamma: engine.alloc(n), betaExtra: engine.alloc(S) } : {}),
  };
  const write = (buffer: DeviceBuffer | undefined, which: number) => {
    if (buffer) engine.update(buffer, 'outputMetricValues', ws.act, ws.deriv, engine.constants.outputUnits, engine.interpretation, net.nOutputs, S, which);
  };
  write(metric.seeds, 0);
  write(metric.beta, 1);
  write(metric.gamma, 2);
  write(metric.betaExtra, 3);
  return metric;
}

/** A chunk of transfer-rate backpropagations: outputs j0 .. j0+C-1, samples s0 .. s0+W-1. */
interface Chunk {
  j0: number;
  C: number;
  s0: number;
  W: number;
}

/**
 * Runs the transfer-rate backpropagations of a chunk level by level, deepest first, and hands
 * each level's window to `visit`: reduced rates J̃ (and with `withRaw` the plain J, 1 at the
 * output) of units start .. end-1 at the window's first rows, [rows × C × W] (see `transferLevel`;
 * `outWeights`: the out-edges' weights, {@link outEdgeWeights}).
 * NOTE: a level's launch outputs only the window of units that this and lower levels still read
 * (the level and the rows above it up to the highest target of any level at or below it), copying
 * the part above the level from the previous window: on a layered network two levels' rows per
 * launch instead of the whole [nUnits × C × W] array, and input rows are never stored.
 */
function rateLevels(engine: GpujsEngine, outWeights: DeviceData, ws: EngineWorkspace, seeds: DeviceBuffer, chunk: Chunk, withRaw: boolean, visit: (rates: DeviceData, raw: DeviceData | undefined, start: number, end: number) => void): void {
  const { net, size: S, constants: c } = engine;
  const { j0, C, s0, W } = chunk;
  if (engine.runtime.mode === 'webasm') return rateLevelsInPlace(engine, outWeights, ws, seeds, chunk, withRaw, visit);
  let rates = engine.launch('fillValue', 1, 0);
  let raw = withRaw ? engine.launch('fillValue', 1, 0) : undefined;
  for (let l = net.levelOffsets.length - 2; l >= 1; l--) {
    const [start, end] = engine.levelRange(l);
    const n = (c.windowEnd[l] - start) * C * W;
    const args = [outWeights, c.outOffsets, c.outTargets, ws.deriv, c.outputIndex, seeds, start, end, C, W, S, s0, j0] as const;
    if (raw) {
      const next = engine.launch('transferLevel', n, raw, rates, ...args, 0);
      engine.release(raw);
      raw = next;
    }
    const next = engine.launch('transferLevel', n, rates, rates, ...args, 1);
    engine.release(rates);
    rates = next;
    visit(rates, raw, start, end);
  }
  engine.release(rates, ...(raw ? [raw] : []));
}

/** A stand-in for an argument a launch does not read. */
const UNREAD = new Float32Array(1);

/**
 * {@link rateLevels} in webasm mode, where device arrays are host memory: the rates of every
 * non-input unit in one array [(nUnits - first) × C × W] (first: the first non-input unit), each
 * level's launch over the level's rows only, written in place, reading the rows above it that it
 * needs (its window, as a view: gpu.js copies each array argument into the kernel's memory).
 * `visit` gets the level's rows [(end - start) × C × W].
 * NOTE: with windows of new arrays (as in headlessgl mode) each launch also copied the rows
 * above the level: ~2× the threads on the 10⁶-edge network, at ~60 ns each on a loaded 2-core VM.
 */
function rateLevelsInPlace(engine: GpujsEngine, outWeights: DeviceData, ws: EngineWorkspace, seeds: DeviceBuffer, chunk: Chunk, withRaw: boolean, visit: (rates: DeviceData, raw: DeviceData | undefined, start: number, end: number) => void): void {
  const { net, size: S, constants: c } = engine;
  const { j0, C, s0, W } = chunk;
  const first = net.levelOffsets[1];
  const at = (k: number) => (k - first) * C * W;
  const rates = scratch(engine, 0, at(net.nUnits));
  const raw = withRaw ? scratch(engine, 1, at(net.nUnits)) : undefined;
  for (let l = net.levelOffsets.length - 2; l >= 1; l--) {
    const [start, end] = engine.levelRange(l);
    const above = c.windowEnd[l] > end ? rates.subarray(at(end), at(c.windowEnd[l])) : UNREAD;
    const args = [above, outWeights, c.outOffsets, c.outTargets, ws.deriv, c.outputIndex, seeds, start, end, C, W, S, s0, j0] as const;
    const n = (end - start) * C * W;
    if (raw) engine.launchInto(raw, at(start), 'transferLevel', n, UNREAD, ...args, 0);
    engine.launchInto(rates, at(start), 'transferLevel', n, UNREAD, ...args, 1);
    visit(rates.subarray(at(start), at(end)), raw?.subarray(at(start), at(end)), start, end);
  }
}

const scratchArrays = new WeakMap<GpujsEngine, Float32Array[]>();

/**
 * Scratch array `slot` of `engine` with at least `length` entries (its first `length`, contents
 * undefined), kept for the engine's next calls.
 * NOTE: tens of MB of fresh arrays per iteration are external memory to V8 and set off full
 * collections of the whole heap (~0.5 GB at 10⁶ edges: seconds each on a loaded 2-core VM).
 */
function scratch(engine: GpujsEngine, slot: number, length: number): Float32Array {
  const arrays = scratchArrays.get(engine) ?? [];
  scratchArrays.set(engine, arrays);
  if (!arrays[slot] || arrays[slot].length < length) arrays[slot] = new Float32Array(length);
  return arrays[slot].subarray(0, length);
}

/**
 * A kernel whose last argument is `from` (its thread 0's entry) that writes the rows
 * start ≤ k < end of the [nUnits × S] `buffer` and keeps the others: webasm over those rows only,
 * written in place; headlessgl over the whole buffer (from 0), a new texture.
 */
function updateLevel(engine: GpujsEngine, buffer: DeviceBuffer, start: number, end: number, name: 'rateMoment' | 'maskRows', ...args: LaunchArg[]): void {
  updateRows(engine, buffer, start, end, engine.size, name, ...args);
}

/** {@link updateLevel} on a per-unit buffer whose rows are `width` numbers wide. */
function updateRows(engine: GpujsEngine, buffer: DeviceBuffer, start: number, end: number, width: number, name: 'rateMoment' | 'maskRows', ...args: LaunchArg[]): void {
  const data = dev(buffer).data;
  if (engine.runtime.mode !== 'webasm' || !(data instanceof Float32Array) || data.length !== buffer.length) return engine.update(buffer, name, ...args, 0);
  if (end > start) engine.launchInto(data, start * width, name, (end - start) * width, ...args, start * width);
}

/** Reduced Fisher modulus φ̃ of every non-input unit into `modulus` (overwritten; input rows 0). */
export function fisherModulus(engine: GpujsEngine, params: GpujsBuffer, ws: EngineWorkspace, modulus: DeviceBuffer): void {
  const { net, size: S } = engine;
  const metric = engine.outputMetric(ws);
  const chunks = transferChunks(net, S, engine.transferBudget);
  engine.fill(modulus, 0);
  const extra = metric.gamma ? engine.alloc(net.nUnits * S) : undefined;
  const outWeights = outEdgeWeights(engine, params);
  for (let s0 = 0; s0 < S; s0 += chunks.samples) {
    const W = Math.min(chunks.samples, S - s0);
    for (let j0 = 0; j0 < net.nOutputs; j0 += chunks.outputs) {
      const C = Math.min(chunks.outputs, net.nOutputs - j0);
      rateLevels(engine, outWeights, ws, metric.seeds, { j0, C, s0, W }, false, (rates, _raw, start, end) => {
        updateLevel(engine, modulus, start, end, 'rateMoment', modulus, rates, metric.beta, C, W, S, s0, j0, 2, start, end);
        if (extra && metric.gamma) updateLevel(engine, extra, start, end, 'rateMoment', extra, rates, metric.gamma, C, W, S, s0, j0, 1, start, end);
      });
    }
  }
  engine.release(outWeights);
  if (extra && metric.betaExtra) {
    engine.update(modulus, 'addExtra', modulus, extra, metric.betaExtra, S);
    engine.free(extra);
  }
}

/** The weight of every out-edge in CSR order [nEdges] (new device data, the caller's to release). */
function outEdgeWeights(engine: GpujsEngine, params: GpujsBuffer): DeviceData {
  return engine.launch('gather', engine.net.nEdges, params, engine.constants.outParams);
}

/**
 * Reduced transfer rates of output `output` into the rows of its ancestors (and its own) in
 * `rates`, with the plain J in `raw`; other rows untouched (the ancestors are marked on the
 * device, one launch per level).
 */
export function transferRates(engine: GpujsEngine, params: GpujsBuffer, ws: EngineWorkspace, output: number, rates: DeviceBuffer, raw?: DeviceBuffer): void {
  const { net, size: S, constants: c } = engine;
  const { seeds } = engine.outputMetric(ws);
  let reach = engine.launch('fillValue', net.nUnits, 0);
  for (let l = net.levelOffsets.length - 2; l >= 1; l--) {
    const [start, end] = engine.levelRange(l);
    const next = engine.launch('reachLevel', net.nUnits, reach, c.outOffsets, c.outTargets, c.outputIndex, start, end, output);
    engine.release(reach);
    reach = next;
  }
  const outWeights = outEdgeWeights(engine, params);
  rateLevels(engine, outWeights, ws, seeds, { j0: output, C: 1, s0: 0, W: S }, raw !== undefined, (levelRates, levelRaw, start, end) => {
    updateLevel(engine, rates, start, end, 'maskRows', rates, levelRates, reach, S, start, end);
    if (raw && levelRaw) updateLevel(engine, raw, start, end, 'maskRows', raw, levelRaw, reach, S, start, end);
  });
  engine.release(reach, outWeights);
}

/**
 * J̃ of the outputs first .. first + count - 1 into `rates` [nUnits × count × size] (input rows
 * 0): one chunk of the Fisher modulus's dense pass, each level's rows placed by `maskRows` with
 * rows count·size wide and every unit marked.
 */
export function transferRateChunk(engine: GpujsEngine, params: GpujsBuffer, ws: EngineWorkspace, first: number, count: number, rates: DeviceBuffer): void {
  const { net, size: S } = engine;
  checkRateChunk(net, S, first, count, rates);
  const { seeds } = engine.outputMetric(ws);
  engine.fill(rates, 0);
  const every = engine.launch('fillValue', net.nUnits, 1);
  const outWeights = outEdgeWeights(engine, params);
  const width = count * S;
  rateLevels(engine, outWeights, ws, seeds, { j0: first, C: count, s0: 0, W: S }, false, (levelRates, _raw, start, end) => {
    updateRows(engine, rates, start, end, width, 'maskRows', rates, levelRates, every, width, start, end);
  });
  engine.release(every, outWeights);
}

/**
 * Monte-Carlo Fisher modulus (Eq. 100) into `modulus` (overwritten): the host's draws are
 * uploaded once (counted); per draw, targets y ~ ω(x), the output layer's b̃ and the backward
 * b̃ kernels run on scratch buffers, and (1/K) b̃² accumulates. `ws` keeps its own b and b̃.
 */
export function monteCarloModulus(engine: GpujsEngine, params: GpujsBuffer, ws: EngineWorkspace, draws: Float64Array, modulus: DeviceBuffer): void {
  const { net, size: S } = engine;
  const perDraw = net.nOutputs * S;
  const K = Math.floor(draws.length / perDraw);
  engine.fill(modulus, 0);
  if (K === 0) return;
  const numbers = engine.toDevice(draws.subarray(0, K * perDraw));
  const targets = engine.alloc(perDraw);
  const back = engine.alloc(net.nUnits * S);
  for (let d = 0; d < K; d++) {
    drawnBackward(engine, params, ws, numbers, d * perDraw, targets, back);
    engine.update(modulus, 'squares', modulus, back, net.nInputs * S, 1 / K, 1);
  }
  engine.free(targets);
  engine.free(back);
  engine.release(numbers);
}

/**
 * b̃(x, y) of every non-input unit into `out` (input rows 0) for targets y ~ ω(x) from one draw
 * of the host's numbers ([nOutputs × size], uploaded and counted): one Monte-Carlo draw's kernels
 * on scratch targets. `ws` keeps its own b and b̃.
 */
export function sampledBackward(engine: GpujsEngine, params: GpujsBuffer, ws: EngineWorkspace, draw: Float64Array, out: DeviceBuffer): void {
  const { net, size: S } = engine;
  const perDraw = net.nOutputs * S;
  if (draw.length < perDraw) throw new UsageError([problem('engine', `sampledBackward takes one draw of ${perDraw} numbers, not ${draw.length}`)]);
  if (out.length !== net.nUnits * S) throw new UsageError([problem('engine', `sampledBackward writes a per-unit buffer of ${net.nUnits * S} numbers, not ${out.length}`)]);
  const numbers = engine.toDevice(draw.subarray(0, perDraw));
  const targets = engine.alloc(perDraw);
  engine.fill(out, 0);
  drawnBackward(engine, params, ws, numbers, 0, targets, out);
  engine.free(targets);
  engine.release(numbers);
}

/**
 * The backward pass of one draw (from `base` in the device's `numbers`): targets y ~ ω(x) into
 * `targets`, b̃ of the outputs, then of the hidden units level by level, into the non-input rows
 * of `back` (input rows kept).
 */
function drawnBackward(engine: GpujsEngine, params: GpujsBuffer, ws: EngineWorkspace, numbers: DeviceData, base: number, targets: DeviceBuffer, back: DeviceBuffer): void {
  const { net, size: S, constants: c } = engine;
  engine.update(targets, 'drawTargets', ws.act, numbers, c.outputUnits, c.isTanh, engine.interpretation, net.nOutputs, S, base);
  engine.writeOutputLayer(ws, targets, back);
  for (let l = net.levelOffsets.length - 2; l >= 1; l--) if (c.levelHasHidden[l]) engine.backwardSums(params, ws.deriv, l, back);
}
