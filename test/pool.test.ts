import { describe, expect, it } from 'vitest';
import { randomData, randomNetwork } from './helpers/random-network.js';

// The pool's worker threads import compiled modules, so this test uses dist/ (built by `npm test`).
const { runJobs } = (await import(new URL('../dist/replicate/pool.js', import.meta.url).href)) as typeof import('../src/replicate/pool.js');
const jobsModule = new URL('../dist/replicate/jobs.js', import.meta.url).href;

describe('the worker-thread pool runs any job', () => {
  it('training jobs give the same results on 1 and 3 workers, in input order', async () => {
    const jobs = [1, 2, 3, 4].map((seed) => {
      const document = randomNetwork({ interpretation: 'bernoulli', seed, activations: ['sigmoid', 'tanh'] });
      return { document, data: randomData(document, 8, seed), options: { method: seed % 2 ? 'unitwise-natural' : 'quasi-diagonal-backpropagated-metric', seed }, budget: { iterations: 20 } };
    });
    const one = await runJobs({ module: jobsModule, name: 'trainJob' }, jobs, { workers: 1 });
    const three = await runJobs({ module: jobsModule, name: 'trainJob' }, jobs, { workers: 3 });
    expect(three).toEqual(one);
    expect(one).toHaveLength(4);
    expect(new Set(one.map((r) => JSON.stringify(r))).size).toBe(4);
  });

  it('a failing job is reported with its index and function name', async () => {
    const bad = { document: randomNetwork({ interpretation: 'square', seed: 1 }), data: { inputs: [], targets: [] }, options: { method: 'backprop' }, budget: {} };
    await expect(runJobs({ module: jobsModule, name: 'trainJob' }, [bad, bad], { workers: 2 })).rejects.toThrow(/job \d \(trainJob\) failed: --batch-size 0/);
  });
});

describe('pool failures', () => {
  it('stops starting jobs after the first failure; rejects a bad worker count with a typed error', async () => {
    const good = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => {
      const document = randomNetwork({ interpretation: 'bernoulli', seed, activations: ['sigmoid', 'tanh'] });
      return { document, data: randomData(document, 8, seed), options: { method: 'unitwise-natural', seed }, budget: { iterations: 300 } };
    });
    const bad = { document: randomNetwork({ interpretation: 'square', seed: 1 }), data: { inputs: [], targets: [] }, options: { method: 'backprop' }, budget: {} };
    let done = 0;
    await expect(runJobs({ module: jobsModule, name: 'trainJob' }, [bad, ...good], { workers: 2, onJobDone: () => done++ })).rejects.toThrow(/job 0 \(trainJob\) failed/);
    const atFailure = done;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(done).toBe(atFailure);
    expect(done).toBeLessThan(good.length);
    const { UsageError } = await import('../dist/errors.js');
    await expect(runJobs({ module: jobsModule, name: 'trainJob' }, good, { workers: Number.NaN })).rejects.toThrow(UsageError);
  });
});
