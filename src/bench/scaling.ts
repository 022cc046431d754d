import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { backendInfo } from '../backend/load.js';
import { isMethodName, METHOD_SPECS, type MethodName } from '../methods/methods.js';
import { methodLoop, type MethodLoop } from './loop.js';
import { benchSetup, type ScalingConfig } from './random-setup.js';
import { lineChart } from '../replicate/svg.js';
import { fittedExponent } from './fit.js';

/** The methods whose costs Section 1 states, with the exponents it predicts per sweep (n units, d fan-in, n_out outputs). */
export const SCALING_METHODS: Array<{ method: MethodName; cost: string; expected: Record<Sweep, number> }> = [
  { method: 'backprop', cost: 'O(nd)', expected: { units: 1, fanIn: 1, outputs: 0 } },
  { method: 'quasi-diagonal-backpropagated-metric', cost: 'O(nd)', expected: { units: 1, fanIn: 1, outputs: 0 } },
  { method: 'backpropagated-metric', cost: 'O(nd²)', expected: { units: 1, fanIn: 2, outputs: 0 } },
  { method: 'quasi-diagonal-natural', cost: 'O(nd·n_out)', expected: { units: 1, fanIn: 1, outputs: 1 } },
  { method: 'unitwise-natural', cost: 'O(nd² + nd·n_out)', expected: { units: 1, fanIn: 2, outputs: 1 } },
];

export type Sweep = 'units' | 'fanIn' | 'outputs';
export type { ScalingConfig };


export interface ScalingPoint extends ScalingConfig {
  edges: number;
  /** Median seconds of one batch iteration divided by the batch size. */
  secondsPerSample: number;
}

export interface ScalingResult {
  backend: string;
  /** Which implementation ran (for gpujs, the mode; for tfjs, the package). */
  detail: string;
  batch: number;
  /** Per sweep and method: the points, the exponent fitted over all sizes, the exponent of the last doubling, and Section 1's. */
  sweeps: Record<Sweep, { values: number[]; methods: Record<string, { points: ScalingPoint[]; exponent: number; lastExponent: number; expected: number }> }>;
  /** Peak resident memory (bytes) while training the largest network, per method (empty when not measured). */
  peakMemory: Record<string, number>;
}

/** Default sweeps: each doubles one size four times from a base, up to about 10^6 edges. */
export function defaultSweeps(scale = 1): Record<Sweep, ScalingConfig[]> {
  const s = (n: number) => Math.max(64, Math.round(n * scale));
  return {
    units: [1, 2, 4, 8].map((f) => ({ units: s(20_000) * f, fanIn: 8, outputs: 8 })),
    fanIn: [4, 8, 16, 32].map((d) => ({ units: s(40_000), fanIn: d, outputs: 8 })),
    outputs: [4, 8, 16, 32].map((k) => ({ units: s(20_000), fanIn: 8, outputs: k })),
  };
}

/**
 * Measures, per method, the time per sample of a batch iteration (loss, gradient, direction) on
 * random layered DAGs (4 levels, no skips) as the units, the fan-in and the outputs double,
 * fits the exponents, and records peak memory at the largest network.
 */
