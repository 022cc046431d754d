import { readFileSync, writeFileSync } from 'node:fs';
import { backendInfo, useBackend } from '../backend/load.js';
import { KRONECKER_SOLVES, type KroneckerSolve } from '../curvature/kronecker/group-solve.js';
import { METHODS, type MethodName } from '../methods/methods.js';
import { parseMethodList } from '../cli/options.js';
import { benchAutoencoder } from './autoencoder.js';
import { measureTransfers, transfersLine } from './transfers.js';
import { runScaling, SCALING_METHODS, writeScaling } from './scaling.js';
import { compareBackends } from './backends.js';
import { runFloor } from './floor.js';
import { runKroneckerDevice } from './kronecker-device.js';
import { benchAll, type BenchAllResult } from './all/run.js';
import { benchAllReport } from './all/report.js';
import { scalingAll } from './all/scaling-all.js';
import { runThreadSpeedup } from './threads.js';
import type { TfjsBackendName } from '../backend/tfjs/tf.js';

/**
 * `npm run bench [-- --json FILE] [--methods a,b] [--kronecker-solve restricted|masked] [--threads N]`: median
 * time of one batch iteration of each method (gradient, direction, update) on Section 4's
 * autoencoder (seed 1, 16 samples), its ratio to backprop beside the paper's Table 1 ratio, and
 * its multiply-adds (see `benchAutoencoder`). The Kronecker-factored methods are timed with both
 * solves (restricted, the default, and masked) unless `--kronecker-solve` picks one.
 * `--backend all` runs every available backend side by side (see `benchAll`).
 */
async function main(args: string[]): Promise<void> {
  const flag = (name: string) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
  if (flag('--compare-backends')) return backendsTable(flag);
  if (args.includes('--floor')) return floor(flag);
  if (args.includes('--kronecker-device')) return kroneckerDevice(flag);
  if (flag('--backend') === 'all') return allBackends(args, flag);
  // --threads N: the cpu engine's threads on networks of ≥ 10⁵ edges (default 1, the figures recorded so far).
  const threads = flag('--threads') === undefined ? undefined : Number(flag('--threads'));
  const backend = (await useBackend(flag('--backend') ?? 'cpu', { tfjsBackend: flag('--tfjs-backend') as TfjsBackendName | undefined, threads })).name;
  if (args.includes('--scaling')) return scaling(args, flag, backend);
  if (args.includes('--threads-speedup')) return threadsSpeedup(flag, threads);
  if (args.includes('--transfers')) return transfers(backend, parseMethodList(flag('--methods'), [...METHODS]));
  const methods = parseMethodList(flag('--methods'), [...METHODS]);
  const result = benchAutoencoder(backend, methods, { solves: kroneckerSolves(flag('--kronecker-solve')), onLine: (line) => process.stdout.write(line + '\n') });
  const json = flag('--json');
  if (json) writeFileSync(json, JSON.stringify({ network: result.network, methods: result.methods }, null, 2) + '\n');
}

/** The Kronecker solves to time: both, or the one `--kronecker-solve` names. */
function kroneckerSolves(solveFlag: string | undefined): KroneckerSolve[] {
  if (solveFlag !== undefined && !(KRONECKER_SOLVES as readonly string[]).includes(solveFlag)) throw new Error(`--kronecker-solve ${solveFlag}: use ${KRONECKER_SOLVES.join(' or ')}`);
  return solveFlag === undefined ? [...KRONECKER_SOLVES] : [solveFlag as KroneckerSolve];
}

/**
 * `npm run bench -- --transfers [--backend B] [--methods a,b]`: host↔device traffic of one
 * iteration of each method on the autoencoder (seed 1, 16 samples) and on a deeper network
 * with the same units (a 12-level random DAG), beside the batch and parameter sizes: bytes per
 * iteration should not depend on the number of levels (see `measureTransfers`).
 */
function transfers(backend: string, methods: MethodName[]): void {
  process.stdout.write(`backend ${backendInfo(backend).detail}\n`);
  process.stdout.write('network                  method                                 uploads  bytes in  reads  bytes out  (batch in + params: bytes)\n');
  measureTransfers(backend, methods, (network, method) => {
    if (method === methods[0]) process.stdout.write(`${network.label}: ${network.units} units, ${network.levels} levels, ${network.parameters} parameters\n`);
    process.stdout.write(transfersLine(network, method) + '\n');
  });
}

