import type { CommandModule } from 'yargs';
import { writeTextFile } from '../../json/write-json.js';
import { LOG_SCALES, PLOT_X, PLOT_Y, plotRuns, type LogScale, type PlotX, type PlotY } from '../../plot/plot-runs.js';
import { readRunLog } from '../../plot/read-log.js';
import { forceOption } from '../options.js';
import { checkOutputs } from '../output-paths.js';

export const plotCommand: CommandModule = {
  command: 'plot <logs..>',
  describe: 'One SVG figure comparing runs from their JSONL training logs (train --log): training loss, validation loss or accuracy by iteration or time',
  // The list of logs needs duplicate arguments kept (the CLI's parser keeps the last one only);
  // the other options then take the last value given, as everywhere else.
  builder: (yargs) =>
    yargs.parserConfiguration({ 'duplicate-arguments-array': true }).positional('logs', { type: 'string', array: true, demandOption: true, describe: 'JSONL logs written by train --log' }).options({
      x: { choices: PLOT_X, default: 'iteration' as const, describe: 'x axis: iteration, or time (seconds since the run started)' },
      y: { choices: PLOT_Y, default: 'loss' as const, describe: 'y axis: training loss, validation loss or validation accuracy (the last two need a run with --val-data)' },
      out: { type: 'string', demandOption: true, describe: 'output SVG file ("-" for stdout), written atomically' },
      'log-x': { type: 'boolean', default: false, describe: 'log-scale x axis' },
      'log-y': { choices: LOG_SCALES, default: 'auto' as const, describe: 'log-scale y axis: auto (when the values are positive and span more than a decade), on, off' },
      title: { type: 'string', describe: 'chart title (default: what is plotted)' },
      ...forceOption,
    }),
  handler: (raw) => {
    const argv = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, k !== 'logs' && k !== '_' && Array.isArray(v) ? v[v.length - 1] : v]));
    const out = argv.out as string;
    checkOutputs([{ option: '--out', path: out, kind: 'file', stdout: true }], { force: argv.force as boolean });
    const logs = (argv.logs as string[]).map((path) => readRunLog(path));
    const plot = plotRuns(logs, { x: argv.x as PlotX, y: argv.y as PlotY, logX: argv['log-x'] as boolean, logY: argv['log-y'] as LogScale, ...(argv.title !== undefined ? { title: argv.title as string } : {}) });
    if (out === '-') process.stdout.write(plot.svg);
    else {
      writeTextFile(out, plot.svg);
      process.stderr.write(`wrote ${out}: ${plot.series.map((s) => `${s.name} (${s.points.length} points)`).join('; ')}${plot.logY ? '; log-scale y' : ''}\n`);
    }
    for (const l of logs) for (const [type, n] of Object.entries(l.skipped)) process.stderr.write(`${l.path}: skipped ${n} record${n === 1 ? '' : 's'} of unknown type '${type}'\n`);
  },
};
