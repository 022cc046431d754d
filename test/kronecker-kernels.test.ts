import { beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { backwardPass, forwardPass, type Backend, type DeviceBuffer, type Engine, type EngineWorkspace } from '../src/backend/engine.js';
import { gpujsBackend, type GpujsMode } from '../src/backend/gpujs/index.js';
import { useBackend } from '../src/backend/load.js';
import { loadTfjs, type TfjsRuntime } from '../src/backend/tfjs/tf.js';
import { tfjsBackend } from '../src/backend/tfjs/tfjs-backend.js';
import { makeBatch } from '../src/engine/batch.js';
import type { CompiledNetwork } from '../src/engine/compiled-network.js';
import { dampFactors, KroneckerInverse } from '../src/curvature/kronecker/factor-inverse.js';
import type { WebgpuKronecker } from '../src/backend/webgpu/webgpu-kronecker.js';
import { createModel } from '../src/engine/model.js';
import { loadBatch } from '../src/engine/propagate.js';
import { bernoulliProbability } from '../src/interpretations/bernoulli.js';
import { classProbabilities } from '../src/interpretations/classes.js';
import { outputDraws } from '../src/metrics/output-metric.js';
import { INTERPRETATIONS, type NetworkDocument } from '../src/network/types.js';
import { Prng } from '../src/random/prng.js';
import { relative } from './helpers/compare.js';
import { randomData, randomNetwork } from './helpers/random-network.js';
import { distTfjsWebgpu } from './helpers/tfjs-webgpu.js';

/**
 * The Kronecker-factor kernels (group Gram matrices, weighted accumulation, sampled backward
 * pass) of the device engines against the Float64 CPU reference, on random networks of every
 * interpretation: tfjs (whole and chunked lists), gpu.js in its default mode and, where that is
 * headlessgl, in webasm too. Also what they transfer, and that they leak nothing; and the
 * optional grid kernels (`Engine.kronecker`: damped Cholesky and D = A'⁻¹ R G'⁻¹) where an
 * engine has them (webgpu).
 */

const SAMPLES = 7;
const TOLERANCE = 2e-4;
const defaultMode = gpujsBackend().mode;
const modes: GpujsMode[] = defaultMode === 'headlessgl' ? ['headlessgl', 'webasm'] : ['webasm'];

let runtime: TfjsRuntime;
let wasm: TfjsRuntime;
let webgpu: Backend;
let tfWebgpu: Backend;
const backends: Array<[string, () => Backend]> = [
  ['tfjs-cpu', () => tfjsBackend(runtime)],
  // Chunks of 40 numbers: one to five lists per gather, results permuted back into the plan's order.
  ['tfjs-cpu (chunks of 40)', () => tfjsBackend(runtime, { chunkEntries: 40 })],
  ['tfjs-wasm', () => tfjsBackend(wasm)],
  ['tfjs-wasm (chunks of 40)', () => tfjsBackend(wasm, { chunkEntries: 40 })],
  ['tfjs-webgpu', () => tfWebgpu],
  ...modes.map((mode): [string, () => Backend] => [`gpujs ${mode}`, () => gpujsBackend(mode)]),
  ['webgpu', () => webgpu],
];

beforeAll(async () => {
  runtime = await loadTfjs('cpu');
  wasm = await loadTfjs('wasm');
  webgpu = await useBackend('webgpu');
  tfWebgpu = await distTfjsWebgpu();
});

const networks: Array<[string, NetworkDocument]> = INTERPRETATIONS.map((interpretation) => [
  interpretation,
  randomNetwork({ interpretation, seed: 90, inputs: 4, hidden: 6, outputs: 3, density: 0.6, activations: ['sigmoid', 'tanh', 'linear'], affine: interpretation !== 'bernoulli' }),
]);

/**
 * Lists of rows of different lengths, in no order of length, two of one length, -1 (the constant
 * 1) first, in the middle and alone, a repeated row, an output unit and an empty list.
 */
const gramLists = (net: CompiledNetwork): Int32Array[] =>
  [[-1, 0, 1, 2, 3], [4, 6], [-1], [5, -1, 9, net.nUnits - 1], [], [7, 8], [3, 3, net.nInputs + 1]].map((rows) => Int32Array.from(rows));

/** Random numbers in [low, high) (weights kept away from 1 and 0, so that dropping them shows). */
const randoms = (length: number, seed: number, low: number, high: number) => {
  const rng = new Prng(seed);
  return Float64Array.from({ length }, () => low + (high - low) * rng.uniform());
};

type Side = { engine: Engine; params: DeviceBuffer; ws: EngineWorkspace };

/** An engine after forward, output layer and backward on one batch. */
function opened(backend: Backend, doc: NetworkDocument): Side {
  const model = createModel(doc);
  const batch = makeBatch(model.net, randomData(doc, SAMPLES, 11));
  const engine = backend.open(model.net, batch.size);
  const { params, ws } = loadBatch(engine, model.params, batch);
  forwardPass(engine, params, ws);
  engine.outputLayer(ws);
  backwardPass(engine, params, ws);
  return { engine, params, ws };
}

/** A buffer holding `values`. */
function uploaded(engine: Engine, values: Float64Array): DeviceBuffer {
  const buffer = engine.alloc(values.length);
  engine.upload(buffer, values);
  return buffer;
}

/** Two Gram accumulations into a random start (act weighted by row 2 of random weights, scale 0.37; b̃ unweighted, scale -1.3). */
function gram(side: Side, kernelTransfers: (engine: Engine) => void): Float64Array {
  const { engine, ws } = side;
  const { net } = engine;
  const plan = engine.gramPlan(gramLists(net));
  const out = uploaded(engine, randoms(plan.offsets[plan.rows.length], 5, -1, 1));
  const weights = uploaded(engine, randoms(3 * engine.size, 6, 0.2, 1.8));
  engine.transfers.reset();
  engine.groupGram(ws.act, plan, out, 0.37, weights, 2);
  engine.groupGram(ws.backReduced, plan, out, -1.3);
  kernelTransfers(engine);
  return engine.read(out).slice();
}

/** Two weighted accumulations into a random start (b̃ by row 1, a by row 0). */
function accumulated(side: Side, kernelTransfers: (engine: Engine) => void): Float64Array {
  const { engine, ws } = side;
  const n = engine.net.nUnits * engine.size;
  const dst = uploaded(engine, randoms(n, 7, -1, 1));
  const weights = uploaded(engine, randoms(2 * engine.size, 8, -1.5, 1.5));
  engine.transfers.reset();
  engine.accumulateWeighted(dst, ws.backReduced, weights, 1);
  engine.accumulateWeighted(dst, ws.act, weights, 0);
  kernelTransfers(engine);
  return engine.read(dst).slice();
}

/**
 * The smallest gap between a draw's number and a threshold of the sampled targets (Bernoulli:
 * each p; classes: the cumulative probabilities), from the reference's activities: float32
 * targets agree with the reference's wherever it is well above float32 rounding.
 */
function drawMargin(net: CompiledNetwork, act: Float64Array, draw: Float64Array): number {
  const S = SAMPLES;
  let margin = Infinity;
  if (net.interpretation === 'bernoulli') {
    for (let j = 0; j < net.nOutputs; j++) {
      const k = net.outputUnits[j];
      for (let s = 0; s < S; s++) margin = Math.min(margin, Math.abs(draw[j * S + s] - bernoulliProbability(net, k, act[k * S + s])));
    }
  } else if (net.interpretation !== 'square') {
    const p = classProbabilities(net, { size: S, act }, net.interpretation === 'softmax');
    for (let s = 0; s < S; s++) {
      let cumulative = 0;
      for (let j = 0; j < net.nOutputs - 1; j++) margin = Math.min(margin, Math.abs(draw[s] - (cumulative += p[j * S + s])));
    }
  }
  return margin;
}

describe.each(backends)('Kronecker-factor kernels: %s against the cpu engine', (_name, make) => {
  for (const [interpretation, doc] of networks) {
    describe(interpretation, () => {
      it('group Gram matrices (rows with -1, weighted and not, lists of several lengths) and weighted accumulation', () => {
        const [ref, dev] = [opened(cpuBackend, doc), opened(make(), doc)];
        const none = (engine: Engine) => expect(engine.transfers.snapshot()).toEqual({ uploads: 0, uploadBytes: 0, reads: 0, readBytes: 0 });
        const [a, b] = [gram(ref, () => {}), gram(dev, none)];
        expect(a.length).toBe(25 + 4 + 1 + 16 + 0 + 4 + 9);
        expect(relative(b, a, 1e-3), 'group Gram matrices').toBeLessThan(TOLERANCE);
        expect(relative(accumulated(dev, none), accumulated(ref, () => {}), 1e-3), 'weighted accumulation').toBeLessThan(TOLERANCE);
        // A plan is the engine's own: another engine's is refused (by name: tfjs-webgpu's classes are dist/'s).
        const usage = expect.objectContaining({ name: 'UsageError' });
        expect(() => dev.engine.groupGram(dev.ws.act, ref.engine.gramPlan([Int32Array.of(0)]), dev.engine.alloc(1), 1)).toThrow(usage);
        expect(() => dev.engine.gramPlan([Int32Array.of(dev.engine.net.nUnits)])).toThrow(usage);
        dev.engine.dispose();
      });

      it('sampled backward pass: the same b̃ for the same draw, input rows zero, ws untouched; the draw is the only transfer', () => {
        const [ref, dev] = [opened(cpuBackend, doc), opened(make(), doc)];
        const { net } = ref.engine;
        const n = net.nUnits * SAMPLES;
        const act = ref.engine.read(ref.ws.act);
        const own = ref.engine.read(ref.ws.backReduced).slice();
        for (let seed = 1; seed <= 3; seed++) {
          const draw = outputDraws(net, SAMPLES, new Prng(seed), 1);
          if (interpretation !== 'square') expect(drawMargin(net, act, draw), 'no draw near a threshold').toBeGreaterThan(1e-4);
          const [ra, rb] = [ref, dev].map((side) => uploaded(side.engine, new Float64Array(n).fill(7)));
          ref.engine.sampledBackward(ref.params, ref.ws, draw, ra);
          dev.engine.transfers.reset();
          dev.engine.sampledBackward(dev.params, dev.ws, draw, rb);
          expect(dev.engine.transfers.snapshot()).toEqual({ uploads: 1, uploadBytes: net.nOutputs * SAMPLES * 4, reads: 0, readBytes: 0 });
          const [a, b] = [ref.engine.read(ra), dev.engine.read(rb)];
          expect(Array.from(b.subarray(0, net.nInputs * SAMPLES))).toEqual(new Array(net.nInputs * SAMPLES).fill(0));
          expect(a.subarray(net.nInputs * SAMPLES).some((v) => v !== 0)).toBe(true);
          expect(relative(b, a, 1e-3), `b̃ of draw ${seed}`).toBeLessThan(TOLERANCE);
          // Sampled targets are not the batch's: b̃ differs from the workspace's own.
          if (interpretation === 'square') expect(relative(a, own, 1e-3)).toBeGreaterThan(1e-2);
        }
        expect(relative(ref.engine.read(ref.ws.backReduced), own, 1e-300)).toBe(0);
        expect(relative(dev.engine.read(dev.ws.backReduced), own, 1e-3), 'b̃ of ws kept').toBeLessThan(TOLERANCE);
        dev.engine.dispose();
      });
    });
  }
});

describe('tfjs engine: Kronecker-factor kernels and tensor memory', () => {
  it('hold a constant number of tensors over repeated calls; dispose() frees the plans too', () => {
    const { tf } = runtime;
    const [, doc] = networks[2];
    const before = tf.memory().numTensors;
    const side = opened(tfjsBackend(runtime, { chunkEntries: 40 }), doc);
    const { engine, params, ws } = side;
    const { net } = engine;
    const plan = engine.gramPlan(gramLists(net));
    const out = engine.alloc(plan.offsets[plan.rows.length]);
    const weights = uploaded(engine, randoms(3 * engine.size, 6, 0.2, 1.8));
    const dst = engine.alloc(net.nUnits * engine.size);
    const draws = outputDraws(net, engine.size, new Prng(2), 3);
    const round = (d: number) => {
      engine.groupGram(ws.act, plan, out, 0.5, weights, d % 3);
      engine.groupGram(ws.backReduced, plan, out, 2);
      engine.accumulateWeighted(dst, ws.backReduced, weights, d % 3);
      engine.sampledBackward(params, ws, draws.subarray(d * net.nOutputs * engine.size, (d + 1) * net.nOutputs * engine.size), dst);
    };
    round(0);
    const held = tf.memory().numTensors;
    for (let d = 0; d < 3; d++) round(d);
    expect(tf.memory().numTensors).toBe(held);
    engine.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** A random symmetric positive-definite n × n matrix (B Bᵀ / n + 0.05 I, B uniform in [-1, 1)). */
function randomSpd(n: number, seed: number): Float64Array {
  const b = randoms(n * n, seed, -1, 1);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += (b[i * n + k] * b[j * n + k]) / n + (i === j && k === 0 ? 0.05 : 0);
  return a;
}

describe('Kronecker grid kernels (Engine.kronecker: webgpu) against the host inverse', () => {
  // Both designs of webgpu's solves; by its rule, a plan this small takes the explicit inverses from an inverse period of 2.
  it.each(['inverses', 'triangular'] as const)('damped Cholesky and grid solves of two groups at offsets (a third factor left out), one number read; a non-PD factor named (%s)', (design) => {
    const [, doc] = networks[0];
    const { net } = createModel(doc);
    const engine = webgpu.open(net, 1);
    const kernels = engine.kronecker;
    expect(kernels).toBeDefined();
    if (!kernels) return;
    const webgpuKernels = kernels as WebgpuKronecker;
    expect([webgpuKernels.designFor(4, 1), webgpuKernels.designFor(4, 2), webgpuKernels.designFor(4000, 10)]).toEqual(['triangular', 'inverses', 'triangular']);
    webgpuKernels.design = design;
    // Layouts: A = [skipped 2×2 | group 0's 3×3 | group 1's 4×4], G = [group 1's 2×2 | group 0's 4×4].
    const shapes = [{ n: 3, m: 4, aOffset: 4, gOffset: 4 }, { n: 4, m: 2, aOffset: 13, gOffset: 0 }];
    const aHost = new Float64Array(29);
    const gHost = new Float64Array(20);
    aHost.set(randomSpd(2, 30), 0);
    const perm = Array.from({ length: net.nParams }, (_, i) => i).sort((x, y) => Math.sin(7 * x + 1) - Math.sin(7 * y + 1));
    expect(net.nParams).toBeGreaterThanOrEqual(20);
    let used = 0;
    const groups = shapes.map((g, j) => {
      aHost.set(randomSpd(g.n, 31 + j).map((v) => v * (j + 1)), g.aOffset);
      gHost.set(randomSpd(g.m, 41 + j).map((v) => v / (j + 2)), g.gOffset);
      const params = Int32Array.from(perm.slice(used, (used += g.n * g.m)));
      return { ...g, params };
    });
    const epsilon = 0.02;
    const gradient = randoms(net.nParams, 50, -1, 1);
    const expected = new Float64Array(net.nParams).fill(7);
    for (const g of groups) {
      const f = dampFactors(aHost.slice(g.aOffset, g.aOffset + g.n * g.n), g.n, gHost.slice(g.gOffset, g.gOffset + g.m * g.m), g.m, epsilon, 'factored');
      const d = new Float64Array(g.n * g.m);
      new KroneckerInverse(f.A, f.G, g.n, g.m, 0).apply(Float64Array.from(g.params, (p) => gradient[p]), d);
      g.params.forEach((p, e) => (expected[p] = d[e]));
    }
    const [A, G, grad] = [aHost, gHost, gradient].map((v) => uploaded(engine, v));
    const out = uploaded(engine, new Float64Array(net.nParams).fill(7));
    const factors = engine.alloc(A.length + G.length);
    const plan = kernels.gridPlan(groups, A.length);
    engine.transfers.reset();
    expect(kernels.factorise(plan, A, G, epsilon, factors)).toBe(-1);
    kernels.solveGrids(plan, factors, grad, out);
    expect(engine.transfers.snapshot()).toEqual({ uploads: 0, uploadBytes: 0, reads: 1, readBytes: 4 });
    expect(relative(engine.read(out), expected, 1e-3)).toBeLessThan(TOLERANCE);
    // G of group 1 indefinite (trace < 0: π = 1, G' = G + √ε I still indefinite): factor 2·1 + 1.
    engine.upload(G, Float64Array.from({ length: 4 }, (_, i) => (i === 0 ? -1 : i === 3 ? 1 : 0)), 0);
    expect(kernels.factorise(plan, A, G, epsilon, factors)).toBe(3);
    expect(() => kernels.factorise(plan, A, G, 0, factors)).toThrow(expect.objectContaining({ name: 'UsageError' }));
    kernels.disposePlan(plan);
    engine.dispose();
  });
});
