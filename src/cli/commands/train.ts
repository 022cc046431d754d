import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { UsageError, problem } from '../../errors.js';
import { createModel, modelDocument, type Model } from '../../engine/model.js';
import type { MethodName } from '../../methods/methods.js';
import { readNetworkFile, readText } from '../../network/load.js';
import { LR_SCHEDULES, MODES, type TrainOptions } from '../../train/settings.js';
import { parseRun, serialiseRun } from '../../train/state-file.js';
import { backpropEquivalentSeconds, train, type TrainBudget, type TrainState } from '../../train/trainer.js';
import { loadData, loadModel, writeJson } from '../io.js';
import { methodOptions, prepareBackend } from '../options.js';
import { createProgress } from '../progress.js';

/** Exit code after an interruption (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

export const trainCommand: CommandModule = {
  command: 'train <network>',
  describe: 'Train a network with a method in batch, mini-batch or online mode; Ctrl-C stops cleanly, --resume continues',
  builder: (yargs) =>
    yargs
      .positional('network', { type: 'string', demandOption: true, describe: 'network JSON file (the starting point)' })
      .options({
        data: { type: 'string', demandOption: true, describe: 'data JSON file' },
        ...methodOptions,
        mode: { choices: MODES, default: 'batch' as const, describe: 'batch: whole data set; minibatch: seeded random mini-batches; online: one sample per step (Section 1.3)' },
        iterations: { type: 'number', describe: 'budget: iterations (batches, mini-batches or samples)' },
        time: { type: 'number', describe: 'budget: wall-clock seconds' },
        'backprop-equivalent': { type: 'number', describe: 'budget: the time N backprop iterations take here (measured first; Section 4)' },
        lr: { type: 'number', default: 0.01, describe: 'initial learning rate' },
        'lr-schedule': { choices: LR_SCHEDULES, describe: 'adaptive (halve and cancel a worsening step, else ×1.1; default in batch mode) or fixed' },
        'batch-size': { type: 'number', describe: 'minibatch: samples per mini-batch (default min(16, samples))' },
        'metric-decay': { type: 'number', describe: 'minibatch: discounted metric average A ← (1-γ)A + γA_batch (default: each mini-batch’s own)' },
        'online-decay': { type: 'number', describe: 'online: discount γ of Eq. 37 (default 0.1 / largest n_k)' },
        'n-init': { type: 'number', describe: 'online: samples for A⁽⁰⁾ (Eq. 36; default 2 × largest n_k)' },
        'refresh-every': { type: 'number', default: 1000, describe: 'online: re-invert each metric from scratch every N updates (0: never)' },
        out: { type: 'string', demandOption: true, describe: 'trained network file (written atomically; its state goes to OUT.state.json)' },
        log: { type: 'string', describe: 'JSONL log, one record per iteration' },
        resume: { type: 'boolean', default: false, describe: 'continue the run saved in OUT and OUT.state.json' },
        quiet: { type: 'boolean', default: false, describe: 'no progress output' },
      })
      .conflicts('iterations', ['time', 'backprop-equivalent'])
      .conflicts('time', 'backprop-equivalent'),
  handler: async (argv) => {
    const out = argv.out as string;
    const statePath = `${out}.state.json`;
    const options: TrainOptions = {
      method: argv.method as MethodName,
      mode: argv.mode as TrainOptions['mode'],
      lr: argv.lr as number,
      lrSchedule: argv['lr-schedule'] as TrainOptions['lrSchedule'],
      epsilon: argv.epsilon as number,
      mcSamples: argv['mc-samples'] as number,
      seed: argv.seed as number,
      batchSize: argv['batch-size'] as number | undefined,
      metricDecay: argv['metric-decay'] as number | undefined,
      onlineDecay: argv['online-decay'] as number | undefined,
      nInit: argv['n-init'] as number | undefined,
      refreshEvery: argv['refresh-every'] as number,
      backend: await prepareBackend(argv.backend as string),
    };
    let model = loadModel(argv.network as string);
    const data = loadData(argv.data as string, model);
    let resume: TrainState | undefined;
    let budget: TrainBudget = { iterations: argv.iterations as number | undefined, seconds: argv.time as number | undefined };
    if (argv.resume) {
      if (!existsSync(statePath) || !existsSync(out)) throw new UsageError([problem('resume', `nothing to resume: ${out} and ${statePath} are written by an interrupted run`)]);
      const saved = parseRun(readText(statePath), statePath);
      resume = saved.state;
      model = resumeModel(model, out);
      if (argv['backprop-equivalent'] !== undefined && saved.budget.seconds !== undefined) budget = saved.budget;
    }
    if (argv['backprop-equivalent'] !== undefined && budget.seconds === undefined) {
      const seconds = await backpropEquivalentSeconds(model, data, options, argv['backprop-equivalent'] as number);
      budget = { seconds };
      if (!argv.quiet) process.stderr.write(`budget: ${argv['backprop-equivalent']} backprop iterations take ${seconds.toFixed(2)} s here\n`);
    }
    const logPath = argv.log as string | undefined;
    if (logPath && !argv.resume) writeFileSync(logPath, '');
    let logBuffer = '';
    const flushLog = () => {
      if (logPath && logBuffer) appendFileSync(logPath, logBuffer);
      logBuffer = '';
    };
    const progress = createProgress({ iterations: budget.iterations, seconds: budget.seconds, tty: Boolean(process.stderr.isTTY), quiet: argv.quiet as boolean });
    let interrupted = false;
    const onSigint = () => (interrupted = true);
    process.on('SIGINT', onSigint);
    let lastFlush = performance.now();
    try {
      const result = await train(
        model,
        data,
        options,
        budget,
        {
          onIteration: (record) => {
            if (logPath) {
              logBuffer += JSON.stringify(record) + '\n';
              if (performance.now() - lastFlush > 1000) {
                flushLog();
                lastFlush = performance.now();
              }
            }
            progress.update(record);
          },
          onWarning: (w) => progress.warn(w),
          shouldStop: () => interrupted,
        },
        resume,
      );
      flushLog();
      writeJson(out, modelDocument(model));
      writeJson(statePath, serialiseRun({ state: result.state, budget }));
      const done = `${result.stoppedBy === 'interrupt' ? 'interrupted' : 'done'} after ${result.state.iteration} iterations, ${result.state.elapsedSeconds.toFixed(2)} s; wrote ${out}${logPath ? ` and ${logPath}` : ''}`;
      progress.end(result.stoppedBy === 'interrupt' ? `${done}; continue with --resume` : done);
      if (result.stoppedBy === 'interrupt') process.exitCode = EXIT_INTERRUPTED;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};

/** The saved network of an interrupted run, checked to be the same network as the starting one. */
function resumeModel(start: Model, out: string): Model {
  const { document } = readNetworkFile(out);
  const same =
    document.nodes.length === start.document.nodes.length &&
    document.edges.length === start.document.edges.length &&
    document.nodes.every((n, i) => n.key === start.document.nodes[i].key) &&
    document.edges.every((e, i) => e.source === start.document.edges[i].source && e.target === start.document.edges[i].target);
  if (!same) throw new UsageError([problem('resume', `cannot resume: ${out} is not the same network as the starting one`)]);
  return createModel(document);
}
