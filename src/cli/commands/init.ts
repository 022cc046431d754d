import type { CommandModule } from 'yargs';
import { initialiseNetwork, INIT_SCHEMES, type InitScheme } from '../../generate/init.js';
import { readNetworkSkeletonFile } from '../../network/load.js';
import { printWarnings, writeJson } from '../io.js';
import { forceOption } from '../options.js';
import { checkOutputs } from '../output-paths.js';

export const initCommand: CommandModule = {
  command: 'init <network>',
  describe: 'Draw the weights and biases of a network (any DAG, e.g. hand-written without weights): paper (Section 4), glorot or he',
  builder: (yargs) =>
    yargs.positional('network', { type: 'string', demandOption: true, describe: 'network JSON file; "weight" and "bias" may be missing' }).options({
      scheme: {
        choices: INIT_SCHEMES,
        demandOption: true,
        describe: 'paper: N(0, 1/fan-in), zero biases (sigmoid units: 4x that, bias -sum(w)/2; Section 4); glorot: uniform, variance 2/(fan-in of the target + fan-out of the source), zero biases; he: N(0, 2/fan-in), zero biases',
      },
      seed: { type: 'number', default: 1, describe: 'PRNG seed (xoshiro128**)' },
      keep: { type: 'boolean', default: false, describe: 'keep the weights and biases the file has; draw only the missing ones (default: replace all)' },
      out: { type: 'string', demandOption: true, describe: 'output network file ("-" for stdout)' },
      ...forceOption,
    }),
  handler: (argv) => {
    const file = argv.network as string;
    checkOutputs([{ option: '--out', path: argv.out as string, kind: 'file', stdout: true }], { force: argv.force as boolean });
    const { document, warnings } = readNetworkSkeletonFile(file);
    printWarnings(warnings, file);
    writeJson(argv.out as string, initialiseNetwork(document, { scheme: argv.scheme as InitScheme, seed: argv.seed as number, keep: argv.keep as boolean }));
  },
};
