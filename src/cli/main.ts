import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UnitwiseError, UsageError, problem } from '../errors.js';
import { convertCommand } from './commands/convert.js';
import { generateCommand } from './commands/generate.js';
import { inspectCommand } from './commands/inspect.js';
import { invarianceCommand } from './commands/invariance.js';
import { quickstartCommand } from './commands/quickstart.js';
import { replicateCommand } from './commands/replicate.js';
import { stepCommand } from './commands/step.js';
import { trainCommand } from './commands/train.js';
import { validateCommand } from './commands/validate.js';

/** Exit codes: 0 success, 1 invalid input or numerical failure, 2 usage error (options). */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

/** Runs the CLI on `args`; the only place that prints errors and sets the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    await yargs(joinStdoutValues(args))
      .scriptName('unitwise')
      .command([generateCommand, validateCommand, inspectCommand, stepCommand, trainCommand, invarianceCommand, replicateCommand, convertCommand, quickstartCommand])
      .demandCommand(1, 'give a command; see --help')
      .strict()
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
 * `--out -` as `--out=-`: yargs' parser takes a lone `-` for an unknown positional rather than
 * an option's value, but `-` (standard output) is a value several options document.
 */
export function joinStdoutValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (/^--[^=]+$/.test(args[i]) && args[i + 1] === '-') joined.push(`${args[i++]}=-`);
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
