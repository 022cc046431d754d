import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UnitwiseError, UsageError, problem } from '../errors.js';
import { benchmarkCommand } from './commands/benchmark.js';
import { compareDirectionsCommand } from './commands/compare-directions.js';
import { convertCommand } from './commands/convert.js';
import { dataCommand } from './commands/data.js';
import { evaluateCommand, predictCommand } from './commands/evaluate.js';
import { generateCommand } from './commands/generate.js';
import { initCommand } from './commands/init.js';
import { inspectCommand } from './commands/inspect.js';
import { invarianceCommand } from './commands/invariance.js';
import { plotCommand } from './commands/plot.js';
import { quickstartCommand } from './commands/quickstart.js';
import { replicateCommand } from './commands/replicate.js';
import { stepCommand } from './commands/step.js';
import { sweepCommand } from './commands/sweep.js';
import { trainCommand } from './commands/train.js';
import { validateCommand } from './commands/validate.js';
import { workerCommand } from './commands/worker.js';

/** Exit codes: 0 success, 1 invalid input or numerical failure, 2 usage error (options). */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

/** Runs the CLI on `args`; the only place that prints errors and sets the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    await yargs(joinOptionValues(args))
      .scriptName('unitwise')
      .command([generateCommand, initCommand, dataCommand, validateCommand, inspectCommand, stepCommand, trainCommand, evaluateCommand, predictCommand, invarianceCommand, compareDirectionsCommand, replicateCommand, benchmarkCommand, sweepCommand, workerCommand, convertCommand, plotCommand, quickstartCommand])
      .demandCommand(1, 'give a command; see --help')
      .strict()
      .parserConfiguration({ 'duplicate-arguments-array': false })
      .wrap(Math.min(110, process.stdout.columns ?? 110))
      .fail((message, error) => {
        throw error ?? new UsageError([problem('usage', `${message}\nRun 'unitwise --help' for usage.`)]);
      })
      .parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof UnitwiseError) {
      process.stderr.write(err.message + '\n');
      return err instanceof UsageError ? EXIT.usage : EXIT.invalid;
    }
    throw err;
  }
}

/**
 * `--out -` as `--out=-` and `--epsilon -1e-4` as `--epsilon=-1e-4`: yargs' parser takes a lone
 * `-` for an unknown positional and a negative number in exponent notation for short flags
 * (`-1`, `-e`, ...) rather than the option's value. Both are meant as values.
 */
export function joinOptionValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const value = args[i + 1];
    if (/^--[^=]+$/.test(args[i]) && value !== undefined && (value === '-' || /^-(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value))) joined.push(`${args[i++]}=${value}`);
    else joined.push(args[i]);
  }
  return joined;
}

// A closed pipe (`unitwise inspect ... | head`) is not an error of ours: stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.exitCode = await main(hideBin(process.argv));
