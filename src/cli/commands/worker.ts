import type { CommandModule } from 'yargs';
import { serveQueue } from '../../sweep/engine.js';
import { QUEUE_DEFAULTS } from '../../sweep/queue-settings.js';
import { amountProblem, countProblem, refuse } from '../../train/options-check.js';

export const workerCommand: CommandModule = {
  command: 'worker',
  describe: 'Run the jobs of `sweep --queue` (and `replicate autoencoder --queue`) from Redis until stopped (Ctrl-C, SIGTERM); run one on every machine that should help',
  builder: (yargs) =>
    yargs.options({
      queue: { type: 'string', demandOption: true, describe: 'redis://HOST:PORT of the queue' },
      concurrency: { type: 'number', default: 1, describe: 'jobs at once, each in a worker thread (at most the cores)' },
      'lock-duration': { type: 'number', default: QUEUE_DEFAULTS.lockDurationMs / 1000, describe: 'seconds without a lock renewal after which a job counts as stalled (its worker dead) and another worker takes it over' },
      'stalled-interval': { type: 'number', default: QUEUE_DEFAULTS.stalledIntervalMs / 1000, describe: 'seconds between checks for stalled jobs' },
      quiet: { type: 'boolean', default: false, describe: 'no log lines' },
    }),
  handler: async (argv) => {
    refuse([countProblem('--concurrency', argv.concurrency as number, 'jobs at once'), amountProblem('--lock-duration', argv['lock-duration'] as number, 'seconds'), amountProblem('--stalled-interval', argv['stalled-interval'] as number, 'seconds')]);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await serveQueue(argv.queue as string, {
      concurrency: argv.concurrency as number,
      lockDurationMs: (argv['lock-duration'] as number) * 1000,
      stalledIntervalMs: (argv['stalled-interval'] as number) * 1000,
      signal: stop.signal,
      log: argv.quiet ? undefined : (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
  },
};
