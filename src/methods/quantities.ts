import { metricLayout } from '../backend/kernels.js';
import { Prng } from '../random/prng.js';
import type { PreparedBatch } from './context.js';
import { METHOD_SPECS, type MethodName } from './methods.js';
import { SOURCES, type SourceName } from './sources.js';

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
export function inspectQuantities(prepared: PreparedBatch, quantities: QuantityName[], options: { method?: MethodName; seed?: number; mcSamples?: number } = {}): QuantitiesReport {
  const { engine, params, ws } = prepared;
  const { net } = engine;
  const S = ws.size;
  const deriv = engine.read(ws.deriv);
  const report: QuantitiesReport = {};
  // Moduli of a source; b̃ is recomputed unchanged. Monte-Carlo draws come from their own stream.
  const modulusOf = (source: Exclude<SourceName, 'euclidean'>): Float64Array => {
    const modulus = engine.alloc(net.nUnits * S);
    SOURCES[source].backward({ engine, params, ws, rng: new Prng(options.seed ?? 1), mcSamples: options.mcSamples ?? 1 }, modulus);
    return engine.read(modulus).slice();
  };
  const perUnit = (reduced: Float64Array): PerUnit => {
    const out: PerUnit = {};
    for (let k = net.nInputs; k < net.nUnits; k++) {
      out[net.unitKeys[k]] = Array.from({ length: S }, (_, s) => {
        const r = deriv[k * S + s];
        return r === 0 ? null : reduced[k * S + s] / (r * r);
      });
    }
    return out;
  };
  if (quantities.includes('J')) {
    const rates = engine.alloc(net.nUnits * S);
    const raw = engine.alloc(net.nUnits * S);
    const ancestors = new Uint8Array(net.nUnits);
    report.transferRates = {};
    net.outputUnits.forEach((o, j) => {
      engine.fill(raw, 0);
      engine.transferRates(params, ws, j, rates, raw);
      const values = engine.read(raw);
      ancestors.fill(0);
      ancestors[o] = 1;
      for (let k = o; k >= net.nInputs; k--) if (ancestors[k]) for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) ancestors[net.inSources[e]] = 1;
      const units = [o];
      for (let k = o - 1; k >= net.nInputs; k--) if (ancestors[k]) units.push(k);
      (report.transferRates as Record<string, PerUnit>)[net.unitKeys[o]] = Object.fromEntries(units.map((k) => [net.unitKeys[k], Array.from(values.subarray(k * S, (k + 1) * S))]));
    });
  }
  if (quantities.includes('phi')) report.fisherModulus = perUnit(modulusOf('fisher'));
  if (quantities.includes('m')) report.backpropagatedModulus = perUnit(modulusOf('backpropagated'));
  if (quantities.includes('blocks')) {
    const spec = options.method ? METHOD_SPECS[options.method] : METHOD_SPECS['unitwise-natural'];
    const metric = spec.metric === 'euclidean' ? 'fisher' : spec.metric;
    const layout = metricLayout(net);
    const modulus = engine.alloc(net.nUnits * S);
    engine.upload(modulus, modulusOf(metric));
    const blockBuffer = engine.alloc(layout.matrixOffsets[net.nUnits]);
    engine.unitBlocks(ws, modulus, blockBuffer);
    const blocks = engine.read(blockBuffer);
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
