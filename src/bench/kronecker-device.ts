import { cpus, loadavg } from 'node:os';
import type { Engine, TransferStats } from '../backend/engine.js';
import { backendInfo, useBackend } from '../backend/load.js';
import { openEngine } from '../backend/registry.js';
import { makeBatch } from '../engine/batch.js';
import { createModel } from '../engine/model.js';
import { UsageError, problem } from '../errors.js';
import { generateMlp } from '../generate/mlp.js';
import { METHOD_SPECS, type MethodName } from '../methods/methods.js';
import type { WebgpuKronecker } from '../backend/webgpu/webgpu-kronecker.js';
import { Prng } from '../random/prng.js';
import { methodLoop, transfersPerIteration, type MethodLoop } from './loop.js';

/**
 * The routes {@link runKroneckerDevice} times on one webgpu device: the host route (the same
 * engine with its Kronecker kernels hidden: factors and gradient read back, Float64 solves on the
 * host, direction uploaded), and the device route with each design of its grid solves
 * (`WebgpuKronecker.design`: triangular solves, explicit inverses); `device` is the design the
 * engine picks by itself (`WebgpuKronecker.designFor`).
 */
export const KRONECKER_DEVICE_ROUTES = ['host', 'triangular', 'inverses'] as const;
export type KroneckerDeviceRoute = (typeof KRONECKER_DEVICE_ROUTES)[number];

/** Options of {@link runKroneckerDevice}. */
export interface KroneckerDeviceOptions {
  /** Layer widths of the dense softmax MLP (seed 1), default 784,300,100,10. */
  layers?: number[];
  /** Samples per batch, default 32. */
  batch?: number;
  /** Inverse period of the Kronecker curvatures, default 1. */
  inverseEvery?: number;
  /** Interleaved rounds (each times every route once), default 3. */
  rounds?: number;
  /** Iterations per route and round, default 3. */
  iterations?: number;
  methods?: MethodName[];
  routes?: KroneckerDeviceRoute[];
  onLine?: (line: string) => void;
}

/** One route of one method: median (the upper one of an even count) wall and process CPU µs per iteration over the rounds, each round's wall µs, transfers per iteration. */
export interface KroneckerRouteTiming {
  wallMicros: number;
  cpuMicros: number;
  rounds: number[];
  transfers: TransferStats;
}

/** What {@link runKroneckerDevice} measured. */
export interface KroneckerDeviceResult {
  machine: { adapter: string; cpus: number; cpuModel: string };
  /** `os.loadavg()` (1, 5, 15 minutes) before and after. */
  load: { before: number[]; after: number[] };
  network: { layers: number[]; parameters: number; batch: number; inverseEvery: number; rounds: number; iterations: number };
  /** Per method: the design the engine picks (`device`), and each route's timing. */
  methods: Record<string, { device: KroneckerDeviceRoute; routes: Partial<Record<KroneckerDeviceRoute, KroneckerRouteTiming>> }>;
}

/** An engine's Kronecker kernels, webgpu's (the ones with two designs). */
function kernelsOf(engine: Engine): WebgpuKronecker {
  const kernels = engine.kronecker as Partial<WebgpuKronecker> | undefined;
  if (typeof kernels?.designFor !== 'function') throw new UsageError([problem('backend', `--kronecker-device times webgpu's Kronecker kernels; --backend ${engine.backend} has none`)]);
  return kernels as WebgpuKronecker;
}

