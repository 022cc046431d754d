import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { FileFormatError, UsageError, problem } from '../errors.js';
import { createModel, modelDocument, type Model } from '../engine/model.js';
import { writeJsonFile } from '../json/write-json.js';
import { readNetworkFile, readText } from '../network/load.js';
import { parseRun, serialiseRun, type SavedRun } from './state-file.js';
import type { IterationRecord, TrainBudget } from './trainer.js';
import type { RunHeader } from '../json/run-header.js';
import { isValidationRecord, type ValidationRecord } from './validation.js';

/** The files of one `train` run: the network, its state beside it, and the optional JSONL log. */
export interface RunFiles {
  out: string;
  /** `OUT.state.json`. */
  statePath: string;
  log?: RunLog;
}

/** The state file beside a trained network. */
export const statePathOf = (out: string): string => `${out}.state.json`;

/**
 * The JSONL log of a run: records are buffered and appended at most once a second (and by
 * {@link writeCheckpoint}), so the log on disk never ends before the last saved state.
 */
export class RunLog {
  private buffer = '';
  private lastFlush = performance.now();

  constructor(readonly path: string) {}

  /**
   * Starts a new log (a read-only file is replaced: the caller checked --force), its first line
   * the record `{"header": ...}` when a run header is given (see `runHeader`); a resumed run
   * keeps the header it started with.
   */
  static fresh(path: string, header?: RunHeader): RunLog {
    rmSync(path, { force: true });
    writeFileSync(path, header === undefined ? '' : JSON.stringify({ header }) + '\n');
    return new RunLog(path);
  }

  /** Continues an existing log (made writable again: the caller checked --force). */
  static continued(path: string): RunLog {
    const { mode } = statSync(path);
    if ((mode & 0o200) === 0) chmodSync(path, mode | 0o200);
    return new RunLog(path);
  }

  /** Appends an iteration or a validation record (see `ValidationRecord`). */
  add(record: IterationRecord | ValidationRecord): void {
    this.buffer += JSON.stringify(record) + '\n';
    if (performance.now() - this.lastFlush > 1000) this.flush();
  }

  flush(): void {
    if (this.buffer) appendFileSync(this.path, this.buffer);
    this.buffer = '';
    this.lastFlush = performance.now();
  }
}

/** SHA-256 of the parameters' bytes: ties a network file to the state written with it. */
export function paramsDigest(params: Float64Array): string {
  return createHash('sha256').update(new Uint8Array(params.buffer, params.byteOffset, params.byteLength)).digest('hex');
}

/**
 * Saves a run so that `--resume` can continue it: flushes the log, then writes the network and
 * last the state (each atomically), so the log never ends before the saved state and a state
 * always describes a complete network. Used at the end of a run, on SIGINT/SIGTERM, and meant
 * for periodic checkpoints (`stoppedBy: 'checkpoint'`).
 */
export function writeCheckpoint(files: RunFiles, model: Model, run: Omit<SavedRun, 'log' | 'paramsDigest'>): void {
  files.log?.flush();
  writeJsonFile(files.out, modelDocument(model));
  writeJsonFile(files.statePath, serialiseRun({ ...run, log: files.log?.path ?? null, paramsDigest: paramsDigest(model.params) }));
}

/** The saved run at `out`, or undefined when there is none or it cannot be read. */
function readSavedRun(out: string): SavedRun | undefined {
  const statePath = statePathOf(out);
  if (!existsSync(out) || !existsSync(statePath)) return undefined;
  try {
    return parseRun(readText(statePath), statePath);
  } catch {
    return undefined;
  }
}

/** True when the saved run did not finish (older state files: judged by their budget). */
export function isUnfinished(run: SavedRun): boolean {
  if (run.stoppedBy !== undefined) return run.stoppedBy !== 'budget';
  const { iterations, seconds } = run.budget;
  return (iterations !== undefined && run.state.iteration < iterations) || (seconds !== undefined && run.state.elapsedSeconds < seconds);
}

/**
 * Refuses to start a fresh run over an interrupted one (OUT and OUT.state.json of an unfinished
 * run), which would throw its work away, unless `force`.
 */
export function refuseOverwritingUnfinished(out: string, force: boolean): void {
  const saved = readSavedRun(out);
  if (force || !saved || !isUnfinished(saved)) return;
  const budget = saved.budget.iterations !== undefined ? ` of ${saved.budget.iterations}` : '';
  throw new UsageError([problem('resume', `${out} holds an interrupted run (iteration ${saved.state.iteration}${budget}, state in ${statePathOf(out)}): continue it with --resume, or give --force to start over and replace it`)]);
}

/**
 * Checks the --log of a resumed run against its state: one was given exactly when the run kept
 * one, and it holds a record for every iteration up to the state's. Records past it (written
 * after the last save by a run that was then killed) are dropped; the returned line says so.
 */
