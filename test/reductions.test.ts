import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { metricLayout } from '../src/backend/kernels.js';
import { unitBlockCurvature } from '../src/curvature/unit-blocks.js';
import { NumericalError } from '../src/errors.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { createMethod, type MethodName, type MetricName } from '../src/methods/methods.js';
import { evaluateMethodOnce } from '../src/methods/runner.js';
import { Prng } from '../src/random/prng.js';
import { stepModel } from '../src/train/step.js';
import { testContext } from './helpers/engine-context.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

const doc = randomNetwork({ interpretation: 'bernoulli', seed: 21, activations: ['sigmoid', 'tanh'], inputs: 3, hidden: 4, outputs: 2, density: 0.8 });
const data = randomData(doc, 25, 4);

function direction(method: MethodName, epsilon: number) {
  const model = createModel(doc);
  const ctx = testContext(model, data);
  const { gradient } = ctx;
  const evaluation = evaluateMethodOnce(cpuBackend.open(model.net, ctx.ws.size), createMethod(method), model.params, makeBatch(model.net, data), { epsilon, rng: new Prng(1), mcSamples: 1 });
  for (let p = 0; p < gradient.length; p++) if (evaluation.gradient[p] !== gradient[p]) throw new Error('fused gradient differs from the plain one');
  return { net: model.net, ctx: { ...ctx, ws: ctx.host }, modulusOf: ctx.modulus, gradient, dw: evaluation.direction };
}

/** Least squares by modified Gram-Schmidt QR (independent of the normal equations the engine solves). */
function leastSquares(rows: number[][], target: number[]): number[] {
  const m = rows.length;
  const n = rows[0].length;
  const q = rows.map((r) => [...r]);
  const R = Array.from({ length: n }, () => new Array(n).fill(0));
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < j; i++) {
      let dot = 0;
      for (let s = 0; s < m; s++) dot += q[s][i] * q[s][j];
      R[i][j] = dot;
      for (let s = 0; s < m; s++) q[s][j] -= dot * q[s][i];
    }
    let norm = 0;
    for (let s = 0; s < m; s++) norm += q[s][j] ** 2;
    R[j][j] = Math.sqrt(norm);
    for (let s = 0; s < m; s++) q[s][j] /= R[j][j];
  }
  const qtb = Array.from({ length: n }, (_, j) => q.reduce((sum, row, s) => sum + row[j] * target[s], 0));
  const x = new Array(n).fill(0);
  for (let i = n - 1; i >= 0; i--) x[i] = (qtb[i] - R[i].slice(i + 1).reduce((sum, v, j) => sum + v * x[i + 1 + j], 0)) / R[i][i];
  return x;
}

describe('Prop. 32: a unitwise step is the weighted least-squares fit of b̃/ψ̃ by the incoming activities', () => {
  const cases: Array<[MethodName, Exclude<MetricName, 'euclidean'>]> = [
    ['unitwise-natural', 'fisher'],
    ['backpropagated-metric', 'backpropagated'],
    ['unitwise-op', 'outer-product'],
  ];
  for (const [method, metric] of cases) {
    it(`${method}`, () => {
      const { net, ctx, dw, modulusOf } = direction(method, 0);
      const modulus = modulusOf(metric);
      const S = ctx.ws.size;
      for (let k = net.nInputs; k < net.nUnits; k++) {
        const rows: number[][] = [];
        const target: number[] = [];
        for (let s = 0; s < S; s++) {
          const W = modulus[k * S + s];
          if (W === 0) continue;
          const abar = [1];
          for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) abar.push(ctx.ws.act[net.inSources[e] * S + s]);
          rows.push(abar.map((a) => Math.sqrt(W) * a));
          target.push((Math.sqrt(W) * ctx.ws.backReduced[k * S + s]) / W);
        }
        const lambda = leastSquares(rows, target);
        lambda.forEach((v, i) => expect(Math.abs(dw[net.blockOffsets[k] + i] - v)).toBeLessThan(1e-8 * Math.max(1, Math.abs(v))));
      }
    });
  }
});

