import { loadavg } from 'node:os';
import type { CompareBackendsResult } from '../backends.js';
import type { ProbedBackend } from './detect.js';
import type { ChildRequest } from './protocol.js';
import type { BenchAllResult } from './run.js';
import { exitReason, runChild } from './spawn.js';

/**
 * Goal 3's close calls: autoencoder methods on which the record's webgpu time is not at least
 * this factor below gpu.js GL's (each backend's column comes from a process of its own, at a
 * different moment of the machine's load, so a smaller gap cannot decide the goal).
 */
export const CLOSE_CALL_MARGIN = 1.25;

/**
 * Rounds of the alternate timing. NOTE: the close calls are the host-dominated methods (natural's
 * P × P Fisher solve, the Kronecker methods' CG solves: the same Float64 code on both backends),
 * where the engines differ by a few percent of an iteration while one timing varies by ±10-20%
 * on a shared 2-core machine; 15 paired rounds take about 2 minutes on the autoencoder.
 */
export const GOAL3_ROUNDS = 15;

/** The close calls re-timed alternately in one process (`compareBackends`), as `--json` records them. */
export interface Goal3Interleaved {
  date: string;
  loadBefore: number[];
  rounds: number;
  /** Median µs per iteration over the rounds, by method key then backend label ('webgpu', 'gpujs-headlessgl'). */
  medians: Record<string, Record<string, number>>;
  /** Every round's µs per iteration, by method key then backend label. */
  perRound: Record<string, Record<string, number[]>>;
  /** Set instead of the figures when the child failed. */
  failed?: string;
}

/** The autoencoder method keys of `result` that are goal 3's close calls (see {@link CLOSE_CALL_MARGIN}); [] when either column is missing. */
export function closeCalls(result: BenchAllResult): string[] {
  const a = result.autoencoder.byBackend.webgpu;
  const b = result.autoencoder.byBackend['gpujs-headlessgl'];
  if (!a || !b || 'failed' in a || 'failed' in b) return [];
  return a.result.order.filter((key) => {
    const w = a.result.methods[key]?.medianMicros;
    const g = b.result.methods[key]?.medianMicros;
    return w !== undefined && g !== undefined && w * CLOSE_CALL_MARGIN > g;
  });
}

/**
 * Times goal 3's close calls on webgpu and gpu.js GL alternately in one child process (under
 * gpu.js GL's launch: `xvfb-run -a` where it needs it), `rounds` rounds of `compareBackends`
 * (each round times both backends, in a rotated order), so that both see the same load.
 * Kronecker keys (`kflr:restricted`) time the method with its default, restricted, solve.
 * Returns undefined when there is nothing to re-time.
 */
export async function interleaveCloseCalls(result: BenchAllResult, backends: ProbedBackend[], rounds: number, setupSeconds: number, say: (line: string) => void): Promise<Goal3Interleaved | undefined> {
  const gl = backends.find((b) => b.label === 'gpujs-headlessgl' && b.available);
  const webgpu = backends.find((b) => b.label === 'webgpu' && b.available);
  const keys = closeCalls(result);
  if (!gl || !webgpu || keys.length === 0 || rounds <= 0) return undefined;
  const methods = keys.map((key) => key.split(':')[0]);
  const loadBefore = loadavg();
  say(`[goal 3] ${keys.join(', ')}: within ${CLOSE_CALL_MARGIN}× in the record; timing webgpu and gpujs-headlessgl alternately in one process, ${rounds} rounds...`);
  let compared: CompareBackendsResult | undefined;
  const request: ChildRequest = { part: 'goal3', backend: 'gpujs', methods, rounds, compare: ['webgpu', 'gpujs'] };
  const exit = await runChild(gl, request, setupSeconds, (m) => {
    if (m.kind === 'goal3') compared = m.result;
    if (m.kind === 'progress') say(`[goal 3]   ${m.message}`);
    return setupSeconds;
  });
  const entry: Goal3Interleaved = { date: new Date().toISOString(), loadBefore, rounds, medians: {}, perRound: {} };
  if (!compared) return { ...entry, failed: exit.killed ? `silent for over ${setupSeconds} s` : exitReason(exit) };
  const label = (name: string) => (name === 'webgpu' ? 'webgpu' : 'gpujs-headlessgl');
  keys.forEach((key, i) => {
    const method = methods[i];
    entry.medians[key] = Object.fromEntries(Object.entries(compared?.medians[method] ?? {}).map(([n, v]) => [label(n), v]));
    entry.perRound[key] = Object.fromEntries(Object.entries(compared?.rounds[method] ?? {}).map(([n, v]) => [label(n), v]));
  });
  return entry;
}
