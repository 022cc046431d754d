import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { UsageError, problem } from '../../errors.js';
import { runFigure1, writeFigure1 } from '../../replicate/figure1.js';
import { runReplication } from '../../replicate/pool.js';
import { writeReplicationReport } from '../../replicate/report.js';
import { rerenderReplicationReport } from '../../replicate/rerender.js';
import { parseRowList, ROW_SYNTAX } from '../../replicate/rows.js';
import { checkReplicateSpec, TABLE2_METHODS, type ReplicateBudget, type ReplicateSpec } from '../../replicate/run.js';
import { markdownForTerminal } from '../../replicate/tables.js';
import { runSweep } from '../../sweep/run-sweep.js';
import type { SweepSpec } from '../../sweep/spec.js';
import { engineFor, progressPrinter, queueOptionProblems, queueOptions } from './sweep.js';
import { backendInfo } from '../../backend/load.js';
import { countProblem, refuse } from '../../train/options-check.js';
import { baselineArgs, baselineOptions, forceOption, kroneckerArgs, kroneckerOptions, methodOptions, prepareBackend } from '../options.js';
import { checkOutputs, FIGURE1_FILES, makeReplaceable, replicationReportFiles, type OutputSpec } from '../output-paths.js';

export const replicateCommand: CommandModule = {
  command: 'replicate <experiment>',
  describe: 'Replicate the paper: Section 4’s autoencoder experiment (Tables 1-2, Figures 2-5) or Figure 1; `redraw` draws a recorded autoencoder folder’s figures again from its curves',
  builder: (yargs) =>
    yargs.positional('experiment', { choices: ['autoencoder', 'figure1', 'redraw'] as const, demandOption: true }).options({
      out: { type: 'string', demandOption: true, describe: 'output folder (tables, curves, SVG figures, report.md, index.html)' },
      runs: { type: 'number', default: 20, describe: 'autoencoder: independent runs' },
      seed: { type: 'number', default: 1, describe: 'base seed (run r uses seed + r)' },
      workers: { type: 'number', describe: 'worker threads (default: number of cores); results do not depend on it' },
      budget: { type: 'string', default: 'paper', describe: 'paper (Table 1 iteration counts; a method Table 1 does not list: the time of 10,000 backprop iterations, as with time), time (the time of 10,000 backprop iterations here), or iterations:N' },
      methods: { type: 'string', describe: `comma-separated rows, each ${ROW_SYNTAX} (default: the rows of Table 2: ${TABLE2_METHODS.join(', ')})` },
      ...kroneckerOptions,
      ...baselineOptions,
      quiet: { type: 'boolean', default: false, describe: 'no progress output' },
      ...queueOptions,
      backend: methodOptions.backend,
      'tfjs-backend': methodOptions['tfjs-backend'],
      ...forceOption,
    }),
  handler: async (argv) => {
    const out = argv.out as string;
    const say = (line: string) => process.stdout.write(line + '\n');
    const force = argv.force as boolean;
    if (argv.experiment === 'figure1') {
      const folder: OutputSpec = { option: '--out', path: out, kind: 'folder', files: FIGURE1_FILES };
      checkOutputs([folder], { force });
      const result = await runFigure1({ seed: argv.seed as number });
      if (force) makeReplaceable(folder);
      writeFigure1(out, result);
      say('Figure 1: 50-50 network, all weights 0, 100 backprop steps at rate 0.01');
      say('step  loss on (x, x)  loss on (1-x, 1-x)   (bits per sample)');
      for (const s of [0, 10, 25, 50, 75, 100]) say(`${String(s).padStart(4)}  ${result.ones[s].toFixed(3).padStart(14)}  ${result.zeros[s].toFixed(3).padStart(18)}`);
      say(`x has ${Math.round(result.density * 100)}% ones; the report is ${resolve(out, 'index.html')}`);
      return;
    }
    if (argv.experiment === 'redraw') {
      const folder: OutputSpec = { option: '--out', path: out, kind: 'folder', files: replicationReportFiles(0).filter((f) => f.endsWith('.svg') || f === 'report.md' || f === 'index.html') };
      checkOutputs([folder], { force });
      if (force) makeReplaceable(folder);
      const { figures, runs } = rerenderReplicationReport(out);
      say(`redrew ${figures.map((f) => f.file).join(', ')} from the ${runs} recorded runs; the report is ${resolve(out, 'index.html')}`);
      return;
    }
    const methods = argv.methods === undefined ? TABLE2_METHODS : parseRowList(argv.methods as string).map((r) => r.key);
    const runs = argv.runs as number;
    const kronecker = kroneckerArgs(argv);
    refuse([countProblem('--runs', runs, 'independent runs'), countProblem('--workers', argv.workers as number | undefined, 'worker threads'), countProblem('--inverse-every', kronecker.inverseEvery, 'updates between recomputations of the Kronecker inverses'), ...queueOptionProblems(argv)]);
    const seed = argv.seed as number;
    const budget = parseBudget(argv.budget as string);
    const given = Object.values(kronecker).some((v) => v !== undefined);
    const baselines = baselineArgs(argv);
    const baselinesGiven = Object.values(baselines).some((v) => v !== undefined);
    const spec: ReplicateSpec = { methods, budget, seed, ...(given ? { kronecker } : {}), ...(baselinesGiven ? { baselines } : {}) };
    checkReplicateSpec(spec);
    const folder: OutputSpec = { option: '--out', path: out, kind: 'folder', files: replicationReportFiles(runs) };
    checkOutputs([folder], { force });
    const started = performance.now();
    const progress = (done: number, total: number) => {
      if (argv.quiet) return;
      const width = 30;
      const bar = '#'.repeat(Math.round((done / total) * width)).padEnd(width, '.');
      const line = `[${bar}] ${done}/${total} runs  ${((performance.now() - started) / 1000).toFixed(0)} s`;
      process.stderr.write(process.stderr.isTTY ? `\r${line}${done === total ? '\n' : ''}` : `${line}\n`);
    };
    // One thread per engine: the runs themselves are parallel (--workers, or the queue's workers), and worker threads load the plain cpu backend.
    const backend = await prepareBackend(argv.backend as string, argv['tfjs-backend'], 1);
    if (argv.queue !== undefined) {
      // The replication as a sweep (one job per run, row and activation) on the queue's workers; the same report.
      const engine = await engineFor(argv);
      try {
        const sweep: SweepSpec = { format: 'unitwise-sweep', experiment: 'autoencoder', seed, runs, methods, budget, backends: [backend], ...(given ? { kronecker } : {}), ...(baselinesGiven ? { baselines } : {}) };
        if (force) makeReplaceable(folder);
        const summary = await runSweep(sweep, out, { engine, resume: true, shared: true, checkpointSeconds: argv['checkpoint-every'] as number | undefined, onProgress: progressPrinter(argv.quiet as boolean) });
        if (!argv.quiet && process.stderr.isTTY) process.stderr.write('\n');
        if (summary.upToDate) say(`nothing to do: all ${summary.total} jobs of this replication are finished in ${out} (its report is there)`);
        else say(`${summary.ran} jobs run on the ${engine.name}${summary.previously ? `, ${summary.previously} finished before` : ''}, in ${summary.wallSeconds.toFixed(1)} s`);
        for (const table of ['table1.md', 'table2.md']) say(markdownForTerminal(readFileSync(join(out, table), 'utf8')));
        say(`the report is ${resolve(out, 'index.html')} (also report.md; each job's result in jobs/)`);
      } finally {
        await engine.close();
      }
      return;
    }
    progress(0, runs);
    const results = await runReplication(runs, { ...spec, backend }, { workers: argv.workers as number | undefined, onRunDone: progress });
    const wallSeconds = (performance.now() - started) / 1000;
    // Worker threads load the backend themselves; headless-gl gives no GL context there, so
    // gpu.js falls back to webasm in them. Say so rather than let the line above stand alone.
    const here = backendInfo(backend).detail;
    for (const detail of new Set(results.map((r) => r.backend))) {
      if (detail !== here) process.stderr.write(`backend in worker threads: ${detail}; --workers 1 keeps the main thread's backend\n`);
    }
    if (force) makeReplaceable(folder);
    const { table1, table2 } = writeReplicationReport(out, { results, methods, budget, seed, wallSeconds, ...(given ? { kronecker } : {}) });
    say(markdownForTerminal(table1));
    say(markdownForTerminal(table2));
    say(`${runs} runs in ${wallSeconds.toFixed(1)} s; the report is ${resolve(out, 'index.html')} (also report.md)`);
  },
};

/** paper | time | iterations:N (`time`: the time of 10,000 backprop iterations, measured in each run). */
export function parseBudget(text: string): ReplicateBudget {
  if (text === 'paper') return { kind: 'paper' };
  if (text === 'time') return { kind: 'time', backpropIterations: 10000 };
  const match = /^iterations:(\d+)$/.exec(text);
  if (match && Number(match[1]) > 0) return { kind: 'iterations', iterations: Number(match[1]) };
  throw new UsageError([problem('budget', `--budget ${text}: use paper, time or iterations:N (N a positive integer)`)]);
}
