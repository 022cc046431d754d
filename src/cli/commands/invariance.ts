import type { CommandModule } from 'yargs';
import { checkAllMethods, checkInvariance, DEFAULT_INVARIANCE, type InvarianceKroneckerChoices, type InvarianceReport, type TwinKind } from '../../invariance/check.js';
import { buildGroups, recursionOrder } from '../../curvature/kronecker/groups.js';
import { METHOD_SPECS, METHODS, type MethodName } from '../../methods/methods.js';
import { readNetworkFile } from '../../network/load.js';
import { createModel } from '../../engine/model.js';
import { loadData, printWarnings } from '../io.js';
import { amountProblem, baselineProblems, countProblem, kroneckerChoiceProblems, refuse } from '../../train/options-check.js';
import { baselineArgs, baselineOptions, dataArgs, dataOptions, guardCurvatureMemory, kroneckerArgs, kroneckerOptions, methodOptions, parseMethodList } from '../options.js';

/** The Kronecker options an invariance check takes (the inverse period does not apply to fixed-rate batch steps). */
const invarianceKroneckerOptions = { groups: kroneckerOptions.groups, 'kronecker-damping': kroneckerOptions['kronecker-damping'], 'kronecker-solve': kroneckerOptions['kronecker-solve'] };

/** Exit code when the twins part (or, with --all-methods, when a verdict contradicts its expectation: the paper's, or for kflr/kfac/kfra that of `expectedInvariance`). */
export const EXIT_NOT_INVARIANT = 3;

export const invarianceCommand: CommandModule = {
  command: 'invariance <network>',
  describe: 'Train a network and its twin (sigmoid↔tanh, random Def. 29 reparametrisations, or random recombinations) side by side and compare their outputs',
  builder: (yargs) =>
    yargs.positional('network', { type: 'string', demandOption: true, describe: 'network JSON file' }).options({
      data: { type: 'string', demandOption: true, describe: 'data file (.json, .csv or .npy; of the network, the twin’s is derived)' },
      ...dataOptions,
      ...methodOptions,
      epsilon: { ...methodOptions.epsilon, default: 0, describe: 'regularisation ε (default 0: ε·Id breaks invariance, Remark 12)' },
      steps: { type: 'number', default: DEFAULT_INVARIANCE.steps, describe: 'batch steps of each network' },
      lr: { type: 'number', default: DEFAULT_INVARIANCE.lr, describe: 'fixed learning rate' },
      tolerance: { type: 'number', default: DEFAULT_INVARIANCE.tolerance, describe: 'largest output difference counted as equal' },
      'all-methods': { type: 'boolean', default: false, describe: 'one table over every method (natural only if the network has ≤ 500 parameters)' },
      methods: { type: 'string', describe: 'with --all-methods: only these (comma-separated)' },
      reparametrize: { choices: ['random'] as const, describe: 'twin: random (α, β, γ) reparametrisation of every hidden unit (Def. 29, Prop. 30)' },
      recombine: { choices: ['random'] as const, describe: 'twin: random invertible affine recombination of every unit’s incoming signals (Prop. 31); for kflr/kfac/kfra one per complete group' },
      ...invarianceKroneckerOptions,
      ...baselineOptions,
    }).conflicts('reparametrize', 'recombine'),
  handler: (argv) => {
    refuse([
      countProblem('--steps', argv.steps as number, 'batch steps of each network'),
      amountProblem('--lr', argv.lr as number, 'the learning rate η'),
      amountProblem('--epsilon', argv.epsilon as number, 'the regularisation ε', { zero: true }),
      amountProblem('--tolerance', argv.tolerance as number, 'the largest output difference counted as equal', { zero: true }),
      countProblem('--mc-samples', argv['mc-samples'] as number, 'Monte-Carlo draws per sample'),
    ]);
    const { groups, kroneckerDamping, kroneckerSolve } = kroneckerArgs(argv);
    const choices: InvarianceKroneckerChoices = { groups, kroneckerDamping, kroneckerSolve };
    const listed = argv['all-methods'] ? parseMethodList(argv.methods as string | undefined, METHODS) : [argv.method as MethodName];
    const kroneckerMethod = listed.find((m) => METHOD_SPECS[m].reduction === 'kronecker');
    const baselines = baselineArgs(argv);
    refuse([...kroneckerChoiceProblems(kroneckerMethod ?? (argv['all-methods'] ? `--methods ${listed.join(',')}` : listed[0]), choices), ...baselineProblems({ ...baselines, method: argv['all-methods'] ? listed : listed[0] })]);
    const file = argv.network as string;
    const { document, warnings } = readNetworkFile(file);
    printWarnings(warnings, file);
    const model = createModel(document);
    const data = loadData(argv.data as string, model, dataArgs(argv));
    const twin: TwinKind = argv.reparametrize ? 'reparametrize' : argv.recombine ? 'recombine' : 'convert';
    const options = { twin, steps: argv.steps as number, lr: argv.lr as number, epsilon: argv.epsilon as number, tolerance: argv.tolerance as number, mcSamples: argv['mc-samples'] as number, seed: argv.seed as number, ...choices, ...baselines };
    const methods = argv['all-methods'] && argv.methods === undefined ? METHODS.filter((m) => m !== 'natural' || model.net.nParams <= 500) : listed;
    // Two networks side by side, each with its blocks and their factors.
    guardCurvatureMemory(model.net, methods, { copies: 4 });
    // Refuse bad groups before any output: missing `group` attributes, or KFRA's edges inside a group.
    if (methods.some((m) => METHOD_SPECS[m].reduction === 'kronecker')) {
      const groupList = buildGroups(model.net, groups ?? 'levels');
      if (methods.includes('kfra')) recursionOrder(model.net, groupList);
    }
    const out = (line: string) => process.stdout.write(line + '\n');
    const singular = countSingularUnits(model.net.blockOffsets, model.net.nInputs, model.net.nUnits, data.inputs.length);
    out(`twin: ${describeTwin(twin)}; ${options.steps} steps at fixed rate ${options.lr}, ε = ${options.epsilon}, tolerance ${options.tolerance}`);
    if (singular > 0 && options.epsilon === 0 && methods.some((m) => METHOD_SPECS[m].reduction !== 'kronecker')) {
      out(`note: ${singular} units have more parameters than the ${data.inputs.length} samples: their blocks are singular and are solved in the least-squares sense (Section 3.3).` + (twin === 'recombine' ? ' Such steps agree on the data to first order only: expect deviations growing like η².' : ''));
    }
    if (argv['all-methods']) {
      const reports = checkAllMethods(document, data, options, methods);
      out('method                                 expected   after step 1   largest    parted at  verdict');
      for (const r of reports) {
        const verdict = r.invariant === r.expectedInvariant ? (r.invariant ? 'invariant, as expected' : 'not invariant, as expected') : r.invariant ? 'UNEXPECTED: invariant' : 'UNEXPECTED: not invariant';
        out(`${r.method.padEnd(38)} ${(r.expectedInvariant ? 'yes' : 'no').padEnd(9)} ${r.steps[1]?.deviation.toExponential(2).padStart(12) ?? '-'}   ${r.maxDeviation.toExponential(2)}  ${String(r.partedAt ?? '-').padStart(9)}  ${verdict}`);
      }
      kroneckerNotes(reports, out);
      if (reports.some((r) => r.invariant !== r.expectedInvariant)) process.exitCode = EXIT_NOT_INVARIANT;
      return;
    }
    const report = checkInvariance(document, data, { ...options, method: argv.method as MethodName });
    kroneckerNotes([report], out);
    printSteps(report, out);
    if (!report.invariant) process.exitCode = EXIT_NOT_INVARIANT;
  },
};

