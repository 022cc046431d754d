import type { DeviceBuffer, Engine, GramPlan } from '../../backend/engine.js';
import { UsageError, problem } from '../../errors.js';
import { outputDraws } from '../../metrics/output-metric.js';
import type { Measurement } from '../curvature.js';
import { recursionOrder, type KroneckerGroup } from './groups.js';

/**
 * How the output-side factor G_g is measured (seeds 002, 001/004):
 * - exact (KFLR): G[k,l] = E_x Σ_{o,o'} J̃_k^o F_oo'(x) J̃_l^o', the n_out transfer-rate
 *   backpropagations (Def. 2, Eq. 13) weighted by the output Fisher metric (Eq. 14-17);
 * - monte-carlo (K-FAC): G[k,l] = E_x (1/K) Σ_s b̃_k(x, y_s) b̃_l(x, y_s), y_s ~ ω(·|x) (Eq. 100);
 * - recursive (KFRA): Ĝ_g = E_x[r_g r_gᵀ] ∘ Σ_h W_gh Ĝ_h W_ghᵀ + E_x[(r_g r_gᵀ) ∘ F_g(x)].
 */
export const FACTOR_KINDS = ['exact', 'monte-carlo', 'recursive'] as const;
export type FactorKind = (typeof FACTOR_KINDS)[number];

/** One batch's factors of every group: A_g = E_x ā āᵀ ((n_g+1)² row-major), G_g (m_g² row-major). */
export interface GroupFactors {
  A: Float64Array[];
  G: Float64Array[];
}

/**
 * Measures the Kronecker factors of a list of groups on one engine. The batch means over the
 * samples (the Gram matrices) run on the engine ({@link Engine.groupGram}); the host reads the
 * small factors (Σ (n_g+1)² + m_g² numbers) and, for KFRA, the weights and the output metric.
 * NOTE: KFRA's recursion (products of m_g × m_h matrices) runs on the host in Float64.
 */
export class FactorMeter {
  private readonly activityPlan: GramPlan;
  private readonly unitPlan: GramPlan;
  private readonly order: number[] | undefined;
  private readonly buffers: DeviceBuffer[] = [];

  constructor(
    readonly engine: Engine,
    readonly groups: readonly KroneckerGroup[],
    readonly kind: FactorKind,
  ) {
    this.activityPlan = engine.gramPlan(groups.map((g) => g.activityRows));
    this.unitPlan = engine.gramPlan(groups.map((g) => g.units));
    this.order = kind === 'recursive' ? recursionOrder(engine.net, groups) : undefined;
  }

  /** A_g and G_g of the batch in `m.ws` (forward and backward passes done). */
  measure(m: Measurement): GroupFactors {
    const { engine } = this;
    const A = this.split(engine.read(this.activityFactors(m)), this.activityPlan);
    const G = this.kind === 'recursive' ? this.recursiveFactors(m) : this.split(engine.read(this.outputFactors(m)), this.unitPlan);
    return { A, G };
  }

  /**
   * The batch's factors left on the device (KFLR and K-FAC; KFRA's recursion runs on the host):
   * A in the activity plan's layout, G in the unit plan's ({@link offsets}); the buffers are the
   * meter's, overwritten by the next measurement.
   */
  measureOnDevice(m: Measurement): { A: DeviceBuffer; G: DeviceBuffer } {
    if (this.kind === 'recursive') throw new UsageError([problem('engine', "KFRA's factors are computed on the host (FactorMeter.measure)")]);
    return { A: this.activityFactors(m), G: this.outputFactors(m) };
  }

  /** Where group g's A_g and G_g start in the device layouts (length groups + 1 each). */
  get offsets(): { A: Int32Array; G: Int32Array } {
    return { A: this.activityPlan.offsets, G: this.unitPlan.offsets };
  }

  private activityFactors(m: Measurement): DeviceBuffer {
    const aOut = this.scratch(0, this.activityPlan.offsets[this.groups.length]);
    this.engine.fill(aOut, 0);
    this.engine.groupGram(m.ws.act, this.activityPlan, aOut, 1 / m.ws.size);
    return aOut;
  }

  private outputFactors(m: Measurement): DeviceBuffer {
    return this.kind === 'exact' ? this.exactFactors(m) : this.monteCarloFactors(m);
  }

  dispose(): void {
    for (const b of this.buffers) if (b) this.engine.free(b);
    this.buffers.length = 0;
  }

  /** KFLR: Σ_o β_o J̃^o J̃^oᵀ + β_x e eᵀ with e = Σ_o γ_o J̃^o, averaged over the batch. */
  private exactFactors(m: Measurement): DeviceBuffer {
    const { engine } = this;
    const { net } = engine;
    const S = m.ws.size;
    const out = this.scratch(1, this.unitPlan.offsets[this.groups.length]);
    const rates = this.scratch(2, net.nUnits * S);
    engine.fill(out, 0);
    const metric = engine.outputMetric(m.ws);
    const extra = metric.gamma && metric.betaExtra ? this.scratch(3, net.nUnits * S) : undefined;
    if (extra) engine.fill(extra, 0);
    for (let o = 0; o < net.nOutputs; o++) {
      // NOTE: transferRates writes only the rows of the output's ancestors: clear the others' stale rows.
      engine.fill(rates, 0);
      engine.transferRates(m.params, m.ws, o, rates);
      engine.groupGram(rates, this.unitPlan, out, 1 / S, metric.beta, o);
      if (extra && metric.gamma) engine.accumulateWeighted(extra, rates, metric.gamma, o);
    }
    if (extra && metric.betaExtra) engine.groupGram(extra, this.unitPlan, out, 1 / S, metric.betaExtra, 0);
    return out;
  }

