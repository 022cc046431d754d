import type { TrainSettings } from './settings.js';

/**
 * How a method's curvature is estimated across iterations, optax style: a plain rule with no
 * state of its own (the count of updates lives in the curvature state). Each iteration's
 * statistic is folded in as S ← (1 - decay)·S + decay·A(batch), the first one replacing S.
 * - batch: each batch's own metric (decay 1; Section 1, batch version);
 * - decayed: a discounted average across batches or mini-batches (decay γ);
 * - online: Section 1.3: A⁽⁰⁾ from the first n_init samples (Eq. 36), then one sample per
 *   iteration with discount γ (Eq. 37-38); full blocks are kept as online Sherman-Morrison blocks.
 */
export interface Estimator {
  readonly kind: 'batch' | 'decayed' | 'online';
  readonly decay: number;
  /** Samples of the initial batch measured before the first step (online: n_init), else 0. */
  readonly initSamples: number;
}

/** Each batch's own metric. */
export const batchEstimator: Estimator = { kind: 'batch', decay: 1, initSamples: 0 };

/** Discounted average across mini-batches with factor γ. */
export function decayedEstimator(decay: number): Estimator {
  return { kind: 'decayed', decay, initSamples: 0 };
}

/** Online, Section 1.3: initial batch of `initSamples`, then discount γ per sample. */
export function onlineEstimator(decay: number, initSamples: number): Estimator {
  return { kind: 'online', decay, initSamples };
}

/** The estimator a training configuration asks for. */
export function estimatorFor(settings: Pick<TrainSettings, 'mode' | 'metricDecay' | 'onlineDecay' | 'nInit'>): Estimator {
  if (settings.mode === 'online') return onlineEstimator(settings.onlineDecay, settings.nInit);
  if (settings.metricDecay !== null) return decayedEstimator(settings.metricDecay);
  return batchEstimator;
}
