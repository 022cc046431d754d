import type { CommandModule } from 'yargs';
import { UsageError, problem } from '../../errors.js';
import { generateAutoencoder } from '../../generate/autoencoder.js';
import { generateBinaryData } from '../../generate/data.js';
import { INIT_SCHEMES, type InitScheme } from '../../generate/init.js';
import { generateMlp } from '../../generate/mlp.js';
import { generateRandomDag } from '../../generate/random-dag.js';
import { ACTIVATIONS, INTERPRETATIONS, type Activation, type Interpretation } from '../../network/types.js';
import { writeJson } from '../io.js';
import { forceOption } from '../options.js';
import { checkOutputs } from '../output-paths.js';

const parseList = (text: string): number[] => String(text).split(',').map((s) => Number(s.trim()));

/** `--fan-in`: a number, or 'dense' (mlp only); `fallback` when the option is absent. */
function parseFanIn(text: string | undefined, what: string, fallback: number | 'dense'): number | 'dense' {
  if (text === undefined) return fallback;
  if (String(text).trim() === 'dense') {
    if (what === 'mlp') return 'dense';
    throw new UsageError([problem('fan-in', `--fan-in dense: only 'generate mlp' builds dense layers; give random-dag a number of incoming edges per unit`)]);
  }
  const n = Number(text);
  if (String(text).trim() === '' || !Number.isInteger(n) || n < 1) throw new UsageError([problem('fan-in', `--fan-in ${text}: give a positive integer${what === 'mlp' ? " or 'dense'" : ''}`)]);
  return n;
}

/** The sigmoid/tanh-only generators refuse the activations only mlp builds. */
function sigmoidOrTanh(activation: Activation | undefined, what: string): 'sigmoid' | 'tanh' | undefined {
  if (activation === undefined || activation === 'sigmoid' || activation === 'tanh') return activation;
  throw new UsageError([problem('activation', `--activation ${activation}: 'generate ${what}' builds sigmoid or tanh networks (Section 4's initialisation); use 'generate mlp' for ${activation} units`)]);
}

export const generateCommand: CommandModule = {
  command: 'generate <what>',
  describe: 'Write a generated network or data set',
  builder: (yargs) =>
    yargs
      .positional('what', {
        choices: ['autoencoder', 'mlp', 'data', 'random-dag'] as const,
        describe: 'autoencoder: Section 4 sparse network; mlp: layered perceptron, dense or sparse, with optional skip connections; data: random binary strings, target = input; random-dag: large random sparse DAG',
        demandOption: true,
      })
      .options({
        seed: { type: 'number', default: 1, describe: 'PRNG seed (xoshiro128**)' },
        out: { type: 'string', describe: 'output file ("-" or none: stdout)' },
        layers: { type: 'string', describe: 'autoencoder, mlp: layer sizes, input first (autoencoder default 100,30,10,30,100; required for mlp)' },
        fan: { type: 'number', default: 5, describe: 'autoencoder: links per unit' },
        activation: { choices: ACTIVATIONS, describe: 'hidden activation; autoencoder, random-dag: sigmoid (default) or tanh, Section 4 initialisation for each; mlp: any (default tanh)' },
        interpretation: { choices: INTERPRETATIONS, describe: 'mlp, random-dag: output interpretation (default bernoulli); mlp outputs are sigmoid/tanh under bernoulli, linear otherwise' },
        init: { choices: INIT_SCHEMES, describe: 'mlp: weight initialisation (see `unitwise init`); default paper for tanh/sigmoid/linear, he for relu/softplus' },
        samples: { type: 'number', default: 16, describe: 'data: number of samples' },
        length: { type: 'number', default: 100, describe: 'data: bits per sample' },
        encoding: { choices: ['01', 'pm1'] as const, default: '01' as const, describe: 'data: input encoding (targets stay 0/1)' },
        density: { type: 'number', default: 0.5, describe: 'data: probability of a one' },
        units: { type: 'number', default: 1000, describe: 'random-dag: total units' },
        'fan-in': { type: 'string', describe: "mlp: exact number of random incoming units of the previous layer per unit, or 'dense' (default); random-dag: incoming edges per non-input unit (default 8)" },
        outputs: { type: 'number', default: 10, describe: 'random-dag: output units' },
        levels: { type: 'number', default: 4, describe: 'random-dag: levels of non-input units' },
        skip: { type: 'number', default: 0, describe: 'mlp: probability that a unit of layer l is also linked from each unit of layers 0..l-2; random-dag: probability that an edge skips levels' },
        ...forceOption,
      }),
  handler: (argv) => {
    const a = argv as unknown as Record<string, never>;
    const what = a.what as string;
    if (a.out !== undefined) checkOutputs([{ option: '--out', path: a.out, kind: 'file', stdout: true }], { force: a.force });
    const layers = a.layers === undefined ? undefined : parseList(a.layers);
    const activation = a.activation as Activation | undefined;
    const interpretation = a.interpretation as Interpretation | undefined;
    if (what === 'autoencoder') {
      writeJson(a.out, generateAutoencoder({ layers, fan: a.fan, activation: sigmoidOrTanh(activation, what), seed: a.seed }));
    } else if (what === 'mlp') {
      if (layers === undefined) throw new UsageError([problem('layers', "--layers: 'generate mlp' needs the layer sizes, input first, e.g. --layers 784,300,100,10")]);
      const init = a.init as InitScheme | undefined;
      writeJson(a.out, generateMlp({ layers, fanIn: parseFanIn(a['fan-in'], what, 'dense'), skip: a.skip, activation, interpretation, init, seed: a.seed }));
    } else if (what === 'random-dag') {
      writeJson(a.out, generateRandomDag({ units: a.units, fanIn: parseFanIn(a['fan-in'], what, 8) as number, outputs: a.outputs, levels: a.levels, skip: a.skip, activation: sigmoidOrTanh(activation, what), interpretation, seed: a.seed }));
    } else {
      writeJson(a.out, generateBinaryData({ samples: a.samples, length: a.length, encoding: a.encoding, density: a.density, seed: a.seed }));
    }
  },
};
