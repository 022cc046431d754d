import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { createModel, type Model } from '../engine/model.js';
import { stringifyJson } from '../json/stringify-json.js';
import { readDataFile, readNetworkFile } from '../network/load.js';
import type { DataDocument } from '../network/types.js';
import { formatProblems, OutputError, problem, type Problem } from '../errors.js';

/**
 * Writes JSON to `path` atomically (temporary file in the same folder, then rename), or to stdout
 * for '-'. The temporary file is removed when the write fails. Check paths first with `checkOutputs`.
 */
export function writeJson(path: string | undefined, value: unknown): void {
  const text = stringifyJson(value);
  if (path === undefined || path === '-') {
    process.stdout.write(text);
    return;
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new OutputError([problem('output', `cannot write '${path}': ${(err as Error).message}`)]);
  }
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

/** Reads a data file and validates it against a model. */
export function loadData(path: string, model: Model): DataDocument {
  return readDataFile(path, model.net);
}
