import type { CommandModule } from 'yargs';
import { UsageError, problem } from '../../errors.js';
import { convertData, convertNetwork, type ConvertTarget } from '../../transform/convert.js';
import { loadData, loadModel, writeJson } from '../io.js';
import { dataArgs, dataOptions, forceOption } from '../options.js';
import { checkOutputs } from '../output-paths.js';

export const convertCommand: CommandModule = {
  command: 'convert <network>',
  describe: 'Rewrite a network between sigmoid and tanh (Section 3.2, Def. 29) with identical outputs; sigmoid<->tanh only (linear, relu and softplus units are kept)',
  builder: (yargs) =>
    yargs.positional('network', { type: 'string', demandOption: true, describe: 'network JSON file' }).options({
      to: { choices: ['tanh', 'sigmoid'] as const, demandOption: true, describe: 'target activation' },
      out: { type: 'string', demandOption: true, describe: 'output network file ("-" for stdout)' },
      data: { type: 'string', describe: 'data file to convert alongside (inputs x -> 2x-1 or (x+1)/2)' },
      ...dataOptions,
      'data-out': { type: 'string', describe: 'where to write the converted data' },
      ...forceOption,
    }),
  handler: (argv) => {
    const file = argv.network as string;
    if ((argv.data === undefined) !== (argv['data-out'] === undefined)) {
      throw new UsageError([problem('data-out', '--data and --data-out go together: give both to convert a data file, or neither')]);
    }
    const dataOut = argv['data-out'] as string | undefined;
    checkOutputs(
      [{ option: '--out', path: argv.out as string, kind: 'file', stdout: true }, ...(dataOut === undefined ? [] : [{ option: '--data-out', path: dataOut, kind: 'file' as const }])],
      { force: argv.force as boolean },
    );
    const model = loadModel(file);
    const to = argv.to as ConvertTarget;
    const data = argv.data === undefined ? undefined : loadData(argv.data as string, model, dataArgs(argv));
    const converted = convertNetwork(model.document, to).document;
    const convertedData = data && convertData(data, to);
    writeJson(argv.out as string, converted);
    if (convertedData) writeJson(dataOut, convertedData);
  },
};
