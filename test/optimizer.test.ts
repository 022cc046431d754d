import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { createOptimizer } from '../src/optimizer/optimizer.js';
import { stepModel } from '../src/train/step.js';
import type { TrainOptions } from '../src/train/settings.js';
import { train, type TrainState } from '../src/train/trainer.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

const doc = randomNetwork({ interpretation: 'softmax', seed: 12, inputs: 3, hidden: 4, outputs: 3, activations: ['tanh', 'sigmoid'] });
const data = randomData(doc, 20, 3);

describe('createOptimizer', () => {
  it('keeps its Monte-Carlo PRNG across steps (every call does not draw the same outputs)', () => {
    const model = createModel(doc);
    const batch = makeBatch(model.net, data);
    const options: TrainOptions = { method: 'mc-unitwise-natural', lr: 0.05, lrSchedule: 'fixed', seed: 4 };
    const optimizer = createOptimizer(model, options, 20);
    optimizer.step(batch);
    const after1 = optimizer.params();
    optimizer.step(batch);
    const after2 = optimizer.params();
    // The second step from after1 with a reseeded PRNG (what a one-step function does) differs.
    const reseeded = createOptimizer({ ...model, params: after1 }, options, 20);
    reseeded.step(batch);
    expect(Array.from(reseeded.params())).not.toEqual(Array.from(after2));
    // ... and a fresh optimizer with the same seed replays both steps exactly.
    const replay = createOptimizer(model, options, 20);
    replay.step(batch);
    replay.step(batch);
    expect(Array.from(replay.params())).toEqual(Array.from(after2));
    for (const o of [optimizer, reseeded, replay]) o.dispose();
  });

  const modes: Array<[string, TrainOptions, number]> = [
    ['batch, adaptive rate', { method: 'unitwise-natural' }, 20],
    ['mini-batch, decayed QD metric', { method: 'quasi-diagonal-natural', mode: 'minibatch', batchSize: 5, metricDecay: 0.2, lr: 0.05 }, 5],
    ['online, Sherman-Morrison', { method: 'unitwise-op', mode: 'online', lr: 0.02, nInit: 10, onlineDecay: 0.02, refreshEvery: 4 }, 1],
    ['mini-batch K-FAC, factor averages, inverses every 5 (saved between refreshes)', { method: 'kfac', mode: 'minibatch', batchSize: 5, lr: 0.05, inverseEvery: 5 }, 5],
    ['batch KFRA, accumulated estimate (γ = 0.3), inverses every 2', { method: 'kfra', metricDecay: 0.3, inverseEvery: 2 }, 20],
    ['batch K-FAC, each batch’s own factors, inverses every 3 (saved between refreshes)', { method: 'kfac', inverseEvery: 3 }, 20],
    ['batch KFLR, masked solve, exact damping', { method: 'kflr', kroneckerSolve: 'masked', kroneckerDamping: 'exact', groups: 'units' }, 20],
    ['batch Adam, adaptive rate (moments and t saved in batch mode)', { method: 'adam', lr: 0.01 }, 20],
    ['mini-batch Adam, β2 = 0.99, cosine over 8 steps, clipped at ‖G‖ ≤ 0.05', { method: 'adam', mode: 'minibatch', batchSize: 5, lr: 0.01, adamBeta2: 0.99, lrSchedule: 'cosine', lrHorizon: 8, clipNorm: 0.05 }, 5],
    ['batch Nesterov momentum, step decay ×0.5 every 3', { method: 'momentum', momentum: 0.8, nesterov: true, lr: 0.05, lrSchedule: 'step', lrStepEvery: 3, lrStepFactor: 0.5 }, 20],
    ['online heavy-ball momentum', { method: 'momentum', mode: 'online', lr: 0.02 }, 1],
  ];
  for (const [label, options, size] of modes) {
    it(`${label}: state() and restore() continue bit for bit`, () => {
      const model = createModel(doc);
      const batches = Array.from({ length: 8 }, (_, i) => makeBatch(model.net, data, Array.from({ length: size }, (_, j) => (i * 3 + j) % 20)));
      const init = makeBatch(model.net, data, Array.from({ length: 10 }, (_, i) => i));
      const a = createOptimizer(model, options, 20);
      if (a.needsInitialization) a.initialize(init);
      let saved: { state: ReturnType<typeof a.state>; params: Float64Array } | undefined;
      const records = batches.map((b, i) => {
        const r = a.step(b);
        if (i === 3) saved = { state: JSON.parse(JSON.stringify(a.state())), params: a.params() };
        return r;
      });
      const b = createOptimizer(model, options, 20);
      b.setParams(saved!.params);
      b.restore(saved!.state);
      expect(b.needsInitialization).toBe(false);
      const resumed = batches.slice(4).map((batch) => b.step(batch));
      expect(resumed).toEqual(records.slice(4));
      expect(Array.from(b.params())).toEqual(Array.from(a.params()));
      a.dispose();
      b.dispose();
    });
  }

  it('evaluate(data): the loss a one-step function reports, per-sample losses and probabilities', () => {
    const model = createModel(doc);
    const optimizer = createOptimizer(model, { method: 'backprop' });
    const evaluation = optimizer.evaluate(data);
    const { lossBefore } = stepModel(createModel(doc), data, { method: 'backprop', lr: 0 });
    expect(evaluation.lossBits).toBeCloseTo(lossBefore, 12);
    expect(evaluation.losses).toHaveLength(20);
    for (const row of evaluation.probabilities) expect(row.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
  });

  it('throws only typed errors: unknown method or backend, a step before the online initialisation', () => {
    const model = createModel(doc);
    expect(() => createOptimizer(model, { method: 'nope' as never })).toThrow(UsageError);
    expect(() => createOptimizer(model, { method: 'backprop', backend: 'nope' }).step(makeBatch(model.net, data))).toThrow(UsageError);
    const online = createOptimizer(model, { method: 'unitwise-natural', mode: 'online', lr: 0.01 }, 20);
    expect(() => online.step(makeBatch(model.net, data, [0]))).toThrow(/initialize/);
    expect(() => online.setParams(new Float64Array(3))).toThrow(UsageError);
  });
});

describe('train(): checkpoints', () => {
  it('calls onCheckpoint every N iterations with a state that resumes bit for bit', async () => {
    const options: TrainOptions = { method: 'backpropagated-metric', mode: 'minibatch', batchSize: 4, lr: 0.05, metricDecay: 0.5 };
    const full = createModel(doc);
    await train(full, data, options, { iterations: 12 });
    const checkpoints: Array<{ state: TrainState; params: Float64Array }> = [];
    const model = createModel(doc);
    await train(model, data, options, { iterations: 12 }, { checkpointEvery: { iterations: 5 }, onCheckpoint: (state) => checkpoints.push({ state: JSON.parse(JSON.stringify(state)), params: model.params.slice() }) });
    expect(checkpoints.map((c) => c.state.iteration)).toEqual([5, 10]);
    const resumed = createModel(doc);
    resumed.params = checkpoints[0].params;
    await train(resumed, data, options, { iterations: 12 }, {}, checkpoints[0].state);
    expect(Array.from(resumed.params)).toEqual(Array.from(full.params));
  });

  it('stops on an aborted signal', async () => {
    const controller = new AbortController();
    let n = 0;
    const { stoppedBy, state } = await train(createModel(doc), data, { method: 'backprop' }, { iterations: 100 }, { signal: controller.signal, onIteration: () => ++n === 3 && controller.abort() });
    expect(stoppedBy).toBe('interrupt');
    expect(state.iteration).toBe(3);
  });
});

describe('size guard', () => {
  it('refuses per-unit blocks that would not fit before any work, naming the unit and its fan-in', () => {
    // A network with one unit of fan-in 70,000 (blocks of 4.9·10⁹ numbers).
    const inputs = 70_000;
    const nodes = [...Array.from({ length: inputs }, (_, i) => ({ key: `x${i}`, attributes: { role: 'input' as const } })), { key: 'y', attributes: { role: 'output' as const, bias: 0 } }];
    const edges = Array.from({ length: inputs }, (_, i) => ({ source: `x${i}`, target: 'y', attributes: { weight: 0.001 } }));
    const wide = createModel({ options: { type: 'directed', multi: false, allowSelfLoops: false }, attributes: { interpretation: 'bernoulli', activation: 'sigmoid' }, nodes, edges });
    expect(() => createOptimizer(wide, { method: 'unitwise-natural' })).toThrow(UsageError);
    expect(() => createOptimizer(wide, { method: 'unitwise-natural' })).toThrow(/unit 'y'.*70000/);
    expect(() => createOptimizer(wide, { method: 'quasi-diagonal-natural' }).dispose()).not.toThrow();
  });
});

describe('optimizer misuse is refused, not silently wrong', () => {
  it('initialize() once only; online steps take one sample; a stale forward pass is never reused', () => {
    const model = createModel(doc);
    const online = createOptimizer(model, { method: 'unitwise-op', mode: 'online', lr: 0.02, nInit: 10, onlineDecay: 0.02 }, 20);
    online.initialize(makeBatch(model.net, data, Array.from({ length: 10 }, (_, i) => i)));
    expect(() => online.initialize(makeBatch(model.net, data, [0, 1]))).toThrow(/initialised already/);
    expect(() => online.step(makeBatch(model.net, data, [0, 1, 2, 3, 4]))).toThrow(/one sample at a time/);
    online.dispose();
    const a = makeBatch(model.net, data, [0, 1, 2, 3]);
    const c = makeBatch(model.net, data, [4, 5, 6, 7]);
    const plain = createOptimizer(model, { method: 'backprop', lr: 0.1 });
    plain.step(a);
    plain.step(a);
    const mixed = createOptimizer(model, { method: 'backprop', lr: 0.1 });
    mixed.step(a);
    mixed.evaluate({ inputs: data.inputs.slice(4, 8), targets: data.targets.slice(4, 8) });
    mixed.step(a);
    expect(Array.from(mixed.params())).toEqual(Array.from(plain.params()));
    expect(() => mixed.initialize(c)).toThrow(/no initial batch/);
  });

  it('batch mode saves no curvature; a curvature saved for another network is refused with a typed error', async () => {
    const { FileFormatError } = await import('../src/errors.js');
    const model = createModel(doc);
    const batchMode = createOptimizer(model, { method: 'unitwise-natural' });
    batchMode.step(makeBatch(model.net, data));
    expect(batchMode.state().curvature).toBeNull();
    const decayed = createOptimizer(model, { method: 'quasi-diagonal-natural', mode: 'minibatch', batchSize: 4, metricDecay: 0.3, lr: 0.05 }, 20);
    decayed.step(makeBatch(model.net, data, [0, 1, 2, 3]));
    const saved = decayed.state();
    expect(saved.curvature?.arrays).toHaveLength(2);
    const other = createModel(randomNetwork({ interpretation: 'softmax', seed: 13, inputs: 3, hidden: 6, outputs: 3 }));
    const elsewhere = createOptimizer(other, { method: 'quasi-diagonal-natural', mode: 'minibatch', batchSize: 4, metricDecay: 0.3, lr: 0.05 }, 20);
    elsewhere.restore(saved);
    expect(() => elsewhere.step(makeBatch(other.net, randomData(randomNetwork({ interpretation: 'softmax', seed: 13, inputs: 3, hidden: 6, outputs: 3 }), 4, 1)))).toThrow(FileFormatError);
  });
});
