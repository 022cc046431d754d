import type { CommandModule } from 'yargs';
import { runQuickstart } from '../../quickstart.js';

export const quickstartCommand: CommandModule = {
  command: 'quickstart',
  describe: 'Default job (npm start): Section 4 autoencoder, its tanh twin, and batch backprop on both',
  builder: (yargs) =>
    yargs.options({
      seed: { type: 'number', default: 1, describe: 'seed of the network and data' },
      steps: { type: 'number', default: 1000, describe: 'backprop steps' },
      lr: { type: 'number', default: 0.3, describe: 'fixed learning rate' },
    }),
  handler: (argv) => {
    const out = (line: string) => process.stdout.write(line + '\n');
    out(`unitwise quickstart: Section 4 autoencoder 100-30-10-30-100 (seed ${argv.seed}), 16 random binary strings, Bernoulli outputs`);
    out('step  sigmoid (bits/sample)  tanh (bits/sample)');
    const result = runQuickstart({
      seed: argv.seed as number,
      steps: argv.steps as number,
      lr: argv.lr as number,
      onRow: (row) => out(`${String(row.step).padStart(4)}  ${row.sigmoidBits.toFixed(3).padStart(21)}  ${row.tanhBits.toFixed(3).padStart(18)}`),
    });
    out(`network: ${result.units} units, ${result.edges} edges; sigmoid and converted tanh twin agree to ${result.initialOutputGap.toExponential(2)} before training`);
    out('backprop is not invariant (Section 3.2): the two trajectories part. Try `unitwise --help` for the commands.');
  },
};
