import { UsageError, problem } from '../../errors.js';
import { checkRateChunk, type DeviceBuffer, type EngineWorkspace, type GramPlan, type OutputMetricBuffers } from '../engine.js';
import type { WebgpuBuffer } from './webgpu-memory.js';
import type { WebgpuEngine } from './webgpu-engine.js';
import { addExtraKernel, drawTargetsKernel, gramEntryKernel, maskRowsKernel, outputMetricKernel, rateMomentKernel, scaledSquaresKernel, transferLevelKernel, weightedSumKernel } from './wgsl-metric.js';

/**
 * The metric phase of the WebGPU engine (kernels in `wgsl-metric.ts`): the output metric,
 * transfer rates and the Fisher modulus (dense rates of a chunk of outputs, level by level), the
 * Monte-Carlo modulus and sampled backward passes, and the Kronecker factors' Gram matrices.
 * NOTE: the dense [nUnits × C × S] rates also hold the (zero) rates of units that are not
 * ancestors of an output: one launch per level for C outputs at once, as the gpu.js engine.
 */

/** Entries of one chunk of transfer rates (64 MiB of float32). */
const RATE_BUDGET = 1 << 24;

/** Writes the output metric of `ws` into `into` (allocated when not given). */
export function outputMetric(engine: WebgpuEngine, ws: EngineWorkspace, into?: OutputMetricBuffers): OutputMetricBuffers {
  const { net, size: S } = engine;
  const n = net.nOutputs * S;
  const classes = net.interpretation === 'softmax' || net.interpretation === 'spherical';
  const metric: OutputMetricBuffers = into ?? { seeds: engine.alloc(n), beta: engine.alloc(n), ...(classes ? { gamma: engine.alloc(n), betaExtra: engine.alloc(S) } : {}) };
  engine.outputStats(ws, ws.targets);
  [metric.seeds, metric.beta, metric.gamma, metric.betaExtra].forEach((buffer, which) => {
    if (buffer) engine.launch(outputMetricKernel, buffer.length, [engine.dev(ws.act), engine.dev(ws.deriv), engine.table, engine.stats, engine.dev(buffer)], [S, engine.interpretation, which]);
  });
  return metric;
}

/** Runs the transfer rates of outputs j0 .. j0 + C - 1 into `R` (and J into `raw`), level by level from the top. */
function rateLevels(engine: WebgpuEngine, params: DeviceBuffer, ws: EngineWorkspace, seeds: DeviceBuffer, j0: number, C: number, R: WebgpuBuffer, raw?: WebgpuBuffer): void {
  const { net, size: S } = engine;
  for (let l = net.levelOffsets.length - 2; l >= 1; l--) {
    const [start, end] = [net.levelOffsets[l], net.levelOffsets[l + 1]];
    const buffers = [engine.dev(params), engine.dev(ws.deriv), engine.table, engine.dev(seeds), R, raw ?? engine.noLoss];
    engine.launch(transferLevelKernel, (end - start) * C * S, buffers, [start, C, S, j0, raw ? 1 : 0]);
  }
}

/** Reduced Fisher modulus φ̃ = Σ_j β_j J̃_j² (+ β_x (Σ_j γ_j J̃_j)²) of every non-input unit into `modulus` (input rows 0). */
export function fisherModulus(engine: WebgpuEngine, params: DeviceBuffer, ws: EngineWorkspace, modulus: DeviceBuffer): void {
  const { net, size: S } = engine;
  const metric = engine.outputMetric(ws);
  const C = Math.max(1, Math.min(net.nOutputs, Math.floor(RATE_BUDGET / (net.nUnits * S))));
  const R = engine.alloc(net.nUnits * C * S) as WebgpuBuffer;
  const extra = metric.gamma ? (engine.alloc(net.nUnits * S) as WebgpuBuffer) : undefined;
  const M = engine.dev(modulus);
  engine.fill(M, 0);
  const rows = (net.nUnits - net.nInputs) * S;
  for (let j0 = 0; j0 < net.nOutputs; j0 += C) {
    const c = Math.min(C, net.nOutputs - j0);
    rateLevels(engine, params, ws, metric.seeds, j0, c, R);
    const buffers = [R, engine.dev(metric.beta), metric.gamma ? engine.dev(metric.gamma) : engine.noLoss, M, extra ?? engine.noLoss];
    engine.launch(rateMomentKernel, rows, buffers, [net.nInputs, c, S, j0, extra ? 1 : 0]);
  }
  if (extra && metric.betaExtra) engine.launch(addExtraKernel, rows, [extra, engine.dev(metric.betaExtra), M], [net.nInputs * S, S]);
  engine.free(R);
  if (extra) engine.free(extra);
}

