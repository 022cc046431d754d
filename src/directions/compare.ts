import { backwardPass, type Engine } from '../backend/engine.js';
import { openEngine } from '../backend/registry.js';
import { MAX_WHOLE_NETWORK_PARAMS, solveWholeNetwork, wholeNetworkFisher } from '../curvature/whole-network.js';
import { UsageError, problem, type Problem } from '../errors.js';
import { makeBatch, type Batch } from '../engine/batch.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { Model } from '../engine/model.js';
import { BITS_PER_NAT, forwardLoss, loadBatch } from '../engine/propagate.js';
import { createMethod, isMethodName, kroneckerChoices, METHOD_SPECS, METHODS, type KroneckerChoices, type Method, type MethodName } from '../methods/methods.js';
import { evaluateMethodOnce } from '../methods/runner.js';
import type { DataDocument } from '../network/types.js';
import { Prng } from '../random/prng.js';
import { amountProblem, baselineChoicesFor, baselineProblems, countProblem, kroneckerChoiceProblems, refuse } from '../train/options-check.js';
import type { BaselineChoices } from '../curvature/baselines.js';

/**
 * How one direction δ compares with the exact natural gradient δ* = F_ε⁻¹ G (Prop. 27), where
 * F_ε = F + εI is the whole-network Fisher matrix regularised with the same ε as the methods
 * (at ε = 0, δ* is the least-squares solution of F δ* = G, as `solveWholeNetwork` gives it) and
 * G = E_x a_i b̃_k = −∂L/∂w is the gradient (δ is a descent direction when Gᵀδ > 0).
 * A value is `null` where its formula divides by zero (δ = 0, δᵀF_εδ = 0, or G = 0).
 */
export interface DirectionComparison {
  /** cos_euclid = δᵀδ* / (‖δ‖ ‖δ*‖): the angle in the parameters' coordinates (changes under reparametrisation). */
  cosEuclid: number | null;
  /**
   * cos_fisher = Gᵀδ / √(δᵀF_εδ · GᵀF_ε⁻¹G) = ⟨δ, δ*⟩_F / (‖δ‖_F ‖δ*‖_F), since GᵀF_ε⁻¹G = Gᵀδ* = δ*ᵀF_εδ*:
   * the angle in the Fisher metric, invariant under reparametrisations that map δ as a vector
   * (at ε = 0; ε·I is not invariant, Remark 12). Negative for an ascent direction.
   */
  cosFisher: number | null;
  /**
   * The fraction of the natural gradient's second-order decrease that δ achieves at its best
   * step: with q(t) = −t Gᵀδ + (t²/2) δᵀF_εδ, the decrease −q(t*) = (Gᵀδ)² / (2 δᵀF_εδ) over the
   * natural gradient's GᵀF_ε⁻¹G / 2; equal to cos_fisher².
   */
  fraction: number | null;
  /** The best step t* = Gᵀδ / δᵀF_εδ of the model q (negative when δ is an ascent direction). */
  step: number | null;
}

/** The comparison at one point of parameter space. */
export interface DirectionsAt {
  /** Mean loss at the parameters, bits per sample. */
  loss: number;
  /** The natural gradient's second-order decrease GᵀF_ε⁻¹G / 2, nats per sample. */
  naturalDecrease: number;
  /** Per method, in the order asked. */
  methods: Partial<Record<MethodName, DirectionComparison>>;
}

/** What {@link compareDirections} returns: the comparison and its setting. */
export interface DirectionsReport extends DirectionsAt {
  parameters: number;
  samples: number;
  epsilon: number;
}

/** Options of {@link compareDirections}. */
export interface CompareOptions extends KroneckerChoices, BaselineChoices {
  /** The methods to compare (default: every method, {@link METHODS}). */
  methods?: MethodName[];
  /** ε of F_ε and of every method's solve (default 1e-4; 0: least squares). */
  epsilon?: number;
  /** Monte-Carlo draws per sample of the Monte-Carlo methods (default 1). */
  mcSamples?: number;
  /** Seed of the Monte-Carlo draws: each method draws from its own `Prng(seed)` (default 1). */
  seed?: number;
  backend?: string;
}

/**
 * Refuses (UsageError) a network above {@link MAX_WHOLE_NETWORK_PARAMS} parameters: the
 * comparison needs the whole P × P Fisher matrix and its solve.
 */
export function checkComparisonSize(net: CompiledNetwork): void {
  const P = net.nParams;
  if (P <= MAX_WHOLE_NETWORK_PARAMS) return;
  throw new UsageError([
    problem(
      'too-large',
      `comparing directions needs the exact natural gradient F⁻¹G over the whole network, and this network has ${P} parameters, above the limit of ${MAX_WHOLE_NETWORK_PARAMS} (F holds P² numbers and costs P³ to solve); compare on a smaller network of the same kind (fewer or narrower hidden layers), or look at one method's own direction with 'unitwise inspect --method M'`,
    ),
  ]);
}

/** The problems of comparison options that need neither the network nor the data. */
export function compareOptionProblems(options: CompareOptions, extraMethods: string[] = []): Problem[] {
  const methods = options.methods ?? METHODS;
  const unknown = methods.filter((m) => !isMethodName(m));
  const problems: Array<Problem | undefined> = [
    unknown.length > 0 ? problem('methods', `unknown method${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; available: ${METHODS.join(', ')}`) : undefined,
    methods.length === 0 ? problem('methods', 'no method to compare; name at least one') : undefined,
    amountProblem('--epsilon', options.epsilon, 'the regularisation ε of F_ε and of every method', { zero: true }),
    countProblem('--mc-samples', options.mcSamples, 'Monte-Carlo draws per sample'),
  ];
  const kronecker = [...methods, ...extraMethods].find((m) => isMethodName(m) && METHOD_SPECS[m].reduction === 'kronecker');
  problems.push(...kroneckerChoiceProblems(kronecker ?? methods.join(', '), options), ...baselineProblems({ ...options, method: [...methods, ...extraMethods] }));
  return problems.filter((p): p is Problem => p !== undefined);
}