describe('reductions and regularisation', () => {
  it('quasi-diagonal (Eq. 22-23): ε on A_00 and A_ii only', () => {
    const epsilon = 0.3;
    const { net, ctx, gradient, dw, modulusOf } = direction('quasi-diagonal-backpropagated-metric', epsilon);
    const modulus = modulusOf('backpropagated');
    const S = ctx.ws.size;
    const mean = (f: (s: number) => number) => Array.from({ length: S }, (_, s) => f(s)).reduce((a, b) => a + b, 0) / S;
    for (let k = net.nInputs; k < net.nUnits; k++) {
      const p0 = net.blockOffsets[k];
      const A00 = mean((s) => modulus[k * S + s]) + epsilon;
      let bias = gradient[p0] / A00;
      for (let e = net.inOffsets[k], p = p0 + 1; e < net.inOffsets[k + 1]; e++, p++) {
        const a = (s: number) => ctx.ws.act[net.inSources[e] * S + s];
        const A0i = mean((s) => modulus[k * S + s] * a(s));
        const Aii = mean((s) => modulus[k * S + s] * a(s) ** 2) + epsilon;
        const expected = (gradient[p] * A00 - gradient[p0] * A0i) / (Aii * A00 - A0i * A0i);
        expect(dw[p]).toBeCloseTo(expected, 12);
        bias -= (A0i / A00) * expected;
      }
      expect(dw[p0]).toBeCloseTo(bias, 12);
    }
  });

  it('diagonal Gauss-Newton: G/(M_ii + ε) for every parameter, bias included; AdaGrad: G/√(E g² + ε)', () => {
    const epsilon = 0.05;
    const gn = direction('diagonal-gauss-newton', epsilon);
    const ada = direction('adagrad', epsilon);
    const m = gn.modulusOf('backpropagated');
    const S = gn.ctx.ws.size;
    const { net } = gn;
    for (let k = net.nInputs; k < net.nUnits; k++) {
      const p0 = net.blockOffsets[k];
      const sources = [-1, ...Array.from(net.inSources.subarray(net.inOffsets[k], net.inOffsets[k + 1]))];
      sources.forEach((src, i) => {
        const a = (s: number) => (src < 0 ? 1 : gn.ctx.ws.act[src * S + s]);
        let mii = 0;
        let g2 = 0;
        for (let s = 0; s < S; s++) {
          mii += (m[k * S + s] * a(s) ** 2) / S;
          g2 += (a(s) * gn.ctx.ws.backReduced[k * S + s]) ** 2 / S;
        }
        expect(gn.dw[p0 + i]).toBeCloseTo(gn.gradient[p0 + i] / (mii + epsilon), 12);
        expect(ada.dw[p0 + i]).toBeCloseTo(ada.gradient[p0 + i] / Math.sqrt(g2 + epsilon), 12);
      });
    }
  });

  it('full blocks: singular blocks with ε = 0 are solved in the least-squares sense (Section 3.3)', () => {
    const few = { inputs: data.inputs.slice(0, 2), targets: data.targets.slice(0, 2) };
    const model = createModel(doc);
    const ctx = testContext(model, few);
    const { gradient } = ctx;
    const blocks = ctx.blocks(ctx.modulus('fisher'));
    const layout = metricLayout(model.net);
    const r = stepModel(createModel(doc), few, { method: 'unitwise-natural', lr: 0.1, epsilon: 0 });
    expect(r.direction.every(Number.isFinite)).toBe(true);
    const { net } = model;
    for (let k = net.nInputs; k < net.nUnits; k++) {
      const p0 = net.blockOffsets[k];
      const n = net.blockOffsets[k + 1] - p0;
      for (let i = 0; i < n; i++) {
        let ad = 0;
        for (let j = 0; j < n; j++) ad += blocks[layout.matrixOffsets[k] + i * n + j] * r.direction[p0 + j];
        expect(ad).toBeCloseTo(gradient[p0 + i], 10);
      }
    }
  });

  it('a block that is not positive definite (here: not finite) is refused, naming the unit', () => {
    const model = createModel(doc);
    const { net } = model;
    const layout = metricLayout(net);
    const blocks = new Float64Array(layout.matrixOffsets[net.nUnits]).fill(1);
    blocks[layout.matrixOffsets[net.nUnits - 1]] = Number.NaN;
    const engine = cpuBackend.open(net, 1);
    const dense = new Float64Array(net.nParams ** 2);
    const state = unitBlockCurvature.fromDense(engine, dense);
    engine.upload(state.blocks, blocks);
    const solve = () => unitBlockCurvature.solve(engine, state, engine.alloc(net.nParams), 1e-4, engine.alloc(net.nParams));
    expect(solve).toThrow(NumericalError);
    expect(solve).toThrow(
      new RegExp(`unit '${net.unitKeys[net.nUnits - 1]}': its \\d×\\d metric block is not positive definite with ε = 0.0001`),
    );
  });

  it('a constant input unit gives a zero quasi-diagonal step on its weight, not NaN', () => {
    const constant = { ...data, inputs: data.inputs.map((x) => [x[0], 1, x[2]]) };
    const model = createModel(doc);
    const r = stepModel(model, constant, { method: 'quasi-diagonal-natural', lr: 0.1, epsilon: 0 });
    expect(r.direction.every(Number.isFinite)).toBe(true);
  });
});