  /** K-FAC: (1/K) Σ_s b̃(x, y_s) b̃(x, y_s)ᵀ over K sampled outputs per sample, averaged over the batch. */
  private monteCarloFactors(m: Measurement): DeviceBuffer {
    const { engine } = this;
    const { net } = engine;
    const S = m.ws.size;
    if (!m.random) throw new UsageError([problem('random', 'the Monte-Carlo Kronecker factor (kfac) samples outputs: give the measurement its PRNG (Measurement.random, as MethodRunner.measure does)')]);
    const K = m.random.mcSamples;
    const draws = outputDraws(net, S, m.random.rng, K);
    const out = this.scratch(1, this.unitPlan.offsets[this.groups.length]);
    const back = this.scratch(2, net.nUnits * S);
    engine.fill(out, 0);
    const perDraw = net.nOutputs * S;
    for (let d = 0; d < K; d++) {
      engine.sampledBackward(m.params, m.ws, draws.subarray(d * perDraw, (d + 1) * perDraw), back);
      engine.groupGram(back, this.unitPlan, out, 1 / (K * S));
    }
    return out;
  }

  /** KFRA (seed 002): the recursion over groups in reverse topological order (block-diagonal assumption). */
  private recursiveFactors(m: Measurement): Float64Array[] {
    const { engine, groups } = this;
    const { net } = engine;
    const S = m.ws.size;
    const out = this.scratch(1, this.unitPlan.offsets[groups.length]);
    engine.fill(out, 0);
    engine.groupGram(m.ws.deriv, this.unitPlan, out, 1 / S);
    const R = this.split(engine.read(out), this.unitPlan);
    const params = engine.read(m.params);
    const outputTerm = this.outputTerm(m);
    const groupOf = new Int32Array(net.nUnits).fill(-1);
    const position = new Int32Array(net.nUnits);
    groups.forEach((g, i) => g.units.forEach((k, a) => ((groupOf[k] = i), (position[k] = a))));
    const G: Float64Array[] = groups.map((g) => new Float64Array(g.units.length ** 2));
    for (const i of this.order as number[]) {
      const g = groups[i];
      const mg = g.units.length;
      const acc = new Float64Array(mg * mg);
      // Σ_h W_gh Ĝ_h W_ghᵀ: Y = W_gh Ĝ_h by rows (edges k → l), then Y W_ghᵀ.
      const targets = new Set<number>();
      for (const k of g.units) for (let e = net.outOffsets[k]; e < net.outOffsets[k + 1]; e++) targets.add(groupOf[net.outTargets[e]]);
      for (const h of targets) {
        const mh = groups[h].units.length;
        const Gh = G[h];
        // The edges k → l from g into h: (position of k in g, position of l in h, weight).
        const edges: Array<[number, number, number]> = [];
        g.units.forEach((k, a) => {
          for (let e = net.outOffsets[k]; e < net.outOffsets[k + 1]; e++) if (groupOf[net.outTargets[e]] === h) edges.push([a, position[net.outTargets[e]], params[net.outParams[e]]]);
        });
        const Y = new Float64Array(mg * mh);
        for (const [a, c, w] of edges) for (let j = 0; j < mh; j++) Y[a * mh + j] += w * Gh[c * mh + j];
        for (const [b, c, w] of edges) for (let a = 0; a < mg; a++) acc[a * mg + b] += Y[a * mh + c] * w;
      }
      const Gg = G[i];
      const Rg = R[i];
      const Tg = outputTerm[i];
      for (let x = 0; x < mg * mg; x++) Gg[x] = Rg[x] * acc[x] + (Tg ? Tg[x] : 0);
    }
    return G;
  }

  /** E_x[(r rᵀ) ∘ F(x)] on the output units of each group: diag E β_o σ_o² + E β_x (γσ)(γσ)ᵀ (see `OutputMetric`). */
  private outputTerm(m: Measurement): Array<Float64Array | undefined> {
    const { engine, groups } = this;
    const { net } = engine;
    const S = m.ws.size;
    const metric = engine.outputMetric(m.ws);
    const seeds = engine.read(metric.seeds).slice();
    const beta = engine.read(metric.beta).slice();
    const gamma = metric.gamma && engine.read(metric.gamma).slice();
    const betaExtra = metric.betaExtra && engine.read(metric.betaExtra).slice();
    return groups.map((g) => {
      const outputs = Array.from(g.units, (k, a) => [a, net.outputIndex[k]]).filter(([, o]) => o >= 0);
      if (outputs.length === 0) return undefined;
      const mg = g.units.length;
      const T = new Float64Array(mg * mg);
      for (const [a, o] of outputs) {
        let sum = 0;
        for (let s = 0; s < S; s++) sum += beta[o * S + s] * seeds[o * S + s] ** 2;
        T[a * mg + a] += sum / S;
        if (gamma && betaExtra) {
          for (const [b, p] of outputs) {
            let cross = 0;
            for (let s = 0; s < S; s++) cross += betaExtra[s] * gamma[o * S + s] * seeds[o * S + s] * gamma[p * S + s] * seeds[p * S + s];
            T[a * mg + b] += cross / S;
          }
        }
      }
      return T;
    });
  }

  private scratch(slot: number, length: number): DeviceBuffer {
    return (this.buffers[slot] ??= this.engine.alloc(length));
  }

  private split(values: Float64Array, plan: GramPlan): Float64Array[] {
    return this.groups.map((_, g) => values.slice(plan.offsets[g], plan.offsets[g + 1]));
  }
}
