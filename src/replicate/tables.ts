import type { ReplicateBudget } from './run.js';
import type { MethodSummary } from './summary.js';

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/** Table 1 (Markdown): iterations each method reached under the budget, beside the paper's. */
export function table1Markdown(rows: MethodSummary[], budget: ReplicateBudget): string {
  const lines = [
    `Table 1 — iterations per method under the ${describeBudget(budget)} budget (mean over runs), and the paper's Table 1`,
    '',
    '| method | iterations (sigmoid) | iterations (tanh) | seconds per run (sigmoid) | paper (iterations) |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.title} | ${Math.round(r.iterations.sigmoid)} | ${Math.round(r.iterations.tanh)} | ${fmt(r.seconds.sigmoid, 2)} | ${r.paperIterations ? (r.paperIterations[0] === r.paperIterations[1] ? r.paperIterations[0] : `${r.paperIterations[0]}–${r.paperIterations[1]}`) : '–'} |`),
  ];
  return lines.join('\n') + '\n';
}

/** Table 2 (Markdown): final loss, mean ± std over runs, per activation, with the paper's values. */
export function table2Markdown(rows: MethodSummary[], runs: number): string {
  const cell = (s: { mean: number; std: number }) => `${fmt(s.mean)} ± ${fmt(s.std)}`;
  const paper = (p: [number, number] | undefined) => (p ? `${p[0]} ± ${p[1]}` : '–');
  const lines = [
    `Table 2 — final loss in bits per sample, mean ± std over ${runs} runs (paper: 20 runs)`,
    '',
    '| method | invariant | sigmoid | tanh | paper sigmoid | paper tanh |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.title} | ${r.invariant ? 'yes' : 'no'} | ${cell(r.loss.sigmoid)} | ${cell(r.loss.tanh)} | ${paper(r.paperLoss?.sigmoid)} | ${paper(r.paperLoss?.tanh)} |`),
  ];
  return lines.join('\n') + '\n';
}

export function describeBudget(budget: ReplicateBudget): string {
  if (budget.kind === 'paper') return 'paper (Table 1 midpoints)';
  if (budget.kind === 'time') return `time (what ${budget.backpropIterations} backprop iterations take, measured in each run)`;
  return `${budget.iterations}-iteration`;
}

/** A Markdown table as plain text for the terminal (pipes kept, separators dropped). */
export function markdownForTerminal(markdown: string): string {
  return markdown
    .split('\n')
    .filter((l) => !/^\|[-|]+\|$/.test(l))
    .join('\n');
}