/**
 * `npm run bench -- --scaling [--json FILE] [--svg PREFIX] [--backend B] [--scale F] [--repeats R] [--methods a,b] [--no-memory]`: time per
 * sample of each method as units, fan-in and outputs double (up to about 10^6 edges), fitted
 * exponents beside Section 1's, and peak memory at the largest size.
 */
function scaling(args: string[], flag: (name: string) => string | undefined, backend: string): void {
  const number = (name: string) => (flag(name) === undefined ? undefined : Number(flag(name)));
  const only = flag('--methods') === undefined ? undefined : parseMethodList(flag('--methods'), []);
  const result = runScaling({ backend, scale: number('--scale'), repeats: number('--repeats'), methods: only, memory: !args.includes('--no-memory'), onLine: (line) => process.stdout.write(line + '\n') });
  process.stdout.write('\nfitted exponents: over all sizes (last doubling) / Section 1\n');
  process.stdout.write('method                                  units               fan-in              outputs\n');
  const methods = Object.keys(result.sweeps.units.methods);
  for (const method of methods) {
    const cell = (sweep: 'units' | 'fanIn' | 'outputs') => {
      const m = result.sweeps[sweep].methods[method];
      return `${m.exponent.toFixed(2)} (${m.lastExponent.toFixed(2)}) / ${m.expected}`.padEnd(20);
    };
    process.stdout.write(`${method.padEnd(40)}${cell('units')}${cell('fanIn')}${cell('outputs')}\n`);
  }
  writeScaling(result, flag('--json'), flag('--svg'));
}

/**
 * `npm run bench -- --threads-speedup [--threads N] [--sizes 16,64] [--repeats R] [--scale F] [--methods a,b] [--json FILE]`:
 * each scaling method on the 10⁶-edge network on one thread and on N (default: the cores, at
 * least 2), with the load average and Amdahl's prediction (see `runThreadSpeedup`).
 */
async function threadsSpeedup(flag: (name: string) => string | undefined, threads: number | undefined): Promise<void> {
  const number = (name: string) => (flag(name) === undefined ? undefined : Number(flag(name)));
  const sizes = flag('--sizes')?.split(',').map(Number);
  const methods = flag('--methods') === undefined ? undefined : parseMethodList(flag('--methods'), []);
  const result = await runThreadSpeedup({ threads, sizes, repeats: number('--repeats'), scale: number('--scale'), methods, onLine: (line) => process.stdout.write(line + '\n') });
  const json = flag('--json');
  if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
}

/**
 * `npm run bench -- --compare-backends cpu,tfjs-cpu,tfjs-wasm [--methods a,b] [--rounds R] [--dag UNITS,FANIN,OUTPUTS] [--json FILE]`:
 * one batch iteration of each method on each backend, in one run, alternating (see `compareBackends`);
 * on the autoencoder, or with `--dag` on a random layered DAG.
 */
async function backendsTable(flag: (name: string) => string | undefined): Promise<void> {
  const methods = parseMethodList(flag('--methods'), ['backprop', 'unitwise-natural', 'quasi-diagonal-backpropagated-metric', 'kflr']);
  const rounds = flag('--rounds') === undefined ? undefined : Number(flag('--rounds'));
  const dag = flag('--dag')?.split(',').map(Number);
  const result = await compareBackends({ backends: String(flag('--compare-backends')).split(','), methods, rounds, dag: dag && { units: dag[0], fanIn: dag[1], outputs: dag[2] }, onLine: (line) => process.stdout.write(line + '\n') });
  const json = flag('--json');
  if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
}

/**
 * `npm run bench -- --floor [--rounds R] [--json FILE]`: the CPU backend against the
 * hand-written backprop of the autoencoder and its own backprop (see `runFloor`).
 */
function floor(flag: (name: string) => string | undefined): void {
  const rounds = flag('--rounds') === undefined ? undefined : Number(flag('--rounds'));
  const result = runFloor({ rounds, onLine: (line) => process.stdout.write(line + '\n') });
  const json = flag('--json');
  if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
}

/**
 * `npm run bench -- --kronecker-device [--layers 784,300,100,10] [--batch 32] [--inverse-every 1] [--rounds R] [--iterations I]
 * [--methods kflr,kfac] [--json FILE]`: kflr and kfac on webgpu by the host route and the device route (both designs of its grid
 * solves), interleaved rounds, µs and transfers per iteration (see `runKroneckerDevice`).
 */
