import { backwardPass, type DeviceBuffer, type Engine, type EngineWorkspace } from '../backend/engine.js';
import { outputDraws } from '../metrics/output-metric.js';
import type { Prng } from '../random/prng.js';

/** What a source needs besides the engine: the parameters, the batch's forward pass and the PRNG. */
export interface SourceContext {
  readonly engine: Engine;
  readonly params: DeviceBuffer;
  readonly ws: EngineWorkspace;
  /** Randomness of the Monte-Carlo Fisher metric (consumed in a fixed order). */
  readonly rng: Prng;
  /** Draws per sample of the Monte-Carlo Fisher metric (K of Eq. 100). */
  readonly mcSamples: number;
}

/**
 * A per-sample metric source (Sections 1.2 and 2.5): after the output layer, it runs the
 * backward pass and writes the reduced modulus ψ̃_k(x) = r_k² ψ_k(x) of every non-input unit
 * into `modulus` ([nUnits × size]), so that the metric blocks are A_ij = E_x ψ̃_k a_i a_j
 * (Eq. 18, 28). The Euclidean source has no modulus.
 */
export interface MetricSource {
  readonly name: string;
  /** Whether it writes a modulus (false: the Euclidean metric). */
  readonly hasModulus: boolean;
  backward(ctx: SourceContext, modulus: DeviceBuffer | undefined): void;
}

/** The Euclidean metric: backpropagation only (Eq. 12). */
export const euclideanSource: MetricSource = {
  name: 'euclidean',
  hasModulus: false,
  backward: ({ engine, params, ws }) => backwardPass(engine, params, ws),
};

/** The Fisher modulus Φ (Def. 3, Eq. 14-17) by n_out transfer-rate backpropagations. */
export const fisherSource: MetricSource = {
  name: 'fisher',
  hasModulus: true,
  backward({ engine, params, ws }, modulus) {
    backwardPass(engine, params, ws);
    if (modulus) engine.fisherModulus(params, ws, modulus);
  },
};

/** The Monte-Carlo Fisher modulus (1/K) Σ_s b̃_k(x, y_s)², y_s ~ ω(x) (Eq. 100). */
export const monteCarloFisherSource: MetricSource = {
  name: 'mc-fisher',
  hasModulus: true,
  backward({ engine, params, ws, rng, mcSamples }, modulus) {
    backwardPass(engine, params, ws);
    if (modulus) engine.monteCarloModulus(params, ws, outputDraws(engine.net, ws.size, rng, mcSamples), modulus);
  },
};

/**
 * The backpropagated modulus m (Def. 7, Eq. 26-27): output values from the output metric, then
 * m̃_k = r_k² Σ_j w_kj² m̃_j on the backward pass itself.
 */
export const backpropagatedSource: MetricSource = {
  name: 'backpropagated',
  hasModulus: true,
  backward({ engine, params, ws }, modulus) {
    if (!modulus) return backwardPass(engine, params, ws);
    engine.outputModulus(ws, modulus);
    backwardPass(engine, params, ws, modulus);
  },
};

/** The outer-product modulus b̃_k² with the data's targets (Def. 14; Prop. 32's OP case). */
export const outerProductSource: MetricSource = {
  name: 'outer-product',
  hasModulus: true,
  backward({ engine, params, ws }, modulus) {
    backwardPass(engine, params, ws);
    if (modulus) engine.outerProductModulus(ws, modulus);
  },
};

/** Every source by its name in the method table. */
export const SOURCES = {
  euclidean: euclideanSource,
  fisher: fisherSource,
  'mc-fisher': monteCarloFisherSource,
  backpropagated: backpropagatedSource,
  'outer-product': outerProductSource,
} as const;
export type SourceName = keyof typeof SOURCES;
