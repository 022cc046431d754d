import { describe, expect, it } from 'vitest';
import { forwardPass, type Engine } from '../src/backend/engine.js';
import { useBackend } from '../src/backend/load.js';
import { solveWholeNetwork, wholeNetworkFisher } from '../src/curvature/whole-network.js';
import { createModel } from '../src/engine/model.js';
import { loadBatch } from '../src/engine/propagate.js';
import { blockedCholeskyInPlace, BLOCKED_CHOLESKY_MIN_SIZE } from '../src/linalg/blocked-cholesky.js';
import { choleskyInPlace, choleskySolve, pivotedCholeskySolve } from '../src/linalg/cholesky.js';
import { prepareBatch } from '../src/methods/context.js';
import { INTERPRETATIONS } from '../src/network/types.js';
import { Prng } from '../src/random/prng.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

/**
 * The whole-network Fisher matrix as it was first assembled: per output and sample, the rank-one
 * update β v vᵀ at the ancestors' parameters (both triangles, entry by entry), γ v into the
 * cross-term vectors, then Σ_s β_x e eᵀ and the division by the batch size.
 */
function rankOneFisher(engine: Engine, params: Parameters<typeof wholeNetworkFisher>[1], ws: Parameters<typeof wholeNetworkFisher>[2]): Float64Array {
  const { net } = engine;
  const P = net.nParams;
  const S = ws.size;
  const metric = engine.outputMetric(ws);
  const beta = engine.read(metric.beta).slice();
  const gamma = metric.gamma && engine.read(metric.gamma).slice();
  const betaExtra = metric.betaExtra && engine.read(metric.betaExtra).slice();
  const act = engine.read(ws.act).slice();
  const fisher = new Float64Array(P * P);
  const extra = new Float64Array(P * S);
  const ratesBuffer = engine.alloc(net.nUnits * S);
  for (let j = 0; j < net.nOutputs; j++) {
    engine.transferRates(params, ws, j, ratesBuffer);
    const rates = engine.read(ratesBuffer);
    const marks = new Uint8Array(net.nUnits);
    const o = net.outputUnits[j];
    marks[o] = 1;
    const units = [o];
    for (let k = o; k >= net.nInputs; k--) {
      if (!marks[k]) continue;
      if (k !== o) units.push(k);
      for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) marks[net.inSources[e]] = 1;
    }
    const index = units.flatMap((k) => Array.from({ length: net.blockOffsets[k + 1] - net.blockOffsets[k] }, (_, i) => net.blockOffsets[k] + i));
    for (let s = 0; s < S; s++) {
      const value = units.flatMap((k) => [rates[k * S + s], ...Array.from({ length: net.inOffsets[k + 1] - net.inOffsets[k] }, (_, e) => rates[k * S + s] * act[net.inSources[net.inOffsets[k] + e] * S + s])]);
      for (let a = 0; a < value.length; a++) {
        const va = beta[j * S + s] * value[a];
        for (let c = 0; c < value.length; c++) fisher[index[a] * P + index[c]] += va * value[c];
        if (gamma) extra[index[a] * S + s] += gamma[j * S + s] * value[a];
      }
    }
  }
  if (betaExtra) {
    for (let s = 0; s < S; s++) {
      for (let a = 0; a < P; a++) {
        const va = betaExtra[s] * extra[a * S + s];
        if (va !== 0) for (let b = 0; b < P; b++) fisher[a * P + b] += va * extra[b * S + s];
      }
    }
  }
  return fisher.map((x) => x / S);
}

/** A = Σ_s v_s v_sᵀ + δI over `rank` random vectors in R^n. */
function gram(n: number, rank: number, shift: number, rng: Prng): Float64Array {
  const vectors = Array.from({ length: rank }, () => Float64Array.from({ length: n }, () => rng.normal()));
  const a = new Float64Array(n * n);
  for (const v of vectors) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] += v[i] * v[j];
  for (let i = 0; i < n; i++) a[i * n + i] += shift;
  return a;
}

