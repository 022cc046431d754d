import { writeFileSync } from 'node:fs';
import { backendInfo, useBackend } from '../backend/load.js';
import { makeBatch } from '../engine/batch.js';
import { createModel } from '../engine/model.js';
import { generateAutoencoder } from '../generate/autoencoder.js';
import { generateBinaryData } from '../generate/data.js';
import { generateRandomDag } from '../generate/random-dag.js';
import type { GroupSolveReport } from '../curvature/kronecker/kronecker-curvature.js';
import { KRONECKER_SOLVES, type KroneckerSolve } from '../curvature/kronecker/group-solve.js';
import { kroneckerMultiplyAdds, multiplyAdds, type KroneckerCost } from '../methods/cost.js';
import { buildTransferPlan } from '../metrics/transfer-plan.js';
import { METHOD_SPECS, METHODS, type CurvatureOptions, type MethodName } from '../methods/methods.js';
import { paperTimeRatio } from '../methods/paper.js';
import { parseMethodList } from '../cli/options.js';
import { methodLoop, transfersPerIteration } from './loop.js';
import { medianMicros } from './timing.js';
import { runScaling, writeScaling } from './scaling.js';
import { compareBackends } from './backends.js';
import { runFloor } from './floor.js';
import type { TfjsBackendName } from '../backend/tfjs/tf.js';

interface MethodFigures {
  medianMicros: number;
  ratioToBackprop: number;
  paperRatio: number | null;
  multiplyAdds: number;
  nsPerMultiplyAdd: number;
  /** Time over (multiply-adds × backprop's time per multiply-add). */
  efficiencyRatio: number;
  /** Kronecker-factored methods: the multiply-adds by part and the solve route of each group (with its CG iterations). */
  kronecker?: KroneckerCost & { solveReport: GroupSolveReport[] };
}

/** One timed line: a method, with the Kronecker solve for the Kronecker-factored ones. */
interface BenchEntry {
  /** `method`, or `method:masked` / `method:restricted` for the Kronecker solves. */
  key: string;
  method: MethodName;
  options: CurvatureOptions;
}

/**
 * `npm run bench [-- --json FILE] [--methods a,b] [--kronecker-solve restricted|masked]`: median
 * time of one batch iteration of each method (gradient, direction, update) on Section 4's
 * autoencoder (seed 1, 16 samples), its ratio to backprop beside the paper's Table 1 ratio, and
 * its multiply-adds. The Kronecker-factored methods are timed with both solves (restricted, the
 * default, and masked) unless `--kronecker-solve` picks one, and their multiply-adds are
 * broken down by part with each group's solve route as it ran.
 */