/** The mask [nUnits] of output `output`'s unit and its non-input ancestors (computed on the host, uploaded once per output). */
function ancestry(engine: WebgpuEngine, output: number): WebgpuBuffer {
  const { net } = engine;
  const mask = new Float32Array(net.nUnits);
  mask[net.outputUnits[output]] = 1;
  for (let k = net.outputUnits[output]; k >= net.nInputs; k--) {
    if (mask[k]) for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) mask[net.inSources[e]] = 1;
  }
  mask.fill(0, 0, net.nInputs);
  return engine.constant(mask);
}

/** J̃ (and J) of output `output` into the rows of its unit and ancestors of `rates` (`raw`); other rows untouched. */
export function transferRates(engine: WebgpuEngine, params: DeviceBuffer, ws: EngineWorkspace, output: number, rates: DeviceBuffer, raw: DeviceBuffer | undefined, masks: Map<number, WebgpuBuffer>): void {
  const { net, size: S } = engine;
  if (!(Number.isInteger(output) && output >= 0 && output < net.nOutputs)) throw new UsageError([problem('engine', `output ${output} is not one of the network's ${net.nOutputs} outputs`)]);
  const { seeds } = engine.outputMetric(ws);
  let mask = masks.get(output);
  if (!mask) masks.set(output, (mask = ancestry(engine, output)));
  const R = engine.alloc(net.nUnits * S) as WebgpuBuffer;
  const J = raw ? (engine.alloc(net.nUnits * S) as WebgpuBuffer) : undefined;
  rateLevels(engine, params, ws, seeds, output, 1, R, J);
  engine.launch(maskRowsKernel, net.nUnits * S, [R, mask, engine.dev(rates)], [S]);
  if (raw && J) engine.launch(maskRowsKernel, net.nUnits * S, [J, mask, engine.dev(raw)], [S]);
  engine.free(R);
  if (J) engine.free(J);
}

/** J̃ of the outputs first .. first + count - 1 into `rates` [nUnits × count × size] (one launch per level; input rows 0). */
export function transferRateChunk(engine: WebgpuEngine, params: DeviceBuffer, ws: EngineWorkspace, first: number, count: number, rates: DeviceBuffer): void {
  checkRateChunk(engine.net, engine.size, first, count, rates);
  const { seeds } = engine.outputMetric(ws);
  engine.fill(rates, 0);
  rateLevels(engine, params, ws, seeds, first, count, engine.dev(rates));
}

/** The backward pass of targets drawn from `numbers` (from `base`): b̃ of every non-input unit into `backReduced` (input rows kept). */
function drawnBackward(engine: WebgpuEngine, params: DeviceBuffer, ws: EngineWorkspace, numbers: WebgpuBuffer, base: number, targets: WebgpuBuffer, back: WebgpuBuffer, backReduced: WebgpuBuffer): void {
  const { net, size: S } = engine;
  engine.outputStats(ws, ws.targets);
  engine.launch(drawTargetsKernel, net.nOutputs * S, [engine.dev(ws.act), numbers, engine.table, engine.units, engine.stats, targets], [S, engine.interpretation, base]);
  engine.writeOutputLayer(ws, targets, backReduced);
  for (let l = net.levelOffsets.length - 2; l >= 1; l--) engine.backwardSums(params, ws.deriv, l, backReduced, back);
}

/** Monte-Carlo Fisher modulus (Eq. 100): the draws uploaded once (counted), (1/K) Σ b̃² over K drawn backward passes. */
export function monteCarloModulus(engine: WebgpuEngine, params: DeviceBuffer, ws: EngineWorkspace, draws: Float64Array, modulus: DeviceBuffer): void {
  const { net, size: S } = engine;
  const perDraw = net.nOutputs * S;
  const K = Math.floor(draws.length / perDraw);
  engine.fill(modulus, 0);
  if (K === 0) return;
  const numbers = engine.alloc(K * perDraw) as WebgpuBuffer;
  engine.upload(numbers, draws.subarray(0, K * perDraw));
  const [targets, back, backReduced] = [perDraw, net.nUnits * S, net.nUnits * S].map((n) => engine.alloc(n) as WebgpuBuffer);
  for (let d = 0; d < K; d++) {
    drawnBackward(engine, params, ws, numbers, d * perDraw, targets, back, backReduced);
    engine.launch(scaledSquaresKernel, modulus.length, [engine.dev(modulus), backReduced], [net.nInputs * S, 1 / K, 1]);
  }
  for (const b of [numbers, targets, back, backReduced]) engine.free(b);
}