describe('whole-network Fisher assembly (Prop. 27)', () => {
  for (const interpretation of INTERPRETATIONS) {
    it(`${interpretation}: the dense per-output Gram blocks give the per-sample rank-one updates' lower triangle bit for bit, mirrored`, () => {
      const doc = randomNetwork({ interpretation, seed: 17, inputs: 5, hidden: 9, outputs: 4, density: 0.6, activations: ['sigmoid', 'tanh', 'linear'] });
      const { engine, params, ws } = prepareBatch(createModel(doc), randomData(doc, 7, 3));
      const P = engine.net.nParams;
      const fisher = wholeNetworkFisher(engine, params, ws);
      const reference = rankOneFisher(engine, params, ws);
      const lower = (m: Float64Array) => Array.from({ length: P }, (_, i) => Array.from(m.subarray(i * P, i * P + i + 1)));
      expect(lower(fisher)).toEqual(lower(reference));
      for (let i = 0; i < P; i++) for (let j = 0; j < i; j++) expect(fisher[j * P + i]).toBe(fisher[i * P + j]);
      // The upper triangle differs from the rank-one one by rounding only ((β v_j) v_i against (β v_i) v_j).
      const largest = Math.max(...reference.map(Math.abs));
      fisher.forEach((x, k) => expect(Math.abs(x - reference[k])).toBeLessThan(1e-14 * largest));
      expect(fisher.some((x) => x !== 0)).toBe(true);
    });
  }

  it('several chunks of outputs (the last one shorter) give the same matrix as one chunk', () => {
    const doc = randomNetwork({ interpretation: 'softmax', seed: 18, inputs: 4, hidden: 8, outputs: 5, density: 0.6, activations: ['sigmoid', 'tanh'] });
    const { engine, params, ws } = prepareBatch(createModel(doc), randomData(doc, 6, 4));
    const perOutput = engine.net.nUnits * ws.size;
    const whole = Array.from(wholeNetworkFisher(engine, params, ws));
    for (const outputs of [1, 2, 3]) expect(Array.from(wholeNetworkFisher(engine, params, ws, outputs * perOutput + 1))).toEqual(whole);
  });

  it('a float32 engine: one read per chunk of outputs (the same bytes as one per output), the matrix of the cpu engine', async () => {
    const doc = randomNetwork({ interpretation: 'softmax', seed: 18, inputs: 4, hidden: 8, outputs: 5, density: 0.6, activations: ['sigmoid', 'tanh'] });
    const model = createModel(doc);
    const data = randomData(doc, 6, 4);
    const reference = prepareBatch(model, data);
    const engine = (await useBackend('tfjs', { tfjsBackend: 'cpu' })).open(model.net, reference.batch.size);
    const { params, ws } = loadBatch(engine, model.params, reference.batch);
    forwardPass(engine, params, ws);
    engine.outputLayer(ws);
    expect(engine.precision).toBe('float32');
    const { nUnits, nOutputs } = engine.net;
    const S = ws.size;
    engine.transfers.reset();
    const fisher = wholeNetworkFisher(engine, params, ws, 2 * nUnits * S); // chunks of 2, 2 and 1 outputs
    // β, γ, β_x and the activities, then the rates of 3 chunks.
    expect(engine.transfers.snapshot()).toEqual({ uploads: 0, uploadBytes: 0, reads: 4 + 3, readBytes: 4 * (2 * nOutputs * S + S + nUnits * S + nOutputs * nUnits * S) });
    const exact = wholeNetworkFisher(reference.engine, reference.params, reference.ws);
    const largest = Math.max(...exact.map(Math.abs));
    fisher.forEach((x, i) => expect(Math.abs(x - exact[i]) / largest).toBeLessThan(1e-4));
  });
});

describe('blocked Cholesky for large matrices', () => {
  it('gives choleskyInPlace’s factor bit for bit, below and above the blocked size and off the panel and tile widths', () => {
    const rng = new Prng(5);
    for (const n of [BLOCKED_CHOLESKY_MIN_SIZE - 1, BLOCKED_CHOLESKY_MIN_SIZE, 67, 101, 130]) {
      const a = gram(n, n + 3, 1e-3, rng);
      const [plain, blocked] = [a.slice(), a.slice()];
      expect(choleskyInPlace(plain, 0, n)).toBe(true);
      expect(blockedCholeskyInPlace(blocked, 0, n)).toBe(true);
      expect(Array.from(blocked)).toEqual(Array.from(plain));
    }
  });

  it('factorises a block inside a larger array, and refuses what choleskyInPlace refuses', () => {
    const rng = new Prng(6);
    const n = 90;
    const offset = 7;
    const padded = new Float64Array(offset + n * n + 5).fill(3);
    padded.set(gram(n, n + 1, 0.01, rng), offset);
    const expected = padded.slice();
    expect(choleskyInPlace(expected, offset, n)).toBe(true);
    expect(blockedCholeskyInPlace(padded, offset, n)).toBe(true);
    expect(Array.from(padded)).toEqual(Array.from(expected));
    // Rank 40 < n: a pivot falls to rounding level or below (both routines stop at the same column).
    const singular = gram(n, 40, 0, rng);
    singular[50 * n + 50] = -1;
    expect(choleskyInPlace(singular.slice(), 0, n)).toBe(false);
    expect(blockedCholeskyInPlace(singular.slice(), 0, n)).toBe(false);
  });

  it('solveWholeNetwork: (F + εI)⁻¹ G as the plain Cholesky solve gives it, and the ε = 0 route solves F x = G', () => {
    const rng = new Prng(7);
    const P = 120;
    const F = gram(P, 150, 0, rng);
    const G = Array.from({ length: P }, () => rng.normal());
    const epsilon = 0.01;
    const reference = new Float64Array(P);
    const l = F.slice();
    for (let i = 0; i < P; i++) l[i * P + i] += epsilon;
    expect(choleskyInPlace(l, 0, P)).toBe(true);
    choleskySolve(l, 0, P, G, 0, reference, 0);
    const x = solveWholeNetwork(F.slice(), G, epsilon);
    const scale = Math.max(...reference.map(Math.abs));
    x.forEach((v, i) => expect(Math.abs(v - reference[i]) / scale).toBeLessThan(1e-10));
    const exact = solveWholeNetwork(F.slice(), G, 0);
    const pivoted = new Float64Array(P);
    expect(pivotedCholeskySolve(F, 0, P, G, 0, pivoted, 0)).toBe(P);
    const norm = Math.max(...pivoted.map(Math.abs));
    exact.forEach((v, i) => expect(Math.abs(v - pivoted[i]) / norm).toBeLessThan(1e-8));
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const broken = F.slice();
      broken[3 * P + 5] = broken[5 * P + 3] = bad;
      for (const eps of [0, epsilon]) expect(() => solveWholeNetwork(broken.slice(), G, eps)).toThrow(/has non-finite entries/);
    }
  });
});
