/**
 * Typed errors. Every error the library raises on bad input is a {@link UnitwiseError}
 * carrying one or more {@link Problem}s; the CLI prints them, one line each, and exits 1.
 */

/** One finding of a validator: what is wrong, where, and how to fix it. */
export interface Problem {
  severity: 'error' | 'warning';
  /** Stable machine-readable kind, e.g. `cycle`, `duplicate-edge`, `row-length`. */
  code: string;
  /** Human message naming the unit, edge or row at fault and how to fix it. */
  message: string;
  /** JSON pointer into the document (`/edges/12/attributes/weight`), when there is one. */
  path?: string;
  /** Row of a table file at fault (CSV: 1-based record number, the header is row 1; .npy: 0-based row index). */
  row?: number;
  /** Column of a table file at fault (CSV: header name; .npy: 0-based index as text). */
  column?: string;
}

/** Base class of every error raised on bad input. `file` is the file at fault, if known. */
export class UnitwiseError extends Error {
  readonly problems: Problem[];
  readonly file: string | undefined;

  constructor(problems: Problem[], file?: string) {
    super(formatProblems(problems, file));
    this.name = new.target.name;
    this.problems = problems;
    this.file = file;
  }
}

/** A file that cannot be read, or is not valid JSON (with line and column). */
export class FileFormatError extends UnitwiseError {}
/** A network document that breaks the format of `schema/network.schema.json`. */
export class NetworkFormatError extends UnitwiseError {}
/** A data file that does not fit its network (row lengths, target ranges, ...). */
export class DataFormatError extends UnitwiseError {}
/** Options that contradict each other or the network (e.g. an unknown method). */
export class UsageError extends UnitwiseError {}
/** An output path that cannot be written (missing folder, a folder where a file goes, a read-only file, ...). */
export class OutputError extends UnitwiseError {}
/** A numerical failure the engine refuses to hide (e.g. a non-finite loss). */
export class NumericalError extends UnitwiseError {}
/** A job queue (Redis, for `sweep --queue` and `worker`) that cannot be reached or went away. */
export class QueueError extends UnitwiseError {}

/** One line per problem, prefixed with the file name when there is one. */
export function formatProblems(problems: Problem[], file?: string): string {
  const prefix = file ? `${file}: ` : '';
  return problems.map((p) => `${prefix}${p.severity}: ${p.message}`).join('\n');
}

/** Shorthand for a single-problem error. */
export function problem(code: string, message: string, path?: string): Problem {
  return path === undefined ? { severity: 'error', code, message } : { severity: 'error', code, message, path };
}

/** Shorthand for a warning. */
export function warning(code: string, message: string, path?: string): Problem {
  return { ...problem(code, message, path), severity: 'warning' };
}

/** A JSON value as shown in a message: `(missing)` for undefined, else its JSON, cut at 40 characters. */
export function show(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? text.slice(0, 37) + '...' : text;
}
