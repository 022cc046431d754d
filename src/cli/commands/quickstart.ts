import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { generateAutoencoder } from '../../generate/autoencoder.js';
import { generateBinaryData } from '../../generate/data.js';
import { checkAllMethods, DEFAULT_INVARIANCE } from '../../invariance/check.js';
import { runReplication } from '../../replicate/pool.js';
import { writeReplicationReport } from '../../replicate/report.js';
import { TABLE2_METHODS } from '../../replicate/run.js';
import { markdownForTerminal } from '../../replicate/tables.js';
import { countProblem, refuse } from '../../train/options-check.js';
import { forceOption } from '../options.js';
import { checkOutputs, makeReplaceable, replicationReportFiles, type OutputSpec } from '../output-paths.js';
import { parseBudget } from './replicate.js';

export const quickstartCommand: CommandModule = {
  command: 'quickstart',
  describe: 'The default job (npm start): a short replication of Section 4 (paper budget, every Table 2 method) and the sigmoid/tanh invariance table, with an HTML report',
  builder: (yargs) =>
    yargs.options({
      runs: { type: 'number', default: 4, describe: 'replication runs' },
      seed: { type: 'number', default: 1, describe: 'base seed' },
      out: { type: 'string', default: 'unitwise-report', describe: 'report folder' },
      workers: { type: 'number', describe: 'worker threads (default: number of cores)' },
      budget: { type: 'string', default: 'paper', describe: 'paper (Table 1 iteration counts), time, or iterations:N (a quicker look)' },
      ...forceOption,
    }),
  handler: async (argv) => {
    const say = (line: string) => process.stdout.write(line + '\n');
    const seed = argv.seed as number;
    const runs = argv.runs as number;
    const out = argv.out as string;
    const force = argv.force as boolean;
    refuse([countProblem('--runs', runs, 'replication runs'), countProblem('--workers', argv.workers as number | undefined, 'worker threads')]);
    const budget = parseBudget(argv.budget as string);
    const folder: OutputSpec = { option: '--out', path: out, kind: 'folder', files: replicationReportFiles(runs) };
    checkOutputs([folder], { force });
    const budgetText = budget.kind === 'paper' ? "the paper's iteration budget (Table 1)" : budget.kind === 'time' ? 'the time of 10,000 backprop iterations each' : `${budget.iterations} iterations each`;
    say(`unitwise: Section 4's experiment, ${runs} runs with ${budgetText}, every Table 2 method in sigmoid and tanh form.`);
    const started = performance.now();
    const document = generateAutoencoder({ seed, activation: 'sigmoid' });
    const data = generateBinaryData({ seed });
    const invariance = checkAllMethods(document, data, { twin: 'convert', ...DEFAULT_INVARIANCE, epsilon: 0 }, TABLE2_METHODS);
    const invarianceTable = [
      `Sigmoid network (seed ${seed}) and its converted tanh twin, ${DEFAULT_INVARIANCE.steps} steps at rate ${DEFAULT_INVARIANCE.lr}, ε = 0: largest difference of the output probabilities`,
      '',
      '| method | invariant (paper) | after step 1 | largest | verdict |',
      '|---|---|---|---|---|',
      ...invariance.map((r) => `| ${r.method} | ${r.expectedInvariant ? 'yes' : 'no'} | ${r.steps[1].deviation.toExponential(2)} | ${r.maxDeviation.toExponential(2)} | ${r.invariant === r.expectedInvariant ? 'as expected' : 'UNEXPECTED'} |`),
    ].join('\n') + '\n';
    const results = await runReplication(runs, { methods: TABLE2_METHODS, budget, seed }, {
      workers: argv.workers as number | undefined,
      onRunDone: (done, total) => process.stderr.write(`run ${done}/${total} done (${((performance.now() - started) / 1000).toFixed(0)} s)\n`),
    });
    const wallSeconds = (performance.now() - started) / 1000;
    if (force) makeReplaceable(folder);
    const { table2 } = writeReplicationReport(out, { results, methods: TABLE2_METHODS, budget, seed, wallSeconds, extraSections: [{ title: 'Invariance check', markdown: invarianceTable }] });
    say('');
    say(markdownForTerminal(table2));
    say(markdownForTerminal(invarianceTable));
    say(`Done in ${wallSeconds.toFixed(0)} s. Report: ${resolve(out, 'index.html')} (tables, figures; also report.md).`);
    say('Full replication: npx unitwise replicate autoencoder --runs 20 --out DIR; more: npx unitwise --help');
  },
};
