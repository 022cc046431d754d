import { openEngine } from '../backend/registry.js';
import { makeBatch } from '../engine/batch.js';
import { createModel } from '../engine/model.js';
import { generateAutoencoder } from '../generate/autoencoder.js';
import { generateBinaryData } from '../generate/data.js';
import { createMethod, type MethodName } from '../methods/methods.js';
import { evaluateMethodOnce } from '../methods/runner.js';
import { Prng } from '../random/prng.js';
import { methodLoop } from './loop.js';
import { referenceBackprop } from './reference-backprop.js';

/** Issue 13's goals for the CPU reference: each method's time over its yardstick's at most this. */
export const FLOOR_GOALS: Array<{ method: MethodName; over: 'reference' | 'backprop'; goal: number }> = [
  { method: 'backprop', over: 'reference', goal: 1.2 },
  { method: 'quasi-diagonal-backpropagated-metric', over: 'backprop', goal: 1.3 },
  { method: 'unitwise-natural', over: 'backprop', goal: 6 },
];

/** What {@link runFloor} measured. */
export interface FloorResult {
  network: { units: number; edges: number; parameters: number; samples: number };
  /** Largest |G_engine - G_reference| over the parameters at the starting point. */
  gradientDifference: number;
  /** µs per iteration, median over the rounds: `reference` and each method. */
  medians: Record<string, number>;
  /** Per goal: the median over rounds of that round's ratio, and whether it is within the goal. */
  ratios: Array<{ method: MethodName; over: 'reference' | 'backprop'; goal: number; ratio: number; met: boolean; rounds: number[] }>;
}

/**
 * `npm run bench -- --floor`: the CPU backend's batch iteration on Section 4's autoencoder (seed
 * 1, sigmoid, 16 samples) against the hand-written, fully unrolled backprop of the same network
 * ({@link referenceBackprop}), and the quasi-diagonal backpropagated metric and unitwise natural
 * gradient against the engine's backprop, in one process. The machine may be loaded, so each
 * round times every loop once for `sliceMs` in a rotated order and the ratios are taken within a
 * round (CPU time of the process); the medians over rounds are reported against {@link FLOOR_GOALS}.
 */
export function runFloor(options: { rounds?: number; sliceMs?: number; warmup?: number; onLine?: (line: string) => void } = {}): FloorResult {
  const { rounds = 15, sliceMs = 100, warmup = 500, onLine = () => undefined } = options;
  const model = createModel(generateAutoencoder({ seed: 1, activation: 'sigmoid' }));
  const { net } = model;
  const batch = makeBatch(net, generateBinaryData({ seed: 1 }));
  const reference = referenceBackprop(net, batch.size);
  const gradient = new Float64Array(net.nParams);
  reference(model.params, batch, gradient);
  const engine = openEngine('cpu', net, batch.size);
  const engineGradient = evaluateMethodOnce(engine, createMethod('backprop'), model.params, batch, { epsilon: 0, rng: new Prng(1), mcSamples: 1 }).gradient;
  engine.dispose();
  let gradientDifference = 0;
  for (let p = 0; p < net.nParams; p++) gradientDifference = Math.max(gradientDifference, Math.abs(engineGradient[p] - gradient[p]));

  const refParams = Float64Array.from(model.params);
  const loops: Record<string, () => void> = {
    // The same iteration as methodLoop's: gradient, then w ← w + 10⁻⁶ G.
    reference: () => {
      reference(refParams, batch, gradient);
      for (let p = 0; p < refParams.length; p++) refParams[p] += 1e-6 * gradient[p];
    },
  };
  const methods = [...new Set(FLOOR_GOALS.map((g) => g.method))];
  const engines = methods.map((m) => methodLoop('cpu', net, model.params, batch, m));
  methods.forEach((m, i) => (loops[m] = () => engines[i].iterate()));
  const names = Object.keys(loops);
  // NOTE: CPU time of this process (process.cpuUsage), not wall time: on a shared, loaded
  // machine the process is descheduled for whole slices, which wall time would count.
  const slice = (fn: () => void, ms: number): number => {
    const start = process.cpuUsage();
    let calls = 0;
    let elapsed = 0;
    while (calls < 3 || elapsed < ms * 1000) {
      fn();
      calls++;
      const used = process.cpuUsage(start);
      elapsed = used.user + used.system;
    }
    return elapsed / calls;
  };
  // Warm-up by calls (default 500), not time: the reference's straight-line functions are optimised by the JIT
  // only after some hundreds of calls, and run interpreted (~100× slower) until then.
  for (const name of names) {
    for (let i = 0; i < warmup; i++) loops[name]();
    slice(loops[name], sliceMs);
  }
  const perRound: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length];
      perRound[name].push(slice(loops[name], sliceMs));
    }
  }
  for (const e of engines) e.dispose();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const medians = Object.fromEntries(names.map((n) => [n, median(perRound[n])]));
  const ratios = FLOOR_GOALS.map(({ method, over, goal }) => {
    const each = perRound[method].map((t, r) => t / perRound[over][r]);
    const ratio = median(each);
    return { method, over, goal, ratio, met: ratio <= goal, rounds: each };
  });
  onLine(`autoencoder 100-30-10-30-100 (seed 1, sigmoid): ${net.nUnits} units, ${net.nEdges} edges, ${net.nParams} parameters, ${batch.size} samples, cpu backend`);
  onLine(`hand-written reference: largest |G_engine - G_reference| = ${gradientDifference.toExponential(2)}`);
  for (const n of names) onLine(`${n.padEnd(40)}${medians[n].toFixed(1).padStart(10)} µs per iteration (median of ${rounds} rounds)`);
  for (const r of ratios) onLine(`${`${r.method} / ${r.over}`.padEnd(58)} ×${r.ratio.toFixed(2)} (goal ≤ ${r.goal}): ${r.met ? 'met' : 'NOT met'}`);
  return { network: { units: net.nUnits, edges: net.nEdges, parameters: net.nParams, samples: batch.size }, gradientDifference, medians, ratios };
}
