import type { CommandModule } from 'yargs';
import { generateAutoencoder } from '../../generate/autoencoder.js';
import { generateBinaryData } from '../../generate/data.js';
import { generateRandomDag } from '../../generate/random-dag.js';
import { writeJson } from '../io.js';
import { forceOption } from '../options.js';
import { checkOutputs } from '../output-paths.js';

const parseList = (text: string): number[] => String(text).split(',').map((s) => Number(s.trim()));

export const generateCommand: CommandModule = {
  command: 'generate <what>',
  describe: 'Write a generated network or data set',
  builder: (yargs) =>
    yargs
      .positional('what', { choices: ['autoencoder', 'data', 'random-dag'] as const, describe: 'autoencoder: Section 4 sparse network; data: random binary strings, target = input; random-dag: large random sparse DAG', demandOption: true })
      .options({
        seed: { type: 'number', default: 1, describe: 'PRNG seed (xoshiro128**)' },
        out: { type: 'string', describe: 'output file ("-" or none: stdout)' },
        layers: { type: 'string', default: '100,30,10,30,100', describe: 'autoencoder: layer sizes, input first' },
        fan: { type: 'number', default: 5, describe: 'autoencoder: links per unit' },
        activation: { choices: ['sigmoid', 'tanh'] as const, default: 'sigmoid' as const, describe: 'autoencoder: activation (Section 4 initialisation for each)' },
        samples: { type: 'number', default: 16, describe: 'data: number of samples' },
        length: { type: 'number', default: 100, describe: 'data: bits per sample' },
        encoding: { choices: ['01', 'pm1'] as const, default: '01' as const, describe: 'data: input encoding (targets stay 0/1)' },
        density: { type: 'number', default: 0.5, describe: 'data: probability of a one' },
        units: { type: 'number', default: 1000, describe: 'random-dag: total units' },
        'fan-in': { type: 'number', default: 8, describe: 'random-dag: incoming edges per non-input unit' },
        outputs: { type: 'number', default: 10, describe: 'random-dag: output units' },
        levels: { type: 'number', default: 4, describe: 'random-dag: levels of non-input units' },
        skip: { type: 'number', default: 0, describe: 'random-dag: probability that an edge skips levels' },
        ...forceOption,
      }),
  handler: (argv) => {
    const a = argv as unknown as Record<string, never>;
    if (a.out !== undefined) checkOutputs([{ option: '--out', path: a.out, kind: 'file', stdout: true }], { force: a.force });
    if (a.what === 'autoencoder') {
      writeJson(a.out, generateAutoencoder({ layers: parseList(a.layers), fan: a.fan, activation: a.activation, seed: a.seed }));
    } else if (a.what === 'random-dag') {
      writeJson(a.out, generateRandomDag({ units: a.units, fanIn: a['fan-in'], outputs: a.outputs, levels: a.levels, skip: a.skip, activation: a.activation, seed: a.seed }));
    } else {
      writeJson(a.out, generateBinaryData({ samples: a.samples, length: a.length, encoding: a.encoding, density: a.density, seed: a.seed }));
    }
  },
};
