import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, problem } from '../errors.js';
import { writeJsonFile } from '../json/write-json.js';
import { canonicalJson } from './digest.js';
import type { JobOutcome, JobResult, JobRunInfo } from './job.js';
import type { PlannedJob, SweepJob, SweepSpec } from './spec.js';

/** A job's result file, `DIR/jobs/<digest>.json`: the job in full and its result (no times). */
export interface JobFile {
  format: 'unitwise-sweep-job';
  digest: string;
  job: SweepJob;
  result: JobResult;
}

/** The paths of a sweep folder: its spec, and per job its result and how it ran. */
export const sweepPaths = {
  spec: (dir: string) => join(dir, 'sweep.json'),
  jobs: (dir: string) => join(dir, 'jobs'),
  result: (dir: string, digest: string) => join(dir, 'jobs', `${digest}.json`),
  run: (dir: string, digest: string) => join(dir, 'jobs', `${digest}.run.json`),
};

/** The result of a finished job (its file exists and is the job's), or undefined. */
export function readJobFile(dir: string, digest: string): JobFile | undefined {
  const path = sweepPaths.result(dir, digest);
  if (!existsSync(path)) return undefined;
  try {
    const file = JSON.parse(readFileSync(path, 'utf8')) as JobFile;
    return file.format === 'unitwise-sweep-job' && file.digest === digest ? file : undefined;
  } catch {
    return undefined; // NOTE: files are written by rename, so a torn file is not ours: the job runs again
  }
}

/** How a job ran (`DIR/jobs/<digest>.run.json`), or undefined. */
export function readRunInfo(dir: string, digest: string): JobRunInfo | undefined {
  const path = sweepPaths.run(dir, digest);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as JobRunInfo) : undefined;
}

/**
 * Writes a finished job: how it ran first, then its result, each atomically (temporary file,
 * then rename). The result file's presence is what marks the job finished.
 */
export function writeJobOutcome(dir: string, planned: PlannedJob, outcome: JobOutcome): void {
  writeJsonFile(sweepPaths.run(dir, planned.digest), outcome.run);
  const file: JobFile = { format: 'unitwise-sweep-job', digest: planned.digest, job: planned.job, result: outcome.result };
  writeJsonFile(sweepPaths.result(dir, planned.digest), file);
}

/** Where a sweep folder stands: how many of the sweep's jobs are finished there. */
export interface FolderState {
  /** The folder held this sweep already (its sweep.json). */
  existed: boolean;
  finished: Set<string>;
}

/**
 * Opens `dir` for `spec`: a new folder gets the spec (`sweep.json`) and `jobs/`; a folder of
 * the same sweep reports its finished jobs. A folder of another sweep, or a non-empty folder
 * that is no sweep's (unless `shared`: a command that checked its own outputs), is refused
 * (UsageError naming the folder).
 */
export function openSweepFolder(dir: string, spec: SweepSpec, plan: readonly PlannedJob[], options: { shared?: boolean } = {}): FolderState {
  const specPath = sweepPaths.spec(dir);
  if (existsSync(specPath)) {
    let same = false;
    try {
      same = canonicalJson(stripSchema(JSON.parse(readFileSync(specPath, 'utf8')))) === canonicalJson(stripSchema(spec));
    } catch {
      same = false;
    }
    if (!same) throw new UsageError([problem('out', `--out ${dir} holds another sweep (its sweep.json differs from this spec); give another --out folder, or the same spec to continue it`)]);
    const finished = new Set(plan.filter((p) => readJobFile(dir, p.digest) !== undefined).map((p) => p.digest));
    return { existed: true, finished };
  }
  if (!options.shared && existsSync(dir) && readdirSync(dir).length > 0) throw new UsageError([problem('out', `--out ${dir} is a non-empty folder without a sweep.json; give a new or empty folder`)]);
  mkdirSync(sweepPaths.jobs(dir), { recursive: true });
  writeJsonFile(specPath, spec);
  return { existed: false, finished: new Set() };
}

function stripSchema(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const rest = { ...(value as Record<string, unknown>) };
  delete rest.$schema;
  return rest;
}
