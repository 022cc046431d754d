import { CLOSE_CALL_MARGIN, closeCalls, type Goal3Interleaved } from './goal3-interleaved.js';
import type { BenchAllResult, LargeOutcome } from './run.js';

/** A goal of issue 13 and whether the run met it: PASS, FAIL, or NOT EVALUATED where the run lacks what it needs. */
export interface GoalVerdict {
  goal: 1 | 2 | 3;
  title: string;
  verdict: 'PASS' | 'FAIL' | 'NOT EVALUATED';
  /** One line per check that failed, then a summary of what was checked. */
  details: string[];
}

/** The speed-up over the before figures a float32 backend must reach on the large network (goal 2). */
export const GOAL_SPEEDUP = 5;

/** The three goals of issue 13, judged on a `benchAll` result. */
export function benchAllGoals(result: BenchAllResult): GoalVerdict[] {
  return [depthGoal(result), speedupGoal(result), webgpuGoal(result)];
}

/** The float32 backends that ran (every one but the Float64 reference). */
function float32Labels(result: BenchAllResult): string[] {
  return result.backends.filter((b) => b.available && b.precision === 'float32').map((b) => b.label);
}

/**
 * Goal 1, bytes moved per iteration independent of depth: on every float32 backend and method,
 * the 13-level network takes as many uploads and reads per iteration as the 5-level autoencoder
 * (a per-level copy would add some), and no more bytes each way than the autoencoder's times
 * the ratio of their parameter counts (the deeper one has as many units, 4% more parameters).
 */
function depthGoal(result: BenchAllResult): GoalVerdict {
  const title = 'bytes moved per iteration independent of depth (5 vs 13 levels)';
  const failures: string[] = [];
  let checked = 0;
  const labels: string[] = [];
  const notRun: string[] = [];
  for (const label of float32Labels(result)) {
    const entry = result.autoencoder.transfers[label];
    if (!entry) {
      notRun.push(label);
      continue;
    }
    if ('failed' in entry) {
      failures.push(`${label}: transfers not counted (${entry.failed})`);
      continue;
    }
    labels.push(label);
    const [shallow, deep] = entry.networks;
    const allowance = Math.max(1, deep.parameters / shallow.parameters);
    for (const [method, s] of Object.entries(shallow.methods)) {
      const d = deep.methods[method];
      checked++;
      const grew = (a: number, b: number) => (a === 0 ? b > 0 : b / a > allowance + 1e-9);
      if (s.uploads !== d.uploads || s.reads !== d.reads || grew(s.uploadBytes, d.uploadBytes) || grew(s.readBytes, d.readBytes)) {
        failures.push(`${label} ${method}: ${s.uploads} uploads ${s.uploadBytes} B, ${s.reads} reads ${s.readBytes} B on ${shallow.levels} levels; ${d.uploads} uploads ${d.uploadBytes} B, ${d.reads} reads ${d.readBytes} B on ${deep.levels}`);
      }
    }
  }
  const missing = notRun.length ? [`not run (a partial record): ${notRun.join(', ')}`] : [];
  if (checked === 0 && failures.length === 0) return { goal: 1, title, verdict: 'NOT EVALUATED', details: ['no float32 backend ran', ...missing] };
  return { goal: 1, title, verdict: failures.length ? 'FAIL' : 'PASS', details: [...failures, `${checked} backend × method pairs checked on ${labels.join(', ')}`, ...missing] };
}

/**
 * Goal 2, each float32 backend at least 5× faster than before on the large network: every
 * method with a recorded before figure (see `readBeforeFigures`) and a figure now; a method
 * over budget now fails it.
 */
function speedupGoal(result: BenchAllResult): GoalVerdict {
  const title = `each float32 backend at least ${GOAL_SPEEDUP}x faster than before on the ${result.large?.edges ? `${result.large.edges.toLocaleString('en-US')}-edge` : 'large'} network`;
  if (!result.large) return { goal: 2, title, verdict: 'NOT EVALUATED', details: ['the large network was not timed (--no-large)'] };
  const failures: string[] = [];
  const passes: string[] = [];
  for (const label of float32Labels(result)) {
    const before = result.before[label];
    if (!before) continue;
    for (const method of result.large.methods) {
      const was = before.microsPerSample[method];
      const now = result.large.byBackend[label]?.[method];
      if (was === undefined || !now) continue;
      if (now.status !== 'measured') {
        failures.push(`${label} ${method}: ${outcomeText(now)} (before ${was.toFixed(0)} µs/sample)`);
        continue;
      }
      const speedup = was / now.microsPerSample;
      (speedup >= GOAL_SPEEDUP ? passes : failures).push(`${label} ${method}: ${speedup.toFixed(1)}x (${was.toFixed(0)} → ${now.microsPerSample.toFixed(0)} µs/sample)`);
    }
  }
  if (!failures.length && !passes.length) return { goal: 2, title, verdict: 'NOT EVALUATED', details: ['no float32 backend ran with a before figure at this size'] };
  return { goal: 2, title, verdict: failures.length ? 'FAIL' : 'PASS', details: [...failures.map((f) => `below: ${f}`), ...passes.map((p) => `met: ${p}`), ...defaultRouteLines(result)] };
}

/**
 * Routes that a backend's before figures also stand for, beside the label they were recorded
 * under: tfjs ran only on its pure-JavaScript cpu backend before issue 13, and `--backend tfjs`
 * now takes tfjs-wasm where tfjs-node is not installed (`defaultTfjsBackend`).
 */
export const DEFAULT_ROUTES: Record<string, { label: string; why: string }> = {
  'tfjs-cpu': { label: 'tfjs-wasm', why: "--backend tfjs's default route without tfjs-node, against tfjs's before (its only route then)" },
};

