import { UsageError, problem, type Problem } from '../errors.js';
import { isMethodName, METHOD_SPECS, METHODS, type MethodName } from '../methods/methods.js';
import { PAPER_TABLE1 } from '../methods/paper.js';

/**
 * One row of the replication's tables: a method, trained as Section 4 trains it (each batch's
 * own metric), or with the metric accumulated across iterations, A ← (1-γ)A + γA_batch
 * (Section 2.5: each new term added "to the current estimate"; K-FAC's factor averages).
 * Written `METHOD` or `METHOD@γ` in `--methods`, e.g. `kfac@0.05`; the text is the row's key in
 * the results (`curves`, `table1.json`, `table2.json`).
 */
export interface ReplicateRow {
  /** `METHOD` or `METHOD@γ`, γ as JavaScript prints the number (`kfac@0.05`). */
  key: string;
  method: MethodName;
  /** γ of the accumulated estimate (batch mode's `metricDecay`); absent: each batch's own. */
  metricDecay?: number;
}

/** The syntax of a row, for usage messages. */
export const ROW_SYNTAX = 'METHOD or METHOD@γ (the metric accumulated across iterations with weight γ in (0, 1] on each batch, e.g. kfac@0.05)';

/** A row from its text, or the problem with it (unknown method, bad γ, γ for a method without a metric). */
export function parseRow(text: string): ReplicateRow | Problem {
  const row = text.trim();
  const bad = (why: string) => problem('methods', `--methods: row '${row}': ${why}; a row is ${ROW_SYNTAX}`);
  if (row === '') return bad('empty (two commas in a row, or a comma at an end)');
  const at = row.indexOf('@');
  const name = at < 0 ? row : row.slice(0, at);
  if (!isMethodName(name)) return bad(`unknown method '${name}' (available: ${METHODS.join(', ')})`);
  if (at < 0) return { key: name, method: name };
  const gammaText = row.slice(at + 1);
  // A plain decimal: no hex, no Infinity, no empty string (which Number reads as 0).
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(gammaText)) return bad(`'${gammaText}' after '@' is not a number γ`);
  const gamma = Number(gammaText);
  if (!(gamma > 0 && gamma <= 1)) return bad(`γ = ${gammaText} is outside (0, 1]`);
  if (METHOD_SPECS[name].reduction === 'none') return bad(`'${name}' keeps no metric (the Euclidean gradient), so there is nothing to accumulate`);
  return { key: `${name}@${gamma}`, method: name, metricDecay: gamma };
}

/** Rows from their texts; every problem (and a row given twice) in one {@link UsageError}. */
export function parseRows(texts: readonly string[]): ReplicateRow[] {
  const problems: Problem[] = [];
  const rows: ReplicateRow[] = [];
  const seen = new Set<string>();
  for (const text of texts) {
    const row = parseRow(text);
    if ('severity' in row) problems.push(row);
    else if (seen.has(row.key)) problems.push(problem('methods', `--methods: row '${row.key}' is given twice`));
    else {
      seen.add(row.key);
      rows.push(row);
    }
  }
  if (problems.length > 0) throw new UsageError(problems);
  return rows;
}

/** A comma-separated `--methods` list of rows. */
export function parseRowList(text: string): ReplicateRow[] {
  return parseRows(String(text).split(','));
}

/** The short name of a method: its title without a parenthesised gloss ('K-FAC (Monte-Carlo …)' → 'K-FAC'). */
function shortTitle(method: MethodName): string {
  return METHOD_SPECS[method].title.replace(/ \([^)]*\)$/, '');
}

/** The row's name in tables: the paper's title, or e.g. 'K-FAC (accumulated, γ = 0.05)'. */
export function rowTitle(row: ReplicateRow): string {
  return row.metricDecay === undefined ? METHOD_SPECS[row.method].title : `${shortTitle(row.method)} (accumulated, γ = ${row.metricDecay})`;
}

/** The row's name in figure legends: the method's name, or e.g. 'kfac (accumulated, γ = 0.05)'. */
export function rowLabel(row: ReplicateRow): string {
  return row.metricDecay === undefined ? row.method : `${row.method} (accumulated, γ = ${row.metricDecay})`;
}

/** Whether the paper's Table 1 gives the method an iteration count. */
export function inPaperTable1(method: MethodName): boolean {
  return PAPER_TABLE1[method] !== undefined;
}
