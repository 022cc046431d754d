import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { Workspace } from '../../engine/workspace.js';
import { blockTimesVector, invertBlock } from '../../linalg/sherman-morrison.js';
import type { OutputMetric } from '../../metrics/output-metric.js';
import { buildTransferPlan, type TransferPlan } from '../../metrics/transfer-plan.js';
import { metricLayout, type Kernels, type MetricLayout } from '../kernels.js';

/**
 * One thread's share of a kernel call of the threaded CPU engine (see `ThreadedEngine`). Every
 * array is a view of a SharedArrayBuffer (posted, not copied), except a Fisher command's
 * output metric, which is small and copied. Unit ranges `start .. end-1` split reductions over
 * units, so each entry is summed by one thread over every sample in sample order; `s0 .. s1-1`
 * split per-sample work over the batch.
 */
export type ThreadCommand =
  | { op: 'idle' }
  | { op: 'combine'; out: Float64Array; alpha: number; x: Float64Array; beta: number; y: Float64Array; start: number; end: number }
  | { op: 'forward'; params: Float64Array; ws: Workspace; start: number; end: number }
  | { op: 'backward'; params: Float64Array; ws: Workspace; start: number; end: number; modulus?: Float64Array }
  | { op: 'gradient'; ws: Workspace; out: Float64Array; modulus?: Float64Array; diagonal?: Float64Array; cross?: Float64Array; start: number; end: number }
  | { op: 'unit-blocks'; ws: Workspace; modulus: Float64Array; blocks: Float64Array; start: number; end: number }
  | { op: 'solve-unit-blocks'; blocks: Float64Array; gradient: Float64Array; epsilon: number; out: Float64Array; start: number; end: number }
  | { op: 'quasi-diagonal-solve'; diagonal: Float64Array; cross: Float64Array; gradient: Float64Array; epsilon: number; out: Float64Array; start: number; end: number }
  | { op: 'diagonal-solve'; diagonal: Float64Array; gradient: Float64Array; epsilon: number; root: boolean; out: Float64Array; start: number; end: number }
  | { op: 'invert-blocks'; blocks: Float64Array; inverses: Float64Array; units: number[] }
  | { op: 'blocks-times-vector'; inverses: Float64Array; gradient: Float64Array; out: Float64Array; units: number[] }
  | { op: 'online-block-step'; blocks: Float64Array; inverses: Float64Array; act: Float64Array; modulus: Float64Array; size: number; sample: number; gradient: Float64Array; decay: number; out: Float64Array; start: number; end: number }
  | { op: 'fisher-modulus'; params: Float64Array; ws: Workspace; metric: OutputMetric; modulus: Float64Array; s0: number; s1: number };

/**
 * Chunk `a .. b-1` of a command: the units (or entries) `start .. end-1` for the unit and entry
 * commands, samples `s0 .. s1-1` for the Fisher modulus, the sublist `units[a .. b-1]` for the
 * commands on a list of units.
 */
export function chunkCommand(c: ThreadCommand, a: number, b: number): ThreadCommand {
  switch (c.op) {
    case 'idle':
      return c;
    case 'fisher-modulus':
      return { ...c, s0: a, s1: b };
    case 'invert-blocks':
    case 'blocks-times-vector':
      return { ...c, units: c.units.slice(a, b) };
    default:
      return { ...c, start: a, end: b };
  }
}

/** What a share returns: a failing unit (-1: none), the refused units of an online step, or nothing. */
export type ThreadResult = number | number[] | void;

/** What a thread keeps between commands: the network, its kernels and layouts built on first use. */
export class ThreadContext {
  readonly layout: MetricLayout;
  private planCache: TransferPlan | undefined;

  constructor(
    readonly net: CompiledNetwork,
    readonly kernels: Kernels,
  ) {
    this.layout = metricLayout(net);
  }

  /** The transfer-rate plan, built by each thread on first use (the same plan: it is deterministic). */
  get plan(): TransferPlan {
    return (this.planCache ??= buildTransferPlan(this.net));
  }
}

