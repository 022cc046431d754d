import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/backend/index.js';
import { metricLayout } from '../src/backend/kernels.js';
import { createModel } from '../src/engine/model.js';
import { outputMetric } from '../src/metrics/output-metric.js';
import { buildGramPlan, buildTransferPlan, type TransferPlan } from '../src/metrics/transfer-plan.js';
import { testContext } from './helpers/engine-context.js';
import { INTERPRETATIONS, type Activation } from '../src/network/types.js';
import { bruteForceFisher, relativeError, squareLossFisherByJacobian } from './helpers/brute-force.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

const setups = (interpretation: (typeof INTERPRETATIONS)[number]) =>
  [1, 2, 3, 4, 5].map((seed) => {
    const activations: Activation[] = seed <= 3 ? ['sigmoid', 'tanh', 'linear'] : ['relu', 'softplus', 'sigmoid'];
    const doc = randomNetwork({ interpretation, seed: seed * 31, activations, outputs: 3, hidden: 3 });
    return { model: createModel(doc), data: randomData(doc, 4, seed) };
  });

describe('Prop. 27: the exact Fisher matrix', () => {
  for (const interpretation of INTERPRETATIONS) {
    it(`${interpretation}: equals ${interpretation === 'square' ? 'E_x JᵀJ of the output Jacobian' : 'the brute-force average of ∇ℓ∇ℓᵀ over every outcome y'}`, () => {
      for (const { model, data } of setups(interpretation)) {
        const exact = testContext(model, data).fisher();
        const reference = interpretation === 'square' ? squareLossFisherByJacobian(model, data) : bruteForceFisher(model, data);
        expect(relativeError(exact, reference)).toBeLessThan(interpretation === 'square' ? 1e-6 : 1e-12);
      }
    });
  }

  for (const interpretation of INTERPRETATIONS) {
    it(`${interpretation}: unitwise blocks (Eq. 18) are the diagonal blocks; quasi-diagonal and diagonal entries match`, () => {
      for (const { model, data } of setups(interpretation)) {
        const ctx = testContext(model, data);
        const { net } = model;
        const P = net.nParams;
        const F = ctx.fisher();
        const modulus = ctx.modulus('fisher');
        const layout = metricLayout(net);
        const blocks = ctx.blocks(modulus);
        const { diagonal, cross } = ctx.entries(modulus);
        for (let k = net.nInputs; k < net.nUnits; k++) {
          const p0 = net.blockOffsets[k];
          const n = net.blockOffsets[k + 1] - p0;
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) expect(blocks[layout.matrixOffsets[k] + i * n + j]).toBeCloseTo(F[(p0 + i) * P + p0 + j], 12);
            expect(diagonal[p0 + i]).toBeCloseTo(F[(p0 + i) * P + p0 + i], 12);
            if (i > 0) expect(cross[p0 + i]).toBeCloseTo(F[p0 * P + p0 + i], 12);
          }
        }
      }
    });
  }

  it('refuses networks too large for a dense Fisher matrix', async () => {
    const { generateAutoencoder } = await import('../src/generate/autoencoder.js');
    const { generateBinaryData } = await import('../src/generate/data.js');
    const model = createModel(generateAutoencoder({ layers: [200, 100, 10, 100, 200], fan: 10 }));
    const ctx = testContext(model, generateBinaryData({ samples: 2, length: 200 }));
    expect(() => ctx.fisher()).toThrow(/limited to 4096 parameters/);
  });
});

describe('Monte-Carlo Fisher (Eq. 100)', () => {
  for (const interpretation of INTERPRETATIONS) {
    it(`${interpretation}: with large K the modulus approaches the Fisher modulus`, () => {
      const [{ model, data }] = setups(interpretation);
      const ctx = testContext(model, data);
      const exact = ctx.modulus('fisher');
      const mc = ctx.modulus('mc-fisher', { mcSamples: 20000, seed: 5 });
      expect(relativeError(mc, exact)).toBeLessThan(0.05);
      const few = ctx.modulus('mc-fisher', { mcSamples: 1, seed: 5 });
      expect(relativeError(few, exact)).toBeGreaterThan(relativeError(mc, exact));
    });
  }
});

