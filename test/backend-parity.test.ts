import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import { forwardPass, type Backend } from '../src/backend/engine.js';
import { metricLayout } from '../src/backend/kernels.js';
import { gpujsBackend, selectGpujsMode } from '../src/backend/gpujs/index.js';
import { useBackend } from '../src/backend/load.js';
import { makeBatch } from '../src/engine/batch.js';
import { createModel } from '../src/engine/model.js';
import { UsageError } from '../src/errors.js';
import { createMethod, METHODS } from '../src/methods/methods.js';
import { evaluateMethodOnce } from '../src/methods/runner.js';
import { INTERPRETATIONS, type NetworkDocument } from '../src/network/types.js';
import { Prng } from '../src/random/prng.js';
import { randomData, randomNetwork } from './helpers/random-network.js';
import { relative } from './helpers/compare.js';
import { onlineBlocks } from './helpers/online-blocks.js';
import { distTfjsWebgpu } from './helpers/tfjs-webgpu.js';


/** Tolerances from the backend's precision: float32 carries ~7 digits; solves lose a few more. */
const tolerance = (b: Backend) => (b.precision === 'float64' ? { loss: 1e-12, gradient: 1e-10, direction: 1e-8 } : { loss: 1e-5, gradient: 1e-4, direction: 2e-2 });

/**
 * Every backend other than cpu, whole methods end to end (loss, gradient, direction of one batch
 * step) against the CPU reference; gpu.js in its default mode (headlessgl where a GL context
 * opens, as in CI under xvfb-run) and, when that is headlessgl, in webasm mode too. Kernel by
 * kernel parity is in engine-parity.test.ts.
 */
const glRuns = selectGpujsMode().mode === 'headlessgl';
const backends: Array<[string, () => Promise<Backend>]> = [
  ['tfjs-cpu', () => useBackend('tfjs', { tfjsBackend: 'cpu' })],
  ['tfjs-wasm', () => useBackend('tfjs', { tfjsBackend: 'wasm' })],
  ['tfjs-webgpu', distTfjsWebgpu],
  [`gpujs (${selectGpujsMode().mode})`, () => useBackend('gpujs')],
  ...(glRuns ? [['gpujs (webasm)', async () => gpujsBackend('webasm')] as [string, () => Promise<Backend>]] : []),
  ['webgpu', () => useBackend('webgpu')],
];

