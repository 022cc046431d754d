import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import type { CompiledNetwork } from '../src/engine/compiled-network.js';
import { createModel } from '../src/engine/model.js';
import { checkCurvatureMemory, curvatureCopies, CURVATURE_LIMIT_BYTES } from '../src/engine/size-guard.js';
import { checkTrainBudget, trainOptionProblems } from '../src/train/options-check.js';
import { resolveSettings } from '../src/train/settings.js';
import { train } from '../src/train/trainer.js';
import { exampleData, exampleNetwork } from './helpers/documents.js';

describe('training options that need neither network nor data', () => {
  const messages = (options: Parameters<typeof trainOptionProblems>[0]) => trainOptionProblems(options).map((p) => p.message);

  it('rates and counts out of range name the option', () => {
    expect(messages({ method: 'backprop', lr: -1, epsilon: Number.NaN, mcSamples: 0 })).toEqual([
      '--lr -1: give a positive finite number (the learning rate η)',
      '--epsilon NaN: give a finite number ≥ 0 (the regularisation ε)',
      '--mc-samples 0: give a positive integer (Monte-Carlo draws per sample)',
    ]);
    expect(messages({ method: 'backprop', lr: Number.POSITIVE_INFINITY })).toHaveLength(1);
    expect(messages({ method: 'backprop', mode: 'online', nInit: 2.5, refreshEvery: -1, onlineDecay: 1 })).toHaveLength(3);
  });

  it('options of another mode are refused naming the option and the mode; unset ones never are', () => {
    expect(messages({ method: 'backprop', batchSize: 4, refreshEvery: 1000 })).toEqual([
      '--batch-size applies to minibatch mode only, not batch mode; drop it, or give --mode minibatch',
      '--refresh-every applies to online mode only, not batch mode; drop it, or give --mode online',
    ]);
    expect(messages({ method: 'backprop', mode: 'online', metricDecay: 0.5 })).toEqual(['--metric-decay applies to batch and minibatch mode only, not online mode; drop it, or give --mode batch']);
    expect(messages({ method: 'unitwise-natural', metricDecay: 0.05 })).toEqual([]);
    expect(messages({ method: 'unitwise-natural', inverseEvery: 5, groups: 'units' })).toEqual(['--groups, --inverse-every apply to the Kronecker-factored methods (kflr, kfac, kfra) only, not unitwise-natural; drop them or choose one of those methods']);
    expect(messages({ method: 'kfac', mode: 'minibatch', inverseEvery: 5, groups: 'units' })).toEqual([]);
    expect(messages({ method: 'backprop', mode: 'minibatch', nInit: 4, onlineDecay: 0.1 })).toHaveLength(2);
    expect(messages({ method: 'backprop', mode: 'minibatch', batchSize: 4, metricDecay: 0.5 })).toEqual([]);
    expect(messages({ method: 'backprop', mode: 'online', nInit: 4, onlineDecay: 0.1, refreshEvery: 10 })).toEqual([]);
  });

  it('the adaptive rate is refused outside batch mode', () => {
    expect(messages({ method: 'backprop', mode: 'minibatch', lrSchedule: 'adaptive' })[0]).toMatch(/diverges in minibatch mode; use --lr-schedule fixed/);
    expect(messages({ method: 'backprop', mode: 'online', lrSchedule: 'adaptive' })[0]).toMatch(/no meaning online/);
    expect(messages({ method: 'backprop', lrSchedule: 'adaptive' })).toEqual([]);
  });

  it('the library refuses them too (resolveSettings, train), and online backprop gets no n_init warning', async () => {
    const model = createModel(exampleNetwork('tiny-bernoulli'));
    const data = exampleData('tiny-bernoulli');
    await expect(train(model, data, { method: 'backprop', mode: 'minibatch', lrSchedule: 'adaptive' }, { iterations: 3 })).rejects.toThrow(UsageError);
    expect(() => resolveSettings({ method: 'backprop', mode: 'online', metricDecay: 0.5 }, model.net, 4)).toThrow(/--metric-decay applies to batch and minibatch mode only/);
    expect(() => resolveSettings({ method: 'kflr', mode: 'online' }, model.net, 4)).toThrow(/no rank-one \(Sherman-Morrison\) update/);
    expect(resolveSettings({ method: 'kfac', mode: 'minibatch' }, model.net, 4).settings).toMatchObject({ metricDecay: 0.05, inverseEvery: 20, groups: 'levels' });
    expect(resolveSettings({ method: 'kfac' }, model.net, 4).settings).toMatchObject({ metricDecay: null, inverseEvery: 1 });
    expect(resolveSettings({ method: 'backprop', mode: 'online', nInit: 1 }, model.net, 4).warnings).toEqual([]);
    expect(resolveSettings({ method: 'unitwise-op', mode: 'online', nInit: 1 }, model.net, 4).warnings.map((w) => w.code)).toEqual(['n-init']);
  });

  it('budgets: zero, negative, fractional or non-finite are refused', () => {
    for (const budget of [{ iterations: 0 }, { iterations: -1 }, { iterations: 1.5 }, { seconds: 0 }, { seconds: -2 }, { seconds: Number.NaN }, { backpropEquivalent: 0 }, { backpropEquivalent: 10.5 }]) {
      expect(() => checkTrainBudget(budget), JSON.stringify(budget)).toThrow(UsageError);
    }
    expect(() => checkTrainBudget({ iterations: 1 })).not.toThrow();
    expect(() => checkTrainBudget({ seconds: 0.25 })).not.toThrow();
  });
});

