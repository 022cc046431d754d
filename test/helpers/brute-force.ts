import { cpuBackend } from '../../src/backend/index.js';
import { makeBatch } from '../../src/engine/batch.js';
import type { Model } from '../../src/engine/model.js';
import { outputDistribution } from '../../src/engine/output-distribution.js';
import { lossAndGradient } from '../../src/engine/propagate.js';
import { forwardPass } from '../../src/backend/engine.js';
import type { DataDocument } from '../../src/network/types.js';

/** -∇ℓ(x, y) for one input and one target, via a batch of one. */
export function sampleGradient(model: Model, x: number[], y: number[]): Float64Array {
  const { net } = model;
  const batch = makeBatch(net, { inputs: [x], targets: [y] });
  const g = new Float64Array(net.nParams);
  lossAndGradient(cpuBackend.open(net, 1), model.params, batch, g);
  return g;
}

/**
 * The Fisher matrix by brute force (Eq. 99): E_x Σ_y ω(y|x) ∇ℓ∇ℓᵀ, enumerating every y in
 * {0,1}^n_out (Bernoulli) or every class (softmax, spherical). P × P row-major.
 */
export function bruteForceFisher(model: Model, data: DataDocument): Float64Array {
  const { net } = model;
  const P = net.nParams;
  const F = new Float64Array(P * P);
  const dist = outputDistribution(model, data);
  data.inputs.forEach((x, s) => {
    const outcomes: Array<{ y: number[]; prob: number }> = [];
    const n = net.nOutputs;
    if (net.interpretation === 'bernoulli') {
      for (let mask = 0; mask < 1 << n; mask++) {
        const y = Array.from({ length: n }, (_, j) => (mask >> j) & 1);
        outcomes.push({ y, prob: y.reduce((p, b, j) => p * (b ? dist[s][j] : 1 - dist[s][j]), 1) });
      }
    } else {
      for (let c = 0; c < n; c++) outcomes.push({ y: Array.from({ length: n }, (_, j) => (j === c ? 1 : 0)), prob: dist[s][c] });
    }
    for (const { y, prob } of outcomes) {
      const g = sampleGradient(model, x, y);
      for (let a = 0; a < P; a++) for (let b = 0; b < P; b++) F[a * P + b] += (prob * g[a] * g[b]) / data.inputs.length;
    }
  });
  return F;
}

/** E_x JᵀJ with J = ∂a_out/∂w by central differences: the Fisher matrix of the square-loss interpretation. */
export function squareLossFisherByJacobian(model: Model, data: DataDocument): Float64Array {
  const { net } = model;
  const P = net.nParams;
  const S = data.inputs.length;
  const batch = makeBatch(net, data);
  const engine = cpuBackend.open(net, S);
  const ws = engine.workspace();
  engine.setBatch(ws, batch);
  const p = engine.alloc(P);
  const outputs = (params: Float64Array) => {
    engine.upload(p, params);
    forwardPass(engine, p, ws);
    const act = engine.read(ws.act);
    return Array.from(net.outputUnits, (k) => Array.from(act.subarray(k * S, (k + 1) * S)));
  };
  const jac: number[][][] = []; // [param][output][sample]
  for (let p = 0; p < P; p++) {
    const h = 1e-6;
    const up = model.params.slice();
    up[p] += h;
    const down = model.params.slice();
    down[p] -= h;
    const a = outputs(up);
    const b = outputs(down);
    jac.push(a.map((row, o) => row.map((v, s) => (v - b[o][s]) / (2 * h))));
  }
  const F = new Float64Array(P * P);
  for (let a = 0; a < P; a++) for (let b = 0; b < P; b++) {
    let sum = 0;
    for (let o = 0; o < net.nOutputs; o++) for (let s = 0; s < S; s++) sum += jac[a][o][s] * jac[b][o][s];
    F[a * P + b] = sum / S;
  }
  return F;
}

/** max |A - B| / max |B|. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}
