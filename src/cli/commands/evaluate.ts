import type { CommandModule } from 'yargs';
import { evaluateModel, type ModelEvaluation } from '../../evaluate/evaluate.js';
import { runHeader } from '../../json/run-header.js';
import { loadData, loadModel, writeJson } from '../io.js';
import { forceOption, methodOptions, prepareBackend, threadsOption } from '../options.js';
import { checkOutputs } from '../output-paths.js';

const backendOption = { backend: methodOptions.backend, 'tfjs-backend': methodOptions['tfjs-backend'], ...threadsOption };

export const evaluateCommand: CommandModule = {
  command: 'evaluate <network>',
  describe: 'Loss (mean and per sample, bits and nats) and accuracy of a network on a data set (softmax: with a confusion matrix)',
  builder: (yargs) =>
    yargs.positional('network', { type: 'string', demandOption: true, describe: 'network JSON file' }).options({
      data: { type: 'string', demandOption: true, describe: 'data JSON file' },
      json: { type: 'boolean', default: false, describe: 'print JSON (with a run header and per-sample losses) instead of a table' },
      ...backendOption,
    }),
  handler: async (argv) => {
    const backend = await prepareBackend(argv.backend as string, argv['tfjs-backend'], argv.threads);
    const model = loadModel(argv.network as string);
    const data = loadData(argv.data as string, model);
    const result = evaluateModel(model, data, { backend });
    if (argv.json) {
      const header = runHeader({ argv: process.argv.slice(2), files: [argv.network as string, argv.data as string] });
      const { interpretation, samples, lossBits, lossNats, accuracy, sampleLossBits, sampleLossNats } = result;
      writeJson('-', { header, interpretation, samples, lossBits, lossNats, accuracy, sampleLossBits, sampleLossNats });
    } else {
      process.stdout.write(evaluationTable(result));
    }
  },
};

export const predictCommand: CommandModule = {
  command: 'predict <network>',
  describe: 'Output probabilities per sample (class probabilities, Bernoulli P(Y = 1), or square-loss means) as JSON',
  builder: (yargs) =>
    yargs.positional('network', { type: 'string', demandOption: true, describe: 'network JSON file' }).options({
      data: { type: 'string', demandOption: true, describe: 'data JSON file (its targets are validated but not used)' },
      out: { type: 'string', demandOption: true, describe: 'output JSON file ("-" for stdout), written atomically' },
      ...backendOption,
      ...forceOption,
    }),
  handler: async (argv) => {
    const out = argv.out as string;
    checkOutputs([{ option: '--out', path: out, kind: 'file', stdout: true }], { force: argv.force as boolean });
    const backend = await prepareBackend(argv.backend as string, argv['tfjs-backend'], argv.threads);
    const model = loadModel(argv.network as string);
    const data = loadData(argv.data as string, model);
    const result = evaluateModel(model, data, { backend });
    const header = runHeader({ argv: process.argv.slice(2), files: [argv.network as string, argv.data as string] });
    writeJson(out, { header, interpretation: result.interpretation, outputs: model.net.outputUnits.length, probabilities: result.probabilities });
    if (out !== '-') process.stderr.write(`wrote ${result.samples} predictions to ${out}\n`);
  },
};

/** The human-readable report of {@link evaluateModel}. */
export function evaluationTable(r: ModelEvaluation): string {
  const lines = [`samples: ${r.samples} (${r.interpretation})`, `mean loss: ${r.lossBits.toFixed(6)} bits, ${r.lossNats.toFixed(6)} nats per sample`];
  const a = r.accuracy;
  if (a.kind === 'class') lines.push(`accuracy: ${(100 * a.accuracy).toFixed(2)}% (argmax)`);
  else if (a.kind === 'bernoulli') lines.push(`accuracy: ${(100 * a.perOutput).toFixed(2)}% per output, ${(100 * a.exactMatch).toFixed(2)}% exact match (threshold 0.5)`);
  else lines.push(`RMSE: ${a.rmse.toFixed(6)}`);
  if (a.kind === 'class') {
    const k = a.confusion.length;
    const width = Math.max(6, ...a.confusion.flat().map((c) => String(c).length + 1));
    lines.push('confusion (rows: target class, columns: predicted):');
    lines.push('      ' + Array.from({ length: k }, (_, j) => String(j).padStart(width)).join(''));
    a.confusion.forEach((row, i) => lines.push(String(i).padStart(5) + ' ' + row.map((c) => String(c).padStart(width)).join('')));
  }
  if (r.samples <= 20) {
    lines.push('per-sample loss (bits, nats):');
    r.sampleLossBits.forEach((b, s) => lines.push(`${String(s).padStart(5)}  ${b.toFixed(6)}  ${r.sampleLossNats[s].toFixed(6)}`));
  } else {
    lines.push('per-sample losses: see --json');
  }
  return lines.join('\n') + '\n';
}