describe('size guard of the per-unit blocks', () => {
  /** Just what the guard reads: one input-free unit per fan-in. */
  const network = (fanIns: number[]): CompiledNetwork => {
    const blockOffsets = new Int32Array(fanIns.length + 2);
    fanIns.forEach((f, i) => (blockOffsets[i + 2] = blockOffsets[i + 1] + f + 1));
    return { nInputs: 1, nUnits: fanIns.length + 1, blockOffsets, unitKeys: ['x', ...fanIns.map((_, i) => `u${i}`)] } as unknown as CompiledNetwork;
  };

  it('refuses a unit of fan-in 60,000, naming it, its fan-in and the memory', () => {
    expect(() => checkCurvatureMemory(network([5, 60000]), 'full', { method: 'unitwise-natural' })).toThrow(
      /unitwise-natural needs 53\.6 GiB per iteration for its per-unit metric blocks \(2 arrays of 3\.60e\+9 numbers\), above the 8\.00 GiB limit; unit 'u1' has fan-in 60000/,
    );
  });

  it('refuses beyond the layout’s 32-bit offsets even under a raised memory limit', () => {
    expect(() => checkCurvatureMemory(network([50000]), 'full', { limitBytes: 1e12 })).toThrow(/beyond the 2³¹ − 1 the block layout can index/);
  });

  it('says the expected memory of large but legal blocks; other reductions hold none', () => {
    const big = checkCurvatureMemory(network(Array(200).fill(300)), 'full');
    expect(big?.bytes).toBe(8 * 200 * 301 * 301 * 2);
    expect(big?.notice).toMatch(/needs about 276 MiB per iteration .*largest: unit 'u0', fan-in 300/);
    expect(checkCurvatureMemory(network([10, 20]), 'full')?.notice).toBeUndefined();
    expect(checkCurvatureMemory(network([60000]), 'quasi-diagonal')).toBeUndefined();
    expect(curvatureCopies('online')).toBe(3);
    expect(curvatureCopies('minibatch', true)).toBe(3);
    expect(curvatureCopies('batch')).toBe(2);
    expect(CURVATURE_LIMIT_BYTES).toBe(8 * 2 ** 30);
  });
});
