import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { ALONG_PLOTS, alongChart, alongOptionProblems, compareAlong, type AlongPlot, type AlongRecord } from '../../directions/along.js';
import { checkComparisonSize, compareDirections, compareOptionProblems, type CompareOptions, type DirectionComparison, type DirectionsAt } from '../../directions/compare.js';
import { problem, type Problem } from '../../errors.js';
import { writeTextFile } from '../../json/write-json.js';
import { METHODS, type MethodName } from '../../methods/methods.js';
import { refuse } from '../../train/options-check.js';
import { loadData, loadModel, writeJson } from '../io.js';
import { baselineArgs, baselineOptions, dataArgs, dataOptions, forceOption, guardCurvatureMemory, kroneckerArgs, kroneckerOptions, methodOptions, parseMethodList, prepareBackend, threadsOption } from '../options.js';
import { checkOutputs, type OutputSpec } from '../output-paths.js';

/** The options that only mean something with --along. */
const ALONG_ONLY = ['iterations', 'every', 'lr', 'log', 'svg', 'plot'] as const;

export const compareDirectionsCommand: CommandModule = {
  command: 'compare-directions <network>',
  describe: 'Compare each method’s direction δ with the exact natural gradient δ* = F_ε⁻¹G (Prop. 27): Euclidean and Fisher cosines, fraction of δ*’s second-order decrease, best step; --along records them during a training run',
  builder: (yargs) =>
    yargs.positional('network', { type: 'string', demandOption: true, describe: 'network JSON file (at most 4096 parameters: the whole Fisher matrix is built)' }).options({
      data: { type: 'string', demandOption: true, describe: 'data file (.json, .csv or .npy; the whole set is one batch)' },
      ...dataOptions,
      methods: { type: 'string', describe: `comma-separated methods to compare (default: every method, ${METHODS.join(', ')})` },
      epsilon: { ...methodOptions.epsilon, describe: 'ε of F_ε = F + εI (δ* = F_ε⁻¹G and the metric of the comparison) and of every method’s solve; 0: least squares' },
      'mc-samples': methodOptions['mc-samples'],
      seed: { ...methodOptions.seed, describe: 'seed of the Monte-Carlo draws (each method draws from its own PRNG of this seed)' },
      backend: methodOptions.backend,
      'tfjs-backend': methodOptions['tfjs-backend'],
      ...threadsOption,
      ...kroneckerOptions,
      ...baselineOptions,
      json: { type: 'boolean', default: false, describe: 'print JSON instead of the table' },
      along: { choices: METHODS, describe: 'train with this method (batch mode, adaptive rate) and compare at iterations 0, K, 2K, ... and N' },
      iterations: { type: 'number', describe: 'with --along: N, iterations of the run' },
      every: { type: 'number', describe: 'with --along: K, iterations between comparisons (default 1)' },
      lr: { type: 'number', describe: 'with --along: initial learning rate (default 0.01)' },
      log: { type: 'string', describe: 'with --along: JSONL file, one record per comparison ("-" for stdout)' },
      svg: { type: 'string', describe: 'with --along: SVG chart of --plot per method against the iteration' },
      plot: { choices: ALONG_PLOTS, describe: 'with --along: the quantity the SVG shows (default cos-fisher)' },
      ...forceOption,
      quiet: { type: 'boolean', default: false, describe: 'with --along: no progress on stderr' },
    }),
  handler: async (argv) => {
    const along = argv.along as MethodName | undefined;
    const options: CompareOptions = {
      methods: parseMethodList(argv.methods as string | undefined, METHODS),
      epsilon: argv.epsilon as number,
      mcSamples: argv['mc-samples'] as number,
      seed: argv.seed as number,
      ...kroneckerArgs(argv),
      ...baselineArgs(argv),
    };
    const log = argv.log as string | undefined;
    const svg = argv.svg as string | undefined;
    const alongOptions = along === undefined ? undefined : { ...options, along, iterations: argv.iterations as number, every: argv.every as number | undefined, lr: argv.lr as number | undefined };
    refuse(alongOptions ? [...alongOptionProblems(alongOptions), ...alongUsageProblems(argv, log, svg)] : [...compareOptionProblems(options), ...notAlongProblems(argv)]);
    const outputs: OutputSpec[] = [...(log === undefined ? [] : [{ option: '--log', path: log, kind: 'file' as const, stdout: true }]), ...(svg === undefined ? [] : [{ option: '--svg', path: svg, kind: 'file' as const }])];
    checkOutputs(outputs, { force: argv.force as boolean });
    const backend = await prepareBackend(argv.backend as string, argv['tfjs-backend'], argv.threads);
    const model = loadModel(argv.network as string);
    const data = loadData(argv.data as string, model, dataArgs(argv));
    checkComparisonSize(model.net);
    guardCurvatureMemory(model.net, along ? [...(options.methods ?? []), along] : (options.methods ?? []));
    if (!alongOptions) {
      const report = compareDirections(model, data, { ...options, backend });
      if (argv.json) writeJson('-', report);
      else process.stdout.write(formatReport(report));
      return;
    }
    const quiet = argv.quiet as boolean;
    if (log !== undefined && log !== '-') {
      rmSync(log, { force: true }); // a read-only log is replaced only with --force (checked above)
      writeFileSync(log, '');
    }
    const started = performance.now();
    const records = compareAlong(model, data, { ...alongOptions, backend }, (record) => {
      const line = JSON.stringify(record) + '\n';
      if (log === '-') process.stdout.write(line);
      else if (log !== undefined) appendFileSync(log, line);
      if (!quiet) process.stderr.write(progressLine(record, alongOptions.iterations) + '\n');
    });
    const plot = (argv.plot as AlongPlot | undefined) ?? 'cos-fisher';
    if (svg !== undefined) writeTextFile(svg, alongChart(records, { plot, title: `${plotTitle(plot)} along ${along} training (ε = ${options.epsilon})` }));
    if (!quiet) {
      const wrote = [log === undefined || log === '-' ? undefined : log, svg].filter((f) => f !== undefined);
      process.stderr.write(`${records.length} comparisons in ${((performance.now() - started) / 1000).toFixed(1)} s${wrote.length > 0 ? `; wrote ${wrote.join(' and ')}` : ''}\n`);
    }
  },
};

