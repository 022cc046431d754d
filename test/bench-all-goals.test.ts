import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TransferStats } from '../src/backend/engine.js';
import { readBeforeFigures } from '../src/bench/all/before.js';
import { benchAllGoals } from '../src/bench/all/goals.js';
import { closeCalls, type Goal3Interleaved } from '../src/bench/all/goal3-interleaved.js';
import { benchAllReport } from '../src/bench/all/report.js';
import type { BenchAllResult, LargeOutcome } from '../src/bench/all/run.js';
import type { AutoencoderBench } from '../src/bench/autoencoder.js';
import type { TransferNetwork } from '../src/bench/transfers.js';

const t = (uploads: number, uploadBytes: number, reads: number, readBytes: number): TransferStats => ({ uploads, uploadBytes, reads, readBytes });
const network = (label: string, levels: number, parameters: number, methods: Record<string, TransferStats>): TransferNetwork => ({ label, units: 270, levels, parameters, referenceBytes: 0, methods });
const bench = (micros: Record<string, number>): { result: AutoencoderBench } => ({
  result: {
    network: { units: 270, edges: 1300, parameters: 1470, samples: 16 },
    detail: 'synthetic',
    order: Object.keys(micros),
    methods: Object.fromEntries(Object.entries(micros).map(([k, v]) => [k, { medianMicros: v, ratioToBackprop: 1, paperRatio: null, multiplyAdds: 1, nsPerMultiplyAdd: 1, efficiencyRatio: 1 }])),
  },
});
const measured = (microsPerSample: number): LargeOutcome => ({ status: 'measured', microsPerSample, warmupSeconds: 1, iterationSeconds: [1], transfers: t(2, 100, 1, 4) });

/** A result with cpu, gpujs-headlessgl and webgpu: the given transfers, autoencoder and large-network figures. */
function result(parts: { deepBackprop?: TransferStats; webgpu: Record<string, number>; headlessgl: Record<string, number>; large: Record<string, Record<string, LargeOutcome>>; before: Record<string, number> }): BenchAllResult {
  const shallow = { backprop: t(2, 12800, 1, 4), natural: t(3, 18680, 104, 1757564) };
  const deep = { backprop: parts.deepBackprop ?? t(2, 7424, 1, 4), natural: t(3, 13520, 104, 1757780) };
  const transfers = { networks: [network('autoencoder (5 levels)', 5, 1470, shallow), network('random DAG (13 levels)', 13, 1524, deep)] };
  const probed = (label: string, precision: string) => ({ label, backend: label, env: {}, xvfb: false, available: true, precision, detail: label });
  return {
    command: 'test',
    date: '2026-01-01T00:00:00.000Z',
    machine: { cpu: 'test cpu', cores: 2, memoryGiB: 8, node: 'v20', platform: 'linux x64', loadStart: 0, loadBefore: [1, 1, 1], loadAfter: [1, 1, 1] },
    backends: [probed('cpu', 'float64'), probed('gpujs-headlessgl', 'float32'), probed('webgpu', 'float32')],
    autoencoder: {
      byBackend: { cpu: bench({ backprop: 100, natural: 1000 }), 'gpujs-headlessgl': bench(parts.headlessgl), webgpu: bench(parts.webgpu) },
      transfers: { cpu: transfers, 'gpujs-headlessgl': transfers, webgpu: transfers },
    },
    large: { size: { units: 160_000, fanIn: 8, outputs: 8 }, edges: 960_016, batch: 16, methods: ['backprop', 'unitwise-natural'], budgetSeconds: 60, byBackend: parts.large },
    before: { 'gpujs-headlessgl': { file: 'experiments/scaling/gpujs-headlessgl/scaling.json', detail: 'before', microsPerSample: parts.before } },
  };
}

