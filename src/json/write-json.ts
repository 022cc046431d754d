import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OutputError, UnitwiseError, problem } from '../errors.js';
import { stringifyJson } from './stringify-json.js';

/**
 * Writes JSON to `path` atomically (a temporary file in the same folder, then a rename; numbers
 * round-trip exactly). The temporary file is removed when the write fails (an `OutputError`).
 */
export function writeJsonFile(path: string, value: unknown): void {
  writeTextFile(path, stringifyJson(value));
}

/** Writes `text` to `path` atomically, as {@link writeJsonFile} does. */
export function writeTextFile(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof UnitwiseError) throw err;
    throw new OutputError([problem('output', `cannot write '${path}': ${(err as Error).message}`)]);
  }
}
