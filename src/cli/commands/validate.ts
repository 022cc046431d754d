import type { CommandModule } from 'yargs';
import { formatProblems } from '../../errors.js';
import { createModel } from '../../engine/model.js';
import { loadDataFile } from '../../data/load-data.js';
import { readNetworkFile } from '../../network/load.js';
import { dataArgs, dataOptions } from '../options.js';

export const validateCommand: CommandModule = {
  command: 'validate <network>',
  describe: 'Check a network file (and optionally a data file); exit 1 with one message per problem',
  builder: (yargs) =>
    yargs
      .positional('network', { type: 'string', demandOption: true, describe: 'network JSON file' })
      .options({ data: { type: 'string', describe: 'data file (.json, .csv or .npy) to check against the network' }, ...dataOptions }),
  handler: (argv) => {
    const file = argv.network as string;
    const { document, warnings } = readNetworkFile(file);
    const { net } = createModel(document);
    if (warnings.length > 0) process.stdout.write(formatProblems(warnings, file) + '\n');
    process.stdout.write(`${file}: valid: ${net.nUnits} units (${net.nInputs} inputs, ${net.nOutputs} outputs), ${net.nEdges} edges, ${net.nParams} parameters, ${net.levelOffsets.length - 1} levels, ${net.interpretation}\n`);
    if (argv.data !== undefined) {
      const data = loadDataFile(argv.data as string, net, dataArgs(argv));
      process.stdout.write(`${argv.data}: valid: ${data.inputs.length} samples\n`);
    }
  },
};