/** --along's own requirements: a budget and somewhere to write; --json has no place (the log is the JSON). */
function alongUsageProblems(argv: Record<string, unknown>, log: string | undefined, svg: string | undefined): Problem[] {
  const problems: Problem[] = [];
  if (argv.iterations === undefined) problems.push(problem('iterations', '--along needs --iterations N, the length of the run'));
  if (log === undefined && svg === undefined) problems.push(problem('output', '--along needs --log FILE.jsonl (or - for stdout) and/or --svg FILE.svg'));
  if (argv.json) problems.push(problem('json', '--json does not apply with --along: the records are JSONL in --log (give --log - for stdout)'));
  if (argv.plot !== undefined && svg === undefined) problems.push(problem('plot', '--plot chooses what --svg shows; give --svg FILE.svg or drop --plot'));
  return problems;
}

/** The --along options given without --along. */
function notAlongProblems(argv: Record<string, unknown>): Problem[] {
  const given = ALONG_ONLY.filter((o) => argv[o] !== undefined);
  return given.length === 0 ? [] : [problem('along', `${given.map((o) => `--${o}`).join(', ')} appl${given.length > 1 ? 'y' : 'ies'} to a training run only; give --along METHOD or drop ${given.length > 1 ? 'them' : 'it'}`)];
}

function plotTitle(plot: AlongPlot): string {
  return plot === 'cos-fisher' ? 'Fisher cosine with F_ε⁻¹G' : plot === 'fraction' ? 'Fraction of the natural gradient’s 2nd-order decrease' : 'Euclidean cosine with F_ε⁻¹G';
}

const show = (v: number | null, digits = 6) => (v === null ? '-' : v.toFixed(digits));

/** The table printed by default: one row per method. */
export function formatReport(report: DirectionsAt & { parameters: number; samples: number; epsilon: number }): string {
  const lines = [
    `${report.parameters} parameters, ${report.samples} samples, ε = ${report.epsilon}; loss ${report.loss.toFixed(6)} bits per sample`,
    `natural gradient δ* = F_ε⁻¹G: second-order decrease GᵀF_ε⁻¹G/2 = ${report.naturalDecrease.toExponential(4)} nats per sample`,
    '',
    `${'method'.padEnd(38)} ${'cos euclid'.padStart(11)} ${'cos fisher'.padStart(11)} ${'fraction'.padStart(11)} ${'best step'.padStart(12)}`,
  ];
  for (const [name, c] of Object.entries(report.methods) as Array<[string, DirectionComparison]>) {
    lines.push(`${name.padEnd(38)} ${show(c.cosEuclid).padStart(11)} ${show(c.cosFisher).padStart(11)} ${show(c.fraction).padStart(11)} ${(c.step === null ? '-' : c.step.toExponential(3)).padStart(12)}`);
  }
  return lines.join('\n') + '\n';
}

function progressLine(record: AlongRecord, iterations: number): string {
  const cos = Object.entries(record.methods).map(([name, c]) => `${name} ${show(c?.cosFisher ?? null, 3)}`);
  return `iteration ${record.iteration}/${iterations}: loss ${record.loss.toFixed(4)} bits; cos_F ${cos.join(', ')}`;
}