describe('backpropagated modulus (Def. 7)', () => {
  it('equals the Fisher modulus on a chain (no cross terms) and at the outputs (Remark 11)', () => {
    for (const interpretation of ['square', 'bernoulli'] as const) {
      const doc = randomNetwork({ interpretation, seed: 4, inputs: 2, hidden: 0, outputs: 1 });
      doc.nodes.splice(2, 0, { key: 'c1', attributes: { role: 'hidden', bias: 0.3, activation: 'tanh' } }, { key: 'c2', attributes: { role: 'hidden', bias: -0.1, activation: 'sigmoid' } });
      doc.edges = [
        { source: 'x0', target: 'c1', attributes: { weight: 0.7 } },
        { source: 'x1', target: 'c1', attributes: { weight: -1.1 } },
        { source: 'c1', target: 'c2', attributes: { weight: 1.3 } },
        { source: 'c2', target: 'y0', attributes: { weight: -0.8 } },
      ];
      const model = createModel(doc);
      const ctx = testContext(model, randomData(doc, 5, 2));
      expect(relativeError(ctx.modulus('backpropagated'), ctx.modulus('fisher'))).toBeLessThan(1e-14);
    }
    for (const interpretation of INTERPRETATIONS) {
      const [{ model, data }] = setups(interpretation);
      const ctx = testContext(model, data);
      const S = ctx.ws.size;
      const m = ctx.modulus('backpropagated');
      const phi = ctx.modulus('fisher');
      for (const k of model.net.outputUnits) for (let s = 0; s < S; s++) expect(m[k * S + s]).toBeCloseTo(phi[k * S + s], 14);
    }
  });
});

describe('Fisher modulus: the Gram route for units fed by inputs only', () => {
  it('equals the explicit n_out backpropagations, for every interpretation', async () => {
    const { generateAutoencoder } = await import('../src/generate/autoencoder.js');
    const { generateBinaryData } = await import('../src/generate/data.js');
    const cases = [
      { model: createModel(generateAutoencoder({ seed: 2 })), data: generateBinaryData({ seed: 2 }) },
      ...INTERPRETATIONS.map((interpretation) => {
        const doc = randomNetwork({ interpretation, seed: 40, inputs: 4, hidden: 6, outputs: 4, density: 0.3, activations: ['sigmoid', 'tanh'] });
        return { model: createModel(doc), data: randomData(doc, 5, 1) };
      }),
    ];
    let withGram = 0;
    for (const { model, data } of cases) {
      const ctx = testContext(model, data);
      const plan = buildTransferPlan(model.net);
      const fisher = (route: TransferPlan) => {
        const modulus = new Float64Array(model.net.nUnits * ctx.ws.size);
        cpuKernels.fisherModulus(model.net, route, model.params, ctx.host, outputMetric(model.net, ctx.host), modulus);
        return modulus;
      };
      const explicit = fisher({ ...plan, gram: undefined });
      const forced = buildGramPlanForTest(model, plan);
      if (!forced) continue;
      withGram++;
      expect(relativeError(fisher({ ...plan, gram: forced }), explicit)).toBeLessThan(1e-12);
    }
    expect(withGram).toBeGreaterThanOrEqual(3);
  });

  it('is chosen for Section 4’s autoencoder, where it saves most of the work', async () => {
    const { generateAutoencoder } = await import('../src/generate/autoencoder.js');
    const plan = buildTransferPlan(createModel(generateAutoencoder({ seed: 1 })).net);
    expect(plan.gram).toBeDefined();
    expect(plan.gram!.reduced.edgeTargets.length).toBeLessThan(plan.edgeTargets.length / 3);
  });
});

/** The Gram plan even where the explicit route would be cheaper (to test both on one network). */
function buildGramPlanForTest(model: ReturnType<typeof createModel>, plan: TransferPlan) {
  return buildGramPlan(model.net, plan, true);
}
