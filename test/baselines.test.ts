import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { UsageError } from '../src/errors.js';
import { checkInvariance } from '../src/invariance/check.js';
import { expectedInvariance } from '../src/invariance/expectation.js';
import { createMethod, METHOD_SPECS } from '../src/methods/methods.js';
import { evaluateMethodOnce, MethodRunner } from '../src/methods/runner.js';
import { createOptimizer } from '../src/optimizer/optimizer.js';
import { Prng } from '../src/random/prng.js';
import { trainOptionProblems } from '../src/train/options-check.js';
import { rateFactor } from '../src/train/schedules.js';
import { resolveSettings, type TrainOptions } from '../src/train/settings.js';
import { train } from '../src/train/trainer.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

const doc = randomNetwork({ interpretation: 'bernoulli', seed: 21, inputs: 2, hidden: 2, outputs: 1, activations: ['tanh'] });
const data = randomData(doc, 6, 2);

/** The batch gradient G at `params` (backprop's direction). */
function gradientAt(params: Float64Array): Float64Array {
  const model = createModel(doc);
  const batch = makeBatch(model.net, data);
  return evaluateMethodOnce(cpuBackend.open(model.net, batch.size), createMethod('backprop'), params, batch, { epsilon: 0, rng: new Prng(1), mcSamples: 1 }).gradient;
}

/** Two fixed-rate steps of `options` on the whole data set; the parameters after each. */
function twoSteps(options: TrainOptions): Float64Array[] {
  const model = createModel(doc);
  const optimizer = createOptimizer(model, { lrSchedule: 'fixed', ...options });
  const batch = makeBatch(model.net, data);
  const out = [0, 1].map(() => {
    optimizer.step(batch);
    return optimizer.params();
  });
  optimizer.dispose();
  return out;
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, digits = 13) => Array.from(a).forEach((v, i) => expect(v).toBeCloseTo(b[i], digits));

describe('adam and momentum against hand computation (tiny network, whole batch, fixed rate)', () => {
  const w0 = createModel(doc).params;
  const lr = 0.01;

  it('adam: m̂/(√v̂ + ε) with the bias corrections; the first step is G/(|G| + ε)', () => {
    const [w1, w2] = twoSteps({ method: 'adam', lr, adamBeta1: 0.8, adamBeta2: 0.95, adamEpsilon: 1e-3 });
    const g1 = gradientAt(w0);
    const expected1 = w0.map((w, i) => w + (lr * g1[i]) / (Math.abs(g1[i]) + 1e-3));
    close(w1, expected1);
    const g2 = gradientAt(w1);
    const expected2 = w1.map((w, i) => {
      const m = 0.8 * 0.2 * g1[i] + 0.2 * g2[i];
      const v = 0.95 * 0.05 * g1[i] ** 2 + 0.05 * g2[i] ** 2;
      return w + (lr * (m / (1 - 0.8 ** 2))) / (Math.sqrt(v / (1 - 0.95 ** 2)) + 1e-3);
    });
    close(w2, expected2);
  });

  it('momentum: v ← μv + G, step v; Nesterov: step G + μv', () => {
    const [w1, w2] = twoSteps({ method: 'momentum', lr, momentum: 0.7 });
    const g1 = gradientAt(w0);
    close(w1, w0.map((w, i) => w + lr * g1[i]));
    const g2 = gradientAt(w1);
    close(w2, w1.map((w, i) => w + lr * (0.7 * g1[i] + g2[i])));
    const [n1, n2] = twoSteps({ method: 'momentum', lr, momentum: 0.7, nesterov: true });
    close(n1, w0.map((w, i) => w + lr * 1.7 * g1[i]));
    const h2 = gradientAt(n1);
    close(n2, n1.map((w, i) => w + lr * (h2[i] + 0.7 * (0.7 * g1[i] + h2[i]))));
  });

  it('state is carried in batch mode (the moments matter across iterations)', () => {
    const model = createModel(doc);
    const optimizer = createOptimizer(model, { method: 'adam' });
    optimizer.step(makeBatch(model.net, data));
    expect(optimizer.state().curvature?.kind).toBe('adam');
    expect(optimizer.state().curvature?.arrays).toHaveLength(2);
    optimizer.dispose();
  });
});

describe('rate schedules', () => {
  const shape = (o: Partial<Parameters<typeof rateFactor>[0]>) => ({ lrSchedule: 'fixed', lrStepEvery: 1000, lrStepFactor: 0.1, lrHorizon: null, ...o });
  it('step decay: ×f every N steps; cosine: ½(1 + cos πt/T)', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((t) => rateFactor(shape({ lrSchedule: 'step', lrStepEvery: 3, lrStepFactor: 0.5 }), t))).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.25]);
    const cosine = [0, 1, 2, 3, 4].map((t) => rateFactor(shape({ lrSchedule: 'cosine', lrHorizon: 4 }), t));
    close(cosine, [1, (1 + Math.SQRT1_2) / 2, 0.5, (1 - Math.SQRT1_2) / 2, 0], 15);
    expect(rateFactor(shape({ lrSchedule: 'adaptive' }), 7)).toBe(1);
  });

  it('train() tries the scheduled rates; cosine takes its horizon from the iteration budget', async () => {
    const lrs: number[] = [];
    await train(createModel(doc), data, { method: 'backprop', lr: 0.1, lrSchedule: 'step', lrStepEvery: 2, lrStepFactor: 0.5 }, { iterations: 5 }, { onIteration: (r) => lrs.push(r.lr) });
    expect(lrs).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
    const cos: number[] = [];
    await train(createModel(doc), data, { method: 'momentum', lr: 0.1, lrSchedule: 'cosine' }, { iterations: 4 }, { onIteration: (r) => cos.push(r.lr) });
    close(cos, [0, 1, 2, 3].map((t) => 0.05 * (1 + Math.cos((Math.PI * t) / 4))), 15);
  });

  it('cosine with a time budget and no horizon is refused with a clear message', async () => {
    await expect(train(createModel(doc), data, { method: 'backprop', lrSchedule: 'cosine' }, { seconds: 1 })).rejects.toThrow(/cosine needs its horizon.*--lr-horizon/);
    const { settings } = resolveSettings({ method: 'backprop', lrSchedule: 'cosine', lrHorizon: 9 }, createModel(doc).net, 6);
    expect(settings.lrHorizon).toBe(9);
  });
});

