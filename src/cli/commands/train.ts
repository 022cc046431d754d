import { constants } from 'node:os';
import type { CommandModule } from 'yargs';
import { curvatureCopies } from '../../engine/size-guard.js';
import type { MethodName } from '../../methods/methods.js';
import { checkTrainBudget, checkTrainOptions } from '../../train/options-check.js';
import { LR_SCHEDULES, MODES, resolveSettings, withScheduleHorizon, type TrainOptions } from '../../train/settings.js';
import type { SavedRun } from '../../train/state-file.js';
import { backpropEquivalentSeconds, train, type TrainBudget } from '../../train/trainer.js';
import { runHeader } from '../../json/run-header.js';
import { summaryPathOf, trainSummary, writeSummary } from '../../train/summary.js';
import { checkValidationChoices, describeMeasurement, validationCallbacks } from '../../train/validation.js';
import { loadData, loadModel } from '../io.js';
import { baselineArgs, baselineOptions, dataArgs, dataOptions, guardCurvatureMemory, kroneckerArgs, kroneckerOptions, methodOptions, prepareBackend, threadsOption } from '../options.js';
import { checkOutputs } from '../output-paths.js';
import { createProgress } from '../progress.js';
import { loadSavedRun, parseCheckpointEvery, reconcileLog, refuseOverwritingUnfinished, RunLog, statePathOf, writeCheckpoint, type RunFiles } from '../../train/run-files.js';

/** Exit code after Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;
/** Exit code after SIGTERM (128 + 15). */
export const EXIT_TERMINATED = 143;

