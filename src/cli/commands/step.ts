import type { CommandModule } from 'yargs';
import { modelDocument } from '../../engine/model.js';
import type { MethodName } from '../../methods/methods.js';
import { stepModel } from '../../train/step.js';
import { loadData, loadModel, writeJson } from '../io.js';
import { methodOptions, prepareBackend } from '../options.js';

export const stepCommand: CommandModule = {
  command: 'step <network>',
  describe: 'Take one batch step w <- w + lr * δw (δw = A⁻¹G for the metric methods) on the whole data set and write the new network',
  builder: (yargs) =>
    yargs.positional('network', { type: 'string', demandOption: true, describe: 'network JSON file' }).options({
      data: { type: 'string', demandOption: true, describe: 'data JSON file' },
      ...methodOptions,
      lr: { type: 'number', default: 0.01, describe: 'learning rate η' },
      out: { type: 'string', demandOption: true, describe: 'output network file ("-" for stdout)' },
    }),
  handler: async (argv) => {
    const backend = await prepareBackend(argv.backend as string);
    const model = loadModel(argv.network as string);
    const data = loadData(argv.data as string, model);
    const result = stepModel(model, data, {
      method: argv.method as MethodName,
      lr: argv.lr as number,
      epsilon: argv.epsilon as number,
      mcSamples: argv['mc-samples'] as number,
      seed: argv.seed as number,
      backend,
    });
    writeJson(argv.out as string, modelDocument(model));
    process.stderr.write(`${argv.method}: loss ${result.lossBefore.toFixed(6)} -> ${result.lossAfter.toFixed(6)} bits per sample\n`);
  },
};
