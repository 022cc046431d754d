import type { DeviceBuffer, Engine, EngineWorkspace } from '../backend/engine.js';
import { NumericalError, UsageError, problem } from '../errors.js';
import { blockedCholeskyInPlace } from '../linalg/blocked-cholesky.js';
import { addToDiagonal, choleskySolve, pivotedCholeskySolve } from '../linalg/cholesky.js';
import { checkSerialized, type Curvature, type CurvatureState } from './curvature.js';
import { addCrossTerm, addWeightedGram, gatherOutputVectors, mirrorLower } from './whole-network-gram.js';

/** Largest parameter count for which the whole-network Fisher matrix is built (4096² doubles = 128 MiB). */
export const MAX_WHOLE_NETWORK_PARAMS = 4096;

/**
 * Entries of one chunk of transfer rates read at once ([nUnits × outputs × size]: 2²² numbers,
 * 16 MiB of float32 on a device, 32 MiB once on the host in Float64).
 */
const RATE_CHUNK_ENTRIES = 1 << 22;

/** The whole P × P matrix, on the host in Float64. */
export interface WholeNetworkState extends CurvatureState {
  matrix: Float64Array;
}

/**
 * The exact Fisher matrix of the whole network (Prop. 27, Eq. 102-104), P × P row-major:
 * F_{w_ik, w_jk'} = E_x a_i a_j r_k r_k' Φ_kk'. Built from the reduced transfer rates of each
 * output: for one output and sample the vector v_p = ā_i J̃_k (p = i→k) is non-zero only on the
 * parameters of the output's ancestors, and F gains β v vᵀ (plus the softmax/spherical cross
 * term, see `OutputMetric`).
 * NOTE: assembled and solved on the host in Float64 (P ≤ 4096): the engine computes the rates a
 * chunk of outputs at a time, the host reads each chunk once (nOutputs × nUnits × size numbers in
 * all, counted on float32 backends). Per output, the sample vectors are gathered into dense
 * [n × size] blocks and their weighted Gram matrix is added at the ancestors' parameters, lower
 * triangle only (each entry once per output, the same sums in the same order as the per-sample
 * rank-one updates gave the lower triangle); the upper triangle is its mirror image, so F is
 * exactly symmetric.
 * `chunkEntries` bounds a chunk (tests lower it to exercise several chunks).
 */
export function wholeNetworkFisher(engine: Engine, params: DeviceBuffer, ws: EngineWorkspace, chunkEntries = RATE_CHUNK_ENTRIES): Float64Array {
  const { net } = engine;
  const P = net.nParams;
  checkWholeNetworkSize(P);
  const S = ws.size;
  const metric = engine.outputMetric(ws);
  const beta = engine.read(metric.beta);
  const gamma = metric.gamma && engine.read(metric.gamma);
  const betaExtra = metric.betaExtra && engine.read(metric.betaExtra);
  const act = engine.read(ws.act);
  const fisher = new Float64Array(P * P);
  const extra = gamma ? new Float64Array(S * P) : undefined; // [sample × param]
  const ancestors = ancestry(engine);
  const indices = ancestors.map((units) => ancestorParams(engine, units));
  const largest = Math.max(0, ...indices.map((index) => index.length));
  const v = new Float64Array(largest * S);
  const w = new Float64Array(largest * S);
  const chunk = Math.max(1, Math.min(net.nOutputs, Math.floor(chunkEntries / (net.nUnits * S))));
  const ratesBuffer = engine.alloc(net.nUnits * chunk * S);
  for (let j0 = 0; j0 < net.nOutputs; j0 += chunk) {
    const C = Math.min(chunk, net.nOutputs - j0);
    const buffer = C === chunk ? ratesBuffer : engine.alloc(net.nUnits * C * S);
    engine.transferRateChunk(params, ws, j0, C, buffer);
    const rates = engine.read(buffer); // [nUnits × C × S]
    for (let c = 0; c < C; c++) {
      const j = j0 + c;
      const index = indices[j];
      const n = gatherOutputVectors(net, ancestors[j], rates, c * S, C * S, act, beta, j * S, S, v, w);
      addWeightedGram(fisher, P, index, n, S, w, v);
      if (extra && gamma) {
        for (let a = 0; a < n; a++) for (let s = 0; s < S; s++) extra[s * P + index[a]] += gamma[j * S + s] * v[a * S + s];
      }
    }
    if (buffer !== ratesBuffer) engine.free(buffer);
  }
  engine.free(ratesBuffer);
  if (extra && betaExtra) addCrossTerm(fisher, P, S, extra, betaExtra);
  for (let i = 0; i < P; i++) for (let j = 0; j <= i; j++) fisher[i * P + j] /= S;
  mirrorLower(fisher, P);
  return fisher;
}

/** The parameters of `units`' blocks, unit by unit (bias, then incoming edges). */
function ancestorParams(engine: Engine, units: readonly number[]): Int32Array {
  const { blockOffsets } = engine.net;
  const index: number[] = [];
  for (const k of units) for (let p = blockOffsets[k]; p < blockOffsets[k + 1]; p++) index.push(p);
  return Int32Array.from(index);
}