describe.each(backends)('backend parity: %s against cpu', (_name, load) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await load();
  });

  // A network with skip connections across several levels, every activation, per interpretation.
  const networks: Array<[string, NetworkDocument]> = [
    ...INTERPRETATIONS.map((interpretation): [string, NetworkDocument] => [
      interpretation,
      randomNetwork({ interpretation, seed: 70, inputs: 4, hidden: 6, outputs: 3, density: 0.6, activations: ['sigmoid', 'tanh', 'linear'], affine: interpretation === 'square' }),
    ]),
    // relu and softplus units, mixed with the others on a level and alone, plain and affine-wrapped.
    ['square (relu/softplus, affine)', randomNetwork({ interpretation: 'square', seed: 72, inputs: 4, hidden: 6, outputs: 3, density: 0.6, activations: ['relu', 'softplus', 'linear'], affine: true })],
    ['softmax (relu/softplus)', randomNetwork({ interpretation: 'softmax', seed: 73, inputs: 4, hidden: 6, outputs: 3, density: 0.6, activations: ['relu', 'softplus', 'tanh'] })],
  ];
  for (const [interpretation, doc] of networks) {
    it(`${interpretation}: loss, gradient and every method's direction`, () => {
      const model = createModel(doc);
      const data = randomData(doc, 12, 3);
      const batch = makeBatch(model.net, data);
      const tol = tolerance(backend);
      for (const method of METHODS) {
        const run = (b: Backend) => evaluateMethodOnce(b.open(model.net, batch.size), createMethod(method), model.params, batch, { epsilon: 1e-3, mcSamples: 2, rng: new Prng(5) });
        const reference = run(cpuBackend);
        const other = run(backend);
        expect(Math.abs(other.lossNats - reference.lossNats) / Math.abs(reference.lossNats), `${method} loss`).toBeLessThan(tol.loss);
        expect(relative(other.gradient, reference.gradient), `${method} gradient`).toBeLessThan(tol.gradient);
        expect(relative(other.direction, reference.direction), `${method} direction`).toBeLessThan(tol.direction);
      }
    });
  }
  it('squaredNorm (gradient clipping) and two Adam steps against the CPU', () => {
    const values = Array.from({ length: 3000 }, (_, i) => Math.sin(i) * (1 + (i % 7)));
    const norms = [cpuBackend, backend].map((b) => {
      const engine = b.open(createModel(networks[0][1]).net, 1);
      const x = engine.alloc(values.length);
      engine.upload(x, values);
      const [m, v, out] = [0, 1, 2].map(() => engine.alloc(values.length));
      for (const step of [1, 2]) engine.adamStep(m, v, x, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step }, out);
      const result = { norm: engine.squaredNorm(x), direction: engine.read(out).slice() };
      engine.dispose();
      return result;
    });
    expect(Math.abs(norms[1].norm - norms[0].norm) / norms[0].norm).toBeLessThan(tolerance(backend).gradient);
    expect(relative(norms[1].direction, norms[0].direction)).toBeLessThan(tolerance(backend).direction);
  });

  it('Kronecker methods with every grouping, damping and solve (skip connections, sparse and complete groups)', () => {
    const doc = randomNetwork({ interpretation: 'softmax', seed: 71, inputs: 4, hidden: 6, outputs: 3, density: 0.6, activations: ['sigmoid', 'tanh', 'linear'] });
    doc.nodes.forEach((n, i) => n.attributes.role !== 'input' && (n.attributes.group = n.attributes.role === 'output' ? 'out' : `h${i % 2}`));
    const model = createModel(doc);
    const batch = makeBatch(model.net, randomData(doc, 12, 4));
    const tol = tolerance(backend);
    const variants: Array<[string, Record<string, string | number>]> = [
      ['kflr', { groups: 'units', kroneckerDamping: 'exact' }],
      ['kfac', { groups: 'attribute', kroneckerSolve: 'masked' }],
      ['kfra', { groups: 'levels', kroneckerDamping: 'exact', kroneckerSolve: 'masked' }],
      ['kflr', { groups: 'attribute' }],
    ];
    for (const [method, choices] of variants) {
      const run = (b: Backend) => evaluateMethodOnce(b.open(model.net, batch.size), createMethod(method, choices), model.params, batch, { epsilon: 1e-3, mcSamples: 2, rng: new Prng(5) });
      const reference = run(cpuBackend);
      const other = run(backend);
      expect(relative(other.direction, reference.direction), `${method} ${JSON.stringify(choices)}`).toBeLessThan(tol.direction);
    }
  });

  it('online Sherman-Morrison step (Eq. 37-38): blocks, inverses, direction and refused units', () => {
    const doc = randomNetwork({ interpretation: 'softmax', seed: 74, inputs: 4, hidden: 5, outputs: 3, density: 0.7, activations: ['sigmoid', 'tanh', 'linear'] });
    const model = createModel(doc);
    const { net } = model;
    const batch = makeBatch(net, randomData(doc, 3, 6));
    const layout = metricLayout(net);
    const rng = new Prng(9);
    // Start from A = I + small symmetric noise and H = A⁻¹ computed on the CPU; one unit gets an
    // indefinite H (-I) so that its update is refused on every backend.
    const bad = net.nUnits - 1;
    const { a, h } = onlineBlocks(net, layout, rng, [bad]);
    const modulusValues = Float64Array.from({ length: net.nUnits * batch.size }, (_, i) => 0.5 + (i % 5) / 4);
    const gradientValues = Float64Array.from({ length: net.nParams }, () => rng.uniform() - 0.5);
    const step = (b: Backend) => {
      const engine = b.open(net, batch.size);
      const buffer = (values: Float64Array) => {
        const out = engine.alloc(values.length);
        engine.upload(out, values);
        return out;
      };
      const params = buffer(model.params);
      const ws = engine.workspace();
      engine.setBatch(ws, batch);
      forwardPass(engine, params, ws);
      const [blocks, inverses, out] = [buffer(a), buffer(h), engine.alloc(net.nParams)];
      const refused = engine.onlineBlockStep(blocks, inverses, ws, buffer(modulusValues), 1, buffer(gradientValues), 0.3, out);
      return { a: engine.read(blocks), h: engine.read(inverses), out: engine.read(out), refused };
    };
    const reference = step(cpuBackend);
    const other = step(backend);
    expect(reference.refused).toEqual([bad]);
    expect(other.refused).toEqual(reference.refused);
    const tol = tolerance(backend).gradient;
    expect(relative(other.a, reference.a)).toBeLessThan(tol);
    expect(relative(other.h, reference.h)).toBeLessThan(tol);
    expect(relative(other.out, reference.out)).toBeLessThan(tol);
    expect(relative(reference.h, h)).toBeGreaterThan(1e-3); // the step moved H
  });
});

describe('gpujs backend', () => {
  it('runs the GL pipeline (headlessgl) wherever a display and the gl module exist', () => {
    const display = Boolean(process.env.DISPLAY);
    let gl = true;
    try {
      createRequire(import.meta.url).resolve('gl');
    } catch {
      gl = false;
    }
    expect(selectGpujsMode().mode).toBe(display && gl ? 'headlessgl' : 'webasm');
    if (!display || !gl) expect(() => selectGpujsMode('headlessgl')).toThrow(UsageError);
  });
});