/** Goal 2's information lines (not part of the verdict): each default route's speed-up over its backend's before figures. */
function defaultRouteLines(result: BenchAllResult): string[] {
  const lines: string[] = [];
  for (const [beforeLabel, route] of Object.entries(DEFAULT_ROUTES)) {
    const before = result.before[beforeLabel];
    const now = result.large?.byBackend[route.label];
    if (!before || !now) continue;
    const speedups = (result.large?.methods ?? []).flatMap((method) => {
      const was = before.microsPerSample[method];
      const o = now[method];
      return was === undefined || o?.status !== 'measured' ? [] : [`${method} ${(was / o.microsPerSample).toFixed(1)}x`];
    });
    if (speedups.length) lines.push(`also: ${route.label} (${route.why}): ${speedups.join(', ')}`);
  }
  return lines;
}

/**
 * Goal 3, webgpu at least as fast as gpu.js's GL mode on every method: each method timed on
 * either, on the autoencoder and on the large network (over budget counts as slower than any time).
 */
function webgpuGoal(result: BenchAllResult): GoalVerdict {
  const title = 'webgpu at least as fast as gpujs headlessgl on every method';
  const a = result.autoencoder.byBackend.webgpu;
  const b = result.autoencoder.byBackend['gpujs-headlessgl'];
  if (!a || !b || 'failed' in a || 'failed' in b) return { goal: 3, title, verdict: 'NOT EVALUATED', details: [`autoencoder times missing: webgpu ${a ? ('failed' in a ? a.failed : 'ran') : 'not run'}, gpujs-headlessgl ${b ? ('failed' in b ? b.failed : 'ran') : 'not run'}`] };
  const failures: string[] = [];
  const notes: string[] = [];
  let checked = 0;
  const close = closeCalls(result);
  const interleaved = result.goal3Interleaved;
  for (const key of a.result.order) {
    let w = a.result.methods[key]?.medianMicros;
    let g = b.result.methods[key]?.medianMicros;
    if (w === undefined || g === undefined) continue;
    checked++;
    // A close call timed alternately in one process decides it (both backends under the same load).
    const paired = close.includes(key) && !interleaved?.failed ? pairedRounds(interleaved, key) : undefined;
    const how = paired ? `timed alternately (${paired.rounds} rounds)` : 'each in its own process';
    let slower = w > g;
    if (paired) {
      const text = `${how}: medians webgpu ${paired.webgpu.toFixed(0)} µs, headlessgl ${paired.gl.toFixed(0)} µs; webgpu / headlessgl ${paired.ratio.toFixed(3)} (median of the rounds' ratios), webgpu faster in ${paired.faster} of ${paired.rounds}`;
      notes.push(`autoencoder ${key}: record webgpu ${w.toFixed(0)} µs, headlessgl ${g.toFixed(0)} µs (within ${CLOSE_CALL_MARGIN}×); ${text}`);
      [w, g] = [paired.webgpu, paired.gl];
      slower = paired.ratio > 1;
    }
    if (slower) failures.push(`autoencoder ${key}: webgpu ${w.toFixed(0)} µs, headlessgl ${g.toFixed(0)} µs, ${how}`);
  }
  if (interleaved?.failed && close.length) notes.push(`close calls not re-timed: ${interleaved.failed}`);
  const large = result.large;
  const lw = large?.byBackend.webgpu;
  const lg = large?.byBackend['gpujs-headlessgl'];
  if (large && lw && lg) {
    const rank = (o: LargeOutcome | undefined) => (!o || o.status === 'failed' ? undefined : o.status === 'measured' ? o.microsPerSample : Infinity);
    for (const method of large.methods) {
      const w = rank(lw[method]);
      const g = rank(lg[method]);
      if (w === undefined || g === undefined || (w === Infinity && g === Infinity)) continue;
      checked++;
      if (w > g) failures.push(`${large.edges} edges ${method}: webgpu ${outcomeText(lw[method])}, headlessgl ${outcomeText(lg[method])}`);
    }
  }
  return { goal: 3, title, verdict: failures.length ? 'FAIL' : 'PASS', details: [...failures, ...notes, `${checked} methods compared`] };
}

/**
 * A close call's alternate timing: the medians, and the median over rounds of webgpu's time over
 * gpu.js GL's in the same round (each round times both back to back, so the load's drift between
 * rounds cancels), which decides it; undefined without both backends' rounds.
 */
function pairedRounds(interleaved: Goal3Interleaved | undefined, key: string): { webgpu: number; gl: number; ratio: number; faster: number; rounds: number } | undefined {
  const w = interleaved?.perRound[key]?.webgpu;
  const g = interleaved?.perRound[key]?.['gpujs-headlessgl'];
  const m = interleaved?.medians[key];
  if (!w || !g || !m || w.length === 0 || w.length !== g.length || m.webgpu === undefined || m['gpujs-headlessgl'] === undefined) return undefined;
  const ratios = w.map((v, i) => v / g[i]).sort((a, b) => a - b);
  const mid = ratios.length >> 1;
  const ratio = ratios.length % 2 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
  return { webgpu: m.webgpu, gl: m['gpujs-headlessgl'], ratio, faster: w.filter((v, i) => v < g[i]).length, rounds: w.length };
}

/** A large-network outcome in words: µs per sample, over budget, or failed. */
export function outcomeText(o: LargeOutcome | undefined): string {
  if (!o) return 'not run';
  if (o.status === 'measured') return `${o.microsPerSample.toFixed(0)} µs/sample`;
  if (o.status === 'over-budget') return `over budget (${o.phase} > ${o.seconds.toFixed(0)} s)`;
  return `failed (${o.reason})`;
}