/** Per output: its unit and its non-input ancestors, ascending (so their parameters ascend too). */
function ancestry(engine: Engine): number[][] {
  const { net } = engine;
  const marks = new Uint8Array(net.nUnits);
  return Array.from(net.outputUnits, (o) => {
    marks.fill(0);
    marks[o] = 1;
    const units = [o];
    for (let k = o; k >= net.nInputs; k--) {
      if (!marks[k]) continue;
      if (k !== o) units.push(k);
      for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) marks[net.inSources[e]] = 1;
    }
    return units.sort((a, b) => a - b);
  });
}

function checkWholeNetworkSize(P: number): void {
  if (P > MAX_WHOLE_NETWORK_PARAMS) {
    throw new UsageError([problem('too-large', `the whole-network Fisher matrix of ${P} parameters is limited to ${MAX_WHOLE_NETWORK_PARAMS} parameters (it holds P² numbers and costs P³ to solve); use unitwise-natural or quasi-diagonal-natural`)]);
  }
}

/**
 * Natural gradient direction δw = (F + εI)⁻¹ G over the whole network (Prop. 27), for a P × P
 * Fisher matrix `fisher`, which is overwritten.
 *
 * NOTE: F is solved after symmetric diagonal scaling D^{-1/2} (F + εI) D^{-1/2}, D = diag(F + εI):
 * the diagonal of F spans many orders of magnitude (biases vs. weights, saturated units), and
 * scaling costs O(P²) next to the O(P³) factorisation while cutting the condition number that
 * rounding errors are amplified by.
 */
export function solveWholeNetwork(fisher: Float64Array, gradient: ArrayLike<number>, epsilon: number): Float64Array {
  const P = gradient.length;
  addToDiagonal(fisher, 0, P, epsilon);
  const scale = new Float64Array(P);
  for (let i = 0; i < P; i++) scale[i] = fisher[i * P + i] > 0 ? 1 / Math.sqrt(fisher[i * P + i]) : 1;
  let finite = true;
  for (let i = 0; i < P; i++) {
    const row = i * P;
    const si = scale[i];
    for (let j = 0; j < P; j++) {
      const x = (fisher[row + j] *= si * scale[j]);
      if (x - x !== 0) finite = false; // NaN for ±∞ and NaN
    }
  }
  const scaled = Float64Array.from(gradient, (g, i) => g * scale[i]);
  const out = new Float64Array(P);
  if (!finite) throw new NumericalError([problem('not-finite', `the whole-network Fisher matrix (${P}×${P}) has non-finite entries`)]);
  if (epsilon === 0) {
    pivotedCholeskySolve(fisher, 0, P, scaled, 0, out, 0);
  } else {
    if (!blockedCholeskyInPlace(fisher, 0, P)) {
      throw new NumericalError([problem('not-positive-definite', `the whole-network Fisher matrix (${P}×${P}) is not positive definite with ε = ${epsilon}; raise --epsilon`)]);
    }
    choleskySolve(fisher, 0, P, scaled, 0, out, 0);
  }
  for (let i = 0; i < P; i++) out[i] *= scale[i];
  return out;
}

/**
 * The whole-network Fisher matrix (Prop. 27): the natural gradient itself. It measures its own
 * metric from the transfer rates (the source's per-unit modulus is not used), so it pairs with
 * the Fisher source only; limited to {@link MAX_WHOLE_NETWORK_PARAMS} parameters.
 */
export const wholeNetworkCurvature: Curvature<WholeNetworkState> = {
  kind: 'whole-network',
  withinUnits: false,
  usesModulus: false,
  init(engine) {
    checkWholeNetworkSize(engine.net.nParams);
    return { updates: 0, matrix: new Float64Array(engine.net.nParams ** 2) };
  },
  update(engine, state, m, decay) {
    engine.gradient(m.ws, m.gradient);
    const fisher = wholeNetworkFisher(engine, m.params, m.ws);
    if (state.updates === 0 || decay === 1) state.matrix = fisher;
    else for (let i = 0; i < fisher.length; i++) state.matrix[i] = (1 - decay) * state.matrix[i] + decay * fisher[i];
    state.updates++;
  },
  solve(engine, state, gradient, epsilon, out) {
    engine.upload(out, solveWholeNetwork(state.matrix.slice(), engine.read(gradient), epsilon));
  },
  toDense: (_engine, state) => state.matrix.slice(),
  fromDense: (_engine, dense) => ({ updates: 1, matrix: dense.slice() }),
  serialize: (_engine, state) => ({ kind: 'whole-network', updates: state.updates, arrays: [Array.from(state.matrix)] }),
  restore(engine, value) {
    checkSerialized(value, 'whole-network', [engine.net.nParams ** 2]);
    return { updates: value.updates, matrix: Float64Array.from(value.arrays[0]) };
  },
  dispose() {},
};
