import { availableParallelism } from 'node:os';
import type { BaselineChoices } from '../curvature/baselines.js';
import { BACKENDS, backendInfo, useBackend } from '../backend/load.js';
import { TFJS_BACKENDS, type TfjsBackendName } from '../backend/tfjs/tf.js';
import { UsageError, problem } from '../errors.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import { checkCurvatureMemory } from '../engine/size-guard.js';
import { KRONECKER_DAMPINGS } from '../curvature/kronecker/factor-inverse.js';
import { KRONECKER_SOLVES } from '../curvature/kronecker/group-solve.js';
import { GROUPINGS } from '../curvature/kronecker/groups.js';
import type { TableDataOptions } from '../data/load-data.js';
import { isMethodName, METHOD_SPECS, METHODS, type KroneckerChoices, type MethodName } from '../methods/methods.js';

/** yargs options shared by the commands that compute a method's direction. */
export const methodOptions = {
  method: { choices: METHODS, default: 'backprop' as const, describe: 'training method (metric and reduction of Sections 1 and 2.5)' },
  epsilon: { type: 'number' as const, default: 1e-4, describe: 'regularisation ε added to the metric before solving (Section 4)' },
  'mc-samples': { type: 'number' as const, default: 1, describe: 'outputs drawn per sample by the Monte-Carlo Fisher methods (K of Eq. 100)' },
  seed: { type: 'number' as const, default: 1, describe: 'seed of the Monte-Carlo draws' },
  backend: { choices: BACKENDS, default: 'cpu' as const, describe: 'compute backend: cpu (Float64 reference), gpujs (gpu.js: headlessgl, else webasm; float32; UNITWISE_GPUJS_MODE forces a mode) tfjs (TensorFlow.js, float32; see --tfjs-backend) or webgpu (WGSL compute shaders on Dawn: a GPU driver, else Mesa\'s GL ES on the CPU; float32)' },
  'tfjs-backend': {
    choices: TFJS_BACKENDS,
    describe: '--backend tfjs: TensorFlow.js backend: cpu (JavaScript), wasm (WebAssembly, SIMD), webgpu (Dawn: a GPU, else Mesa\'s GL ES; its engines run in a worker thread) or tensorflow (libtensorflow: needs @tensorflow/tfjs-node); default tensorflow when installed, else wasm',
  },
};

/** `--threads` of the commands that take `--backend` (see {@link prepareBackend}). */
export const threadsOption = {
  threads: {
    type: 'number' as const,
    describe: `--backend cpu: threads per engine (default: the ${availableParallelism()} cores here). Networks of at least 10⁵ edges split each kernel call over them (shared memory), with results bit-identical to --threads 1; smaller networks always run on one thread. Other backends refuse more than 1`,
  },
};

/** yargs options of the Kronecker-factored methods (kflr, kfac, kfra); defaults are filled by the library. */
export const kroneckerOptions = {
  groups: { choices: GROUPINGS, describe: 'kflr/kfac/kfra: groups of units, the topological levels (default), the node attribute "group", or every unit alone' },
  'kronecker-damping': { choices: KRONECKER_DAMPINGS, describe: 'kflr/kfac/kfra: ε damps the factors (A + π√ε I, G + √ε/π I; default) or A ⊗ G + ε I exactly' },
  'kronecker-solve': { choices: KRONECKER_SOLVES, describe: 'kflr/kfac/kfra on sparse groups: exact on the parameters that exist (default) or the dense solve masked' },
  'inverse-every': { type: 'number' as const, describe: 'kflr/kfac/kfra: recompute the inverses every T updates (default 1 in batch mode, 20 in minibatch)' },
};

/** The first-order baselines' options (adam, momentum). */
export const baselineOptions = {
  'adam-beta1': { type: 'number' as const, describe: 'adam: first-moment decay β1 (default 0.9)' },
  'adam-beta2': { type: 'number' as const, describe: 'adam: second-moment decay β2 (default 0.999)' },
  'adam-epsilon': { type: 'number' as const, describe: 'adam: ε added to √v̂ (default 1e-8; --epsilon does not apply)' },
  momentum: { type: 'number' as const, describe: 'momentum: coefficient μ of v ← μv + G (default 0.9)' },
  nesterov: { type: 'boolean' as const, describe: 'momentum: Nesterov’s variant, direction G + μv' },
};