/** b̃(x, y) of every non-input unit into `out` (input rows 0) for targets drawn from one draw of host numbers. */
export function sampledBackward(engine: WebgpuEngine, params: DeviceBuffer, ws: EngineWorkspace, draw: Float64Array, out: DeviceBuffer): void {
  const { net, size: S } = engine;
  const perDraw = net.nOutputs * S;
  if (draw.length < perDraw) throw new UsageError([problem('engine', `sampledBackward takes one draw of ${perDraw} numbers, not ${draw.length}`)]);
  if (out.length !== net.nUnits * S) throw new UsageError([problem('engine', `sampledBackward writes a per-unit buffer of ${net.nUnits * S} numbers, not ${out.length}`)]);
  const numbers = engine.alloc(perDraw) as WebgpuBuffer;
  engine.upload(numbers, draw.subarray(0, perDraw));
  const [targets, back] = [perDraw, net.nUnits * S].map((n) => engine.alloc(n) as WebgpuBuffer);
  engine.fill(out, 0);
  drawnBackward(engine, params, ws, numbers, 0, targets, back, engine.dev(out));
  for (const b of [numbers, targets, back]) engine.free(b);
}

/** The pairs of rows of every entry of `plan`'s matrices ([2 × total] i32), uploaded once (counted). */
export function gramPairs(engine: WebgpuEngine, plan: GramPlan): WebgpuBuffer {
  const total = plan.offsets[plan.rows.length];
  const pairs = new Int32Array(Math.max(2, 2 * total));
  plan.rows.forEach((rows, g) => {
    const m = rows.length;
    for (let a = 0; a < m; a++) {
      if (!(Number.isInteger(rows[a]) && rows[a] >= -1 && rows[a] < engine.net.nUnits)) throw new UsageError([problem('engine', `row ${rows[a]} of Gram list ${g} is neither a unit of the network nor -1`)]);
      for (let b = 0; b < m; b++) pairs.set([rows[a], rows[b]], 2 * (plan.offsets[g] + a * m + b));
    }
  });
  return engine.constant(pairs);
}

/** The base of weight row `row` of a [rows × size] buffer (checked). */
function rowBase(engine: WebgpuEngine, weights: DeviceBuffer, row: number): number {
  const S = engine.size;
  if (!(Number.isInteger(row) && row >= 0 && (row + 1) * S <= weights.length)) throw new UsageError([problem('engine', `weight row ${row} is outside a buffer of ${weights.length} numbers (${S} per row)`)]);
  return row * S;
}

/** out[offsets[g] + a·m + b] += scale · Σ_s w_s x[ρ_a, s] x[ρ_b, s] for every list of `plan` (pairs on the device). */
export function groupGram(engine: WebgpuEngine, plan: GramPlan, pairs: WebgpuBuffer, x: DeviceBuffer, out: DeviceBuffer, scale: number, weights?: DeviceBuffer, weightRow = 0): void {
  const { net, size: S } = engine;
  const total = plan.offsets[plan.rows.length];
  if (x.length !== net.nUnits * S) throw new UsageError([problem('engine', `groupGram reads a per-unit buffer of ${net.nUnits * S} numbers, not ${x.length}`)]);
  if (out.length < total) throw new UsageError([problem('engine', `groupGram writes ${total} numbers into a buffer of ${out.length}`)]);
  const base = weights ? rowBase(engine, weights, weightRow) : 0;
  engine.launch(gramEntryKernel, total, [engine.dev(x), weights ? engine.dev(weights) : engine.noLoss, pairs, engine.dev(out)], [S, scale, base, weights ? 1 : 0]);
}

/** dst[k·size + s] += weights[row·size + s] · src[k·size + s]. */
export function accumulateWeighted(engine: WebgpuEngine, dst: DeviceBuffer, src: DeviceBuffer, weights: DeviceBuffer, row: number): void {
  const S = engine.size;
  if (src.length !== dst.length || dst.length % S !== 0) throw new UsageError([problem('engine', `accumulateWeighted takes two buffers of one length, a multiple of ${S} (given ${dst.length} and ${src.length})`)]);
  engine.launch(weightedSumKernel, dst.length, [engine.dev(dst), engine.dev(src), engine.dev(weights)], [S, rowBase(engine, weights, row)]);
}
