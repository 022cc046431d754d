import type { Kernels } from '../backend/kernels.js';
import { NumericalError, problem } from '../errors.js';
import type { Workspace } from '../engine/workspace.js';
import { blockTimesVector, invertBlock } from '../linalg/sherman-morrison.js';
import { methodDirection, type MethodMeasurement, type MethodSpec, type NetworkCache } from '../methods/methods.js';
import { copyEstimate, estimateArrays, type MetricEstimate } from '../reductions/reductions.js';

/**
 * Metric estimators, optax style: `init` gives a state, `update` folds one measurement in and
 * returns the direction and the next state. States hold plain typed arrays only, so that
 * `serialiseEstimator` can write them exactly and a resumed run continues bit for bit.
 */
export type EstimatorState =
  | { kind: 'batch' }
  | { kind: 'decayed'; estimate: MetricEstimate | undefined }
  | { kind: 'online-blocks'; a: Float64Array; h: Float64Array; updates: number }
  | { kind: 'online-entries'; estimate: MetricEstimate };

export interface EstimatorContext {
  spec: MethodSpec;
  kernels: Kernels;
  cache: NetworkCache;
  epsilon: number;
}

/** Batch estimator: each batch's own metric (Section 1, batch version). */
export function batchDirection(ctx: EstimatorContext, m: MethodMeasurement): Float64Array {
  return methodDirection(ctx.spec, ctx.kernels, ctx.cache, m.gradient, m.estimate, ctx.epsilon);
}

/** Discounted average across mini-batches: A ← (1-γ)A + γ A_batch (the first batch's A as is). */
export function decayedUpdate(ctx: EstimatorContext, state: Extract<EstimatorState, { kind: 'decayed' }>, m: MethodMeasurement, decay: number): { direction: Float64Array; state: EstimatorState } {
  let estimate = state.estimate;
  if (m.estimate) {
    if (!estimate) estimate = copyEstimate(m.estimate);
    else mixInto(estimateArrays(estimate), estimateArrays(m.estimate), decay);
  }
  return { direction: methodDirection(ctx.spec, ctx.kernels, ctx.cache, m.gradient, estimate, ctx.epsilon), state: { kind: 'decayed', estimate } };
}

/**
 * Online initialisation (Eq. 36): A⁽⁰⁾ is the metric of the first n_init samples. Full blocks
 * get ε·Id added once, here, and their inverse is computed; the regularisation then decays
 * with the discounting like any other contribution (the online algorithm of Section 1.3 adds
 * none of its own). Quasi-diagonal and diagonal entries are regularised at every solve.
 */
export function onlineInit(ctx: EstimatorContext, initial: MethodMeasurement): EstimatorState {
  const estimate = initial.estimate;
  if (!estimate) return { kind: 'batch' };
  if (estimate.kind !== 'blocks') return { kind: 'online-entries', estimate: copyEstimate(estimate) };
  const { net } = ctx.cache;
  const { matrixOffsets } = ctx.cache.metricLayout();
  const a = estimate.blocks.slice();
  const h = new Float64Array(a.length);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
    for (let i = 0; i < n; i++) a[matrixOffsets[k] + i * n + i] += ctx.epsilon;
    if (!invertBlock(a, h, matrixOffsets[k], n)) throw notPositiveDefinite(net.unitKeys[k], n, ctx.epsilon);
  }
  return { kind: 'online-blocks', a, h, updates: 0 };
}

/**
 * One online step's metric (Eq. 37-38): A⁽ᵗ⁾ = (1-γ)A⁽ᵗ⁻¹⁾ + γA(x_t), with A(x_t) = u uᵀ,
 * u = √ψ̃_k(x_t)·(1, a_i(x_t)) at each unit, its inverse by Sherman-Morrison in O(d²), and the
 * direction (A⁽ᵗ⁾)⁻¹G(x_t). `ws` holds the single sample's forward pass and `m.modulus` its ψ̃.
 * Every `refreshEvery` updates (0: never) each inverse is recomputed from A by Cholesky, so
 * rounding cannot accumulate; a failed rank-one update (lost positive definiteness) also
 * triggers a recomputation.
 */
