import { dirname, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { readText } from '../../network/load.js';
import { markdownForTerminal } from '../../replicate/tables.js';
import { localEngine, openQueueEngine, type SweepEngine } from '../../sweep/engine.js';
import { QUEUE_DEFAULTS } from '../../sweep/queue-settings.js';
import { progressLine, runSweep, type SweepProgress } from '../../sweep/run-sweep.js';
import { parseSweepSpec } from '../../sweep/spec.js';
import { problem, type Problem } from '../../errors.js';
import { amountProblem, countProblem, refuse } from '../../train/options-check.js';

/** Options of the commands that can send their jobs to a queue (`sweep`, `replicate autoencoder`). */
export const queueOptions = {
  queue: { type: 'string' as const, describe: 'redis://HOST:PORT: enqueue the jobs on this Redis (BullMQ) and wait for `unitwise worker` processes to run them; default: the local worker-thread pool' },
  'checkpoint-every': { type: 'number' as const, describe: `--queue: seconds between a job’s checkpoints (default ${QUEUE_DEFAULTS.checkpointSeconds}; a job taken over by another worker resumes from its last)` },
};

export const sweepCommand: CommandModule = {
  command: 'sweep <spec>',
  describe: 'Run a sweep file (schema/sweep.schema.json): one job per grid point, each written to --out/jobs/<digest>.json as it finishes, then tables and figures; on the local pool or, with --queue, on workers',
  builder: (yargs) =>
    yargs.positional('spec', { type: 'string', demandOption: true, describe: 'sweep file (JSON)' }).options({
      out: { type: 'string', demandOption: true, describe: 'output folder: sweep.json, jobs/, table.md, table.csv, timing.md, figure.svg (and the replication report for a Section 4 grid)' },
      resume: { type: 'boolean', default: false, describe: 'continue a partial sweep in --out (finished jobs never run again)' },
      workers: { type: 'number', describe: 'local pool: worker threads (default: number of cores); results do not depend on it' },
      ...queueOptions,
      quiet: { type: 'boolean', default: false, describe: 'no progress output' },
    }),
  handler: async (argv) => {
    const file = argv.spec as string;
    const out = argv.out as string;
    refuse([countProblem('--workers', argv.workers as number | undefined, 'worker threads'), ...queueOptionProblems(argv)]);
    const spec = parseSweepSpec(readText(file), file);
    const engine = await engineFor(argv);
    const say = (line: string) => process.stdout.write(line + '\n');
    try {
      const summary = await runSweep(spec, out, { engine, base: dirname(file), resume: argv.resume as boolean, checkpointSeconds: argv['checkpoint-every'] as number | undefined, onProgress: progressPrinter(argv.quiet as boolean) });
      if (summary.upToDate) {
        say(`nothing to do: all ${summary.total} jobs of this sweep are finished in ${out} (its tables are there)`);
        return;
      }
      say(markdownForTerminal(summary.table));
      say(`${summary.ran} jobs run on the ${engine.name}${summary.previously ? `, ${summary.previously} finished before` : ''}, in ${summary.wallSeconds.toFixed(1)} s; results in ${resolve(out)}${summary.replication ? ' (with the replication report, index.html)' : ''}`);
    } finally {
      await engine.close();
    }
  },
};

/** Problems with the queue options: --checkpoint-every needs --queue, --workers is the local pool's (the workers' --concurrency sets a queue's). */
export function queueOptionProblems(argv: Record<string, unknown>): Array<Problem | undefined> {
  const queued = argv.queue !== undefined;
  return [
    amountProblem('--checkpoint-every', argv['checkpoint-every'] as number | undefined, 'seconds between checkpoints'),
    !queued && argv['checkpoint-every'] !== undefined ? problem('checkpoint-every', '--checkpoint-every applies to jobs on a queue (--queue); the local pool does not checkpoint: drop it or give --queue') : undefined,
    queued && argv.workers !== undefined ? problem('workers', '--workers sets the local pool’s threads; with --queue the jobs run on `unitwise worker` processes (their --concurrency): drop --workers') : undefined,
  ];
}

/** The engine the options ask for: the queue at --queue, else the local pool. */
export async function engineFor(argv: Record<string, unknown>): Promise<SweepEngine> {
  const url = argv.queue as string | undefined;
  if (url === undefined) return localEngine({ workers: argv.workers as number | undefined });
  return openQueueEngine(url);
}

/** Progress on stderr: one line rewritten on a terminal, a line every 5 s (and at each change of counts) otherwise. */
export function progressPrinter(quiet: boolean): (p: SweepProgress) => void {
  let last = '';
  let lastTime = 0;
  return (p) => {
    if (quiet) return;
    const line = progressLine(p);
    const counts = [p.done, p.running, p.failed, p.retried].join('/');
    const now = performance.now();
    if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
    else if (counts !== last || now - lastTime > 5000) {
      process.stderr.write(line + '\n');
      lastTime = now;
    }
    last = counts;
  };
}