/** Sets up `route` on a fresh loop's engine (before its first iteration makes the grid plan). */
function configure(loop: MethodLoop, route: KroneckerDeviceRoute): void {
  if (route === 'host') Object.defineProperty(loop.engine, 'kronecker', { value: undefined });
  else kernelsOf(loop.engine).design = route;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * `npm run bench -- --kronecker-device`: one training iteration of kflr and kfac (factored
 * damping, ε = 10⁻⁴) on a dense softmax MLP on webgpu, by each route of
 * {@link KRONECKER_DEVICE_ROUTES}, in one process: each route's loop is warmed up (2 iterations),
 * then every round times `iterations` iterations of each route in turn (the queue drained by a
 * read at the end), so load changes hit all routes alike. Prints µs per iteration (wall, process
 * CPU) and transfers per iteration.
 */
export async function runKroneckerDevice(options: KroneckerDeviceOptions = {}): Promise<KroneckerDeviceResult> {
  const { layers = [784, 300, 100, 10], batch: size = 32, inverseEvery = 1, rounds = 3, iterations = 3, methods = ['kflr', 'kfac'], routes = [...KRONECKER_DEVICE_ROUTES], onLine = () => undefined } = options;
  for (const [name, value] of [['--batch', size], ['--inverse-every', inverseEvery], ['--rounds', rounds], ['--iterations', iterations]] as const) {
    if (!(Number.isInteger(value) && value >= 1)) throw new UsageError([problem(name, `${name} ${value}: give a whole number ≥ 1`)]);
  }
  for (const m of methods) if (METHOD_SPECS[m].reduction !== 'kronecker') throw new UsageError([problem('--methods', `--methods ${m}: --kronecker-device times the Kronecker methods (kflr, kfac, kfra)`)]);
  if (layers.length < 2 || !layers.every((w) => Number.isInteger(w) && w >= 1)) throw new UsageError([problem('--layers', `--layers ${layers.join(',')}: give at least two widths ≥ 1, e.g. 784,300,100,10`)]);
  await useBackend('webgpu');
  const model = createModel(generateMlp({ layers, interpretation: 'softmax', seed: 1 }));
  const { net } = model;
  const rng = new Prng(3);
  const inputs = Array.from({ length: size }, () => Array.from({ length: net.nInputs }, () => rng.uniform()));
  const targets = Array.from({ length: size }, (_, s) => Array.from({ length: net.nOutputs }, (_, o) => (o === s % net.nOutputs ? 1 : 0)));
  const batch = makeBatch(net, { inputs, targets });
  const machine = { adapter: backendInfo('webgpu').detail, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' };
  const load = { before: loadavg(), after: [] as number[] };
  onLine(`webgpu: ${machine.adapter}; ${machine.cpus} × ${machine.cpuModel}; load ${load.before.map((l) => l.toFixed(2)).join(' ')}`);
  onLine(`MLP ${layers.join('-')} (${net.nParams} parameters), batch ${size}, inverse every ${inverseEvery}, ${rounds} rounds × ${iterations} iterations per route`);
  // The design the engine picks by itself for the widest factor (n = inputs + 1, m = units) and the inverse period.
  const fresh = openEngine('webgpu', net, 1);
  const device: KroneckerDeviceRoute = kernelsOf(fresh).designFor(Math.max(...layers.slice(0, -1).map((w) => w + 1), ...layers.slice(1)), inverseEvery);
  fresh.dispose();
  const result: KroneckerDeviceResult = { machine, load, network: { layers, parameters: net.nParams, batch: size, inverseEvery, rounds, iterations }, methods: {} };
  for (const method of methods) {
    const loops = routes.map((route) => {
      const loop = methodLoop('webgpu', net, model.params, batch, method, { inverseEvery });
      configure(loop, route);
      return { route, loop, wall: [] as number[], cpu: [] as number[], transfers: undefined as TransferStats | undefined };
    });
    try {
      for (const l of loops) for (let i = 0; i < 2; i++) l.loop.iterate();
      for (let r = 0; r < rounds; r++) {
        for (const l of loops) {
          const { engine } = l.loop;
          const drain = engine.alloc(1);
          const before = engine.transfers.snapshot();
          const cpu0 = process.cpuUsage();
          const t0 = process.hrtime.bigint();
          for (let i = 0; i < iterations; i++) l.loop.iterate();
          l.transfers = transfersPerIteration(before, engine.transfers.snapshot(), iterations);
          engine.read(drain);
          l.wall.push(Number(process.hrtime.bigint() - t0) / 1000 / iterations);
          const cpu = process.cpuUsage(cpu0);
          l.cpu.push((cpu.user + cpu.system) / iterations);
          engine.free(drain);
        }
      }
    } finally {
      for (const l of loops) l.loop.dispose();
    }
    const timings: Partial<Record<KroneckerDeviceRoute, KroneckerRouteTiming>> = {};
    for (const l of loops) {
      const t = (timings[l.route] = { wallMicros: median(l.wall), cpuMicros: median(l.cpu), rounds: l.wall, transfers: l.transfers as TransferStats });
      const tr = t.transfers;
      onLine(`${method.padEnd(5)} ${(l.route === device ? `${l.route} (device)` : l.route).padEnd(20)} ${Math.round(t.wallMicros).toLocaleString('en-US').padStart(11)} µs/iter (cpu ${Math.round(t.cpuMicros).toLocaleString('en-US')}; rounds ${l.wall.map((w) => Math.round(w).toLocaleString('en-US')).join(' / ')})  uploads ${tr.uploads} (${tr.uploadBytes} B), reads ${tr.reads} (${tr.readBytes} B)`);
    }
    result.methods[method] = { device, routes: timings };
  }
  load.after = loadavg();
  onLine(`load after: ${load.after.map((l) => l.toFixed(2)).join(' ')}`);
  return result;
}
