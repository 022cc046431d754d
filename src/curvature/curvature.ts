import type { DeviceBuffer, Engine, EngineWorkspace } from '../backend/engine.js';
import { FileFormatError, UsageError, problem } from '../errors.js';
import type { Prng } from '../random/prng.js';

/**
 * What one batch (or one sample) gives a curvature: the forward and backward passes in `ws`
 * (of `params`), the per-sample reduced modulus ψ̃ of the method's source ([nUnits × size];
 * undefined for the Euclidean metric), and where to write the batch gradient G = E_x a_i b̃_k
 * (laid out like the parameters).
 */
export interface Measurement {
  readonly engine: Engine;
  readonly params: DeviceBuffer;
  readonly ws: EngineWorkspace;
  readonly modulus: DeviceBuffer | undefined;
  readonly gradient: DeviceBuffer;
  /** The optimizer's PRNG and Monte-Carlo draw count, for curvatures that sample outputs themselves (K-FAC's factor). */
  readonly random?: { readonly rng: Prng; readonly mcSamples: number };
}

/** A curvature state in JSON-ready form: numbers round-trip exactly through `stringifyJson`. */
export interface SerializedCurvature {
  kind: string;
  updates: number;
  arrays: number[][];
}

/**
 * A curvature representation, in the manner of nngeometry's `PMat*` objects and kfac-jax's
 * blocks: a structure over the parameters (per-unit blocks, quasi-diagonal entries, diagonal,
 * the whole network, ...) with the same operations for all. States hold engine buffers and a
 * count of updates; they are created by `init` (or `fromDense`/`restore`) and freed by
 * `dispose`. Adding a curvature touches no other curvature, source or estimator.
 */
export interface Curvature<S extends CurvatureState = CurvatureState> {
  /** Name in reports and serialised states. */
  readonly kind: string;
  /** Whether the structure lies within each unit's incoming parameters (Eq. 18): a per-unit block determines it. */
  readonly withinUnits: boolean;
  /** Whether `update` reads the source's per-unit modulus ψ̃ (else the source need not compute it). */
  readonly usesModulus: boolean;
  /**
   * Whether the state matters across iterations even when each batch's statistic replaces the
   * last (periodic inverses: the solve uses the factors of an earlier refresh), so that
   * checkpoints must save it.
   */
  readonly carriesState?: boolean;
  /** What the last solve did, for reports (e.g. iterations of an iterative solve); JSON-ready. */
  solveReport?(state: S): unknown;
  /** An empty state (no statistic folded in yet). */
  init(engine: Engine): S;
  /**
   * Folds one measurement in: S ← (1 - decay)·S + decay·A(batch) (decay 1 replaces; the first
   * update always replaces). Also writes the batch gradient into `m.gradient`, on the same pass
   * as the statistic where the curvature can fuse them.
   */
  update(engine: Engine, state: S, m: Measurement, decay: number): void;
  /** The direction δw = (S + εI)⁻¹ G (or the curvature's reading of it) into `out`. */
  solve(engine: Engine, state: S, gradient: DeviceBuffer, epsilon: number, out: DeviceBuffer): void;
  /** The state as a dense P × P matrix, row-major (tests; small networks). */
  toDense(engine: Engine, state: S): Float64Array;
  /** A state holding the restriction of a dense P × P matrix to this structure. */
  fromDense(engine: Engine, dense: Float64Array): S;
  serialize(engine: Engine, state: S): SerializedCurvature;
  restore(engine: Engine, value: SerializedCurvature): S;
  dispose(engine: Engine, state: S): void;
}

/** What every curvature state carries; the rest is the curvature's own. */
export interface CurvatureState {
  /** Updates folded in so far. */
  updates: number;
}

/** The mixing step shared by every curvature's update: target ← (1 - decay)·target + decay·source. */
export function mixInto(engine: Engine, target: DeviceBuffer, source: DeviceBuffer, decay: number): void {
  engine.combine(target, 1 - decay, target, decay, source);
}

/**
 * Checks a serialised state's kind, update count and arrays (their number and lengths, which a
 * state saved for another network does not match); throws a FileFormatError otherwise.
 */
export function checkSerialized(value: SerializedCurvature, kind: string, lengths: readonly number[]): void {
  const fits =
    value?.kind === kind &&
    Number.isInteger(value.updates) &&
    Array.isArray(value.arrays) &&
    value.arrays.length === lengths.length &&
    value.arrays.every((a, i) => Array.isArray(a) && a.length === lengths[i] && a.every((v) => typeof v === 'number'));
  if (!fits) throw new FileFormatError([problem('state-format', `not a saved '${kind}' curvature state of this network (saved by another method, network or version)`)]);
}

/** The error of a curvature given no per-sample modulus (composed with the Euclidean source). */
export function needsModulus(what: string): UsageError {
  return new UsageError([problem('method', `${what} need a per-sample metric: compose them with the fisher, mc-fisher, backpropagated or outer-product source, not the Euclidean one`)]);
}