export const trainCommand: CommandModule = {
  command: 'train <network>',
  describe: 'Train a network with a method in batch, mini-batch or online mode; Ctrl-C or SIGTERM saves and stops (exit 130 or 143), --resume continues',
  builder: (yargs) =>
    yargs
      .positional('network', { type: 'string', demandOption: true, describe: 'network JSON file (the starting point)' })
      .options({
        data: { type: 'string', demandOption: true, describe: 'data file (.json, .csv or .npy)' },
        ...dataOptions,
        'val-data': { type: 'string', describe: 'held-out data file (read like --data, with the same column options): its loss and accuracy go to the log and the progress line every --eval-every iterations, and to OUT.summary.json' },
        'val-targets-data': { type: 'string', describe: 'with --targets-data: the file holding the targets of --val-data' },
        'eval-every': { type: 'number', describe: 'iterations between validation measurements (default 100; also at the start and the end); their time is not counted in the budget' },
        ...methodOptions,
        ...threadsOption,
        ...kroneckerOptions,
        ...baselineOptions,
        mode: { choices: MODES, default: 'batch' as const, describe: 'batch: whole data set; minibatch: seeded random mini-batches; online: one sample per step (Section 1.3)' },
        iterations: { type: 'number', describe: 'budget: iterations (batches, mini-batches or samples)' },
        time: { type: 'number', describe: 'budget: wall-clock seconds' },
        'backprop-equivalent': { type: 'number', describe: 'budget: the time N backprop iterations take here (measured first; Section 4)' },
        lr: { type: 'number', default: 0.01, describe: 'initial learning rate' },
        'lr-schedule': { choices: LR_SCHEDULES, describe: 'adaptive (halve and cancel a worsening step, else ×1.1; batch mode only, its default), fixed, step (×f every N steps) or cosine (½(1 + cos πt/T) over T steps)' },
        'lr-step-every': { type: 'number', describe: 'step schedule: steps N between decays (default 1000)' },
        'lr-step-factor': { type: 'number', describe: 'step schedule: factor f in (0, 1] of each decay (default 0.1)' },
        'lr-horizon': { type: 'number', describe: 'cosine schedule: horizon T in steps (default: --iterations; required with a time budget)' },
        'clip-norm': { type: 'number', describe: 'scale the gradient G so that ‖G‖ ≤ c before the curvature solve (the metric itself is unclipped)' },
        'batch-size': { type: 'number', describe: 'minibatch: samples per mini-batch (default min(16, samples))' },
        'metric-decay': { type: 'number', describe: 'batch and minibatch: metric accumulated across iterations, A ← (1-γ)A + γA_batch (default: each batch’s own; kflr/kfac/kfra in minibatch: 0.05, the anchors’ 0.95 on the old estimate)' },
        'online-decay': { type: 'number', describe: 'online: discount γ of Eq. 37 (default 0.1 / largest n_k)' },
        'n-init': { type: 'number', describe: 'online: samples for A⁽⁰⁾ (Eq. 36; default 2 × largest n_k)' },
        'refresh-every': { type: 'number', describe: 'online: re-invert each metric from scratch every N updates (0: never; default 1000)' },
        out: { type: 'string', demandOption: true, describe: 'trained network file (written atomically; its state goes to OUT.state.json, its final train/validation loss and accuracy to OUT.summary.json)' },
        log: { type: 'string', describe: 'JSONL log: a run header, one record per iteration, and the validation records ({"type": "validation", ...}) of --val-data' },
        resume: { type: 'boolean', default: false, describe: 'continue the run saved in OUT and OUT.state.json (give the same options, and --log if it had one)' },
        force: { type: 'boolean', default: false, describe: 'replace read-only output files, and start over an interrupted run saved in OUT' },
        'checkpoint-every': { type: 'string', default: '60s', describe: 'save the network and its state every N iterations (500) or seconds (60s), so that a killed run resumes from there; 0: only at the end' },
        quiet: { type: 'boolean', default: false, describe: 'no progress output' },
      })
      .conflicts('iterations', ['time', 'backprop-equivalent'])
      .conflicts('time', 'backprop-equivalent'),
  handler: async (argv) => {
    const out = argv.out as string;
    const statePath = statePathOf(out);
    const logPath = argv.log as string | undefined;
    const force = argv.force as boolean;
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
      refreshEvery: argv['refresh-every'] as number | undefined,
      lrStepEvery: argv['lr-step-every'] as number | undefined,
      lrStepFactor: argv['lr-step-factor'] as number | undefined,
      lrHorizon: argv['lr-horizon'] as number | undefined,
      clipNorm: argv['clip-norm'] as number | undefined,
      ...kroneckerArgs(argv),
      ...baselineArgs(argv),
      backend: argv.backend as string,
    };
    const equivalent = argv['backprop-equivalent'] as number | undefined;
    const checkpointEvery = parseCheckpointEvery(String(argv['checkpoint-every']));
    // Everything that can be refused is refused before any computing.
    checkTrainOptions(options);
    const valPath = argv['val-data'] as string | undefined;
    const valTargets = argv['val-targets-data'] as string | undefined;
    checkValidationChoices({ valData: valPath, valTargetsData: valTargets, evalEvery: argv['eval-every'] as number | undefined, targetsData: argv['targets-data'] as string | undefined });
    checkTrainBudget({ iterations: argv.iterations as number | undefined, seconds: argv.time as number | undefined, backpropEquivalent: equivalent });
    checkOutputs(
      [
        { option: '--out', path: out, kind: 'file' },
        { option: '--out (its state)', path: statePath, kind: 'file' },
        { option: '--out (its summary)', path: summaryPathOf(out), kind: 'file' },
        ...(logPath === undefined ? [] : [{ option: '--log', path: logPath, kind: 'file' as const }]),
      ],
      { force },
    );
    if (!argv.resume) refuseOverwritingUnfinished(out, force);
    options.backend = await prepareBackend(argv.backend as string, argv['tfjs-backend'], argv.threads);
    let model = loadModel(argv.network as string);
    const data = loadData(argv.data as string, model, dataArgs(argv));
    const validation = valPath === undefined ? undefined : loadData(valPath, model, { ...dataArgs(argv), targetsData: valTargets });
    let budget: TrainBudget = { iterations: argv.iterations as number | undefined, seconds: argv.time as number | undefined };
    let saved: SavedRun | undefined;
    if (argv.resume) ({ saved, model, budget } = loadSavedRun(out, model, budget, equivalent !== undefined));
    resolveSettings(withScheduleHorizon(options, budget.iterations), model.net, data.inputs.length); // the checks that need the network and data, before any file is touched
    guardCurvatureMemory(model.net, [options.method], { copies: curvatureCopies(options.mode, options.metricDecay !== undefined), quiet: argv.quiet as boolean });
    if (equivalent !== undefined && budget.seconds === undefined) {
      const seconds = await backpropEquivalentSeconds(model, data, options, equivalent);
      budget = { seconds };
      if (!argv.quiet) process.stderr.write(`budget: ${equivalent} backprop iterations take ${seconds.toFixed(2)} s here\n`);
    }
    const files: RunFiles = { out, statePath };
    const inputFiles = [argv.network as string, argv.data as string, ...[argv['targets-data'], valPath, valTargets].filter((f): f is string => f !== undefined)];
    const header = runHeader({ argv: process.argv.slice(2), files: inputFiles, seeds: { seed: options.seed } });
    if (saved) {
      const dropped = reconcileLog(saved, logPath, statePath);
      if (dropped && !argv.quiet) process.stderr.write(dropped + '\n');
      if (logPath !== undefined) files.log = RunLog.continued(logPath);
    } else if (logPath !== undefined) {
      files.log = RunLog.fresh(logPath, header);
    }
    const samples = data.inputs.length;
    const perIteration = options.mode === 'minibatch' ? (options.batchSize ?? Math.min(16, samples)) : 1;
    const progress = createProgress({
      iterations: budget.iterations,
      seconds: budget.seconds,
      tty: Boolean(process.stderr.isTTY),
      quiet: argv.quiet as boolean,
      meanOver: options.mode === 'batch' ? undefined : Math.ceil(samples / perIteration),
    });
    let signal: NodeJS.Signals | undefined;
    const onSignal = (received: NodeJS.Signals) => {
      if (signal === undefined && !argv.quiet) progress.warn({ severity: 'warning', code: 'signal', message: `${received}: stopping after the current iteration, then saving` });
      signal ??= received;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (!argv.quiet) process.stderr.write(`training ${options.method} in ${options.mode} mode${saved ? ` from iteration ${saved.state.iteration}` : ''}; Ctrl-C or SIGTERM stops after the current iteration and saves\n`);
    try {
      const result = await train(
        model,
        data,
        options,
        budget,
        {
          onIteration: (record) => {
            files.log?.add(record);
            progress.update(record);
          },
          onWarning: (w) => progress.warn(w),
          ...(validation
            ? validationCallbacks(model, validation, {
                every: argv['eval-every'] as number | undefined,
                backend: options.backend,
                onRecord: (record) => {
                  files.log?.add(record);
                  progress.validation(record);
                },
              })
            : {}),
          shouldStop: () => signal !== undefined,
          checkpointEvery,
          onCheckpoint: (state) => writeCheckpoint(files, model, { state, budget, stoppedBy: 'checkpoint' }),
        },
        saved?.state,
      );
      writeCheckpoint(files, model, { state: result.state, budget, stoppedBy: result.stoppedBy });
      const summary = trainSummary({ header, options, result, model, data, validation, backend: options.backend });
      writeSummary(out, summary);
      const stopped = result.stoppedBy === 'interrupt';
      const done = `${stopped ? 'interrupted' : 'done'} after ${result.state.iteration} iterations${stopped ? ` by ${signal}` : ''}, ${result.state.elapsedSeconds.toFixed(2)} s; wrote ${out}${files.log ? ` and ${files.log.path}` : ''}`;
      const figures = `final ${describeMeasurement('train', summary.train)}${summary.validation ? `, ${describeMeasurement('validation', summary.validation)}` : ''} (${summaryPathOf(out)})`;
      progress.end(`${stopped ? `${done}; continue with --resume` : done}\n${figures}`);
      if (stopped) process.exitCode = 128 + constants.signals[signal ?? 'SIGINT'];
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
