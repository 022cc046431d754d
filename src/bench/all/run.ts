import { loadavg } from 'node:os';
import type { TransferStats } from '../../backend/engine.js';
import { machineInfo, type MachineInfo } from '../../benchmark/report.js';
import type { KroneckerSolve } from '../../curvature/kronecker/group-solve.js';
import type { MethodName } from '../../methods/methods.js';
import type { AutoencoderBench } from '../autoencoder.js';
import type { ScalingConfig } from '../random-setup.js';
import type { TransferNetwork } from '../transfers.js';
import { readBeforeFigures, type BeforeFigures } from './before.js';
import { detectBackends, type ProbedBackend } from './detect.js';
import { GOAL3_ROUNDS, interleaveCloseCalls, type Goal3Interleaved } from './goal3-interleaved.js';
import type { ChildMessage, ChildRequest, LargeMethodFigures } from './protocol.js';
import { exitReason, runChild } from './spawn.js';

/** Options of {@link benchAll}. */
export interface BenchAllOptions {
  /** Methods timed on the autoencoder and counted by the transfers (default: all). */
  methods: MethodName[];
  /** Methods timed on the large network (default: the five scaling methods). */
  largeMethods: MethodName[];
  /** Backend labels to try (default: every one of `ALL_BACKENDS`). */
  backends?: string[];
  /** Whether to time the large network (default true). */
  large?: boolean;
  /** The large network (default n = 160,000, d = 8, n_out = 8: 960,016 edges). Tests pass a tiny one. */
  largeSize?: ScalingConfig;
  /** Autoencoder: timed rounds per method (default `benchAutoencoder`'s). */
  rounds?: number;
  /** Autoencoder: the Kronecker solves to time (default the restricted one, the methods' default). */
  solves?: KroneckerSolve[];
  /** Large network: timed iterations after the warm-up (default 3), and the cap on their total seconds (default 30; at least one is timed). */
  repeats?: number;
  maxSeconds?: number;
  /** Large network: the longest one iteration may take before the method is reported over budget (default 60 s). */
  budgetSeconds?: number;
  /** The longest silence of a child building the large network or timing the autoencoder (default 900 s). */
  setupSeconds?: number;
  /** Where the recorded before figures are (default the package's experiments/scaling/). */
  beforeDir?: string;
  /** The command line, recorded with the result. */
  command?: string;
  onLine?: (line: string) => void;
  /** A partial record of the same command (`--resume`): parts and methods it holds are kept, not measured again. */
  resume?: BenchAllResult;
  /** Rounds of goal 3's close calls timed alternately (see `interleaveCloseCalls`; default `GOAL3_ROUNDS`, 0: not done). */
  goal3Rounds?: number;
  /** Called with the result so far after each backend's part (e.g. to save it, so that an interrupted run keeps what it measured). */
  onPartial?: (result: BenchAllResult) => void;
}

/** One method of one backend on the large network: its figures, or why there are none. */
export type LargeOutcome = ({ status: 'measured' } & LargeMethodFigures) | { status: 'over-budget'; seconds: number; phase: string } | { status: 'failed'; reason: string };

/** Everything `--backend all` measured, as written to `--json`. */
export interface BenchAllResult {
  command: string;
  date: string;
  /** The machine (see `machineInfo`) and its 1-, 5- and 15-minute load averages before and after the run. */
  machine: MachineInfo & { loadBefore: number[]; loadAfter: number[] };
  backends: ProbedBackend[];
  autoencoder: {
    /** µs per iteration by key (`benchAutoencoder`'s), per backend label; or why the part failed. */
    byBackend: Record<string, { result: AutoencoderBench } | { failed: string }>;
    /** Transfers per iteration on the 5- and 13-level networks, per backend label; or why the part failed. */
    transfers: Record<string, { networks: TransferNetwork[] } | { failed: string }>;
  };
  large?: {
    size: ScalingConfig;
    edges: number;
    batch: number;
    methods: string[];
    budgetSeconds: number;
    byBackend: Record<string, Record<string, LargeOutcome>>;
  };
  /** Recorded figures from before this issue, at the large network's size, per backend label. */
  before: Record<string, BeforeFigures>;
  /** Later sessions that resumed this record (`--resume`): when each started and the load then. */
  resumed?: Array<{ date: string; loadBefore: number[] }>;
  /** Goal 3's close calls on the autoencoder, timed alternately on webgpu and gpu.js GL in one process. */
  goal3Interleaved?: Goal3Interleaved;
}