/** The baseline choices given on a command line (undefined where not given). */
export function baselineArgs(argv: Record<string, unknown>): BaselineChoices {
  return {
    adamBeta1: argv['adam-beta1'] as number | undefined,
    adamBeta2: argv['adam-beta2'] as number | undefined,
    adamEpsilon: argv['adam-epsilon'] as number | undefined,
    momentum: argv.momentum as number | undefined,
    nesterov: argv.nesterov as boolean | undefined,
  };
}

/** The Kronecker choices given on a command line (undefined where not given). */
export function kroneckerArgs(argv: Record<string, unknown>): KroneckerChoices {
  return {
    groups: argv.groups as KroneckerChoices['groups'],
    kroneckerDamping: argv['kronecker-damping'] as KroneckerChoices['kroneckerDamping'],
    kroneckerSolve: argv['kronecker-solve'] as KroneckerChoices['kroneckerSolve'],
    inverseEvery: argv['inverse-every'] as number | undefined,
  };
}

/** A comma-separated --methods list, or `fallback` when none is given; unknown names are a usage error. */
export function parseMethodList(text: string | undefined, fallback: MethodName[]): MethodName[] {
  if (text === undefined) return fallback;
  const names = String(text).split(',').map((m) => m.trim());
  const unknown = names.filter((m) => !isMethodName(m));
  if (unknown.length > 0) throw new UsageError([problem('methods', `--methods: unknown ${unknown.join(', ')}; available: ${METHODS.join(', ')}`)]);
  return names as MethodName[];
}

/**
 * Loads the backend named on the command line (with `--tfjs-backend`, the tfjs backend under it;
 * for cpu, with `--threads`, default the number of cores), says which ran (on stderr) when it is
 * not the CPU reference, and returns its registered name (`tfjs-wasm` for `--backend tfjs
 * --tfjs-backend wasm`): the name the run's settings record.
 */
export async function prepareBackend(name: string, tfjsBackend?: unknown, threads?: unknown): Promise<string> {
  const given = threads as number | undefined;
  const backend = await useBackend(name, { tfjsBackend: tfjsBackend as TfjsBackendName | undefined, threads: given ?? (name === 'cpu' ? availableParallelism() : undefined) });
  if (backend.name !== 'cpu') process.stderr.write(`backend: ${backendInfo(backend.name).detail}\n`);
  return backend.name;
}

/** `--force` of the commands that write files. */
export const forceOption = {
  force: { type: 'boolean' as const, default: false, describe: 'replace existing read-only output files' },
};

/**
 * Refuses (UsageError) a method whose per-unit metric blocks the network cannot hold, before any
 * work, and prints the expected memory on stderr when it is large (see `checkCurvatureMemory`).
 */
export function guardCurvatureMemory(net: CompiledNetwork, methods: readonly MethodName[], options: { copies?: number; blocks?: boolean; quiet?: boolean } = {}): void {
  const full = methods.filter((m) => METHOD_SPECS[m].reduction === 'full');
  if (full.length === 0 && !options.blocks) return;
  const method = full.length === 0 ? 'the blocks quantity' : full.length === 1 ? full[0] : `the full-block methods (${full.join(', ')})`;
  const memory = checkCurvatureMemory(net, 'full', { method, copies: options.copies });
  if (memory?.notice && !options.quiet) process.stderr.write(memory.notice + '\n');
}

/** yargs options of every command that reads `--data`: how CSV and .npy columns become inputs and targets. */
export const dataOptions = {
  inputs: { type: 'string' as const, describe: 'CSV/.npy data: input columns, comma-separated names, 0-based indices or ranges a..b (x1..x784, 0..783); default: the columns that are not targets' },
  targets: { type: 'string' as const, describe: 'CSV/.npy data: target columns (of --targets-data when given); default: the columns not in --inputs, else the last k (k = outputs, or 1 for a softmax class column)' },
  'one-hot': { type: 'boolean' as const, describe: 'CSV/.npy data: one-hot encode the single target column (class 0..n-1, or labels numbered in sorted order); automatic for one softmax target column' },
  'targets-data': { type: 'string' as const, describe: 'CSV/.npy file holding the targets row for row; --data then holds the inputs' },
};

/** The data options given on a command line (see {@link dataOptions}). */
export function dataArgs(argv: Record<string, unknown>): TableDataOptions {
  return {
    inputs: argv.inputs as string | undefined,
    targets: argv.targets as string | undefined,
    oneHot: argv['one-hot'] as boolean | undefined,
    targetsData: argv['targets-data'] as string | undefined,
  };
}
