import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { machineInfo, BENCHMARK_FILES, writeBenchmarkReport } from '../../benchmark/report.js';
import { runBenchmark } from '../../benchmark/run.js';
import { BENCHMARK_DEFAULTS, BENCHMARK_METHODS, BENCHMARKS, benchmarkSpec, type BenchmarkName } from '../../benchmark/spec.js';
import { runHeader } from '../../json/run-header.js';
import { countProblem, refuse } from '../../train/options-check.js';
import { forceOption, parseMethodList } from '../options.js';
import { checkOutputs, makeReplaceable, type OutputSpec } from '../output-paths.js';
import { markdownForTerminal } from '../../replicate/tables.js';
import { openQueueEngine } from '../../sweep/engine.js';
import { queueOptionProblems, queueOptions } from './sweep.js';

const d = BENCHMARK_DEFAULTS;

export const benchmarkCommand: CommandModule = {
  command: 'benchmark <name>',
  describe: "Ollivier's methods against K-FAC, KFLR, KFRA, Adam, momentum and backprop on MNIST, the same wall-clock budget each (report in --out)",
  builder: (yargs) =>
    yargs.positional('name', { choices: BENCHMARKS, demandOption: true, describe: 'mnist-autoencoder (seed 002’s benchmark, scaled) or mnist-classifier' }).options({
      out: { type: 'string', demandOption: true, describe: 'output folder (results.json, table.md, SVG figures, report.md, index.html)' },
      budget: { type: 'number', default: d.budgetSeconds, describe: 'training seconds per method and run (evaluation not counted)' },
      runs: { type: 'number', default: d.runs, describe: 'independent runs (run r: split, network and batches from seed + r)' },
      methods: { type: 'string', describe: `comma-separated methods (default: ${BENCHMARK_METHODS.join(', ')})` },
      workers: { type: 'number', describe: 'worker threads (default: number of cores); methods share the cores, so more workers than cores slows each' },
      sparse: { type: 'boolean', default: false, describe: 'fan-in 20 instead of dense layers' },
      'full-size': { type: 'boolean', default: false, describe: 'autoencoder: 28×28 images and 784-1000-500-250-30-250-500-1000-784 (seed 002’s network)' },
      seed: { type: 'number', default: d.seed, describe: 'base seed' },
      train: { type: 'number', default: d.train, describe: 'training images' },
      test: { type: 'number', default: d.test, describe: 'test images' },
      'train-eval': { type: 'number', default: d.trainEval, describe: 'training images the training loss is measured on (the first ones)' },
      'batch-size': { type: 'number', default: d.batchSize, describe: 'images per mini-batch, every method' },
      'eval-points': { type: 'number', default: d.evalPoints, describe: 'evaluations after the initial one, evenly spaced in training time' },
      'search-budget': { type: 'number', default: d.searchSeconds, describe: 'seconds per learning-rate candidate of adam, momentum and backprop' },
      quiet: { type: 'boolean', default: false, describe: 'no progress output' },
      queue: queueOptions.queue,
      ...forceOption,
    }),
  handler: async (argv) => {
    const name = argv.name as BenchmarkName;
    refuse([countProblem('--workers', argv.workers as number | undefined, 'worker threads'), ...queueOptionProblems(argv)]);
    const spec = benchmarkSpec(name, {
      methods: parseMethodList(argv.methods as string | undefined, BENCHMARK_METHODS),
      budgetSeconds: argv.budget as number,
      runs: argv.runs as number,
      seed: argv.seed as number,
      sparse: argv.sparse as boolean,
      fullSize: argv['full-size'] as boolean,
      train: argv.train as number,
      test: argv.test as number,
      trainEval: argv['train-eval'] as number,
      batchSize: argv['batch-size'] as number,
      evalPoints: argv['eval-points'] as number,
      searchSeconds: argv['search-budget'] as number,
    });
    const out = argv.out as string;
    const folder: OutputSpec = { option: '--out', path: out, kind: 'folder', files: BENCHMARK_FILES };
    checkOutputs([folder], { force: argv.force as boolean });
    const machine = machineInfo();
    const started = performance.now();
    const progress = (phase: string, done: number, total: number) => {
      if (argv.quiet) return;
      const line = `${phase === 'search' ? 'learning-rate search' : 'runs'}: ${done}/${total} jobs  ${((performance.now() - started) / 1000).toFixed(0)} s`;
      process.stderr.write(process.stderr.isTTY ? `\r${line}${done === total ? '\n' : ''}` : `${line}\n`);
    };
    const engine = argv.queue === undefined ? undefined : await openQueueEngine(argv.queue as string);
    let result;
    try {
      result = await runBenchmark(spec, { workers: argv.workers as number | undefined, onProgress: progress, ...(engine ? { runner: (fn, inputs, o) => engine.runPool(fn, inputs, o) } : {}) });
    } finally {
      await engine?.close();
    }
    const wallSeconds = (performance.now() - started) / 1000;
    machine.loadEnd = Number(loadavg()[0].toFixed(2));
    const header = runHeader({ argv: process.argv.slice(2), seeds: { seed: spec.seed } });
    if (argv.force) makeReplaceable(folder);
    const { table } = writeBenchmarkReport(out, { result, header, machine, wallSeconds });
    process.stdout.write(markdownForTerminal(table) + '\n');
    process.stdout.write(`${spec.benchmark} in ${wallSeconds.toFixed(0)} s; the report is ${resolve(out, 'index.html')}\n`);
  },
};
