import type { ReplicateBudget, RowBudget } from './run.js';
import type { MethodSummary } from './summary.js';

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/**
 * Whether the rows trained for different kinds of budget: under `paper`, methods outside the
 * paper's Table 1 get a time, the others a count. The tables then say each row's budget.
 */
export function mixedBudgets(rows: readonly MethodSummary[], budget: ReplicateBudget): boolean {
  return budget.kind === 'paper' && rows.some((r) => r.budget.kind === 'time');
}

/** A row's budget in a table cell: its iterations, or the time rule with the mean measured seconds. */
export function describeRowBudget(budget: RowBudget, budgetSeconds: readonly number[] = []): string {
  if (budget.kind === 'iterations') return `${budget.iterations} iterations`;
  const mean = budgetSeconds.length ? budgetSeconds.reduce((a, b) => a + b, 0) / budgetSeconds.length : NaN;
  return `time of ${budget.backpropIterations} backprop iterations${Number.isFinite(mean) ? ` (${mean.toFixed(2)} s)` : ''}`;
}

/** The captions' note on a mixed budget. */
function mixedNote(rows: readonly MethodSummary[], budget: ReplicateBudget, budgetSeconds: readonly number[]): string {
  const timed = rows.find((r) => r.budget.kind === 'time');
  return mixedBudgets(rows, budget) && timed ? `; a method the paper's Table 1 does not list gets the ${describeRowBudget(timed.budget, budgetSeconds)}, measured in each run as --budget time measures it (mean over runs)` : '';
}

/**
 * Table 1 (Markdown): iterations each row reached under the budget, beside the paper's. With
 * mixed budgets (see {@link mixedBudgets}) a column says what each row was given.
 */
export function table1Markdown(rows: MethodSummary[], budget: ReplicateBudget, budgetSeconds: readonly number[] = []): string {
  const mixed = mixedBudgets(rows, budget);
  const paper = (r: MethodSummary) => (r.paperIterations ? (r.paperIterations[0] === r.paperIterations[1] ? r.paperIterations[0] : `${r.paperIterations[0]}–${r.paperIterations[1]}`) : '–');
  const lines = [
    `Table 1 — iterations per method under the ${describeBudget(budget)} budget (mean over runs), and the paper's Table 1${mixedNote(rows, budget, budgetSeconds)}`,
    '',
    `| method |${mixed ? ' budget |' : ''} iterations (sigmoid) | iterations (tanh) | seconds per run (sigmoid) | paper (iterations) |`,
    `|---|---|---|---|---|${mixed ? '---|' : ''}`,
    ...rows.map((r) => `| ${r.title} |${mixed ? ` ${describeRowBudget(r.budget)} |` : ''} ${Math.round(r.iterations.sigmoid)} | ${Math.round(r.iterations.tanh)} | ${fmt(r.seconds.sigmoid, 2)} | ${paper(r)} |`),
  ];
  return lines.join('\n') + '\n';
}

/** Table 2 (Markdown): final loss, mean ± std over runs, per activation, with the paper's values (and each row's budget when they differ). */
export function table2Markdown(rows: MethodSummary[], runs: number, budget?: ReplicateBudget, budgetSeconds: readonly number[] = []): string {
  const mixed = budget !== undefined && mixedBudgets(rows, budget);
  const cell = (s: { mean: number; std: number }) => `${fmt(s.mean)} ± ${fmt(s.std)}`;
  const paper = (p: [number, number] | undefined) => (p ? `${p[0]} ± ${p[1]}` : '–');
  const lines = [
    `Table 2 — final loss in bits per sample, mean ± std over ${runs} runs (paper: 20 runs)${budget ? mixedNote(rows, budget, budgetSeconds) : ''}`,
    '',
    `| method | invariant |${mixed ? ' budget |' : ''} sigmoid | tanh | paper sigmoid | paper tanh |`,
    `|---|---|---|---|---|---|${mixed ? '---|' : ''}`,
    ...rows.map((r) => `| ${r.title} | ${r.invariant ? 'yes' : 'no'} |${mixed ? ` ${describeRowBudget(r.budget)} |` : ''} ${cell(r.loss.sigmoid)} | ${cell(r.loss.tanh)} | ${paper(r.paperLoss?.sigmoid)} | ${paper(r.paperLoss?.tanh)} |`),
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