describe('train(): checkpoints of adam under a step schedule with clipping resume bit for bit', () => {
  it('the resumed run ends where the uninterrupted one does', async () => {
    const options: TrainOptions = { method: 'adam', mode: 'minibatch', batchSize: 3, lr: 0.02, lrSchedule: 'step', lrStepEvery: 4, lrStepFactor: 0.5, clipNorm: 0.1 };
    const full = createModel(doc);
    await train(full, data, options, { iterations: 11 });
    const checkpoints: Array<{ state: Awaited<ReturnType<typeof train>>['state']; params: Float64Array }> = [];
    const model = createModel(doc);
    await train(model, data, options, { iterations: 11 }, { checkpointEvery: { iterations: 5 }, onCheckpoint: (state) => checkpoints.push({ state: JSON.parse(JSON.stringify(state)), params: model.params.slice() }) });
    expect(checkpoints[0].state.optimizer.steps).toBe(5);
    const resumed = createModel(doc);
    resumed.params = checkpoints[0].params;
    await train(resumed, data, options, { iterations: 11 }, {}, checkpoints[0].state);
    expect(Array.from(resumed.params)).toEqual(Array.from(full.params));
  });
});

describe('gradient clipping by norm', () => {
  it('scales G to ‖G‖ = c before the solve, leaves a smaller G alone', () => {
    const model = createModel(doc);
    const batch = makeBatch(model.net, data);
    const g = gradientAt(model.params);
    const norm = Math.hypot(...g);
    for (const c of [norm / 4, norm * 2]) {
      const engine = cpuBackend.open(model.net, batch.size);
      const params = engine.alloc(model.net.nParams);
      engine.upload(params, model.params);
      const ws = engine.workspace();
      engine.setBatch(ws, batch);
      const runner = new MethodRunner(engine, createMethod('backprop'));
      runner.measure(params, ws, 1, { rng: new Prng(1), mcSamples: 1 });
      const direction = engine.read(runner.solve(0, c));
      expect(runner.lastGradientNorm).toBeCloseTo(norm, 13);
      expect(Math.hypot(...direction)).toBeCloseTo(Math.min(c, norm), 13);
      close(direction, g.map((v) => v * Math.min(1, c / norm)), 14);
      engine.dispose();
    }
  });
});

describe('options of the baselines and schedules', () => {
  const messages = (o: TrainOptions) => trainOptionProblems(o).map((p) => p.message);
  it('are refused with other methods and schedules, and out of range', () => {
    expect(messages({ method: 'unitwise-natural', adamBeta1: 0.5 })[0]).toMatch(/--adam-beta1 applies to the adam method only/);
    expect(messages({ method: 'adam', nesterov: true })[0]).toMatch(/--nesterov applies to the momentum method only/);
    expect(messages({ method: 'adam', adamBeta2: 1 })[0]).toMatch(/--adam-beta2 1: give a number in \[0, 1\)/);
    expect(messages({ method: 'momentum', momentum: -0.1 })[0]).toMatch(/--momentum/);
    expect(messages({ method: 'backprop', lrStepEvery: 3 })[0]).toMatch(/--lr-step-every applies to --lr-schedule step only/);
    expect(messages({ method: 'backprop', lrSchedule: 'step', lrHorizon: 3 })[0]).toMatch(/--lr-horizon applies to --lr-schedule cosine only/);
    expect(messages({ method: 'backprop', clipNorm: 0 })[0]).toMatch(/--clip-norm 0/);
    expect(messages({ method: 'momentum', momentum: 0.5, nesterov: true, lrSchedule: 'step', lrStepEvery: 2, lrStepFactor: 0.5, clipNorm: 1 })).toEqual([]);
    expect(() => createOptimizer(createModel(doc), { method: 'backprop', adamEpsilon: 1e-3 })).toThrow(UsageError);
  });
});

describe('invariance: adam and momentum are not invariant', () => {
  const net = createModel(doc).net;
  for (const method of ['adam', 'momentum'] as const) {
    it(`${method}: the expectation says so, and the check finds the twins part`, () => {
      expect(METHOD_SPECS[method].invariant).toBe(false);
      for (const twin of ['convert', 'reparametrize', 'recombine'] as const) expect(expectedInvariance(method, twin, { net, samples: 6 }).invariant).toBe(false);
      const report = checkInvariance(doc, data, { method, steps: 3, lr: 0.05 });
      expect(report.expectedInvariant).toBe(false);
      expect(report.expectation).toMatch(/not invariant/);
      expect(report.invariant).toBe(false);
    });
  }
});
