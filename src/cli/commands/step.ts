import type { CommandModule } from 'yargs';
import { modelDocument } from '../../engine/model.js';
import type { MethodName } from '../../methods/methods.js';
import { amountProblem, countProblem, refuse } from '../../train/options-check.js';
import { stepModel } from '../../train/step.js';
import { loadData, loadModel, writeJson } from '../io.js';
import { baselineArgs, baselineOptions, dataArgs, dataOptions, forceOption, guardCurvatureMemory, kroneckerArgs, kroneckerOptions, methodOptions, prepareBackend, threadsOption } from '../options.js';
import { checkOutputs } from '../output-paths.js';

export const stepCommand: CommandModule = {
  command: 'step <network>',
  describe: 'Take one batch step w <- w + lr * δw (δw = A⁻¹G for the metric methods) on the whole data set and write the new network',
  builder: (yargs) =>
    yargs.positional('network', { type: 'string', demandOption: true, describe: 'network JSON file' }).options({
      data: { type: 'string', demandOption: true, describe: 'data file (.json, .csv or .npy)' },
      ...dataOptions,
      ...methodOptions,
      ...threadsOption,
      ...kroneckerOptions,
      ...baselineOptions,
      lr: { type: 'number', default: 0.01, describe: 'learning rate η' },
      out: { type: 'string', demandOption: true, describe: 'output network file ("-" for stdout)' },
      ...forceOption,
    }),
  handler: async (argv) => {
    const out = argv.out as string;
    refuse([
      amountProblem('--lr', argv.lr as number, 'the learning rate η'),
      amountProblem('--epsilon', argv.epsilon as number, 'the regularisation ε', { zero: true }),
      countProblem('--mc-samples', argv['mc-samples'] as number, 'Monte-Carlo draws per sample'),
    ]);
    checkOutputs([{ option: '--out', path: out, kind: 'file', stdout: true }], { force: argv.force as boolean });
    const backend = await prepareBackend(argv.backend as string, argv['tfjs-backend'], argv.threads);
    const model = loadModel(argv.network as string);
    const data = loadData(argv.data as string, model, dataArgs(argv));
    guardCurvatureMemory(model.net, [argv.method as MethodName]);
    const result = stepModel(model, data, {
      method: argv.method as MethodName,
      lr: argv.lr as number,
      epsilon: argv.epsilon as number,
      mcSamples: argv['mc-samples'] as number,
      seed: argv.seed as number,
      ...kroneckerArgs(argv),
      ...baselineArgs(argv),
      backend,
    });
    writeJson(out, modelDocument(model));
    process.stderr.write(`${argv.method}: loss ${result.lossBefore.toFixed(6)} -> ${result.lossAfter.toFixed(6)} bits per sample\n`);
  },
};
