import { UsageError, problem, type Problem } from '../errors.js';
import type { RunHeader } from '../json/run-header.js';
import { readText } from '../network/load.js';

/** One iteration record of a training log (see `RunLog`): the loss after the iteration. */
export interface LogIteration {
  iteration: number;
  /** Seconds since training started. */
  elapsed: number;
  /** Training (batch) loss, bits per sample. */
  loss: number;
}

/** One validation record (`{"type": "validation", ...}`): held-out loss, and accuracy where the network has one. */
export interface LogValidation {
  iteration: number;
  elapsed: number;
  loss: number;
  accuracy?: number;
}

/** What a JSONL training log holds, as {@link parseRunLog} reads it. */
export interface RunLogData {
  path: string;
  /** The run header of the first line, when the log has one. */
  header?: RunHeader;
  iterations: LogIteration[];
  validations: LogValidation[];
  /** Records of types this reader does not know, by type (skipped). */
  skipped: Record<string, number>;
}

/**
 * Reads a JSONL training log as `unitwise train --log` writes it: an optional `{"header": ...}`
 * first line, then one record per line. Records without a `type` are iterations (numeric
 * `iteration`, `elapsed`, `loss`); `type: "validation"` records carry held-out `loss` and
 * optional `accuracy`; other types are skipped and counted. Blank lines are ignored. Every
 * malformed line is a problem naming the file and line; they come in one {@link UsageError}.
 */
export function parseRunLog(text: string, path: string): RunLogData {
  const out: RunLogData = { path, iterations: [], validations: [], skipped: {} };
  const problems: Problem[] = [];
  const bad = (line: number, why: string) => problems.length < 10 && problems.push(problem('log', `${path}:${line}: ${why}`));
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (err) {
      // A killed run can leave a truncated last line: say so rather than only "not JSON".
      const last = lines.slice(i + 1).every((l) => l.trim() === '');
      bad(line, `not a JSON record (${(err as Error).message})${last ? '; the log may have been cut off while written: delete the last line' : ''}`);
      return;
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) return void bad(line, 'a record must be a JSON object');
    const r = record as Record<string, unknown>;
    if ('header' in r) {
      if (line !== 1 && out.iterations.length + out.validations.length > 0) return void bad(line, 'a run header must be the first line of the log');
      if (typeof r.header !== 'object' || r.header === null || !Array.isArray((r.header as RunHeader).argv)) return void bad(line, 'the run header has no "argv" list');
      out.header = r.header as RunHeader;
      return;
    }
    const fields = (names: readonly string[]) => names.filter((k) => typeof r[k] !== 'number');
    if (r.type === undefined) {
      const missing = fields(['iteration', 'elapsed', 'loss']);
      if (missing.length > 0) return void bad(line, `an iteration record needs numeric ${missing.map((k) => `"${k}"`).join(', ')}`);
      out.iterations.push({ iteration: r.iteration as number, elapsed: r.elapsed as number, loss: r.loss as number });
    } else if (r.type === 'validation') {
      const missing = fields(['iteration', 'loss']);
      if (missing.length > 0) return void bad(line, `a validation record needs numeric ${missing.map((k) => `"${k}"`).join(', ')}`);
      if (r.accuracy !== undefined && typeof r.accuracy !== 'number') return void bad(line, '"accuracy" of a validation record must be a number');
      const v: LogValidation = { iteration: r.iteration as number, elapsed: typeof r.elapsed === 'number' ? r.elapsed : NaN, loss: r.loss as number };
      if (typeof r.accuracy === 'number') v.accuracy = r.accuracy;
      out.validations.push(v);
    } else {
      const type = String(r.type);
      out.skipped[type] = (out.skipped[type] ?? 0) + 1;
    }
  });
  if (problems.length > 0) throw new UsageError(problems);
  return out;
}

/** Reads and parses a training log file (see {@link parseRunLog}); an unreadable file is a `FileFormatError`. */
export function readRunLog(path: string): RunLogData {
  return parseRunLog(readText(path), path);
}