async function main(args: string[]): Promise<void> {
  const flag = (name: string) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
  if (flag('--compare-backends')) return backendsTable(flag);
  if (args.includes('--floor')) return floor(flag);
  const backend = (await useBackend(flag('--backend') ?? 'cpu', { tfjsBackend: flag('--tfjs-backend') as TfjsBackendName | undefined })).name;
  if (args.includes('--scaling')) return scaling(args, flag, backend);
  if (args.includes('--transfers')) return transfers(backend, parseMethodList(flag('--methods'), [...METHODS]));
  const methods = parseMethodList(flag('--methods'), [...METHODS]);
  const solveFlag = flag('--kronecker-solve');
  if (solveFlag !== undefined && !(KRONECKER_SOLVES as readonly string[]).includes(solveFlag)) throw new Error(`--kronecker-solve ${solveFlag}: use ${KRONECKER_SOLVES.join(' or ')}`);
  const solves: KroneckerSolve[] = solveFlag === undefined ? [...KRONECKER_SOLVES] : [solveFlag as KroneckerSolve];
  const model = createModel(generateAutoencoder({ seed: 1, activation: 'sigmoid' }));
  const data = generateBinaryData({ seed: 1 });
  const { net } = model;
  const batch = makeBatch(net, data);
  const plan = buildTransferPlan(net);
  const results: Record<string, MethodFigures> = {};
  process.stdout.write(`autoencoder 100-30-10-30-100 (seed 1): ${net.nUnits} units, ${net.nEdges} edges, ${net.nParams} parameters, ${batch.size} samples, backend ${backendInfo(backend).detail}\n`);
  process.stdout.write('method                                 median µs   ratio  paper  multiply-adds  ns/madd  time/(madds×backprop ns/madd)\n');
  const kronecker = (method: MethodName) => METHOD_SPECS[method].reduction === 'kronecker';
  const entries = ['backprop' as MethodName, ...methods.filter((m) => m !== 'backprop')].flatMap((method): BenchEntry[] =>
    kronecker(method) ? solves.map((solve) => ({ key: solve === 'restricted' && solves.length > 1 ? method : `${method}:${solve}`, method, options: { kroneckerSolve: solve } })) : [{ key: method, method, options: {} }],
  );
  const order = entries.map((e) => e.key);
  const entryOf = new Map(entries.map((e) => [e.key, e] as const));
  const loops = new Map(entries.map((e) => [e.key, methodLoop(backend, net, model.params, batch, e.method, e.options)] as const));
  const iterations = new Map(order.map((key) => [key, () => loops.get(key)?.iterate()] as const));
  // NOTE: the Kronecker methods take milliseconds per iteration here (their exact sparse solves):
  // a short warm-up and fewer repetitions keep the benchmark to minutes.
  const heavy = (key: string) => METHOD_SPECS[(entryOf.get(key) as BenchEntry).method].reduction === 'whole-network';
  const medium = (key: string) => kronecker((entryOf.get(key) as BenchEntry).method);
  // NOTE: every kernel is warmed up before anything is timed, and backprop is timed before and
  // after the others (the smaller median is kept): otherwise JIT tiering and machine noise land
  // on whichever method runs first and skew every ratio.
  // NOTE: the float32 backends are timed with fewer repetitions, so that the benchmark ends in minutes.
  const light = backend !== 'cpu';
  for (const key of order) if (!heavy(key)) medianMicros(iterations.get(key) as () => void, { warmup: light || medium(key) ? 5 : 300, rounds: 1, inner: 1 });
  const time = (key: string) =>
    medianMicros(iterations.get(key) as () => void, heavy(key) ? { warmup: 1, rounds: 3, inner: 1 } : light ? { warmup: 3, rounds: 5, inner: 3 } : medium(key) ? { warmup: 3, rounds: 9, inner: 3 } : { warmup: 50, rounds: 21, inner: 20 });
  const backpropMicros = time('backprop');
  const timings = new Map(order.map((key) => [key, key === 'backprop' ? backpropMicros : time(key)]));
  timings.set('backprop', Math.min(backpropMicros, time('backprop')));
  const backpropMadds = multiplyAdds(METHOD_SPECS.backprop, net, plan, batch.size);
  const backpropNsPerMultiplyAdd = ((timings.get('backprop') as number) * 1000) / backpropMadds;
  const breakdowns: string[] = [];
  for (const key of order) {
    const { method, options } = entryOf.get(key) as BenchEntry;
    const micros = timings.get(key) as number;
    const report = (loops.get(key)?.solveReport() ?? undefined) as GroupSolveReport[] | undefined;
    const cost = kronecker(method) ? kroneckerMultiplyAdds(METHOD_SPECS[method], net, plan, batch.size, 1, { solve: options.kroneckerSolve, routes: report }) : undefined;
    const madds = cost ? cost.total : multiplyAdds(METHOD_SPECS[method], net, plan, batch.size);
    if (cost) {
      const routes = cost.groups.map((g) => `${g.name}: ${g.route}${g.iterations ? ` ${g.iterations} it.` : ''} ${g.solve}`).join('; ');
      breakdowns.push(`${key.padEnd(20)} base ${cost.base}, A ${cost.activityFactors}, G ${cost.outputFactors}, solves ${cost.solve} (${routes})`);
    }
    const figures: MethodFigures = {
      medianMicros: micros,
      ratioToBackprop: micros / (timings.get('backprop') as number),
      paperRatio: paperTimeRatio(method) ?? null,
      multiplyAdds: madds,
      nsPerMultiplyAdd: (micros * 1000) / madds,
      efficiencyRatio: (micros * 1000) / (madds * backpropNsPerMultiplyAdd),
      ...(cost ? { kronecker: { ...cost, solveReport: report ?? [] } } : {}),
    };
    results[key] = figures;
    const paper = figures.paperRatio === null ? '     -' : figures.paperRatio.toFixed(2).padStart(6);
    process.stdout.write(
      `${key.padEnd(38)} ${micros.toFixed(1).padStart(10)} ${figures.ratioToBackprop.toFixed(2).padStart(7)} ${paper} ${String(madds).padStart(14)} ${figures.nsPerMultiplyAdd.toFixed(3).padStart(8)} ${figures.efficiencyRatio.toFixed(2).padStart(8)}\n`,
    );
  }
  if (breakdowns.length) {
    process.stdout.write('\nKronecker-factored methods, multiply-adds by part (solves: route, CG iterations and multiply-adds per group, as the last timed iteration ran):\n');
    for (const line of breakdowns) process.stdout.write(line + '\n');
  }
  for (const loop of loops.values()) loop.dispose();
  const json = flag('--json');
  if (json) writeFileSync(json, JSON.stringify({ network: { units: net.nUnits, edges: net.nEdges, parameters: net.nParams, samples: batch.size }, methods: results }, null, 2) + '\n');
}

