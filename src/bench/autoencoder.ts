import { backendInfo } from '../backend/load.js';
import { makeBatch } from '../engine/batch.js';
import { createModel } from '../engine/model.js';
import { generateAutoencoder } from '../generate/autoencoder.js';
import { generateBinaryData } from '../generate/data.js';
import type { GroupSolveReport } from '../curvature/kronecker/kronecker-curvature.js';
import { KRONECKER_SOLVES, type KroneckerSolve } from '../curvature/kronecker/group-solve.js';
import { kroneckerMultiplyAdds, multiplyAdds, type KroneckerCost } from '../methods/cost.js';
import { buildTransferPlan } from '../metrics/transfer-plan.js';
import { METHOD_SPECS, type CurvatureOptions, type MethodName } from '../methods/methods.js';
import { paperTimeRatio } from '../methods/paper.js';
import { methodLoop } from './loop.js';
import { medianMicros } from './timing.js';

/** One method's figures on the autoencoder. */
export interface MethodFigures {
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

/** What {@link benchAutoencoder} measured: the network, the backend that ran, and each timed line by key. */
export interface AutoencoderBench {
  network: { units: number; edges: number; parameters: number; samples: number };
  detail: string;
  /** The keys in the order timed: `method`, or `method:restricted` / `method:masked` for the Kronecker solves. */
  order: string[];
  methods: Record<string, MethodFigures>;
}

/** Options of {@link benchAutoencoder}. */
export interface AutoencoderBenchOptions {
  /** The Kronecker solves to time (default both: `kflr` is the restricted one, `kflr:masked` the other). */
  solves?: KroneckerSolve[];
  /**
   * Timed rounds of each method (default: 21 for the cpu's light methods, 9 for its Kronecker
   * methods, 5 on the float32 backends, 3 for `natural`); fewer keeps a test or a slow backend short.
   */
  rounds?: number;
  /** The report's lines: the header, then one line per method once all are timed, then the Kronecker breakdowns. */
  onLine?: (line: string) => void;
  /** Called as each method is warmed up and timed (a progress message naming it). */
  onProgress?: (message: string) => void;
}

/** One timed line: a method, with the Kronecker solve for the Kronecker-factored ones. */
interface BenchEntry {
  key: string;
  method: MethodName;
  options: CurvatureOptions;
}

/**
 * Median time of one batch iteration of each method (gradient, direction, update) on Section
 * 4's autoencoder (seed 1, 16 samples) on `backend`, its ratio to backprop beside the paper's
 * Table 1 ratio, and its multiply-adds; the Kronecker-factored methods once per solve, with
 * their multiply-adds by part and each group's solve route as it ran. Backprop is always timed
 * (first and again last, the smaller median kept).
 */
export function benchAutoencoder(backend: string, methods: MethodName[], options: AutoencoderBenchOptions = {}): AutoencoderBench {
  const solves = options.solves ?? [...KRONECKER_SOLVES];
  const say = options.onLine ?? (() => undefined);
  const progress = options.onProgress ?? (() => undefined);
  const model = createModel(generateAutoencoder({ seed: 1, activation: 'sigmoid' }));
  const data = generateBinaryData({ seed: 1 });
  const { net } = model;
  const batch = makeBatch(net, data);
  const plan = buildTransferPlan(net);
  const detail = backendInfo(backend).detail;
  const results: Record<string, MethodFigures> = {};
  say(`autoencoder 100-30-10-30-100 (seed 1): ${net.nUnits} units, ${net.nEdges} edges, ${net.nParams} parameters, ${batch.size} samples, backend ${detail}`);
  say('method                                 median µs   ratio  paper  multiply-adds  ns/madd  time/(madds×backprop ns/madd)');
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
  const { rounds } = options;
  for (const key of order) {
    if (heavy(key)) continue;
    medianMicros(iterations.get(key) as () => void, { warmup: rounds !== undefined ? 1 : light || medium(key) ? 5 : 300, rounds: 1, inner: 1 });
    progress(`warmed up ${key}`);
  }
  const repetitions = (key: string) =>
    heavy(key) ? { warmup: 1, rounds: 3, inner: 1 } : light ? { warmup: 3, rounds: 5, inner: 3 } : medium(key) ? { warmup: 3, rounds: 9, inner: 3 } : { warmup: 50, rounds: 21, inner: 20 };
  const time = (key: string) => {
    const r = repetitions(key);
    const micros = medianMicros(iterations.get(key) as () => void, rounds === undefined ? r : { warmup: 1, rounds, inner: Math.min(r.inner, 3) });
    progress(`timed ${key}: ${micros.toFixed(0)} µs per iteration`);
    return micros;
  };
  const backpropMicros = time('backprop');
  const timings = new Map(order.map((key) => [key, key === 'backprop' ? backpropMicros : time(key)]));
  timings.set('backprop', Math.min(backpropMicros, time('backprop')));
  const backpropMadds = multiplyAdds(METHOD_SPECS.backprop, net, plan, batch.size);
  const backpropNsPerMultiplyAdd = ((timings.get('backprop') as number) * 1000) / backpropMadds;
  const breakdowns: string[] = [];
  for (const key of order) {
    const { method, options: curvature } = entryOf.get(key) as BenchEntry;
    const micros = timings.get(key) as number;
    const report = (loops.get(key)?.solveReport() ?? undefined) as GroupSolveReport[] | undefined;
    const cost = kronecker(method) ? kroneckerMultiplyAdds(METHOD_SPECS[method], net, plan, batch.size, 1, { solve: curvature.kroneckerSolve, routes: report }) : undefined;
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
    say(`${key.padEnd(38)} ${micros.toFixed(1).padStart(10)} ${figures.ratioToBackprop.toFixed(2).padStart(7)} ${paper} ${String(madds).padStart(14)} ${figures.nsPerMultiplyAdd.toFixed(3).padStart(8)} ${figures.efficiencyRatio.toFixed(2).padStart(8)}`);
  }
  if (breakdowns.length) {
    say('\nKronecker-factored methods, multiply-adds by part (solves: route, CG iterations and multiply-adds per group, as the last timed iteration ran):');
    for (const line of breakdowns) say(line);
  }
  for (const loop of loops.values()) loop.dispose();
  return { network: { units: net.nUnits, edges: net.nEdges, parameters: net.nParams, samples: batch.size }, detail, order, methods: results };
}