/**
 * `npm run bench -- --backend all`: probes every backend, then for each available one runs, each
 * in a child process of its own, the autoencoder timings, the transfer counts and (unless
 * `large` is false) the large network's timings, and returns everything for `benchAllReport`.
 * A child that crashes fails its part only. On the large network a watchdog kills a child whose
 * iteration takes longer than `budgetSeconds`: that method is reported over budget and a fresh
 * child goes on with the next ones.
 */
export async function benchAll(options: BenchAllOptions): Promise<BenchAllResult> {
  const say = options.onLine ?? (() => undefined);
  const setupSeconds = options.setupSeconds ?? 900;
  const budgetSeconds = options.budgetSeconds ?? 60;
  const loadBefore = loadavg();
  say(`load average before: ${loadBefore.map((l) => l.toFixed(2)).join(', ')}`);
  say('backends:');
  const backends = await detectBackends(options.backends, (line) => say(`  ${line}`));
  const available = backends.filter((b) => b.available);
  const previous = options.resume;
  const result: BenchAllResult = previous
    ? // A resumed record keeps the backends it had that --backends leaves out (with their figures), in its order.
      { ...previous, backends: [...previous.backends.map((p) => backends.find((b) => b.label === p.label) ?? p), ...backends.filter((b) => !previous.backends.some((p) => p.label === b.label))], resumed: [...(previous.resumed ?? []), { date: new Date().toISOString(), loadBefore }] }
    : { command: options.command ?? 'npm run bench -- --backend all', date: new Date().toISOString(), machine: { ...machineInfo(), loadBefore, loadAfter: [] }, backends, autoencoder: { byBackend: {}, transfers: {} }, before: {} };
  const methods = options.methods.map(String);
  const kept = (entry: object | undefined) => entry !== undefined && !('failed' in entry);
  for (const b of available) {
    if (kept(result.autoencoder.byBackend[b.label]) && kept(result.autoencoder.transfers[b.label])) {
      say(`[${b.label}] autoencoder and transfers: kept from the resumed record`);
      continue;
    }
    const started = Date.now();
    say(`[${b.label}] autoencoder, ${methods.length} methods...`);
    let bench: AutoencoderBench | undefined;
    const exit = await runChild(b, { part: 'autoencoder', backend: b.backend, methods, rounds: options.rounds, solves: options.solves ?? ['restricted'] }, setupSeconds, (m) => {
      if (m.kind === 'autoencoder') bench = m.result;
      if (m.kind === 'progress') say(`[${b.label}]   ${m.message}`);
      return setupSeconds;
    });
    result.autoencoder.byBackend[b.label] = bench ? { result: bench } : { failed: exit.killed ? `silent for over ${setupSeconds} s` : exitReason(exit) };
    say(`[${b.label}] autoencoder ${bench ? 'done' : `failed: ${(result.autoencoder.byBackend[b.label] as { failed: string }).failed}`} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    let networks: TransferNetwork[] | undefined;
    const transfersExit = await runChild(b, { part: 'transfers', backend: b.backend, methods }, setupSeconds, (m) => {
      if (m.kind === 'transfers') networks = m.networks;
      return setupSeconds;
    });
    result.autoencoder.transfers[b.label] = networks ? { networks } : { failed: transfersExit.killed ? `silent for over ${setupSeconds} s` : exitReason(transfersExit) };
    options.onPartial?.(result);
    say(`[${b.label}] transfers ${networks ? 'counted' : `failed: ${(result.autoencoder.transfers[b.label] as { failed: string }).failed}`}`);
  }
  if (options.large !== false) {
    const size = options.largeSize ?? { units: 160_000, fanIn: 8, outputs: 8 };
    const large: NonNullable<BenchAllResult['large']> = result.large ?? { size, edges: 0, batch: 16, methods: options.largeMethods.map(String), budgetSeconds, byBackend: {} };
    result.large = large;
    for (const b of available) {
      large.byBackend[b.label] ??= {};
      await largeOnBackend(b, large, options, say, () => {
        result.before = readBeforeFigures(large.edges, options.beforeDir);
        options.onPartial?.(result);
      });
    }
  }
  const interleaved = await interleaveCloseCalls(result, available, options.goal3Rounds ?? GOAL3_ROUNDS, setupSeconds, say);
  if (interleaved) {
    result.goal3Interleaved = interleaved;
    options.onPartial?.(result);
  }
  result.machine.loadAfter = loadavg();
  say(`load average after: ${result.machine.loadAfter.map((l) => l.toFixed(2)).join(', ')}`);
  return result;
}

/**
 * The large network's methods on one backend: children in turn until every method has an
 * outcome in `large.byBackend[label]` (those already there are kept); `saved` after each.
 */
async function largeOnBackend(b: ProbedBackend, large: NonNullable<BenchAllResult['large']>, options: BenchAllOptions, say: (line: string) => void, saved: () => void): Promise<void> {
  const setupSeconds = options.setupSeconds ?? 900;
  const outcomes = large.byBackend[b.label];
  while (large.methods.some((m) => !outcomes[m])) {
    const remaining = large.methods.filter((m) => !outcomes[m]);
    let current: string | undefined;
    let phase = 'building the network';
    let since = Date.now();
    const request: ChildRequest = { part: 'large', backend: b.backend, methods: remaining, size: large.size, repeats: options.repeats, maxSeconds: options.maxSeconds ?? 30 };
    say(`[${b.label}] ${large.size.units} units, fan-in ${large.size.fanIn}, ${large.size.outputs} outputs: building the network for ${remaining.join(', ')}...`);
    const exit = await runChild(b, request, setupSeconds, (m: ChildMessage) => {
      since = Date.now();
      if (m.kind === 'ready') {
        large.edges = m.edges;
        large.batch = m.batch;
        return setupSeconds;
      }
      if (m.kind === 'start') {
        current = m.method;
        phase = 'opening the engine';
        return setupSeconds;
      }
      if (m.kind === 'opened') {
        phase = 'the warm-up iteration';
        return options.budgetSeconds ?? 60;
      }
      if (m.kind === 'iteration') {
        phase = 'a timed iteration';
        say(`[${b.label}]   ${m.method}: ${m.warmup ? 'warm-up' : 'timed'} iteration ${m.seconds.toFixed(2)} s`);
        return options.budgetSeconds ?? 60;
      }
      if (m.kind === 'method') {
        outcomes[m.method] = { status: 'measured', ...m.figures };
        saved();
        say(`[${b.label}]   ${m.method}: ${m.figures.microsPerSample.toFixed(0)} µs per sample ${transfersText(m.figures.transfers)}`);
        current = undefined;
        phase = 'opening the next engine';
      }
      return setupSeconds;
    });
    const next = current ?? remaining.find((m) => !outcomes[m]);
    if (next === undefined) break;
    if (exit.killed) {
      const seconds = (Date.now() - since) / 1000;
      outcomes[next] = current && phase !== 'opening the engine' ? { status: 'over-budget', seconds, phase } : { status: 'failed', reason: `silent for ${seconds.toFixed(0)} s while ${phase}` };
      say(`[${b.label}]   ${next}: over budget (${phase} ran past ${seconds.toFixed(0)} s); going on with a fresh process`);
    } else {
      const reason = exit.code === 0 ? 'the child ended without figures' : exitReason(exit);
      // A crash while building the network fails every remaining method; otherwise the method that was running.
      for (const m of current ? [current] : remaining) outcomes[m] = { status: 'failed', reason };
      say(`[${b.label}]   ${current ?? remaining.join(', ')}: failed: ${reason}`);
    }
    saved();
  }
}

/** `uploads/bytes in, reads/bytes out` per iteration. */
export function transfersText(t: TransferStats): string {
  return `(${t.uploads.toFixed(0)} uploads ${t.uploadBytes.toFixed(0)} B in, ${t.reads.toFixed(0)} reads ${t.readBytes.toFixed(0)} B out)`;
}