describe('--backend all goals', () => {
  it('pass when transfers keep per depth, every before figure is beaten 5x and webgpu is never slower', () => {
    const goals = benchAllGoals(
      result({
        webgpu: { backprop: 3000, natural: 9000 },
        headlessgl: { backprop: 6000, natural: 9000 },
        large: { 'gpujs-headlessgl': { backprop: measured(20_000), 'unitwise-natural': { status: 'over-budget', seconds: 61, phase: 'the warm-up iteration' } }, webgpu: { backprop: measured(10_000), 'unitwise-natural': measured(90_000) } },
        before: { backprop: 144_000 },
      }),
    );
    expect(goals.map((g) => g.verdict)).toEqual(['PASS', 'PASS', 'PASS']);
    expect(goals[0].details.at(-1)).toBe('4 backend × method pairs checked on gpujs-headlessgl, webgpu');
    expect(goals[1].details).toEqual(['met: gpujs-headlessgl backprop: 7.2x (144000 → 20000 µs/sample)']);
  });

  it('fail on a per-level copy, a speed-up under 5x or a method over budget, and webgpu slower anywhere', () => {
    const goals = benchAllGoals(
      result({
        deepBackprop: t(10, 7424, 1, 4),
        webgpu: { backprop: 3000, natural: 9001 },
        headlessgl: { backprop: 6000, natural: 9000 },
        large: { 'gpujs-headlessgl': { backprop: measured(40_000), 'unitwise-natural': { status: 'over-budget', seconds: 61, phase: 'the warm-up iteration' } }, webgpu: { backprop: { status: 'over-budget', seconds: 70, phase: 'a timed iteration' }, 'unitwise-natural': measured(90_000) } },
        before: { backprop: 144_000, 'unitwise-natural': 806_000 },
      }),
    );
    expect(goals.map((g) => g.verdict)).toEqual(['FAIL', 'FAIL', 'FAIL']);
    expect(goals[0].details.filter((d) => d.includes('backprop')).map((d) => d.split(':')[0])).toEqual(['gpujs-headlessgl backprop', 'webgpu backprop']);
    expect(goals[1].details).toEqual([
      'below: gpujs-headlessgl backprop: 3.6x (144000 → 40000 µs/sample)',
      'below: gpujs-headlessgl unitwise-natural: over budget (the warm-up iteration > 61 s) (before 806000 µs/sample)',
    ]);
    expect(goals[2].details.slice(0, 2)).toEqual(['autoencoder natural: webgpu 9001 µs, headlessgl 9000 µs, each in its own process', '960016 edges backprop: webgpu over budget (a timed iteration > 70 s), headlessgl 40000 µs/sample']);
  });

  it('goal 3: a close call (within 1.25x in the record) is decided by the alternate timing in one process, the others by the record', () => {
    const parts = { webgpu: { backprop: 3000, natural: 9001, kfra: 1100 }, headlessgl: { backprop: 6000, natural: 9000, kfra: 1000 }, large: {}, before: {} };
    const r = result(parts);
    expect(closeCalls(r)).toEqual(['natural', 'kfra']);
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
    const interleaved = (rounds: Record<string, [number[], number[]]>, failed?: string): Goal3Interleaved => ({
      date: 'd',
      loadBefore: [1, 1, 1],
      rounds: 5,
      medians: Object.fromEntries(Object.entries(rounds).map(([k, [w, g]]) => [k, { webgpu: median(w), 'gpujs-headlessgl': median(g) }])),
      perRound: Object.fromEntries(Object.entries(rounds).map(([k, [w, g]]) => [k, { webgpu: w, 'gpujs-headlessgl': g }])),
      ...(failed ? { failed } : {}),
    });
    // natural: webgpu faster in every round; kfra: slower in 4 of 5 rounds; backprop (2x in the record) keeps the record's verdict even if listed.
    r.goal3Interleaved = interleaved({
      natural: [[80, 82, 95, 70, 90], [85, 90, 99, 75, 91]],
      kfra: [[12, 13, 11, 14, 9], [10, 11, 10, 12, 10]],
      backprop: [[99, 99, 99, 99, 99], [1, 1, 1, 1, 1]],
    });
    const goal = benchAllGoals(r)[2];
    expect(goal.verdict).toBe('FAIL');
    expect(goal.details.filter((d) => !d.includes('record'))).toEqual(['autoencoder kfra: webgpu 12 µs, headlessgl 10 µs, timed alternately (5 rounds)', '3 methods compared']);
    const notes = goal.details.filter((d) => d.includes('record'));
    expect(notes.map((d) => d.split(':')[0])).toEqual(['autoencoder natural', 'autoencoder kfra']);
    expect(notes[0]).toContain('webgpu faster in 5 of 5');
    expect(notes[1]).toContain('webgpu / headlessgl 1.167 (median of the rounds\' ratios), webgpu faster in 1 of 5');
    // The rounds' ratios decide, not the medians: here the medians say webgpu is slower (12.5 > 12), four rounds of five say faster.
    r.goal3Interleaved = interleaved({ natural: [[80, 82, 95, 70, 90], [85, 90, 99, 75, 91]], kfra: [[10.5, 11.5, 12.5, 13.5, 14], [11, 12, 13, 14, 3]] });
    expect(r.goal3Interleaved.medians.kfra).toEqual({ webgpu: 12.5, 'gpujs-headlessgl': 12 });
    expect(benchAllGoals(r)[2].verdict).toBe('PASS');
    // A failed alternate timing leaves the record's verdicts, and says so.
    r.goal3Interleaved = interleaved({}, 'exit code 1');
    const fallback = benchAllGoals(r)[2];
    expect(fallback.verdict).toBe('FAIL');
    expect(fallback.details).toContain('close calls not re-timed: exit code 1');
  });

  it("goal 2 says, beside the verdict, what tfjs's default route (tfjs-wasm) gives against tfjs's before", () => {
    const r = result({ webgpu: { backprop: 3000 }, headlessgl: { backprop: 6000 }, large: { 'gpujs-headlessgl': { backprop: measured(20_000) } }, before: { backprop: 144_000 } });
    r.backends.push({ label: 'tfjs-wasm', backend: 'tfjs-wasm', env: {}, xvfb: false, available: true, precision: 'float32', detail: 'tfjs-wasm' });
    r.large!.byBackend['tfjs-wasm'] = { backprop: measured(50_000), 'unitwise-natural': { status: 'over-budget', seconds: 61, phase: 'the warm-up iteration' } };
    r.before['tfjs-cpu'] = { file: 'experiments/scaling/tfjs/scaling.json', detail: 'tfjs cpu', microsPerSample: { backprop: 958_702, 'unitwise-natural': 2_000_000 } };
    const goal = benchAllGoals(r)[1];
    expect(goal.verdict).toBe('PASS');
    expect(goal.details.at(-1)).toBe("also: tfjs-wasm (--backend tfjs's default route without tfjs-node, against tfjs's before (its only route then)): backprop 19.2x");
  });

  it('the report shows each backend, both parts, the before files and the verdicts', () => {
    const lines = benchAllReport(
      result({ webgpu: { backprop: 3000, natural: 9000 }, headlessgl: { backprop: 6000, natural: 9000 }, large: { webgpu: { backprop: measured(10_000), 'unitwise-natural': measured(90_000) } }, before: { backprop: 144_000 } }),
    );
    expect(lines).toContain('backprop    100     6,000 (×60.0)  3,000 (×30.0)');
    expect(lines).toContain('natural   3/18680/104/1757564  3/18680/104/1757564  3/18680/104/1757564');
    expect(lines.find((l) => l.startsWith('  gpujs-headlessgl  experiments/scaling/gpujs-headlessgl/scaling.json'))).toBe('  gpujs-headlessgl  experiments/scaling/gpujs-headlessgl/scaling.json (before): backprop 144,000');
    expect(lines.filter((l) => /^ {2}goal \d/.test(l))).toHaveLength(3);
  });

  it('reads the before figures at the given size from the recorded sweeps, leaving out files without that size', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-before-'));
    const sweep = (edges: number, seconds: number) => ({ values: [1], methods: { backprop: { points: [{ units: 1, fanIn: 8, outputs: 8, edges, secondsPerSample: seconds }], exponent: 1, lastExponent: 1, expected: 1 } } });
    for (const [folder, edges] of [['gpujs-webasm', 960_016], ['tfjs', 120_016]] as const) {
      mkdirSync(join(dir, folder));
      writeFileSync(join(dir, folder, 'scaling.json'), JSON.stringify({ backend: 'x', detail: `${folder} then`, batch: 16, sweeps: { units: sweep(edges, 0.05), fanIn: sweep(1, 1), outputs: sweep(2, 1) }, peakMemory: {} }));
    }
    expect(readBeforeFigures(960_016, dir)).toEqual({ 'gpujs-webasm': { file: 'experiments/scaling/gpujs-webasm/scaling.json', detail: 'gpujs-webasm then', microsPerSample: { backprop: 50_000 } } });
  });
});