async function kroneckerDevice(flag: (name: string) => string | undefined): Promise<void> {
  const number = (name: string) => (flag(name) === undefined ? undefined : Number(flag(name)));
  const methods = flag('--methods') === undefined ? undefined : parseMethodList(flag('--methods'), []);
  const layers = flag('--layers')?.split(',').map(Number);
  const result = await runKroneckerDevice({ layers, batch: number('--batch'), inverseEvery: number('--inverse-every'), rounds: number('--rounds'), iterations: number('--iterations'), methods, onLine: (line) => process.stdout.write(line + '\n') });
  const json = flag('--json');
  if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
}

/**
 * `npm run bench -- --backend all [--methods a,b] [--backends l1,l2] [--json FILE] [--report FILE] [--no-large] [--rounds R]
 * [--kronecker-solve S] [--repeats R] [--budget S] [--large-size UNITS,FANIN,OUTPUTS] [--goal3-rounds R]`: every method on every available backend, each
 * backend in processes of its own (see `benchAll`), and one combined report (`benchAllReport`), also
 * written to `--report`. `--large-size` replaces the 10⁶-edge network (tests use a tiny one);
 * `--from-json FILE` re-prints a recorded run's report without measuring; `--resume FILE` goes on
 * with a partial record (what it holds is kept), e.g. `--resume` the `--json` file of an interrupted run.
 * With `--scaling --out-dir DIR`, the scaling sweep on each backend in turn instead (`scalingAll`).
 */
async function allBackends(args: string[], flag: (name: string) => string | undefined): Promise<void> {
  const say = (line: string) => process.stdout.write(line + '\n');
  if (args.includes('--scaling')) {
    const outDir = flag('--out-dir');
    if (!outDir) throw new Error('--scaling --backend all writes each backend\'s sweep under --out-dir DIR: give it (e.g. --out-dir experiments/scaling-now)');
    const passed = ['--scale', '--repeats', '--methods'].flatMap((f) => (flag(f) === undefined ? [] : [f, flag(f) as string]));
    const failed = await scalingAll(outDir, [...passed, ...(args.includes('--no-memory') ? ['--no-memory'] : [])], say);
    if (failed.length) process.exitCode = 1;
    return;
  }
  const recorded = flag('--from-json');
  if (recorded) {
    // Re-prints (and with --report re-writes) the report of a recorded run, measuring nothing.
    const report = benchAllReport(JSON.parse(readFileSync(recorded, 'utf8')) as BenchAllResult);
    for (const line of report) say(line);
    if (flag('--report')) writeFileSync(flag('--report') as string, report.join('\n') + '\n');
    return;
  }
  const number = (name: string) => (flag(name) === undefined ? undefined : Number(flag(name)));
  const methods = parseMethodList(flag('--methods'), [...METHODS]);
  const largeMethods = SCALING_METHODS.map((m) => m.method).filter((m) => flag('--methods') === undefined || methods.includes(m));
  const json = flag('--json');
  const size = flag('--large-size')?.split(',').map(Number);
  if (size && (size.length !== 3 || size.some((v) => !Number.isInteger(v) || v <= 0))) throw new Error(`--large-size ${flag('--large-size')}: give UNITS,FANIN,OUTPUTS as positive integers`);
  const result = await benchAll({
    methods,
    largeMethods,
    backends: flag('--backends')?.split(','),
    large: !args.includes('--no-large') && largeMethods.length > 0,
    largeSize: size && { units: size[0], fanIn: size[1], outputs: size[2] },
    rounds: number('--rounds'),
    solves: flag('--kronecker-solve') === undefined ? undefined : kroneckerSolves(flag('--kronecker-solve')),
    repeats: number('--repeats'),
    budgetSeconds: number('--budget'),
    goal3Rounds: number('--goal3-rounds'),
    command: `npm run bench -- ${args.filter((a, i) => a !== '--resume' && args[i - 1] !== '--resume').join(' ')}`,
    resume: flag('--resume') === undefined ? undefined : (JSON.parse(readFileSync(flag('--resume') as string, 'utf8')) as BenchAllResult),
    onLine: say,
    // Saved after each part: an interrupted run keeps what it measured (--from-json prints its report).
    onPartial: (partial) => json && writeFileSync(json, JSON.stringify(partial, null, 2) + '\n'),
  });
  const report = benchAllReport(result);
  say('');
  for (const line of report) say(line);
  if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
  const text = flag('--report');
  if (text) writeFileSync(text, report.join('\n') + '\n');
}

await main(process.argv.slice(2));
