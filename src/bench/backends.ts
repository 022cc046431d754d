import { backendInfo, useBackend } from '../backend/load.js';
import { makeBatch } from '../engine/batch.js';
import { createModel } from '../engine/model.js';
import { generateAutoencoder } from '../generate/autoencoder.js';
import { generateBinaryData } from '../generate/data.js';
import { generateRandomDag } from '../generate/random-dag.js';
import type { MethodName } from '../methods/methods.js';
import { methodLoop, type MethodLoop } from './loop.js';

/** Options of {@link compareBackends}. */
export interface CompareBackendsOptions {
  /** Backend names as `useBackend` takes them ('cpu', 'tfjs-cpu', 'tfjs-wasm', 'gpujs', ...). */
  backends: string[];
  methods: MethodName[];
  /** Rounds; each times every (backend, method) once, backends in a rotated order (default 7). */
  rounds?: number;
  /** Wall time of one timing, in milliseconds (default 150): as many iterations as fit, at least 2. */
  sliceMs?: number;
  /** A random layered DAG (4 levels, 16 samples of random bits) instead of the autoencoder. */
  dag?: { units: number; fanIn: number; outputs: number };
  onLine?: (line: string) => void;
}

/** Median µs per iteration of each method on each backend, and every round's figure. */
export interface CompareBackendsResult {
  network: { units: number; edges: number; parameters: number; samples: number };
  /** The backends' details (what ran), by name. */
  details: Record<string, string>;
  /** µs per iteration: median over the rounds, then each round's, by method then backend. */
  medians: Record<string, Record<string, number>>;
  rounds: Record<string, Record<string, number[]>>;
}

/**
 * Times one batch iteration (see `methodLoop`) of each method on each backend, on Section 4's
 * autoencoder (seed 1, 16 samples) or a random DAG, in one process. The machine may be shared and loaded, so
 * rounds alternate: each round times every backend and method once, the backends' order rotated
 * from round to round, and the median over rounds is reported. Every loop is warmed up first.
 */
export async function compareBackends(options: CompareBackendsOptions): Promise<CompareBackendsResult> {
  const { backends, methods, rounds = 7, sliceMs = 150, dag, onLine = () => undefined } = options;
  const names: string[] = [];
  for (const b of backends) names.push((await useBackend(b)).name);
  const model = createModel(dag ? generateRandomDag({ ...dag, levels: 4, seed: 1 }) : generateAutoencoder({ seed: 1, activation: 'sigmoid' }));
  const { net } = model;
  const bits = (seed: number, length: number) => generateBinaryData({ seed, length });
  const batch = makeBatch(net, dag ? { inputs: bits(1, net.nInputs).inputs, targets: bits(2, net.nOutputs).targets } : generateBinaryData({ seed: 1 }));
  const label = dag ? `random DAG (${dag.units} units, fan-in ${dag.fanIn}, ${dag.outputs} outputs, 4 levels)` : 'autoencoder 100-30-10-30-100 (seed 1)';
  const details = Object.fromEntries(names.map((n) => [n, backendInfo(n).detail]));
  for (const n of names) onLine(`${n}: ${details[n]}`);
  const loops = new Map<string, MethodLoop>();
  const key = (backend: string, method: MethodName) => `${backend} ${method}`;
  for (const backend of names) for (const method of methods) loops.set(key(backend, method), methodLoop(backend, net, model.params, batch, method));
  const timeSlice = (loop: MethodLoop, ms: number): number => {
    const start = process.hrtime.bigint();
    let calls = 0;
    let elapsed = 0;
    while (calls < 2 || elapsed < ms * 1000) {
      loop.iterate();
      calls++;
      elapsed = Number(process.hrtime.bigint() - start) / 1000;
    }
    return elapsed / calls;
  };
  for (const loop of loops.values()) timeSlice(loop, 2 * sliceMs);
  const perRound: CompareBackendsResult['rounds'] = Object.fromEntries(methods.map((m) => [m, Object.fromEntries(names.map((n) => [n, [] as number[]]))]));
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const method of methods) for (const backend of order) perRound[method][backend].push(timeSlice(loops.get(key(backend, method)) as MethodLoop, sliceMs));
  }
  for (const loop of loops.values()) loop.dispose();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const medians = Object.fromEntries(methods.map((m) => [m, Object.fromEntries(names.map((n) => [n, median(perRound[m][n])]))]));
  onLine(`${label}: ${net.nEdges} edges, ${batch.size} samples; median µs per iteration over ${rounds} alternating rounds (× the first backend's time)`);
  onLine(`${'method'.padEnd(38)}${names.map((n) => n.padStart(22)).join('')}`);
  for (const m of methods) {
    const first = medians[m][names[0]];
    onLine(`${m.padEnd(38)}${names.map((n) => `${medians[m][n].toFixed(0)} (×${(medians[m][n] / first).toFixed(2)})`.padStart(22)).join('')}`);
  }
  return { network: { units: net.nUnits, edges: net.nEdges, parameters: net.nParams, samples: batch.size }, details, medians, rounds: perRound };
}
