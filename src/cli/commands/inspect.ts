import type { CommandModule } from 'yargs';
import { inspectModel } from '../../engine/inspect.js';
import { loadData, loadModel, writeJson } from '../io.js';

export const inspectCommand: CommandModule = {
  command: 'inspect <network>',
  describe: 'Print JSON: activations per sample, loss in bits, gradient per edge and bias',
  builder: (yargs) =>
    yargs
      .positional('network', { type: 'string', demandOption: true, describe: 'network JSON file' })
      .options({ data: { type: 'string', demandOption: true, describe: 'data JSON file' } }),
  handler: (argv) => {
    const model = loadModel(argv.network as string);
    const data = loadData(argv.data as string, model);
    writeJson('-', inspectModel(model, data));
  },
};
