import { createModel, type Model } from '../engine/model.js';
import { stringifyJson } from '../json/stringify-json.js';
import { writeJsonFile } from '../json/write-json.js';
import { loadDataFile, type TableDataOptions } from '../data/load-data.js';
import { readNetworkFile } from '../network/load.js';
import type { DataDocument } from '../network/types.js';
import { formatProblems, type Problem } from '../errors.js';

/**
 * Writes JSON to `path` atomically (temporary file in the same folder, then rename), or to stdout
 * for '-'. The temporary file is removed when the write fails. Check paths first with `checkOutputs`.
 */
export function writeJson(path: string | undefined, value: unknown): void {
  if (path === undefined || path === '-') {
    process.stdout.write(stringifyJson(value));
    return;
  }
  writeJsonFile(path, value);
}

/** Prints validation warnings on stderr, one line each. */
export function printWarnings(warnings: Problem[], file: string): void {
  if (warnings.length > 0) process.stderr.write(formatProblems(warnings, file) + '\n');
}

/** Reads, validates and compiles a network file (warnings to stderr). */
export function loadModel(path: string): Model {
  const { document, warnings } = readNetworkFile(path);
  printWarnings(warnings, path);
  return createModel(document);
}

/** Reads a data file (JSON, CSV or .npy by extension; see `loadDataFile`) and validates it against a model. */
export function loadData(path: string, model: Model, options: TableDataOptions = {}): DataDocument {
  return loadDataFile(path, model.net, options);
}
