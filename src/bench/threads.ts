import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { cpuBackend } from '../backend/cpu/cpu-backend.js';
import { SHARED_CALLS, ThreadedEngine, threadedCpuBackend } from '../backend/cpu/threaded-engine.js';
import type { Backend, Engine } from '../backend/engine.js';
import { registerBackend } from '../backend/registry.js';
import type { MethodName } from '../methods/methods.js';
import { methodLoop } from './loop.js';
import { benchSetup, type ScalingConfig } from './random-setup.js';
import { SCALING_METHODS } from './scaling.js';

/** One method at one batch size: times of an iteration on one thread and on N, and what Amdahl's law predicts. */
export interface ThreadSpeedupRow {
  method: MethodName;
  batch: number;
  /** Milliseconds per iteration on one thread and on `threads`: median and minimum over the repeats. */
  one: { median: number; min: number };
  many: { median: number; min: number };
  /** One thread's median over N threads' median. */
  speedup: number;
  /** Share of a one-thread iteration spent in the calls the threaded engine splits (median over the repeats). */
  sharedFraction: number;
  /** Amdahl's speed-up 1 / ((1 - p) + p / N) for N = 2, 4, 8, 16, from {@link sharedFraction}. */
  amdahl: Record<number, number>;
}

export interface ThreadSpeedup {
  threads: number;
  cores: number;
  network: ScalingConfig & { edges: number };
  /**
   * Cores' worth of CPU this process got for a compute-bound loop: N threads each spinning as
   * long as one thread alone, N × (time alone) / (time of all N). N on free cores, about 1 where
   * the machine is oversubscribed (then no kernel can speed up either). Before and after.
   */
  capacityBefore: number;
  capacityAfter: number;
  /** `os.loadavg()` (1, 5, 15 minutes) before and after the measurements. */
  loadBefore: number[];
  loadAfter: number[];
  rows: ThreadSpeedupRow[];
}

