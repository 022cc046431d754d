import { afterAll, describe, expect, it } from 'vitest';
import { randomData, randomNetwork } from './helpers/random-network.js';
import type { NetworkDocument } from '../src/network/types.js';

// The engine's worker threads import compiled modules, so this suite uses dist/ (built by `npm test`).
const lib = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof import('../src/index.js');
const { evaluateMethodOnce } = (await import(new URL('../dist/methods/runner.js', import.meta.url).href)) as typeof import('../src/methods/runner.js');
const { createModel, createMethod, cpuBackend, makeBatch, METHODS, Prng, ThreadedEngine, threadedCpuBackend, registerBackend, train, UsageError, useBackend } = lib;
type Engine = import('../src/backend/engine.js').Engine;

/** Every entry equal as Object.is sees it (so -0 ≠ 0 and NaN = NaN): bit-identical results. */
function sameBits(label: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(b.length, label).toBe(a.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect.fail(`${label}: entry ${i} differs: ${a[i]} vs ${b[i]}`);
}

/** Threaded backends on every network and every call, however small (tests only). */
const threaded = (threads: number) => threadedCpuBackend({ threads, minEdges: 0, minWork: 0 });

const networks: Array<[string, NetworkDocument]> = [
  ['bernoulli, skips', randomNetwork({ interpretation: 'bernoulli', seed: 3, inputs: 6, hidden: 30, outputs: 4, density: 0.25, activations: ['sigmoid', 'tanh', 'relu'] })],
  ['softmax, skips, affine', randomNetwork({ interpretation: 'softmax', seed: 5, inputs: 5, hidden: 24, outputs: 3, density: 0.3, affine: true })],
  ['square', randomNetwork({ interpretation: 'square', seed: 7, inputs: 4, hidden: 20, outputs: 3, density: 0.3 })],
  ['spherical', randomNetwork({ interpretation: 'spherical', seed: 9, inputs: 4, hidden: 16, outputs: 3, density: 0.35 })],
];

const opened: Engine[] = [];
afterAll(() => opened.forEach((e) => e.dispose()));

describe('threaded CPU engine: bit-identical to one thread', () => {
  for (const [label, doc] of networks) {
    it(`${label}: every method's loss, gradient and direction on 1, 2 and 3 threads (7 samples)`, () => {
      const model = createModel(doc);
      const batch = makeBatch(model.net, randomData(doc, 7, 13));
      const engines = [cpuBackend, threaded(2), threaded(3)].map((b) => b.open(model.net, batch.size));
      opened.push(...engines);
      expect(engines[1]).toBeInstanceOf(ThreadedEngine);
      expect(engines[2]).toBeInstanceOf(ThreadedEngine);
      for (const method of METHODS) {
        const [one, ...more] = engines.map((engine) => evaluateMethodOnce(engine, createMethod(method, {}), model.params, batch, { epsilon: 1e-3, mcSamples: 2, rng: new Prng(4) }));
        more.forEach((r, i) => {
          const tag = `${label}, ${method}, ${i + 2} threads`;
          expect(Object.is(r.lossNats, one.lossNats), `${tag}: loss`).toBe(true);
          sameBits(`${tag}: gradient`, one.gradient, r.gradient);
          sameBits(`${tag}: direction`, one.direction, r.direction);
        });
      }
    });
  }

  it('training: a few batch, minibatch and online iterations give the same parameters and losses on 1 and 3 threads', async () => {
    registerBackend(threaded(3), 'cpu-3-threads');
    const doc = networks[0][1];
    const data = randomData(doc, 9, 21);
    const runs = [
      { method: 'unitwise-natural', mode: 'batch' },
      { method: 'kflr', mode: 'minibatch', batchSize: 5 },
      { method: 'quasi-diagonal-backpropagated-metric', mode: 'minibatch', batchSize: 4 },
      { method: 'backpropagated-metric', mode: 'online', lrSchedule: 'fixed' },
      { method: 'adam', mode: 'minibatch', batchSize: 3 },
    ] as const;
    for (const options of runs) {
      const result = async (backend: string) => {
        const model = createModel(doc);
        const losses: number[] = [];
        await train(model, data, { ...options, backend, seed: 2 }, { iterations: 6 }, { onIteration: (r) => losses.push(r.loss) });
        return { params: model.params, losses };
      };
      const one = await result('cpu');
      const three = await result('cpu-3-threads');
      sameBits(`${options.method} losses`, one.losses, three.losses);
      sameBits(`${options.method} parameters`, one.params, three.params);
    }
  });
});

describe('threaded CPU engine: failures as one thread reports them', () => {
  it('the first unit whose block fails, over chunks run by any thread', () => {
    const model = createModel(networks[0][1]);
    const { net } = model;
    const engines = [cpuBackend, threaded(2), threaded(3)].map((b) => b.open(net, 5));
    opened.push(...engines);
    const failing = [net.nUnits - 4, net.nUnits - 1, net.nInputs + 2];
    const [one, ...more] = engines.map((engine) => {
      const size = (k: number) => net.blockOffsets[k + 1] - net.blockOffsets[k];
      let length = 0;
      for (let k = 0; k < net.nUnits; k++) length += size(k) ** 2;
      const values = new Float64Array(length);
      let offset = 0;
      for (let k = 0; k < net.nUnits; k++) {
        // Identity blocks, but a negative pivot in the failing units.
        for (let i = 0; i < size(k); i++) values[offset + i * size(k) + i] = failing.includes(k) ? -1 : 1;
        offset += size(k) ** 2;
      }
      const blocks = engine.alloc(length);
      engine.upload(blocks, values);
      const gradient = engine.alloc(net.nParams);
      engine.upload(gradient, model.params);
      const solved = engine.solveUnitBlocks(blocks, gradient, 1e-3, engine.alloc(net.nParams), engine.alloc(length));
      const inverted = engine.invertBlocks(blocks, engine.alloc(length));
      const late = engine.invertBlocks(blocks, engine.alloc(length), [net.nUnits - 2, net.nUnits - 1, net.nUnits - 4]);
      return [solved, inverted, late];
    });
    expect(one).toEqual([net.nInputs + 2, net.nInputs + 2, net.nUnits - 1]);
    for (const r of more) expect(r).toEqual(one);
  });
});

describe('threaded CPU engine: threads and their lifetime', () => {
  it('dispose stops every worker thread', async () => {
    const model = createModel(networks[2][1]);
    const engine = threaded(3).open(model.net, 5) as InstanceType<typeof ThreadedEngine>;
    expect(engine.threads).toBe(3);
    engine.dispose();
    await engine.exited;
    expect(() => engine.gradient(engine.workspace(), engine.alloc(model.net.nParams))).toThrow(UsageError);
  });

  it('small networks and one thread get the plain engine; a bad thread count is a usage error', () => {
    const model = createModel(networks[2][1]);
    expect(threadedCpuBackend({ threads: 2 }).open(model.net, 4)).not.toBeInstanceOf(ThreadedEngine);
    expect(threadedCpuBackend({ threads: 1 })).toBe(cpuBackend);
    expect(() => threadedCpuBackend({ threads: 0 })).toThrow(/--threads 0: give a positive integer/);
    expect(() => threadedCpuBackend({ threads: 1.5 })).toThrow(UsageError);
  });

  it('--threads above 1 is refused on other backends before they load', async () => {
    await expect(useBackend('webgpu', { threads: 2 })).rejects.toThrow(/--threads 2 applies to --backend cpu, not 'webgpu'/);
    await expect(useBackend('tfjs', { threads: 4 })).rejects.toThrow(UsageError);
  });
});

describe('npm run bench -- --threads-speedup', () => {
  it('reports each method at each batch size with the shared fraction, Amdahl and the capacity probe', async () => {
    const { runThreadSpeedup } = (await import(new URL('../dist/bench/threads.js', import.meta.url).href)) as typeof import('../src/bench/threads.js');
    const lines: string[] = [];
    const result = await runThreadSpeedup({ threads: 2, sizes: [3, 4], repeats: 1, scale: 0.01, methods: ['backprop', 'quasi-diagonal-natural'], capacitySteps: 1e7, onLine: (l) => lines.push(l) });
    expect(result.rows.map((r) => `${r.method}@${r.batch}`)).toEqual(['backprop@3', 'quasi-diagonal-natural@3', 'backprop@4', 'quasi-diagonal-natural@4']);
    for (const row of result.rows) {
      expect(row.sharedFraction).toBeGreaterThan(0);
      expect(row.sharedFraction).toBeLessThanOrEqual(1);
      expect(row.amdahl[2]).toBeCloseTo(1 / (1 - row.sharedFraction / 2), 12);
      expect(row.amdahl[16]).toBeGreaterThanOrEqual(row.amdahl[2]);
    }
    expect(result.capacityBefore).toBeGreaterThan(0);
    expect(result.network).toMatchObject({ units: 1600, fanIn: 8, outputs: 8 });
    expect(lines[0]).toMatch(/^threads 2 \(\d+ cores\), load average .*cores' worth on 2 threads$/);
  });
});