export function runScaling(options: { backend?: string; batch?: number; repeats?: number; scale?: number; methods?: MethodName[]; memory?: boolean; onLine?: (line: string) => void } = {}): ScalingResult {
  const backend = options.backend ?? 'cpu';
  const batchSize = options.batch ?? 16;
  const repeats = options.repeats ?? 5;
  const methods = SCALING_METHODS.filter((m) => !options.methods || options.methods.includes(m.method));
  const say = options.onLine ?? (() => undefined);
  const sweeps = defaultSweeps(options.scale);
  const result: ScalingResult = { backend, detail: backendInfo(backend).detail, batch: batchSize, sweeps: {} as ScalingResult['sweeps'], peakMemory: {} };
  let largest: { edges: number; config: ScalingConfig } | undefined;
  for (const [sweep, configs] of Object.entries(sweeps) as Array<[Sweep, ScalingConfig[]]>) {
    const entry: ScalingResult['sweeps'][Sweep] = { values: configs.map((c) => (sweep === 'units' ? c.units : sweep === 'fanIn' ? c.fanIn : c.outputs)), methods: {} };
    for (const m of methods) entry.methods[m.method] = { points: [], exponent: NaN, lastExponent: NaN, expected: m.expected[sweep] };
    for (const config of configs) {
      const { model, batch } = benchSetup(config, batchSize);
      const { net } = model;
      if (!largest || net.nEdges > largest.edges) largest = { edges: net.nEdges, config };
      for (const m of methods) {
        const loop = methodLoop(backend, net, model.params, batch, m.method);
        const times = timeIterations(loop, { repeats });
        loop.dispose();
        const point = { ...config, edges: net.nEdges, secondsPerSample: median(times) / batchSize };
        entry.methods[m.method].points.push(point);
        say(`${sweep.padEnd(7)} units ${String(config.units).padStart(7)}  fan-in ${String(config.fanIn).padStart(2)}  outputs ${String(config.outputs).padStart(2)}  edges ${String(net.nEdges).padStart(8)}  ${m.method.padEnd(36)} ${(point.secondsPerSample * 1e6).toFixed(1).padStart(10)} µs/sample`);
      }
    }
    for (const m of methods) {
      const e = entry.methods[m.method];
      const points = e.points.map((p, i) => [entry.values[i], p.secondsPerSample] as [number, number]);
      e.exponent = fittedExponent(points);
      e.lastExponent = fittedExponent(points.slice(-2));
    }
    result.sweeps[sweep] = entry;
  }
  if (largest && options.memory !== false) {
    // Peak memory: 3 batch-64 training iterations on the largest network, each method in its own process.
    // From dist/ the script sits beside this module; from the TypeScript sources (tests), in dist/.
    const beside = fileURLToPath(new URL('./memory.js', import.meta.url));
    const script = existsSync(beside) ? beside : fileURLToPath(new URL('../../dist/bench/memory.js', import.meta.url));
    const { units, fanIn, outputs } = largest.config;
    for (const m of methods) {
      const out = execFileSync(process.execPath, [script, m.method, String(units), String(fanIn), String(outputs), '64', '3', backend], { encoding: 'utf8' });
      const { edges, maxRssBytes } = JSON.parse(out) as { edges: number; maxRssBytes: number };
      result.peakMemory[m.method] = maxRssBytes;
      say(`peak resident memory, ${edges} edges, batch 64, ${m.method}: ${(maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
    }
  }
  return result;
}

/**
 * Seconds of each of `repeats` timed iterations of a loop, after one warm-up iteration (not
 * returned). `maxSeconds` stops early once the timed iterations add up to that much (at least
 * one is timed); `onIteration` is called after each iteration, the warm-up included.
 */
export function timeIterations(loop: Pick<MethodLoop, 'iterate'>, options: { repeats: number; maxSeconds?: number; onIteration?: (seconds: number, warmup: boolean) => void }): number[] {
  const { repeats, maxSeconds = Infinity, onIteration } = options;
  const times: number[] = [];
  let total = 0;
  for (let r = 0; r < repeats + 1 && (r < 2 || total < maxSeconds); r++) {
    const start = performance.now();
    loop.iterate();
    const seconds = (performance.now() - start) / 1000;
    if (r > 0) times.push(seconds); // the first run warms up
    if (r > 0) total += seconds;
    onIteration?.(seconds, r === 0);
  }
  return times;
}

/** The median of some numbers (the upper one of the middle two for an even count). */
export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/**
 * One log-log chart per sweep: time per sample against the size swept (units, fan-in or
 * outputs, labelled with the real values measured), a line per method with a marker at each
 * measured size; legends use the paper's names.
 */
export function scalingCharts(result: ScalingResult): Record<Sweep, string> {
  const label: Record<Sweep, string> = { units: 'units n (fan-in 8, 8 outputs)', fanIn: 'fan-in d', outputs: 'outputs n_out' };
  const charts = {} as Record<Sweep, string>;
  const mode = /'(\w+)' mode/.exec(result.detail)?.[1];
  const backendLabel = mode ? `${result.backend} ${mode}` : result.backend;
  for (const [sweep, entry] of Object.entries(result.sweeps) as Array<[Sweep, ScalingResult['sweeps'][Sweep]]>) {
    const first = Object.values(entry.methods)[0]?.points[0];
    const fixed = first ? { units: `${first.units} units`, fanIn: `fan-in ${first.fanIn}`, outputs: `${first.outputs} outputs` } : undefined;
    const others = fixed ? ` (${(Object.keys(fixed) as Sweep[]).filter((k) => k !== sweep).map((k) => fixed[k]).join(', ')})` : '';
    charts[sweep] = lineChart({
      title: `Scaling with ${label[sweep].split(' (')[0]} (${backendLabel} backend, log-log; legend: fitted exponent)`,
      xLabel: `${label[sweep].split(' (')[0]}${others}`,
      yLabel: 'µs per sample',
      logX: true,
      logY: true,
      xTicks: entry.values,
      series: Object.entries(entry.methods).map(([method, m]) => ({
        name: `${isMethodName(method) ? METHOD_SPECS[method].title : method}: ${m.exponent.toFixed(2)} (paper ${m.expected})`,
        points: m.points.map((p, j) => [entry.values[j], p.secondsPerSample * 1e6] as [number, number]),
      })),
    });
  }
  return charts;
}

/** Writes the JSON result and one SVG per sweep (`PREFIX-units.svg`, ...). */
export function writeScaling(result: ScalingResult, json: string | undefined, svgPrefix: string | undefined): void {
  if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
  if (svgPrefix) for (const [sweep, svg] of Object.entries(scalingCharts(result))) writeFileSync(`${svgPrefix}-${sweep}.svg`, svg);
}