/** An engine whose calls in {@link SHARED_CALLS} add their wall time to `clock.shared`. */
function profiled(engine: Engine, clock: { shared: number }, fisher: boolean): Engine {
  const timed = new Set<string>(SHARED_CALLS.filter((c) => fisher || c !== 'fisherModulus'));
  return new Proxy(engine, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (typeof prop !== 'string' || !timed.has(prop)) return fn.bind(target);
      return (...args: unknown[]) => {
        const start = performance.now();
        try {
          return fn.apply(target, args);
        } finally {
          clock.shared += performance.now() - start;
        }
      };
    },
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** A compute-bound loop of `n` steps (no memory traffic); the capacity probe's workers run its source too. */
function spin(n: number): number {
  let x = 0.5;
  for (let i = 0; i < n; i++) x = x * 1.0000001 + 1e-9;
  return x;
}

/** See {@link ThreadSpeedup.capacityBefore}: the spin loop alone, then on `threads` threads at once (this one included). */
async function parallelCapacity(threads: number, steps = 2e8): Promise<number> {
  const code = `const { parentPort } = require('node:worker_threads'); ${spin.toString()}; parentPort.on('message', (n) => parentPort.postMessage(spin(n)));`;
  const workers = Array.from({ length: threads - 1 }, () => new Worker(code, { eval: true }));
  const run = (w: Worker, n: number) =>
    new Promise<void>((resolve) => {
      w.once('message', () => resolve());
      w.postMessage(n);
    });
  try {
    await Promise.all(workers.map((w) => run(w, 1e6)));
    spin(1e6);
    let start = performance.now();
    spin(steps);
    const alone = performance.now() - start;
    start = performance.now();
    const others = Promise.all(workers.map((w) => run(w, steps)));
    spin(steps);
    await others;
    return (threads * alone) / (performance.now() - start);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * Times each of Section 1's scaling methods (one batch iteration, as `--scaling` does) on the
 * largest network of the scaling sweep (default 160,000 units, fan-in 8, 8 outputs: about 10⁶
 * edges) on one thread and on `threads`, alternating the two so that machine noise falls on both,
 * and measures on one thread the share p of the time spent in the calls the threaded engine
 * splits, for Amdahl's prediction. Results are bit-identical either way (see `ThreadedEngine`).
 */
export async function runThreadSpeedup(options: { threads?: number; sizes?: number[]; repeats?: number; scale?: number; methods?: MethodName[]; capacitySteps?: number; onLine?: (line: string) => void } = {}): Promise<ThreadSpeedup> {
  const threads = options.threads ?? Math.max(2, availableParallelism());
  const sizes = options.sizes ?? [16, 64];
  const repeats = options.repeats ?? 7;
  const say = options.onLine ?? (() => undefined);
  const config: ScalingConfig = { units: Math.round(160_000 * (options.scale ?? 1)), fanIn: 8, outputs: 8 };
  const clock = { shared: 0 };
  let fisher = false;
  const profiling: Backend = { ...cpuBackend, open: (net, size) => profiled(cpuBackend.open(net, size), clock, fisher) };
  registerBackend(cpuBackend, 'cpu-1-thread');
  registerBackend(threadedCpuBackend({ threads }), `cpu-${threads}-threads`);
  registerBackend(profiling, 'cpu-profiled');
  const loadBefore = loadavg();
  const capacityBefore = await parallelCapacity(threads, options.capacitySteps);
  const rows: ThreadSpeedupRow[] = [];
  let edges = 0;
  say(`threads ${threads} (${availableParallelism()} cores), load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; a compute-bound loop got ${capacityBefore.toFixed(2)} cores' worth on ${threads} threads`);
  say('method                                 batch   1 thread ms (min)    N threads ms (min)   speed-up  shared p  Amdahl N=2/4/8/16');
  for (const size of sizes) {
    const { model, batch } = benchSetup(config, size);
    edges = model.net.nEdges;
    for (const { method } of SCALING_METHODS.filter((m) => !options.methods || options.methods.includes(m.method))) {
      const one = methodLoop('cpu-1-thread', model.net, model.params, batch, method);
      const many = methodLoop(`cpu-${threads}-threads`, model.net, model.params, batch, method);
      fisher = many.engine instanceof ThreadedEngine && many.engine.sharesFisher;
      const profile = methodLoop('cpu-profiled', model.net, model.params, batch, method);
      const times = { one: [] as number[], many: [] as number[], p: [] as number[] };
      for (let r = 0; r <= repeats; r++) {
        for (const [key, loop] of [['one', one], ['many', many]] as const) {
          const start = performance.now();
          loop.iterate();
          if (r > 0) times[key].push(performance.now() - start); // the first run warms up
        }
        clock.shared = 0;
        const start = performance.now();
        profile.iterate();
        if (r > 0) times.p.push(clock.shared / (performance.now() - start));
      }
      for (const loop of [one, many, profile]) loop.dispose();
      const p = median(times.p);
      const row: ThreadSpeedupRow = {
        method,
        batch: size,
        one: { median: median(times.one), min: Math.min(...times.one) },
        many: { median: median(times.many), min: Math.min(...times.many) },
        speedup: median(times.one) / median(times.many),
        sharedFraction: p,
        amdahl: Object.fromEntries([2, 4, 8, 16].map((n) => [n, 1 / (1 - p + p / n)])),
      };
      rows.push(row);
      const ms = (t: { median: number; min: number }) => `${t.median.toFixed(1).padStart(10)} (${t.min.toFixed(1).padStart(7)})`;
      say(`${method.padEnd(38)} ${String(size).padStart(5)}  ${ms(row.one)}   ${ms(row.many)}   ${row.speedup.toFixed(2).padStart(7)}  ${p.toFixed(3).padStart(8)}  ${[2, 4, 8, 16].map((n) => row.amdahl[n].toFixed(2)).join('/')}`);
    }
  }
  const loadAfter = loadavg();
  const capacityAfter = await parallelCapacity(threads, options.capacitySteps);
  say(`load average after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')}; a compute-bound loop got ${capacityAfter.toFixed(2)} cores' worth on ${threads} threads`);
  return { threads, cores: availableParallelism(), network: { ...config, edges }, capacityBefore, capacityAfter, loadBefore, loadAfter, rows };
}
