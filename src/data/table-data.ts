import { DataFormatError, problem, type Problem } from '../errors.js';
import type { DataDocument } from '../network/types.js';
import { validateData, type DataShape } from '../network/validate-data.js';
import { locate, type DataTable } from './columns.js';

/** Where the inputs and targets of a data set come from: columns of one or two tables. */
export interface TableSelection {
  inputs: { table: DataTable; columns: number[] };
  targets: { table: DataTable; columns: number[] };
  /** Turn the single target column (class index or label) into one-hot rows of the network's width. */
  oneHot: boolean;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const MAX_PROBLEMS = 10;

/** A problem list that keeps the first {@link MAX_PROBLEMS} and counts the rest. */
class Problems {
  readonly list: Problem[] = [];
  private extra = 0;
  add(p: Problem): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push(p);
    else this.extra++;
  }
  throwIfAny(file: string): void {
    if (this.list.length === 0) return;
    const all = this.extra > 0 ? [...this.list, problem('more', `... and ${this.extra} more problem(s)`)] : this.list;
    throw new DataFormatError(all, file);
  }
}

/** Reads a cell as a finite number: a decimal (CSV text, surrounding spaces allowed) or a finite .npy value. */
function numberAt(table: DataTable, r: number, c: number, problems: Problems): number {
  const cell = table.cell(r, c);
  const value = typeof cell === 'number' ? cell : DECIMAL.test(cell.trim()) ? Number(cell.trim()) : NaN;
  if (!Number.isFinite(value)) {
    const at = locate(table, r, c);
    problems.add({ ...problem('non-number', `${at.text}: ${JSON.stringify(cell)} is not a finite number`), row: at.row, column: at.column });
  }
  return value;
}

/**
 * Class indices of a one-hot target column: integers 0..nOutputs-1 as they are, or else labels,
 * numbered in sorted (code point) order, of which there must be exactly nOutputs.
 */
function classIndices(table: DataTable, c: number, nOutputs: number, problems: Problems): number[] {
  const texts = Array.from({ length: table.rowCount }, (_, r) => String(table.cell(r, c)).trim());
  if (texts.every((t) => /^[+-]?\d+$/.test(t))) {
    return texts.map((t, r) => {
      const k = Number(t);
      if (k < 0 || k >= nOutputs) {
        const at = locate(table, r, c);
        problems.add({ ...problem('class-range', `${at.text}: class ${t} is out of range; the network's ${nOutputs} outputs take classes 0..${nOutputs - 1}`), row: at.row, column: at.column });
      }
      return k;
    });
  }
  const labels = [...new Set(texts)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (labels.length !== nOutputs) {
    const shown = labels.slice(0, 8).map((l) => JSON.stringify(l)).join(', ') + (labels.length > 8 ? ', ...' : '');
    problems.add({ ...problem('class-labels', `column ${JSON.stringify(table.columns[c])} has ${labels.length} distinct class labels (${shown}) but the network has ${nOutputs} outputs; labels are numbered in sorted order, so all ${nOutputs} must occur (or use integer classes 0..${nOutputs - 1})`), column: table.columns[c] });
  }
  const index = new Map(labels.map((l, k) => [l, k]));
  return texts.map((t) => index.get(t) as number);
}

/**
 * Builds a data document from selected table columns and validates it against the network like a
 * JSON data file (see `validateData`), with every message naming the file, row and column.
 * Throws {@link DataFormatError}.
 */
export function tableData(selection: TableSelection, shape: DataShape): DataDocument {
  const { inputs, targets } = selection;
  const widthProblem = (table: DataTable, got: number, want: number, what: string, option: string) => {
    if (got !== want) throw new DataFormatError([problem('column-count', `${got} ${what} column(s) are selected but the network has ${want} ${what} unit(s); choose them with ${option}`)], table.file);
  };
  widthProblem(inputs.table, inputs.columns.length, shape.nInputs, 'input', '--inputs');
  if (!selection.oneHot) widthProblem(targets.table, targets.columns.length, shape.nOutputs, 'output', '--targets');
  if (inputs.table.rowCount !== targets.table.rowCount) {
    throw new DataFormatError([problem('sample-count', `${inputs.table.file} has ${inputs.table.rowCount} data rows but ${targets.table.file} has ${targets.table.rowCount}; give one target row per input row`)], targets.table.file);
  }
  const inProblems = new Problems();
  const inRows = Array.from({ length: inputs.table.rowCount }, (_, r) => inputs.columns.map((c) => numberAt(inputs.table, r, c, inProblems)));
  inProblems.throwIfAny(inputs.table.file);
  const outProblems = new Problems();
  let outRows: number[][];
  if (selection.oneHot) {
    const classes = classIndices(targets.table, targets.columns[0], shape.nOutputs, outProblems);
    outRows = classes.map((k) => Array.from({ length: shape.nOutputs }, (_, j) => (j === k ? 1 : 0)));
  } else {
    outRows = Array.from({ length: targets.table.rowCount }, (_, r) => targets.columns.map((c) => numberAt(targets.table, r, c, outProblems)));
  }
  outProblems.throwIfAny(targets.table.file);
  const document = { inputs: inRows, targets: outRows };
  const { problems } = validateData(document, shape, MAX_PROBLEMS);
  if (problems.length === 0) return document;
  // Point each problem at its cell: paths are /inputs/s/j, /targets/s/j or /targets/s.
  const located = problems.map((p) => {
    const m = /^\/(inputs|targets)\/(\d+)(?:\/(\d+))?$/.exec(p.path ?? '');
    if (!m) return p;
    const part = m[1] === 'inputs' ? inputs : targets;
    const r = Number(m[2]);
    const j = m[3] === undefined ? (selection.oneHot || part.columns.length === 1 ? 0 : undefined) : selection.oneHot ? 0 : Number(m[3]);
    if (j === undefined) return { ...p, message: `${part.table.rowWord} ${part.table.rowNumber(r)}: ${p.message}`, row: part.table.rowNumber(r) };
    const at = locate(part.table, r, part.columns[j]);
    return { ...p, message: `${at.text}: ${p.message}`, row: at.row, column: at.column };
  });
  throw new DataFormatError(located, targets.table.file === inputs.table.file ? inputs.table.file : problems.some((p) => p.path?.startsWith('/inputs')) ? inputs.table.file : targets.table.file);
}
