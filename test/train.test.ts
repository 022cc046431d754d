import { describe, expect, it } from 'vitest';
import { createModel, type Model } from '../src/engine/model.js';
import { generateAutoencoder } from '../src/generate/autoencoder.js';
import { generateBinaryData } from '../src/generate/data.js';
import type { DataDocument, NetworkDocument } from '../src/network/types.js';
import type { TrainOptions } from '../src/train/settings.js';
import { parseRun, serialiseRun } from '../src/train/state-file.js';
import { stringifyJson } from '../src/json/stringify-json.js';
import { train, type IterationRecord } from '../src/train/trainer.js';
import { exampleData, exampleNetwork } from './helpers/documents.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

async function run(doc: NetworkDocument, data: DataDocument, options: TrainOptions, iterations: number, stopAt?: number) {
  const model = createModel(doc);
  const records: IterationRecord[] = [];
  const result = await train(model, data, options, { iterations }, { onIteration: (r) => records.push(r), shouldStop: () => stopAt !== undefined && records.length >= stopAt });
  return { model, records, result };
}

const withoutTime = (records: IterationRecord[]) => records.map(({ elapsed: _elapsed, ...rest }) => rest);

describe('batch mode with the adaptive rate (Section 4)', () => {
  it('cancels worsening steps (halving the rate) and never lets the loss increase', async () => {
    const doc = randomNetwork({ interpretation: 'bernoulli', seed: 5, activations: ['sigmoid', 'tanh'] });
    const { records } = await run(doc, randomData(doc, 20, 5), { method: 'backprop', lr: 50 }, 200);
    expect(records.some((r) => !r.accepted)).toBe(true);
    for (let i = 1; i < records.length; i++) {
      expect(records[i].loss).toBeLessThanOrEqual(records[i - 1].loss);
      const expectedLr = records[i - 1].accepted ? records[i - 1].lr * 1.1 : records[i - 1].lr / 2;
      expect(records[i].lr).toBeCloseTo(expectedLr, 12);
    }
  });

  it('backpropagated-metric goes below 5 bits per sample on the seed-1 autoencoder within 2,000 iterations', async () => {
    const { records } = await run(generateAutoencoder({ seed: 1 }), generateBinaryData({ seed: 1 }), { method: 'backpropagated-metric' }, 2000);
    expect(records[0].loss).toBeGreaterThan(50);
    expect(records[records.length - 1].loss).toBeLessThan(5);
  });
});

describe('determinism and resume', () => {
  const doc = randomNetwork({ interpretation: 'softmax', seed: 8, activations: ['tanh', 'sigmoid'], inputs: 3, hidden: 4, outputs: 3 });
  const data = randomData(doc, 24, 8);
  const cases: Array<[string, TrainOptions]> = [
    ['batch, Monte-Carlo Fisher', { method: 'mc-unitwise-natural', mcSamples: 2 }],
    ['mini-batch, decayed metric', { method: 'quasi-diagonal-natural', mode: 'minibatch', batchSize: 5, metricDecay: 0.2, lr: 0.05 }],
    // (The adaptive rate is refused outside batch mode: judged on each mini-batch it diverges.)
    ['mini-batch, full blocks, fixed rate', { method: 'backpropagated-metric', mode: 'minibatch', batchSize: 7, lrSchedule: 'fixed', lr: 0.05 }],
    ['online, Sherman-Morrison', { method: 'unitwise-op', mode: 'online', lr: 0.02, nInit: 20, onlineDecay: 0.01, refreshEvery: 50 }],
    ['online, quasi-diagonal', { method: 'quasi-diagonal-backpropagated-metric', mode: 'online', lr: 0.02, nInit: 20 }],
  ];
  for (const [name, options] of cases) {
    it(`${name}: two runs are identical, and an interrupted then resumed run equals the uninterrupted one`, async () => {
      const a = await run(doc, data, options, 120);
      const b = await run(doc, data, options, 120);
      expect(Array.from(b.model.params)).toEqual(Array.from(a.model.params));
      expect(withoutTime(b.records)).toEqual(withoutTime(a.records));

      const first = await run(doc, data, options, 120, 47);
      expect(first.result.stoppedBy).toBe('interrupt');
      expect(first.result.state.iteration).toBe(47);
      // Through the state file's text, as the CLI does.
      const saved = parseRun(stringifyJson(serialiseRun({ state: first.result.state, budget: { iterations: 120 } })), 'state.json');
      const resumed: Model = { ...first.model, params: Float64Array.from(first.model.params) };
      const rest: IterationRecord[] = [];
      await train(resumed, data, options, { iterations: 120 }, { onIteration: (r) => rest.push(r) }, saved.state);
      expect(Array.from(resumed.params)).toEqual(Array.from(a.model.params));
      expect(withoutTime([...first.records, ...rest])).toEqual(withoutTime(a.records));
    });
  }
});

