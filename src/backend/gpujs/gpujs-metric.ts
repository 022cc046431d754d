import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { MetricKernels } from '../kernels.js';
import { EXACT_INDEX_LIMIT, type GpujsRuntime } from './gpu.js';
import { checkExact, columnsF32, gpuNetwork, paramsF32, rowsF32 } from './gpujs-arrays.js';
import { transferChunks } from './transfer-chunks.js';

export { transferChunks, type TransferChunks } from './transfer-chunks.js';

/**
 * Metric kernels on gpu.js. Transfer rates run level by level (deepest first) for a chunk of
 * outputs at once, thread = unit × output × sample (Eq. 13), so a launch covers a whole level of
 * n_out/chunk backpropagations; the Fisher modulus (Eq. 14-17) is one more launch per chunk
 * reducing over the chunk's outputs. Per-unit blocks are one launch per block size.
 * NOTE: the dense (unit × output) layout also computes the zero rates of units that are not
 * ancestors of an output; on layered networks every unit is, and it buys one launch per level
 * instead of one per output and level.
 */
export function gpujsMetricKernels(gpu: GpujsRuntime, budget = EXACT_INDEX_LIMIT): MetricKernels {
  /**
   * Reduced transfer rates J̃ of outputs j0 .. j0+C-1 over `S` samples: [(nUnits + 1) × C × S]
   * (input rows and the padding row zero). deriv: [nUnits × S]; seeds: [nOutputs × S]. With
   * `raw` (same layout), also the plain J_k = Σ_j w_kj J̃_j (1 at the output), from the same J̃.
   */
  const rateChunk = (net: CompiledNetwork, w: Float32Array, deriv: Float32Array, seeds: Float32Array, j0: number, C: number, S: number, raw?: Float32Array): Float32Array => {
    const rates = new Float32Array((net.nUnits + 1) * C * S);
    const levels = gpuNetwork(net).levels;
    for (let l = levels.length - 1; l >= 0; l--) {
      const lv = levels[l];
      const { start, count } = lv.level;
      const r = deriv.subarray(start * S, (start + count) * S);
      const launch = (reduced: number) => gpu.run('transferLevel', count * C * S, rates, w, lv.outTarget, lv.outParam, lv.level.fanOut, r, lv.column, seeds, C, S, j0, reduced);
      if (raw) raw.set(launch(0), start * C * S);
      rates.set(launch(1), start * C * S);
    }
    return rates;
  };

  return {
    transferRates(net, plan, params, ws, output, seeds, rates, raw) {
      const S = ws.size;
      checkExact(net, S);
      const w = paramsF32(params);
      const deriv = rowsF32(ws.deriv, net.nUnits, S);
      const seeds32 = rowsF32(seeds, net.nOutputs, S);
      const rows = [net.outputUnits[output], ...plan.units.subarray(plan.unitOffsets[output], plan.unitOffsets[output + 1])];
      const write = (target: Float64Array, values: Float32Array) => {
        for (const k of rows) target.set(values.subarray(k * S, (k + 1) * S), k * S);
      };
      const plain = raw ? new Float32Array((net.nUnits + 1) * S) : undefined;
      write(rates, rateChunk(net, w, deriv, seeds32, output, 1, S, plain));
      if (raw && plain) write(raw, plain);
    },

    fisherModulus(net, _plan, params, ws, metric, modulus) {
      const S = ws.size;
      const w = paramsF32(params);
      const chunks = transferChunks(net, S, budget);
      const rows = net.nUnits;
      const add = (target: Float32Array, values: Float32Array) => {
        for (let i = 0; i < values.length; i++) target[i] += values[i];
      };
      for (let s0 = 0; s0 < S; s0 += chunks.samples) {
        const width = Math.min(chunks.samples, S - s0);
        const columns = (values: Float64Array, r: number) => columnsF32(values, r, S, s0, width);
        const deriv = columns(ws.deriv, rows);
        const seeds = columns(metric.seeds, net.nOutputs);
        const beta = columns(metric.beta, net.nOutputs);
        const gamma = metric.gamma ? columns(metric.gamma, net.nOutputs) : undefined;
        const total = new Float32Array(rows * width);
        const extra = new Float32Array((rows + 1) * width);
        for (let j0 = 0; j0 < net.nOutputs; j0 += chunks.outputs) {
          const C = Math.min(chunks.outputs, net.nOutputs - j0);
          const rates = rateChunk(net, w, deriv, seeds, j0, C, width);
          add(total, gpu.run('rateMoment', rows * width, rates, beta, C, width, j0, 2));
          if (gamma) add(extra, gpu.run('rateMoment', rows * width, rates, gamma, C, width, j0, 1));
        }
        if (gamma && metric.betaExtra) add(total, gpu.run('rateMoment', rows * width, extra, Float32Array.from(metric.betaExtra.subarray(s0, s0 + width)), 1, width, 0, 2));
        for (let k = net.nInputs; k < rows; k++) for (let s = 0; s < width; s++) modulus[k * S + s0 + s] += total[k * width + s];
      }
    },

    accumulateUnitBlocks(net, layout, ws, modulus, blocks) {
      const S = ws.size;
      const x = rowsF32(ws.act, net.nUnits, S, 1, 1);
      const psi = rowsF32(modulus, net.nUnits, S);
      for (const g of gpuNetwork(net).blockGroups) {
        const nn = g.n * g.n;
        const values = gpu.run('blockProduct', g.units.length * nn, x, psi, g.rows, g.unitsF, g.n, S);
        g.units.forEach((k, i) => blocks.set(values.subarray(i * nn, (i + 1) * nn), layout.matrixOffsets[k]));
      }
    },
  };
}
