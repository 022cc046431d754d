import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchAllResult } from '../src/bench/all/run.js';
import type { CompareBackendsResult } from '../src/bench/backends.js';

// Runs the built benchmark (`npm run build` first, as for the CLI tests): dist/bench/main.js and its children.
const main = new URL('../dist/bench/main.js', import.meta.url).pathname;
const METHODS = ['backprop', 'quasi-diagonal-backpropagated-metric'];

/** `--transfers`' rows for one backend: `network label` → method → [uploads, bytes in, reads, bytes out]. */
function transfersTable(backend: string): Record<string, Record<string, number[]>> {
  const out = execFileSync(process.execPath, [main, '--transfers', '--backend', backend, '--methods', METHODS.join(',')], { encoding: 'utf8' });
  const rows: Record<string, Record<string, number[]>> = {};
  for (const line of out.split('\n')) {
    const m = /^(.+ levels\)) +(\S+) +(\d+) +(\d+) +(\d+) +(\d+) +\(\d+\)$/.exec(line);
    if (m) (rows[m[1]] ??= {})[m[2]] = [m[3], m[4], m[5], m[6]].map(Number);
  }
  return rows;
}

describe('npm run bench -- --backend all', () => {
  it('runs cpu and tfjs-cpu in children, a tiny large network, and reports both parts, the transfers of --transfers and the goals', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-bench-all-'));
    const json = join(dir, 'bench.json');
    const report = join(dir, 'output.txt');
    const args = ['--backend', 'all', '--backends', 'cpu,tfjs-cpu,tfjs-tensorflow', '--methods', METHODS.join(','), '--rounds', '2', '--repeats', '1', '--large-size', '200,4,4', '--json', json, '--report', report];
    const printed = execFileSync(process.execPath, [main, ...args], { encoding: 'utf8' });
    const result = JSON.parse(readFileSync(json, 'utf8')) as BenchAllResult;

    expect(result.backends.map((b) => b.label)).toEqual(['cpu', 'tfjs-cpu', 'tfjs-tensorflow']);
    expect(result.backends.slice(0, 2).map((b) => [b.available, b.precision])).toEqual([[true, 'float64'], [true, 'float32']]);
    // tfjs-node is not a dependency: where it is not installed the report says why and goes on.
    const native = result.backends[2];
    if (!native.available) expect(native.reason).toMatch(/tfjs-node/);
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.machine.loadBefore).toHaveLength(3);

    for (const label of ['cpu', 'tfjs-cpu']) {
      const bench = result.autoencoder.byBackend[label];
      if (!bench || 'failed' in bench) throw new Error(`${label} autoencoder failed: ${JSON.stringify(bench)}`);
      expect(bench.result.network).toEqual({ units: 270, edges: 1300, parameters: 1470, samples: 16 });
      expect(bench.result.order).toEqual(METHODS);
      for (const m of METHODS) expect(bench.result.methods[m].medianMicros).toSatisfy((v: number) => Number.isFinite(v) && v > 0);

      const large = result.large?.byBackend[label];
      for (const m of METHODS) {
        const o = large?.[m];
        if (o?.status !== 'measured') throw new Error(`${label} ${m} on the large network: ${JSON.stringify(o)}`);
        expect(o.microsPerSample).toSatisfy((v: number) => Number.isFinite(v) && v > 0);
        expect(o.iterationSeconds.length).toBeGreaterThanOrEqual(1);
        // The large network's batch in (inputs and targets of 16 samples, float32) and the loss out, once per iteration.
        if (label === 'tfjs-cpu') {
          expect(o.transfers).toMatchObject({ uploads: 2, reads: 1, readBytes: 4 });
          expect(o.transfers.uploadBytes % (16 * 4)).toBe(0);
        } else expect(o.transfers).toEqual({ uploads: 0, uploadBytes: 0, reads: 0, readBytes: 0 });
      }
    }
    expect(result.large?.edges).toBe(604);

    // The transfers are --transfers' own, network by network.
    const transfers = result.autoencoder.transfers['tfjs-cpu'];
    if (!transfers || 'failed' in transfers) throw new Error(`tfjs-cpu transfers failed: ${JSON.stringify(transfers)}`);
    const table = transfersTable('tfjs-cpu');
    expect(transfers.networks.map((n) => n.label)).toEqual(Object.keys(table));
    for (const network of transfers.networks) {
      for (const m of METHODS) {
        const t = network.methods[m];
        expect([t.uploads, t.uploadBytes, t.reads, t.readBytes]).toEqual(table[network.label][m]);
      }
    }

    // One combined report, printed and written: both parts with a row per method, and a verdict per goal.
    const text = readFileSync(report, 'utf8');
    expect(printed).toContain(text.trim());
    expect(text).toMatch(/machine: .+ cores, .+ Node v\d+/);
    expect(text).toMatch(/\(a\) autoencoder 100-30-10-30-100 \(seed 1\): 270 units, 1,300 edges, 16 samples/);
    expect(text).toMatch(/\(b\) random DAG, 200 units, fan-in 4, 4 outputs, 4 levels \(604 edges\), batch 16/);
    expect(text).toMatch(/^backprop +[\d,]+ +[\d,]+ \(×[\d.]+\)$/m);
    expect(text).toMatch(/^quasi-diagonal-backpropagated-metric +0\/0\/0\/0 +2\/12800\/1\/4$/m);
    expect(text).toMatch(/^quasi-diagonal-backpropagated-metric +0\/0\/0\/0 +2\/7424\/1\/4$/m);
    expect(text).toMatch(/before: no recorded figures at this size/);
    expect(text).toMatch(/goal 1, bytes moved per iteration independent of depth \(5 vs 13 levels\): PASS/);
    expect(text).toMatch(/goal 2, .+: NOT EVALUATED/);
    expect(text).toMatch(/goal 3, .+: NOT EVALUATED/);

    // --from-json re-prints the recorded report without measuring.
    const again = execFileSync(process.execPath, [main, '--backend', 'all', '--from-json', json], { encoding: 'utf8' });
    expect(again.trim()).toBe(text.trim());

    // --resume with fewer --backends measures only those and keeps the others' columns in the record.
    const resumedJson = join(dir, 'resumed.json');
    execFileSync(process.execPath, [main, '--backend', 'all', '--backends', 'cpu', '--methods', METHODS.join(','), '--rounds', '2', '--repeats', '1', '--large-size', '200,4,4', '--resume', json, '--json', resumedJson], { encoding: 'utf8' });
    const resumed = JSON.parse(readFileSync(resumedJson, 'utf8')) as BenchAllResult;
    expect(resumed.backends.map((b) => b.label)).toEqual(['cpu', 'tfjs-cpu', 'tfjs-tensorflow']);
    expect(resumed.autoencoder.byBackend['tfjs-cpu']).toEqual(result.autoencoder.byBackend['tfjs-cpu']);
    expect(resumed.resumed).toHaveLength(1);
  }, 120_000);

  it("a 'goal3' child times its backends alternately in one process and reports every round", () => {
    const child = new URL('../dist/bench/all/child.js', import.meta.url).pathname;
    const request = { part: 'goal3', backend: 'cpu', methods: ['backprop'], rounds: 2, compare: ['cpu', 'tfjs-cpu'] };
    const lines = execFileSync(process.execPath, [child, JSON.stringify(request)], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('{'));
    const message = lines.map((l) => JSON.parse(l) as { kind: string; result?: CompareBackendsResult }).find((m) => m.kind === 'goal3');
    if (!message?.result) throw new Error(`no goal3 message in ${lines.join('\n')}`);
    expect(Object.keys(message.result.medians.backprop).sort()).toEqual(['cpu', 'tfjs-cpu']);
    for (const name of ['cpu', 'tfjs-cpu']) {
      expect(message.result.rounds.backprop[name]).toHaveLength(2);
      expect(message.result.medians.backprop[name]).toSatisfy((v: number) => Number.isFinite(v) && v > 0);
    }
  }, 60_000);
});
