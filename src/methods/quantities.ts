import { computeModulus } from '../metrics/moduli.js';
import { Prng } from '../random/prng.js';
import { unitBlocks } from '../reductions/reductions.js';
import type { PreparedBatch } from './context.js';
import { METHOD_SPECS, type MethodName } from './methods.js';

export const QUANTITIES = ['J', 'phi', 'm', 'blocks'] as const;
export type QuantityName = (typeof QUANTITIES)[number];

/** Per unit key, one value per sample; null where the paper's quantity divides by r_k = 0. */
type PerUnit = Record<string, Array<number | null>>;

export interface QuantitiesReport {
  /** J_k^{kout} of Def. 2 (Eq. 13): per output key, per ancestor unit key (the output itself: 1), per sample. */
  transferRates?: Record<string, PerUnit>;
  /** Fisher modulus Φ_k (Def. 3) per non-input unit and sample. */
  fisherModulus?: PerUnit;
  /** Backpropagated modulus m_k (Def. 7) per non-input unit and sample. */
  backpropagatedModulus?: PerUnit;
  /** Per-unit metric blocks (Eq. 18 / 28; unregularised) of `metric`, rows and columns labelled by incoming unit ('bias' first). */
  blocks?: { metric: string; units: Record<string, { parameters: string[]; matrix: number[][] }> };
}

/**
 * The intermediate quantities of Sections 1 and 2.5 on the whole data set, for `inspect
 * --quantities`. Blocks use the metric of `method` (default: the Fisher metric).
 */
export function inspectQuantities(prepared: PreparedBatch, quantities: QuantityName[], options: { method?: MethodName; seed?: number } = {}): QuantitiesReport {
  // Monte-Carlo blocks draw from their own stream, whatever ran on this batch before.
  const ctx: PreparedBatch['ctx'] = { ...prepared.ctx, rng: new Prng(options.seed ?? 1) };
  const { params } = ctx;
  const { net, ws, kernels, plan } = ctx;
  const S = ws.size;
  const report: QuantitiesReport = {};
  const perUnit = (reduced: Float64Array): PerUnit => {
    const out: PerUnit = {};
    for (let k = net.nInputs; k < net.nUnits; k++) {
      out[net.unitKeys[k]] = Array.from({ length: S }, (_, s) => {
        const r = ws.deriv[k * S + s];
        return r === 0 ? null : reduced[k * S + s] / (r * r);
      });
    }
    return out;
  };
  if (quantities.includes('J')) {
    const seeds = new Float64Array(net.nOutputs * S);
    net.outputUnits.forEach((o, j) => seeds.set(ws.deriv.subarray(o * S, (o + 1) * S), j * S));
    const rates = new Float64Array(net.nUnits * S);
    const raw = new Float64Array(net.nUnits * S);
    report.transferRates = {};
    net.outputUnits.forEach((o, j) => {
      kernels.transferRates(net, plan, params, ws, j, seeds, rates, raw);
      const units = [o, ...plan.units.subarray(plan.unitOffsets[j], plan.unitOffsets[j + 1])];
      (report.transferRates as Record<string, PerUnit>)[net.unitKeys[o]] = Object.fromEntries(units.map((k) => [net.unitKeys[k], Array.from(raw.subarray(k * S, (k + 1) * S))]));
    });
  }
  if (quantities.includes('phi')) report.fisherModulus = perUnit(computeModulus('fisher', ctx));
  if (quantities.includes('m')) report.backpropagatedModulus = perUnit(computeModulus('backpropagated', ctx));
  if (quantities.includes('blocks')) {
    const spec = options.method ? METHOD_SPECS[options.method] : METHOD_SPECS['unitwise-natural'];
    const metric = spec.metric === 'euclidean' ? 'fisher' : spec.metric;
    const { layout, blocks } = unitBlocks(kernels, net, ws, computeModulus(metric, ctx));
    const units: Record<string, { parameters: string[]; matrix: number[][] }> = {};
    for (let k = net.nInputs; k < net.nUnits; k++) {
      const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
      const base = layout.matrixOffsets[k];
      units[net.unitKeys[k]] = {
        parameters: ['bias', ...Array.from(net.inSources.subarray(net.inOffsets[k], net.inOffsets[k + 1]), (i) => net.unitKeys[i])],
        matrix: Array.from({ length: n }, (_, i) => Array.from(blocks.subarray(base + i * n, base + (i + 1) * n))),
      };
    }
    report.blocks = { metric, units };
  }
  return report;
}
