import { problem, UsageError } from '../errors.js';

/** A table read from a CSV or .npy file: column names, rows of cells, and how rows are named in messages. */
export interface DataTable {
  file: string;
  /** CSV: the header names; .npy: "0", "1", ... */
  columns: string[];
  rowCount: number;
  /** The cell at data row `r` (0-based, after any header) and column `c`: text (CSV) or a number (.npy). */
  cell(r: number, c: number): string | number;
  /** The row number a message names for data row `r` (CSV: r + 2, the header being row 1; .npy: r). */
  rowNumber(r: number): number;
  /** How a message names a row: "row" (CSV, 1-based) or "row index" (.npy, 0-based). */
  rowWord: string;
}

/** Where a message points in a table: `row 5, column "y1"` or `row index 3, column 2`. */
export function locate(table: DataTable, r: number, c: number): { text: string; row: number; column: string } {
  const row = table.rowNumber(r);
  const column = table.columns[c];
  const name = table.rowWord === 'row' ? `"${column}"` : column;
  return { text: `${table.rowWord} ${row}, column ${name}`, row, column };
}

/**
 * Resolves a column selection against a table's columns: comma-separated items, each a column
 * name, a 0-based column index, or an inclusive range `a..b` of either (`x1..x784`, `0..783`),
 * in the order given. A name matches before an index. Throws {@link UsageError} naming the
 * option, the file and the column when an item matches no column, a range runs backwards, or a
 * column is chosen twice.
 */
export function selectColumns(text: string, table: DataTable, option: string): number[] {
  const fail = (message: string, column?: string): never => {
    const p = problem('column-selection', `${option} ${JSON.stringify(text)}: ${message}`);
    throw new UsageError([column === undefined ? p : { ...p, column }], table.file);
  };
  const resolve = (item: string): number => {
    const named = table.columns.indexOf(item);
    if (named >= 0) return named;
    if (/^\d+$/.test(item) && Number(item) < table.columns.length) return Number(item);
    const some = table.columns.slice(0, 6).join(', ') + (table.columns.length > 6 ? ', ...' : '');
    return fail(`no column "${item}" (the file has ${table.columns.length} columns: ${some}; give names or 0-based indices)`, item);
  };
  const chosen: number[] = [];
  for (const raw of String(text).split(',')) {
    const item = raw.trim();
    if (item === '') fail('an empty item; separate column names, indices or ranges a..b by single commas');
    const dots = item.indexOf('..');
    if (dots < 0) {
      chosen.push(resolve(item));
      continue;
    }
    const from = resolve(item.slice(0, dots).trim());
    const to = resolve(item.slice(dots + 2).trim());
    if (to < from) fail(`the range ${item} runs backwards (column ${to} comes before column ${from})`);
    for (let c = from; c <= to; c++) chosen.push(c);
  }
  const seen = new Set<number>();
  for (const c of chosen) {
    if (seen.has(c)) fail(`column "${table.columns[c]}" is chosen twice`, table.columns[c]);
    seen.add(c);
  }
  return chosen;
}

/** The columns of a table not in `taken`, in file order. */
export function otherColumns(table: DataTable, taken: number[]): number[] {
  const set = new Set(taken);
  return table.columns.map((_, c) => c).filter((c) => !set.has(c));
}