export function reconcileLog(saved: SavedRun, logPath: string | undefined, statePath: string): string | undefined {
  const iteration = saved.state.iteration;
  if (saved.log && logPath === undefined) {
    throw new UsageError([problem('resume', `the run being resumed logs to ${saved.log} (recorded in ${statePath}); give --log ${saved.log} to continue that log`)]);
  }
  if (logPath === undefined) return undefined;
  if (saved.log === null) {
    throw new UsageError([problem('resume', `--log ${logPath}: the run being resumed kept no log, so a log started now would lack its first ${iteration} records; resume without --log`)]);
  }
  if (!existsSync(logPath)) throw new FileFormatError([problem('log', `the log of the run being resumed is missing (the state stops at iteration ${iteration}); restore it, or start over with --force`)], logPath);
  const text = readFileSync(logPath, 'utf8');
  let offset = 0;
  let line = 0;
  let physical = 0;
  // A header record first (logs of newer runs): not an iteration.
  const first = text.indexOf('\n');
  if (first >= 0 && /^\{"header":/.test(text)) {
    offset = first + 1;
    physical = 1;
  }
  // Iteration records 1 .. iteration, each possibly followed by the validation record made after it
  // (iteration 0's before the first); those after the state's last iteration belong to it too.
  for (;;) {
    const end = text.indexOf('\n', offset);
    if (end < 0) break;
    let record: { iteration?: unknown } | undefined;
    try {
      record = JSON.parse(text.slice(offset, end)) as { iteration?: unknown };
    } catch {
      if (line >= iteration) break; // a partial record past the state: dropped below
      throw new FileFormatError([problem('log', `line ${physical + 1} is not a JSON record; the log cannot be continued (restore it, or start over with --force)`)], logPath);
    }
    if (isValidationRecord(record)) {
      if (record.iteration !== line) throw new FileFormatError([problem('log', `line ${physical + 1} is a validation record of iteration ${String(record.iteration)} after iteration ${line}; this is not the log of the run in ${statePath}`)], logPath);
    } else if (line >= iteration) {
      break;
    } else if (record?.iteration !== line + 1) {
      throw new FileFormatError([problem('log', `line ${physical + 1} records iteration ${String(record?.iteration)}, expected ${line + 1}; this is not the log of the run in ${statePath}`)], logPath);
    } else {
      line++;
    }
    offset = end + 1;
    physical++;
  }
  if (line < iteration) {
    throw new FileFormatError([problem('log', `holds ${line} complete records but ${statePath} stops at iteration ${iteration}: records are missing; restore the log, or start over with --force`)], logPath);
  }
  if (offset === text.length) return undefined;
  const extra = text.slice(offset).split('\n').filter((l) => l !== '').length;
  truncateSync(logPath, Buffer.byteLength(text.slice(0, offset)));
  return `${logPath}: dropped ${extra} record${extra === 1 ? '' : 's'} past iteration ${iteration}, written after the last saved state; the resumed run rewrites them`;
}

/** Refuses a network file that is not the one saved with the state (a run stopped while saving). */
export function checkSavedParams(saved: SavedRun, model: Model, out: string, statePath: string): void {
  if (saved.paramsDigest !== undefined && saved.paramsDigest !== paramsDigest(model.params)) {
    throw new FileFormatError([problem('resume', `its parameters are not those saved with ${statePath} (the run was stopped while saving): it cannot be resumed; start over with --force`)], out);
  }
}

/** The saved network of an interrupted run, checked to be the same network as the starting one. */
function resumeModel(start: Model, out: string): Model {
  const { document } = readNetworkFile(out);
  const same =
    document.nodes.length === start.document.nodes.length &&
    document.edges.length === start.document.edges.length &&
    document.nodes.every((n, i) => n.key === start.document.nodes[i].key) &&
    document.edges.every((e, i) => e.source === start.document.edges[i].source && e.target === start.document.edges[i].target);
  if (!same) throw new UsageError([problem('resume', `cannot resume: ${out} is not the same network as the starting one`)]);
  return createModel(document);
}

/**
 * The run saved at `out` (its state file beside it), ready to continue from `start`'s network:
 * the saved network (checked to be the same network, with the parameters saved with the state),
 * the saved state, and the budget (a measured `--backprop-equivalent` budget is the saved one,
 * not measured again). Throws a UsageError when there is nothing to resume.
 */
export function loadSavedRun(out: string, start: Model, budget: TrainBudget, backpropEquivalent: boolean): { saved: SavedRun; model: Model; budget: TrainBudget } {
  const statePath = statePathOf(out);
  if (!existsSync(statePath) || !existsSync(out)) throw new UsageError([problem('resume', `nothing to resume: ${out} and ${statePath} are written by an interrupted run`)]);
  const saved = parseRun(readText(statePath), statePath);
  const model = resumeModel(start, out);
  checkSavedParams(saved, model, out, statePath);
  return { saved, model, budget: backpropEquivalent && saved.budget.seconds !== undefined ? saved.budget : budget };
}

/**
 * A checkpoint period from the command line: `N` iterations, `Ns` seconds, or `0` for none.
 * Returns undefined for none; throws a UsageError naming the option otherwise.
 */
export function parseCheckpointEvery(text: string): { iterations?: number; seconds?: number } | undefined {
  const match = /^(\d+(?:\.\d+)?)(s?)$/.exec(text.trim());
  const value = match ? Number(match[1]) : NaN;
  if (!match || !Number.isFinite(value) || (!match[2] && !Number.isInteger(value))) {
    throw new UsageError([problem('checkpoint-every', `--checkpoint-every ${text}: give a whole number of iterations (500), seconds with an s (60s), or 0 for no checkpoints`)]);
  }
  if (value === 0) return undefined;
  return match[2] ? { seconds: value } : { iterations: value };
}
