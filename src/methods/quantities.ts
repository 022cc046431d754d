import { metricLayout } from '../backend/kernels.js';
import { Prng } from '../random/prng.js';
import type { PreparedBatch } from './context.js';
import { UsageError, problem } from '../errors.js';
import type { KroneckerState } from '../curvature/kronecker/kronecker-curvature.js';
import { factoredPi } from '../curvature/kronecker/factor-inverse.js';
import { createMethod, kroneckerChoices, METHOD_SPECS, type KroneckerChoices, type MethodName } from './methods.js';
import { MethodRunner } from './runner.js';
import { SOURCES, type SourceName } from './sources.js';

export const QUANTITIES = ['J', 'phi', 'm', 'blocks', 'factors'] as const;
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
  /**
   * Kronecker factors of a kflr/kfac/kfra method per group (unregularised): units and sources by
   * key in the order of the file's nodes; row and column 0 of A are the bias; π of factored damping.
   */
  factors?: { method: string; groups: Array<{ name: string; units: string[]; sources: string[]; A: number[][]; G: number[][]; pi: number }> };
}

/**
 * The intermediate quantities of Sections 1 and 2.5 on the whole data set, for `inspect
 * --quantities`. Blocks use the metric of `method` (default: the Fisher metric).
 */
export function inspectQuantities(prepared: PreparedBatch, quantities: QuantityName[], options: { method?: MethodName; seed?: number; mcSamples?: number } & KroneckerChoices = {}): QuantitiesReport {
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
  if (quantities.includes('factors')) report.factors = kroneckerFactors(prepared, options);
  return report;
}

/** The factors A_g, G_g of a Kronecker method on the batch (`--quantities factors`). */
function kroneckerFactors(prepared: PreparedBatch, options: { method?: MethodName; seed?: number; mcSamples?: number } & KroneckerChoices): QuantitiesReport['factors'] {
  const { engine, params, ws } = prepared;
  const { net } = engine;
  if (!options.method || METHOD_SPECS[options.method].reduction !== 'kronecker') {
    throw new UsageError([problem('quantities', `--quantities factors: give a Kronecker-factored method (--method kflr, kfac or kfra), not ${options.method ?? 'none'}`)]);
  }
  const runner = new MethodRunner(engine, createMethod(options.method, kroneckerChoices(options)));
  try {
    runner.measure(params, ws, 1, { rng: new Prng(options.seed ?? 1), mcSamples: options.mcSamples ?? 1 });
    const state = runner.state as KroneckerState;
    const matrix = (a: Float64Array, n: number) => Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)));
    return {
      method: options.method,
      groups: state.groups.map((g, i) => {
        const n = g.sources.length + 1;
        const m = g.units.length;
        return { name: g.name, units: Array.from(g.units, (k) => net.unitKeys[k]), sources: Array.from(g.sources, (k) => net.unitKeys[k]), A: matrix(state.A[i], n), G: matrix(state.G[i], m), pi: factoredPi(state.A[i], n, state.G[i], m) };
      }),
    };
  } finally {
    runner.dispose();
  }
}