describe('numerical faults never reach the weights', () => {
  const methods = ['backprop', 'unitwise-natural', 'quasi-diagonal-natural', 'backpropagated-metric', 'quasi-diagonal-backpropagated-metric', 'diagonal-gauss-newton', 'adagrad', 'unitwise-op'] as const;
  const doc = exampleNetwork('tiny-bernoulli');
  const data = exampleData('tiny-bernoulli');
  const awkward: Array<[string, NetworkDocument, DataDocument, number]> = [
    ['constant input units', doc, { ...data, inputs: data.inputs.map(() => [1, 1]) }, 0],
    ['perfectly correlated inputs', doc, { ...data, inputs: data.inputs.map((x) => [x[0], 2 * x[0] - 1]) }, 0],
    ['fewer samples than parameters at a unit', doc, { inputs: data.inputs.slice(0, 1), targets: data.targets.slice(0, 1) }, 0],
    ['saturated outputs (a = 1 exactly)', scaled(doc, 200), data, 1e-4],
    ['very large weights', scaled(doc, 1e150), data, 1e-4],
  ];
  for (const [name, network, samples, epsilon] of awkward) {
    it(`${name}`, async () => {
      for (const method of methods) {
        const model = createModel(network);
        const records: IterationRecord[] = [];
        try {
          await train(model, samples, { method, epsilon, lr: 1 }, { iterations: 30 }, { onIteration: (r) => records.push(r) });
        } catch (err) {
          // A singular block with ε = 0 is refused with a typed error naming the unit; the weights are untouched.
          expect((err as Error).message, `${method}`).toMatch(/not positive definite/);
          expect(Array.from(model.params)).toEqual(Array.from(createModel(network).params));
          continue;
        }
        expect(model.params.every(Number.isFinite), method).toBe(true);
        expect(records.every((r) => Number.isFinite(r.loss)), method).toBe(true);
        for (const r of records.filter((x) => x.fault)) expect(r.accepted).toBe(false);
      }
    });
  }
});

describe('a step that would overflow', () => {
  it('is rejected, logged as a fault, and the rate halved until steps are finite again', async () => {
    const data = exampleData('tiny-square');
    data.targets = data.targets.map((row) => row.map((y) => 1e6 * y));
    const model = createModel(exampleNetwork('tiny-square'));
    const before = Array.from(model.params);
    const records: IterationRecord[] = [];
    await train(model, data, { method: 'backprop', lr: 1e150, lrSchedule: 'fixed' }, { iterations: 40 }, { onIteration: (r) => records.push(r) });
    expect(records[0]).toMatchObject({ accepted: false, fault: 'non-finite loss', lr: 1e150 });
    expect(records[1].lr).toBe(5e149);
    expect(records.some((r) => r.accepted)).toBe(true);
    expect(model.params.every(Number.isFinite)).toBe(true);
    expect(Array.from(model.params)).not.toEqual(before);
  });
});

function scaled(doc: NetworkDocument, factor: number): NetworkDocument {
  const copy = structuredClone(doc);
  copy.edges.forEach((e) => (e.attributes.weight *= factor));
  return copy;
}
