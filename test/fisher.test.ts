import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/backend/index.js';
import { createModel } from '../src/engine/model.js';
import { prepareBatch } from '../src/methods/context.js';
import { computeModulus } from '../src/metrics/moduli.js';
import { quasiDiagonalEntries, unitBlocks } from '../src/reductions/reductions.js';
import { wholeNetworkFisher } from '../src/reductions/whole-network.js';
import { buildGramPlan } from '../src/metrics/transfer-plan.js';
import { INTERPRETATIONS } from '../src/network/types.js';
import { bruteForceFisher, relativeError, squareLossFisherByJacobian } from './helpers/brute-force.js';
import { randomData, randomNetwork } from './helpers/random-network.js';

const setups = (interpretation: (typeof INTERPRETATIONS)[number]) =>
  [1, 2, 3].map((seed) => {
    const doc = randomNetwork({ interpretation, seed: seed * 31, activations: ['sigmoid', 'tanh', 'linear'], outputs: 3, hidden: 3 });
    return { model: createModel(doc), data: randomData(doc, 4, seed) };
  });

describe('Prop. 27: the exact Fisher matrix', () => {
  for (const interpretation of INTERPRETATIONS) {
    it(`${interpretation}: equals ${interpretation === 'square' ? 'E_x JᵀJ of the output Jacobian' : 'the brute-force average of ∇ℓ∇ℓᵀ over every outcome y'}`, () => {
      for (const { model, data } of setups(interpretation)) {
        const { ctx } = prepareBatch(model, data);
        const exact = wholeNetworkFisher(ctx);
        const reference = interpretation === 'square' ? squareLossFisherByJacobian(model, data) : bruteForceFisher(model, data);
        expect(relativeError(exact, reference)).toBeLessThan(interpretation === 'square' ? 1e-6 : 1e-12);
      }
    });
  }

  for (const interpretation of INTERPRETATIONS) {
    it(`${interpretation}: unitwise blocks (Eq. 18) are the diagonal blocks; quasi-diagonal and diagonal entries match`, () => {
      for (const { model, data } of setups(interpretation)) {
        const { ctx } = prepareBatch(model, data);
        const { net } = model;
        const P = net.nParams;
        const F = wholeNetworkFisher(ctx);
        const modulus = computeModulus('fisher', ctx);
        const { layout, blocks } = unitBlocks(cpuKernels, net, ctx.ws, modulus);
        const { diagonal, cross } = quasiDiagonalEntries(cpuKernels, net, ctx.ws, modulus);
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
    const { ctx } = prepareBatch(model, generateBinaryData({ samples: 2, length: 200 }));
    expect(() => wholeNetworkFisher(ctx)).toThrow(/limited to 4096 parameters/);
  });
});

describe('Monte-Carlo Fisher (Eq. 100)', () => {
  for (const interpretation of INTERPRETATIONS) {
    it(`${interpretation}: with large K the modulus approaches the Fisher modulus`, () => {
      const [{ model, data }] = setups(interpretation);
      const { ctx } = prepareBatch(model, data, { mcSamples: 20000, seed: 5 });
      const exact = computeModulus('fisher', ctx);
      const mc = computeModulus('mc-fisher', ctx);
      expect(relativeError(mc, exact)).toBeLessThan(0.05);
      const few = computeModulus('mc-fisher', { ...ctx, mcSamples: 1 });
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
      const { ctx } = prepareBatch(model, randomData(doc, 5, 2));
      expect(relativeError(computeModulus('backpropagated', ctx), computeModulus('fisher', ctx))).toBeLessThan(1e-14);
    }
    for (const interpretation of INTERPRETATIONS) {
      const [{ model, data }] = setups(interpretation);
      const { ctx } = prepareBatch(model, data);
      const S = ctx.ws.size;
      const m = computeModulus('backpropagated', ctx);
      const phi = computeModulus('fisher', ctx);
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
      const { ctx } = prepareBatch(model, data);
      const explicit = computeModulus('fisher', { ...ctx, plan: { ...ctx.plan, gram: undefined } });
      const forced = buildGramPlanForTest(model, ctx.plan);
      if (!forced) continue;
      withGram++;
      expect(relativeError(computeModulus('fisher', { ...ctx, plan: { ...ctx.plan, gram: forced } }), explicit)).toBeLessThan(1e-12);
    }
    expect(withGram).toBeGreaterThanOrEqual(3);
  });

  it('is chosen for Section 4’s autoencoder, where it saves most of the work', async () => {
    const { generateAutoencoder } = await import('../src/generate/autoencoder.js');
    const { buildTransferPlan } = await import('../src/metrics/transfer-plan.js');
    const plan = buildTransferPlan(createModel(generateAutoencoder({ seed: 1 })).net);
    expect(plan.gram).toBeDefined();
    expect(plan.gram!.reduced.edgeTargets.length).toBeLessThan(plan.edgeTargets.length / 3);
  });
});

/** The Gram plan even where the explicit route would be cheaper (to test both on one network). */
function buildGramPlanForTest(model: ReturnType<typeof createModel>, plan: import('../src/metrics/transfer-plan.js').TransferPlan) {
  return buildGramPlan(model.net, plan, true);
}
