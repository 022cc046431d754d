import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NumericalError, UsageError, problem } from '../errors.js';
import { writeSweepAggregates, type FinishedJob } from './aggregate.js';
import type { EngineCounts, FailedJob, SweepEngine } from './engine.js';
import type { JobInput } from './job.js';
import { QUEUE_DEFAULTS } from './queue-settings.js';
import { expandSweep, type PlannedJob, type SweepSpec } from './spec.js';
import { openSweepFolder, readJobFile, readRunInfo, writeJobOutcome } from './store.js';

/** Progress of a sweep: the engine's counts over the jobs left, with totals and an estimate of the time left. */
export interface SweepProgress extends EngineCounts {
  /** Jobs of the sweep, and those finished before this session. */
  total: number;
  previously: number;
  /** Seconds since this session started, and the estimated seconds left (once a job finished). */
  elapsed: number;
  eta?: number;
}

/** Options of {@link runSweep}. */
export interface RunSweepOptions {
  engine: SweepEngine;
  /** Continue a partial sweep in `dir` (without it, a partial sweep there is refused). */
  resume?: boolean;
  /** The folder may hold other files (a command that checked its own outputs, e.g. `replicate --queue`). */
  shared?: boolean;
  /** Seconds between a job's checkpoints (queue engine; default {@link QUEUE_DEFAULTS}.checkpointSeconds). */
  checkpointSeconds?: number;
  onProgress?: (progress: SweepProgress) => void;
  /** The sweep file's folder: a train sweep's files are relative to it (default: the working directory). */
  base?: string;
}

/** What {@link runSweep} did. */
export interface SweepSummary {
  total: number;
  /** Jobs finished before this session (never run again). */
  previously: number;
  /** Jobs run in this session. */
  ran: number;
  /** True when every job was finished already: nothing ran and nothing was written. */
  upToDate: boolean;
  /** The aggregated table (Markdown), and whether the replication's report was written too. */
  table: string;
  replication: boolean;
  wallSeconds: number;
}

/**
 * Runs a sweep into `dir`: each job whose result is not in `dir/jobs/` runs on the engine and
 * is written as it finishes; then the tables and figures are aggregated from every job's file.
 * Finished jobs never run again: a sweep whose jobs are all finished does nothing (it says so
 * through `upToDate`). A partial sweep needs `resume`. Jobs that fail for good are reported
 * together in a NumericalError after the others finished (their files are kept).
 */
export async function runSweep(spec: SweepSpec, dir: string, options: RunSweepOptions): Promise<SweepSummary> {
  const plan = expandSweep(spec, options.base);
  const unique = [...new Map(plan.map((p) => [p.digest, p])).values()];
  const folder = openSweepFolder(dir, spec, plan, { shared: options.shared });
  const previously = folder.finished.size;
  const started = performance.now();
  const aggregate = (ran: number, upToDate: boolean): SweepSummary => {
    const wallSeconds = (performance.now() - started) / 1000;
    const jobs: FinishedJob[] = plan.map((planned) => ({ planned, file: readJobFile(dir, planned.digest)!, run: readRunInfo(dir, planned.digest) }));
    const { table, replication } = writeSweepAggregates(dir, spec, jobs, wallSeconds);
    return { total: unique.length, previously, ran, upToDate, table, replication, wallSeconds };
  };
  if (previously === unique.length) {
    if (existsSync(join(dir, 'table.md'))) return { total: unique.length, previously, ran: 0, upToDate: true, table: '', replication: false, wallSeconds: 0 };
    return aggregate(0, false); // the jobs finished but the aggregation did not: write it now
  }
  if (folder.existed && previously > 0 && !options.resume) {
    throw new UsageError([problem('resume', `--out ${dir} holds this sweep part way (${previously} of ${unique.length} jobs finished); give --resume to continue it (finished jobs are not run again)`)]);
  }
  const byDigest = new Map<string, PlannedJob>(unique.map((p) => [p.digest, p]));
  const inputs: JobInput[] = unique.filter((p) => !folder.finished.has(p.digest)).map((p) => ({ digest: p.digest, job: 'located' in p ? p.located : p.job, checkpointSeconds: options.checkpointSeconds ?? QUEUE_DEFAULTS.checkpointSeconds }));
  let ran = 0;
  const failed: FailedJob[] = await options.engine.run(inputs, {
    onOutcome: (digest, outcome) => {
      const planned = byDigest.get(digest);
      if (!planned || readJobFile(dir, digest)) return; // NOTE: a job reported twice (an engine's retry race) is written once
      writeJobOutcome(dir, planned, outcome);
      ran++;
    },
    onCounts: (counts) => {
      const elapsed = (performance.now() - started) / 1000;
      const left = inputs.length - counts.done - counts.failed;
      options.onProgress?.({ ...counts, total: unique.length, previously, elapsed, ...(counts.done > 0 ? { eta: (elapsed / counts.done) * left } : {}) });
    },
  });
  if (failed.length > 0) {
    throw new NumericalError([
      ...failed.map((f) => problem('job-failed', `job ${f.digest.slice(0, 12)} (${describeJob(byDigest.get(f.digest))}) failed after its retries: ${f.error.replace(/^error: /, '')}`)),
      problem('job-failed', `${failed.length} of ${unique.length} jobs failed; the ${previously + ran} finished are kept in ${dir}/jobs: fix the cause and run the sweep again with --resume`),
    ]);
  }
  return aggregate(ran, false);
}

/** A job in words: row, activation, seed, rate, ε. */
export function describeJob(p: PlannedJob | undefined): string {
  if (!p) return 'unknown job';
  const { job } = p;
  if (job.kind === 'train') return `${job.row}, ${job.options.mode ?? 'batch'}, seed ${job.seed}, lr ${job.options.lr}, ε ${job.options.epsilon}, grid point ${'point' in p ? p.point : '?'}`;
  return `${job.row}, ${job.activation}, seed ${job.seed}, lr ${job.options.lr}, ε ${job.options.epsilon}${job.options.backend && job.options.backend !== 'cpu' ? `, ${job.options.backend}` : ''}`;
}

/** A progress line: done, running, failed, retried, ETA. */
export function progressLine(p: SweepProgress): string {
  const done = p.previously + p.done;
  const eta = p.eta === undefined ? '' : `  ETA ${formatSeconds(p.eta)}`;
  return `${done}/${p.total} done  ${p.running} running  ${p.failed} failed  ${p.retried} retried  ${formatSeconds(p.elapsed)}${eta}`;
}

function formatSeconds(s: number): string {
  return s >= 90 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(0)} s`;
}
