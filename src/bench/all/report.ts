import type { TransferStats } from '../../backend/engine.js';
import { benchAllGoals, outcomeText } from './goals.js';
import type { BenchAllResult } from './run.js';

/** `uploads/bytes in/reads/bytes out`, the compact form of the tables. */
function compact(t: TransferStats): string {
  return `${t.uploads.toFixed(0)}/${t.uploadBytes.toFixed(0)}/${t.reads.toFixed(0)}/${t.readBytes.toFixed(0)}`;
}

/** A table: the first column left-aligned, the others right-aligned, each as wide as its widest cell. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd());
}

/** A number with thousands separators. */
function n(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/**
 * The combined report of `npm run bench -- --backend all`: the machine and its load, the
 * backends that ran (or why not), (a) the autoencoder's µs per iteration per backend with the
 * ratio to cpu and the transfers per iteration, (b) the large network's µs per sample with the
 * transfers and the speed-up over the recorded before figures (naming their files), and the
 * verdict on each of issue 13's three goals.
 */
export function benchAllReport(result: BenchAllResult): string[] {
  const lines: string[] = [];
  const m = result.machine;
  lines.push(`${result.command}  (${result.date})`);
  lines.push(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; load average (1, 5, 15 min) ${m.loadBefore.map((l) => l.toFixed(2)).join(', ')} before, ${m.loadAfter.length ? `${m.loadAfter.map((l) => l.toFixed(2)).join(', ')} after` : 'the run did not finish (a partial record)'}`);
  for (const r of result.resumed ?? []) lines.push(`resumed ${r.date} (load average ${r.loadBefore.map((l) => l.toFixed(2)).join(', ')}), keeping what the record held`);
  lines.push('backends:');
  for (const b of result.backends) lines.push(`  ${b.label.padEnd(17)} ${b.available ? `${b.detail}${b.gl ? `; GL: ${b.gl}` : ''}${b.xvfb ? ' (under xvfb-run -a)' : ''}` : `not available: ${b.reason}`}`);
  const labels = result.backends.filter((b) => b.available).map((b) => b.label);

  const benches = labels.map((l) => result.autoencoder.byBackend[l]);
  const first = benches.find((b) => b && !('failed' in b));
  const network = first && !('failed' in first) ? first.result.network : undefined;
  lines.push('');
  lines.push(`(a) autoencoder 100-30-10-30-100 (seed 1)${network ? `: ${network.units} units, ${n(network.edges)} edges, ${network.samples} samples` : ''}; µs per batch iteration (× cpu), each backend in its own process`);
  const keys = [...new Set(benches.flatMap((b) => (b && !('failed' in b) ? b.result.order : [])))];
  const cpu = result.autoencoder.byBackend.cpu;
  const micros = (label: string, key: string) => {
    const b = result.autoencoder.byBackend[label];
    return b && !('failed' in b) ? b.result.methods[key]?.medianMicros : undefined;
  };
  const timeRows = keys.map((key) => [
    key,
    ...labels.map((l) => {
      const v = micros(l, key);
      const c = cpu && !('failed' in cpu) ? micros('cpu', key) : undefined;
      return v === undefined ? '-' : l === 'cpu' || c === undefined ? n(v) : `${n(v)} (×${(v / c).toFixed(1)})`;
    }),
  ]);
  lines.push(...table([['method', ...labels], ...timeRows]));
  for (const l of labels) {
    const b = result.autoencoder.byBackend[l];
    if (b && 'failed' in b) lines.push(`  ${l}: failed: ${b.failed}`);
  }
  lines.push('');
  lines.push('transfers per iteration on the autoencoder (uploads/bytes in/reads/bytes out; as `--transfers` counts them):');
  const transferKeys = [...new Set(labels.flatMap((l) => {
    const t = result.autoencoder.transfers[l];
    return t && !('failed' in t) ? Object.keys(t.networks[0].methods) : [];
  }))];
  const cell = (l: string, method: string, which: number) => {
    const t = result.autoencoder.transfers[l];
    const s = t && !('failed' in t) ? t.networks[which].methods[method] : undefined;
    return s ? compact(s) : '-';
  };
  lines.push(...table([['method', ...labels], ...transferKeys.map((k) => [k, ...labels.map((l) => cell(l, k, 0))])]));
  lines.push('the same on a 13-level random DAG of as many units (goal 1):');
  lines.push(...table([['method', ...labels], ...transferKeys.map((k) => [k, ...labels.map((l) => cell(l, k, 1))])]));
  for (const l of labels) {
    const t = result.autoencoder.transfers[l];
    if (t && 'failed' in t) lines.push(`  ${l}: failed: ${t.failed}`);
  }

  const large = result.large;
  if (large) {
    lines.push('');
    lines.push(`(b) random DAG, ${n(large.size.units)} units, fan-in ${large.size.fanIn}, ${large.size.outputs} outputs, 4 levels (${n(large.edges)} edges), batch ${large.batch}: µs per sample (before / now), budget ${large.budgetSeconds} s per iteration`);
    const rows = large.methods.map((method) => [
      method,
      ...labels.map((l) => {
        const o = large.byBackend[l]?.[method];
        if (!o || o.status !== 'measured') return o?.status === 'over-budget' ? `over budget (>${large.budgetSeconds} s)` : o ? 'failed' : '-';
        const was = result.before[l]?.microsPerSample[method];
        return was === undefined ? n(o.microsPerSample) : `${n(o.microsPerSample)} (${(was / o.microsPerSample).toFixed(1)}x)`;
      }),
    ]);
    lines.push(...table([['method', ...labels], ...rows]));
    for (const l of labels) {
      for (const method of large.methods) {
        const o = large.byBackend[l]?.[method];
        if (o && o.status !== 'measured') lines.push(`  ${l} ${method}: ${outcomeText(o)}`);
      }
    }
    lines.push('transfers per iteration (uploads/bytes in/reads/bytes out):');
    lines.push(...table([['method', ...labels], ...large.methods.map((method) => [method, ...labels.map((l) => {
      const o = large.byBackend[l]?.[method];
      return o?.status === 'measured' ? compact(o.transfers) : '-';
    })])]));
    const befores = Object.entries(result.before);
    lines.push(befores.length ? 'before (recorded before this issue, same network and batch; (Nx) above is before / now):' : 'before: no recorded figures at this size');
    for (const [l, b] of befores) lines.push(`  ${l.padEnd(17)} ${b.file} (${b.detail}): ${Object.entries(b.microsPerSample).map(([method, v]) => `${method} ${n(v)}`).join(', ')}`);
  }

  lines.push('');
  lines.push('goals (issue 13):');
  for (const g of benchAllGoals(result)) {
    lines.push(`  goal ${g.goal}, ${g.title}: ${g.verdict}`);
    for (const d of g.details) lines.push(`    ${d}`);
  }
  return lines;
}
