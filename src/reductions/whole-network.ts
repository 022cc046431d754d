import { NumericalError, UsageError, problem } from '../errors.js';
import { addToDiagonal, choleskyInPlace, choleskySolve, pivotedCholeskySolve } from '../linalg/cholesky.js';
import type { ModulusContext } from '../metrics/moduli.js';
import { outputMetric } from '../metrics/output-metric.js';

/** Largest parameter count for which the whole-network Fisher matrix is built (4096² doubles = 128 MiB). */
export const MAX_WHOLE_NETWORK_PARAMS = 4096;

/**
 * The exact Fisher matrix of the whole network (Prop. 27, Eq. 102-104), P × P row-major with P
 * the number of parameters: F_{w_ik, w_jk'} = E_x a_i a_j r_k r_k' Φ_kk'. Built from the reduced
 * transfer rates of each output: for one output and sample the vector v_p = ā_i J̃_k (p = i→k)
 * is non-zero only on the parameters of the output's ancestors, and F gains β v vᵀ (plus the
 * softmax/spherical cross term, see OutputMetric). Throws UsageError above
 * {@link MAX_WHOLE_NETWORK_PARAMS} parameters.
 */
export function wholeNetworkFisher(ctx: ModulusContext): Float64Array {
  const { kernels, net, params, ws, plan } = ctx;
  const P = net.nParams;
  if (P > MAX_WHOLE_NETWORK_PARAMS) {
    throw new UsageError([problem('too-large', `the whole-network Fisher matrix of ${P} parameters is limited to ${MAX_WHOLE_NETWORK_PARAMS} parameters (it holds P² numbers and costs P³ to solve); use unitwise-natural or quasi-diagonal-natural`)]);
  }
  const S = ws.size;
  const metric = outputMetric(net, ws);
  const rates = new Float64Array(net.nUnits * S);
  const fisher = new Float64Array(P * P);
  const extra = metric.gamma ? new Float64Array(P * S) : undefined; // [param × sample]
  const index: number[] = [];
  const value = new Float64Array(P);
  for (let j = 0; j < net.nOutputs; j++) {
    kernels.transferRates(net, plan, params, ws, j, metric.seeds, rates);
    index.length = 0;
    const units = [net.outputUnits[j], ...plan.units.subarray(plan.unitOffsets[j], plan.unitOffsets[j + 1])];
    for (const k of units) for (let p = net.blockOffsets[k]; p < net.blockOffsets[k + 1]; p++) index.push(p);
    for (let s = 0; s < S; s++) {
      let n = 0;
      for (const k of units) {
        const J = rates[k * S + s];
        value[n++] = J;
        for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) value[n++] = J * ws.act[net.inSources[e] * S + s];
      }
      const beta = metric.beta[j * S + s];
      for (let a = 0; a < n; a++) {
        const row = index[a] * P;
        const va = beta * value[a];
        for (let b = 0; b < n; b++) fisher[row + index[b]] += va * value[b];
      }
      if (extra && metric.gamma) {
        const g = metric.gamma[j * S + s];
        for (let a = 0; a < n; a++) extra[index[a] * S + s] += g * value[a];
      }
    }
  }
  if (extra && metric.betaExtra) {
    for (let s = 0; s < S; s++) {
      const bx = metric.betaExtra[s];
      for (let a = 0; a < P; a++) {
        const va = bx * extra[a * S + s];
        if (va !== 0) for (let b = 0; b < P; b++) fisher[a * P + b] += va * extra[b * S + s];
      }
    }
  }
  for (let i = 0; i < fisher.length; i++) fisher[i] /= S;
  return fisher;
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
export function solveWholeNetwork(fisher: Float64Array, gradient: Float64Array, epsilon: number): Float64Array {
  const P = gradient.length;
  addToDiagonal(fisher, 0, P, epsilon);
  const scale = new Float64Array(P);
  for (let i = 0; i < P; i++) scale[i] = fisher[i * P + i] > 0 ? 1 / Math.sqrt(fisher[i * P + i]) : 1;
  for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) fisher[i * P + j] *= scale[i] * scale[j];
  const scaled = Float64Array.from(gradient, (g, i) => g * scale[i]);
  const out = new Float64Array(P);
  if (!fisher.every(Number.isFinite)) throw new NumericalError([problem('not-finite', `the whole-network Fisher matrix (${P}×${P}) has non-finite entries`)]);
  if (epsilon === 0) {
    pivotedCholeskySolve(fisher, 0, P, scaled, 0, out, 0);
    for (let i = 0; i < P; i++) out[i] *= scale[i];
    return out;
  }
  if (!choleskyInPlace(fisher, 0, P)) {
    throw new NumericalError([problem('not-positive-definite', `the whole-network Fisher matrix (${P}×${P}) is not positive definite with ε = ${epsilon}; raise --epsilon`)]);
  }
  choleskySolve(fisher, 0, P, scaled, 0, out, 0);
  for (let i = 0; i < P; i++) out[i] *= scale[i];
  return out;
}
