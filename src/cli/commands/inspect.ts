import type { CommandModule } from 'yargs';
import { UsageError, problem } from '../../errors.js';
import { inspectModel } from '../../engine/inspect.js';
import { QUANTITIES, type QuantityName } from '../../methods/quantities.js';
import type { MethodName } from '../../methods/methods.js';
import { loadData, loadModel, writeJson } from '../io.js';
import { amountProblem, baselineProblems, countProblem, kroneckerChoiceProblems, refuse } from '../../train/options-check.js';
import { baselineArgs, baselineOptions, dataArgs, dataOptions, guardCurvatureMemory, kroneckerArgs, kroneckerOptions, methodOptions, prepareBackend, threadsOption } from '../options.js';

export const inspectCommand: CommandModule = {
  command: 'inspect <network>',
  describe: 'Print JSON: activations per sample, loss in bits, gradient per edge and bias; with --method its direction; with --quantities J,phi,m,blocks the intermediate quantities',
  builder: (yargs) =>
    yargs.positional('network', { type: 'string', demandOption: true, describe: 'network JSON file' }).options({
      data: { type: 'string', demandOption: true, describe: 'data file (.json, .csv or .npy)' },
      ...dataOptions,
      ...methodOptions,
      ...threadsOption,
      ...kroneckerOptions,
      ...baselineOptions,
      method: { ...methodOptions.method, default: undefined, describe: 'also print this method’s direction δw' },
      quantities: { type: 'string', describe: `comma-separated: ${QUANTITIES.join(', ')} (transfer rates, Fisher modulus, backpropagated modulus, per-unit metric blocks, Kronecker factors of --method kflr|kfac|kfra)` },
    }),
  handler: async (argv) => {
    refuse([
      amountProblem('--epsilon', argv.epsilon as number, 'the regularisation ε', { zero: true }),
      countProblem('--mc-samples', argv['mc-samples'] as number, 'Monte-Carlo draws per sample'),
      ...kroneckerChoiceProblems(argv.method as string | undefined, kroneckerArgs(argv)),
      ...baselineProblems({ method: argv.method as MethodName | undefined, ...baselineArgs(argv) }),
    ]);
    const backend = await prepareBackend(argv.backend as string, argv['tfjs-backend'], argv.threads);
    const quantities = argv.quantities === undefined ? [] : String(argv.quantities).split(',').map((q) => q.trim());
    const unknown = quantities.filter((q) => !(QUANTITIES as readonly string[]).includes(q));
    if (unknown.length > 0) throw new UsageError([problem('quantities', `--quantities: unknown ${unknown.map((q) => `'${q}'`).join(', ')}; choose from ${QUANTITIES.join(', ')}`)]);
    const model = loadModel(argv.network as string);
    const data = loadData(argv.data as string, model, dataArgs(argv));
    // The blocks quantity is printed as JSON: about four times the blocks' own memory.
    guardCurvatureMemory(model.net, argv.method === undefined ? [] : [argv.method as MethodName], quantities.includes('blocks') ? { blocks: true, copies: 4 } : {});
    const report = inspectModel(model, data, {
      method: argv.method as MethodName | undefined,
      epsilon: argv.epsilon as number,
      mcSamples: argv['mc-samples'] as number,
      seed: argv.seed as number,
      quantities: quantities as QuantityName[],
      ...kroneckerArgs(argv),
      ...baselineArgs(argv),
      backend,
    });
    writeJson('-', report);
  },
};