/**
 * `npm run bench -- --transfers [--backend B] [--methods a,b]`: host↔device traffic of one
 * iteration of each method on the autoencoder (seed 1, 16 samples) and on a deeper network
 * with the same units (a 12-level random DAG), beside the batch and parameter sizes: bytes per
 * iteration should not depend on the number of levels.
 */
function transfers(backend: string, methods: MethodName[]): void {
  const networks = [
    ['autoencoder (5 levels)', createModel(generateAutoencoder({ seed: 1, activation: 'sigmoid' }))],
    ['random DAG (13 levels)', createModel(generateRandomDag({ units: 270, fanIn: 5, outputs: 100, levels: 12, seed: 1 }))],
  ] as const;
  process.stdout.write(`backend ${backendInfo(backend).detail}\n`);
  process.stdout.write('network                  method                                 uploads  bytes in  reads  bytes out  (batch in + params: bytes)\n');
  for (const [label, model] of networks) {
    const { net } = model;
    const batch = makeBatch(net, { inputs: generateBinaryData({ seed: 1, length: net.nInputs }).inputs, targets: generateBinaryData({ seed: 2, length: net.nOutputs }).targets });
    const reference = ((net.nInputs + net.nOutputs) * batch.size + net.nParams) * 4;
    process.stdout.write(`${label}: ${net.nUnits} units, ${net.levelOffsets.length - 1} levels, ${net.nParams} parameters\n`);
    for (const method of methods) {
      const loop = methodLoop(backend, net, model.params, batch, method);
      loop.iterate();
      const before = loop.engine.transfers.snapshot();
      const n = 3;
      for (let i = 0; i < n; i++) loop.iterate();
      const t = transfersPerIteration(before, loop.engine.transfers.snapshot(), n);
      loop.dispose();
      process.stdout.write(`${label.padEnd(24)} ${method.padEnd(38)} ${t.uploads.toFixed(0).padStart(7)} ${t.uploadBytes.toFixed(0).padStart(9)} ${t.reads.toFixed(0).padStart(6)} ${t.readBytes.toFixed(0).padStart(10)}  (${reference})\n`);
    }
  }
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

await main(process.argv.slice(2));