function describeTwin(twin: TwinKind): string {
  if (twin === 'convert') return 'sigmoid↔tanh (Section 3.2)';
  if (twin === 'reparametrize') return 'random (α, β, γ) reparametrisation of every hidden unit (Def. 29)';
  return 'random affine recombination of every unit’s incoming signals (Prop. 31)';
}

/** Why each Kronecker method is expected (not) to be invariant here: it depends on its groups, solve and draws. */
function kroneckerNotes(reports: InvarianceReport[], out: (line: string) => void): void {
  for (const r of reports) if (METHOD_SPECS[r.method].reduction === 'kronecker') out(`note: ${r.expectation}.`);
}

function printSteps(r: InvarianceReport, out: (line: string) => void): void {
  out(`method ${r.method} (expected invariant: ${r.expectedInvariant ? 'yes' : 'no'})`);
  out('step  loss (bits/sample)  twin loss         largest output difference');
  for (const s of r.steps) {
    const loss = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(9)).padStart(18);
    out(`${String(s.step).padStart(4)} ${loss(s.lossA)} ${loss(s.lossB)}  ${s.deviation.toExponential(3)}`);
  }
  out(r.invariant ? `agree within ${r.tolerance} over ${r.steps.length - 1} steps (largest difference ${r.maxDeviation.toExponential(2)})` : `parted at step ${r.partedAt}: difference ${r.steps[r.partedAt ?? 0].deviation.toExponential(2)} > ${r.tolerance}`);
}

function countSingularUnits(blockOffsets: Int32Array, nInputs: number, nUnits: number, samples: number): number {
  let count = 0;
  for (let k = nInputs; k < nUnits; k++) if (blockOffsets[k + 1] - blockOffsets[k] > samples) count++;
  return count;
}
