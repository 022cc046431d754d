import { extname } from 'node:path';
import { problem, UsageError } from '../errors.js';
import { readDataFile, readText } from '../network/load.js';
import type { DataDocument } from '../network/types.js';
import type { DataShape } from '../network/validate-data.js';
import { otherColumns, selectColumns, type DataTable } from './columns.js';
import { parseCsv } from './csv-parse.js';
import { readNpyArray } from './npy.js';
import { tableData } from './table-data.js';

/** The data file formats, told apart by the file extension (anything else is read as JSON). */
export type DataFormat = 'json' | 'csv' | 'npy';

/**
 * How the columns of a CSV or .npy data file become inputs and targets. Selections are
 * comma-separated column names, 0-based indices or inclusive ranges `a..b` (`x1..x784`, `0..783`).
 */
export interface TableDataOptions {
  /** Input columns; default: every column that is not a target. */
  inputs?: string;
  /** Target columns (of `targetsData` when given); default: the columns that are not inputs, else the last k. */
  targets?: string;
  /** One-hot encode a single class column (integer 0..n-1, or labels numbered in sorted order). */
  oneHot?: boolean;
  /** A second CSV or .npy file holding the targets, row for row; the data file then holds the inputs. */
  targetsData?: string;
}

/** The format of a data file by its extension: `.csv`, `.npy`, else JSON. */
export function dataFormat(path: string): DataFormat {
  const ext = extname(path).toLowerCase();
  return ext === '.csv' ? 'csv' : ext === '.npy' ? 'npy' : 'json';
}

/** Reads a CSV file with a header row as a {@link DataTable} (rows are 1-based, the header is row 1). */
export function readCsvTable(path: string): DataTable {
  const { header, rows } = parseCsv(readText(path), path);
  return { file: path, columns: header, rowCount: rows.length, cell: (r, c) => rows[r][c], rowNumber: (r) => r + 2, rowWord: 'row' };
}

/** Reads a 1-D (one column) or 2-D .npy array as a {@link DataTable} with columns "0", "1", ... (rows are 0-based indices). */
export function readNpyTable(path: string): DataTable {
  const { shape, data } = readNpyArray(path);
  const width = shape.length === 1 ? 1 : shape[1];
  return { file: path, columns: Array.from({ length: width }, (_, c) => String(c)), rowCount: shape[0], cell: (r, c) => data[r * width + c], rowNumber: (r) => r, rowWord: 'row index' };
}

function readTable(path: string): DataTable {
  const format = dataFormat(path);
  if (format === 'json') throw new UsageError([problem('data-format', '--targets-data must be a .csv or .npy file')], path);
  return format === 'csv' ? readCsvTable(path) : readNpyTable(path);
}

/**
 * Reads inputs and targets from one or two tables (see {@link TableDataOptions}) and validates
 * them against the network. With one table and no selection, the last k columns are the targets:
 * k = 1 (a class column) when `oneHot` is set, or when the network is softmax with several outputs
 * and the table has exactly one column more than the network has inputs; else k = the number of
 * outputs. A single softmax target column with several outputs is one-hot encoded without `oneHot`.
 */
export function readTableData(data: DataTable, shape: DataShape, options: TableDataOptions = {}, targetsTable?: DataTable): DataDocument {
  let inputs: number[];
  let targets: number[];
  const targetSource = targetsTable ?? data;
  if (targetsTable) {
    inputs = options.inputs === undefined ? data.columns.map((_, c) => c) : selectColumns(options.inputs, data, '--inputs');
    targets = options.targets === undefined ? targetsTable.columns.map((_, c) => c) : selectColumns(options.targets, targetsTable, '--targets');
  } else if (options.inputs !== undefined || options.targets !== undefined) {
    inputs = options.inputs === undefined ? [] : selectColumns(options.inputs, data, '--inputs');
    targets = options.targets === undefined ? otherColumns(data, inputs) : selectColumns(options.targets, data, '--targets');
    if (options.inputs === undefined) inputs = otherColumns(data, targets);
  } else {
    const classColumn = options.oneHot || (shape.interpretation === 'softmax' && shape.nOutputs > 1 && data.columns.length === shape.nInputs + 1);
    const k = Math.min(classColumn ? 1 : shape.nOutputs, data.columns.length);
    targets = data.columns.map((_, c) => c).slice(data.columns.length - k);
    inputs = otherColumns(data, targets);
  }
  const overlap = inputs.filter((c) => targetSource === data && targets.includes(c));
  if (overlap.length > 0) throw new UsageError([problem('column-selection', `column "${data.columns[overlap[0]]}" is both an input and a target`)], data.file);
  const autoOneHot = shape.interpretation === 'softmax' && shape.nOutputs > 1 && targets.length === 1;
  if (options.oneHot && targets.length !== 1) {
    throw new UsageError([problem('one-hot', `--one-hot needs a single target column holding the class; ${targets.length} are selected`)], targetSource.file);
  }
  return tableData({ inputs: { table: data, columns: inputs }, targets: { table: targetSource, columns: targets }, oneHot: Boolean(options.oneHot) || autoOneHot }, shape);
}

/** Reads a CSV data file and validates it against the network (see {@link readTableData}). */
export function readCsvData(path: string, shape: DataShape, options: TableDataOptions = {}): DataDocument {
  return readTableData(readCsvTable(path), shape, options, options.targetsData === undefined ? undefined : readTable(options.targetsData));
}

/** Reads a .npy data file (and `options.targetsData`) and validates it against the network (see {@link readTableData}). */
export function readNpyData(path: string, shape: DataShape, options: TableDataOptions = {}): DataDocument {
  return readTableData(readNpyTable(path), shape, options, options.targetsData === undefined ? undefined : readTable(options.targetsData));
}

/**
 * Reads a data file of any format (by extension: `.csv`, `.npy`, else JSON) and validates it
 * against the network. Column options apply to CSV and .npy only; given with JSON they are a
 * {@link UsageError}.
 */
export function loadDataFile(path: string, shape: DataShape, options: TableDataOptions = {}): DataDocument {
  const format = dataFormat(path);
  if (format === 'csv') return readCsvData(path, shape, options);
  if (format === 'npy') return readNpyData(path, shape, options);
  const given = (['inputs', 'targets', 'oneHot', 'targetsData'] as const).filter((k) => options[k] !== undefined && options[k] !== false);
  if (given.length > 0) {
    const names = given.map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(', ');
    throw new UsageError([problem('data-options', `${names}: ${given.length === 1 ? 'this option applies' : 'these options apply'} only to .csv and .npy data files; this one is read as JSON {"inputs", "targets"}`)], path);
  }
  return readDataFile(path, shape);
}