export function onlineUpdate(ctx: EstimatorContext, state: EstimatorState, m: MethodMeasurement, ws: Workspace, decay: number, refreshEvery: number): { direction: Float64Array; state: EstimatorState } {
  if (state.kind === 'online-entries') {
    if (m.estimate) mixInto(estimateArrays(state.estimate), estimateArrays(m.estimate), decay);
    return { direction: methodDirection(ctx.spec, ctx.kernels, ctx.cache, m.gradient, state.estimate, ctx.epsilon), state };
  }
  if (state.kind !== 'online-blocks' || !m.modulus) return { direction: m.gradient.slice(), state };
  const { net } = ctx.cache;
  const layout = ctx.cache.metricLayout();
  const direction = new Float64Array(net.nParams);
  const updates = state.updates + 1;
  const refresh = refreshEvery > 0 && updates % refreshEvery === 0;
  const refused = ctx.kernels.onlineBlockStep(net, layout, state.a, state.h, ws.act, m.modulus, ws.size, 0, m.gradient, decay, direction);
  const reinvert = refresh ? Array.from({ length: net.nUnits - net.nInputs }, (_, i) => net.nInputs + i) : refused;
  for (const k of reinvert) {
    const p0 = net.blockOffsets[k];
    const n = net.blockOffsets[k + 1] - p0;
    const off = layout.matrixOffsets[k];
    if (!invertBlock(state.a, state.h, off, n)) throw notPositiveDefinite(net.unitKeys[k], n, ctx.epsilon);
    blockTimesVector(state.h, off, n, m.gradient, p0, direction);
  }
  return { direction, state: { ...state, updates } };
}

/**
 * A metric estimator as an update rule: `init` gives the starting state (the online one needs
 * the measurement of its first n_init samples, Eq. 36), `update` folds one measurement in and
 * returns the direction with the next state. States are plain and serialisable (see below).
 */
export interface MetricEstimator {
  init(ctx: EstimatorContext, initial?: () => MethodMeasurement): EstimatorState;
  update(ctx: EstimatorContext, state: EstimatorState, m: MethodMeasurement, ws: Workspace): { direction: Float64Array; state: EstimatorState };
}

/** Each batch's own metric. */
export const batchEstimator: MetricEstimator = {
  init: () => ({ kind: 'batch' }),
  update: (ctx, state, m) => ({ direction: batchDirection(ctx, m), state }),
};

/** Discounted average across mini-batches with factor γ. */
export function decayedEstimator(decay: number): MetricEstimator {
  return {
    init: () => ({ kind: 'decayed', estimate: undefined }),
    update: (ctx, state, m) => decayedUpdate(ctx, state as Extract<EstimatorState, { kind: 'decayed' }>, m, decay),
  };
}

/** Online, Section 1.3: discount γ, re-inversion every `refreshEvery` updates. */
export function onlineEstimator(decay: number, refreshEvery: number): MetricEstimator {
  return {
    init: (ctx, initial) => (initial ? onlineInit(ctx, initial()) : { kind: 'batch' }),
    update: (ctx, state, m, ws) => onlineUpdate(ctx, state, m, ws, decay, refreshEvery),
  };
}

function mixInto(target: Float64Array[], source: Float64Array[], decay: number): void {
  target.forEach((t, i) => {
    const s = source[i];
    for (let j = 0; j < t.length; j++) t[j] = (1 - decay) * t[j] + decay * s[j];
  });
}

function notPositiveDefinite(unit: string, n: number, epsilon: number): NumericalError {
  return new NumericalError([problem('not-positive-definite', `unit '${unit}': its ${n}×${n} online metric is not positive definite (ε = ${epsilon}); raise --epsilon or --n-init`)]);
}

/** JSON-ready form of an estimator state (numbers round-trip exactly through stringifyJson). */
export function serialiseEstimator(state: EstimatorState): unknown {
  const arrays = (e: MetricEstimate) => ({ kind: e.kind, arrays: estimateArrays(e).map((a) => Array.from(a)) });
  switch (state.kind) {
    case 'batch':
      return state;
    case 'decayed':
      return { kind: state.kind, estimate: state.estimate ? arrays(state.estimate) : null };
    case 'online-entries':
      return { kind: state.kind, estimate: arrays(state.estimate) };
    case 'online-blocks':
      return { kind: state.kind, a: Array.from(state.a), h: Array.from(state.h), updates: state.updates };
  }
}

/** Inverse of {@link serialiseEstimator}. */
export function deserialiseEstimator(value: unknown): EstimatorState {
  const v = value as Record<string, unknown>;
  const estimate = (e: unknown): MetricEstimate => {
    const { kind, arrays } = e as { kind: MetricEstimate['kind']; arrays: number[][] };
    const [first, second] = arrays.map((a) => Float64Array.from(a));
    if (kind === 'blocks') return { kind, blocks: first };
    if (kind === 'matrix') return { kind, matrix: first };
    return { kind: 'entries', diagonal: first, cross: second };
  };
  switch (v.kind) {
    case 'decayed':
      return { kind: 'decayed', estimate: v.estimate ? estimate(v.estimate) : undefined };
    case 'online-entries':
      return { kind: 'online-entries', estimate: estimate(v.estimate) };
    case 'online-blocks':
      return { kind: 'online-blocks', a: Float64Array.from(v.a as number[]), h: Float64Array.from(v.h as number[]), updates: v.updates as number };
    default:
      return { kind: 'batch' };
  }
}