/** A method to compare and the PRNG of its Monte-Carlo draws. */
export interface ComparedMethod {
  method: Method;
  rng: Prng;
}

/** Composes the methods to compare, each with its own `Prng(seed)` (so a method's draws do not depend on the others listed). */
export function comparedMethods(options: CompareOptions): ComparedMethod[] {
  return (options.methods ?? METHODS).map((name) => ({ method: createMethod(name, { ...kroneckerChoices(options), ...baselineChoicesFor(name, options) }), rng: new Prng(options.seed ?? 1) }));
}

/**
 * Compares each method's direction with the exact natural gradient on the whole data set at the
 * model's parameters (see {@link DirectionComparison} for the quantities). The methods' own
 * directions are computed as `unitwise step` does (each batch's own curvature, the same ε);
 * `natural`, whose direction is δ* itself (computed once), is a sanity row: 1, 1, 1 and t* = 1.
 * Refuses networks above {@link MAX_WHOLE_NETWORK_PARAMS} parameters.
 */
export function compareDirections(model: Model, data: DataDocument, options: CompareOptions = {}): DirectionsReport {
  refuse(compareOptionProblems(options));
  checkComparisonSize(model.net);
  const batch = makeBatch(model.net, data);
  const epsilon = options.epsilon ?? 1e-4;
  const engine = openEngine(options.backend ?? 'cpu', model.net, batch.size);
  try {
    const at = compareDirectionsAt(engine, model.params, batch, comparedMethods(options), { epsilon, mcSamples: options.mcSamples ?? 1 });
    return { parameters: model.net.nParams, samples: batch.size, epsilon, ...at };
  } finally {
    engine.dispose();
  }
}

/**
 * The comparison at `params` on `batch` with an open engine of the batch's size: builds G and the
 * whole-network Fisher matrix F (Prop. 27, on the host in Float64), solves δ* = F_ε⁻¹ G, then
 * evaluates every method's direction and compares (all products on the host in Float64).
 * Cost: the Fisher build (Σ over outputs and samples of (ancestors' parameters)²) and one P³/3
 * solve, plus each method's own direction.
 */
export function compareDirectionsAt(engine: Engine, params: Float64Array, batch: Batch, methods: readonly ComparedMethod[], options: { epsilon: number; mcSamples: number }): DirectionsAt {
  checkComparisonSize(engine.net);
  const P = engine.net.nParams;
  const { params: p, ws } = loadBatch(engine, params, batch);
  const g = engine.alloc(P);
  let lossNats: number;
  let gradient: Float64Array;
  let fisher: Float64Array;
  try {
    lossNats = forwardLoss(engine, p, ws);
    backwardPass(engine, p, ws);
    engine.gradient(ws, g);
    gradient = engine.read(g).slice();
    fisher = wholeNetworkFisher(engine, p, ws);
  } finally {
    for (const b of [g, ws, p]) engine.free(b);
  }
  const { epsilon } = options;
  const natural = solveWholeNetwork(fisher.slice(), gradient, epsilon);
  const naturalNorm2 = dot(gradient, natural); // GᵀF_ε⁻¹G = δ*ᵀF_εδ*
  const naturalLength = Math.sqrt(dot(natural, natural));
  const result: DirectionsAt = { loss: lossNats * BITS_PER_NAT, naturalDecrease: naturalNorm2 / 2, methods: {} };
  for (const { method, rng } of methods) {
    // NOTE: the `natural` method's direction is this same F_ε⁻¹G (same Fisher build, same solve),
    // so it is not computed twice: its row checks the comparison's arithmetic (1, 1, 1, t* = 1).
    const direction = method.spec.reduction === 'whole-network' ? natural : evaluateMethodOnce(engine, method, params, batch, { epsilon, rng, mcSamples: options.mcSamples }).direction;
    result.methods[method.name] = compareDirection(direction, { gradient, fisher, epsilon, natural, naturalNorm2, naturalLength });
  }
  return result;
}

/** The quantities of {@link DirectionComparison} for one direction δ. */
function compareDirection(delta: Float64Array, o: { gradient: Float64Array; fisher: Float64Array; epsilon: number; natural: Float64Array; naturalNorm2: number; naturalLength: number }): DirectionComparison {
  const P = delta.length;
  const gDelta = dot(o.gradient, delta);
  // δᵀF_εδ = δᵀFδ + ε‖δ‖², F symmetric: one triangle.
  let quad = 0;
  for (let i = 0; i < P; i++) {
    const di = delta[i];
    if (di === 0) continue;
    const row = i * P;
    let s = 0;
    for (let j = 0; j < i; j++) s += o.fisher[row + j] * delta[j];
    quad += di * (2 * s + o.fisher[row + i] * di);
  }
  const length2 = dot(delta, delta);
  quad += o.epsilon * length2;
  const ratio = (a: number, b: number): number | null => {
    const v = a / b;
    return b > 0 && Number.isFinite(v) ? v : null;
  };
  const cosFisher = ratio(gDelta, Math.sqrt(quad * o.naturalNorm2));
  return {
    cosEuclid: ratio(dot(delta, o.natural), Math.sqrt(length2) * o.naturalLength),
    cosFisher,
    fraction: cosFisher === null ? null : ratio(gDelta * gDelta, quad * o.naturalNorm2),
    step: ratio(gDelta, quad),
  };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