/** Runs one share of a kernel call on this thread (workers and the main thread alike). */
export function runThreadCommand(ctx: ThreadContext, c: ThreadCommand): ThreadResult {
  const { net, kernels, layout } = ctx;
  switch (c.op) {
    case 'idle':
      return undefined;
    case 'combine': {
      // As HostEngine.combine, on entries start .. end-1.
      // NOTE: locals, not c.out[i]: a posted command is a deserialised object whose property loads
      // V8 does not hoist out of the loop (about 4 s instead of 5 ms on 10⁶ entries).
      const { out, x, y, alpha, beta, end } = c;
      for (let i = c.start; i < end; i++) out[i] = alpha * x[i] + beta * y[i];
      return undefined;
    }
    case 'forward':
      return kernels.forwardLevel(net, c.params, c.ws, c.start, c.end);
    case 'backward':
      return kernels.backwardLevel(net, c.params, c.ws, c.start, c.end, c.modulus);
    case 'gradient': {
      const entries = c.modulus && c.diagonal ? { modulus: c.modulus, diagonal: c.diagonal, cross: c.cross } : undefined;
      return kernels.gradient(net, c.ws, c.out, entries, c.start, c.end);
    }
    case 'unit-blocks':
      return kernels.accumulateUnitBlocks(net, layout, c.ws, c.modulus, c.blocks, c.start, c.end);
    case 'solve-unit-blocks':
      return kernels.solveUnitBlocks(net, layout, c.blocks, c.gradient, c.epsilon, c.out, c.start, c.end);
    case 'quasi-diagonal-solve':
      return kernels.quasiDiagonalSolve(net, c.diagonal, c.cross, c.gradient, c.epsilon, c.out, c.start, c.end);
    case 'diagonal-solve':
      return kernels.diagonalSolve(c.diagonal.subarray(c.start, c.end), c.gradient.subarray(c.start, c.end), c.epsilon, c.root, c.out.subarray(c.start, c.end));
    case 'invert-blocks':
      for (const k of c.units) if (!invertBlock(c.blocks, c.inverses, layout.matrixOffsets[k], net.blockOffsets[k + 1] - net.blockOffsets[k])) return k;
      return -1;
    case 'blocks-times-vector':
      for (const k of c.units) blockTimesVector(c.inverses, layout.matrixOffsets[k], net.blockOffsets[k + 1] - net.blockOffsets[k], c.gradient, net.blockOffsets[k], c.out);
      return undefined;
    case 'online-block-step':
      return kernels.onlineBlockStep(net, layout, c.blocks, c.inverses, c.act, c.modulus, c.size, c.sample, c.gradient, c.decay, c.out, c.start, c.end);
    case 'fisher-modulus':
      return fisherShare(ctx, c);
  }
}

/**
 * The Fisher modulus of samples `s0 .. s1-1`: every operation of the kernel is elementwise in
 * the sample, so the kernel runs unchanged on a copy of those samples (a workspace of s1 - s0
 * samples) and gives the very numbers it gives on the whole batch; they are copied back.
 * NOTE: the kernel reads r (`deriv`) alone of the workspace, so only r is copied (the other
 * arrays are empty); the threads suite compares every interpretation bit for bit, so a kernel
 * that read more would fail it.
 */
function fisherShare(ctx: ThreadContext, c: Extract<ThreadCommand, { op: 'fisher-modulus' }>): undefined {
  const { net } = ctx;
  const S = c.ws.size;
  const { s0 } = c;
  const n = c.s1 - s0;
  if (n <= 0) return undefined;
  const slice = (x: Float64Array, rows: number) => {
    const out = new Float64Array(rows * n);
    for (let r = 0; r < rows; r++) for (let s = 0; s < n; s++) out[r * n + s] = x[r * S + s0 + s];
    return out;
  };
  const empty = new Float64Array(0);
  const ws: Workspace = { size: n, pre: empty, act: empty, deriv: slice(c.ws.deriv, net.nUnits), back: empty, backReduced: empty, loss: empty };
  const m = c.metric;
  const metric: OutputMetric = { seeds: slice(m.seeds, net.nOutputs), beta: slice(m.beta, net.nOutputs), gamma: m.gamma && slice(m.gamma, net.nOutputs), betaExtra: m.betaExtra && slice(m.betaExtra, 1) };
  const modulus = new Float64Array(net.nUnits * n);
  ctx.kernels.fisherModulus(net, ctx.plan, c.params, ws, metric, modulus);
  const out = c.modulus;
  for (let k = 0; k < net.nUnits; k++) for (let s = 0; s < n; s++) out[k * S + s0 + s] = modulus[k * n + s];
  return undefined;
}
