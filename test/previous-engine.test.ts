import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel } from '../src/engine/model.js';
import { parseData, parseNetwork } from '../src/network/load.js';
import { METHODS, stepModel } from '../src/train/step.js';
import { train } from '../src/train/trainer.js';
import type { TrainOptions } from '../src/train/settings.js';
import { relative } from './helpers/compare.js';

/**
 * The redesigned engine (backend-owned buffers, curvature objects, the optimizer) against the
 * previous one: `fixtures/previous-engine.json` holds what the engine of commit 118be48 computed
 * on the example networks (one step of every method at ε = 10⁻⁴ and ε = 0; short trainings in
 * every mode). On the CPU backend everything must agree to 1e-12.
 */
interface Recorded {
  data: string;
  steps: Record<string, { lossBefore: number; lossAfter: number; direction: number[] } | { error: string }>;
  trains: Record<string, { options: TrainOptions; iterations: number; losses: number[]; params: number[] }>;
}
const recorded = JSON.parse(readFileSync(new URL('./fixtures/previous-engine.json', import.meta.url), 'utf8')) as Record<string, Recorded>;


function load(name: string, dataFile: string) {
  const { document } = parseNetwork(readFileSync(new URL(`../networks/${name}.json`, import.meta.url), 'utf8'), name);
  const data = parseData(readFileSync(new URL(`../networks/${dataFile}`, import.meta.url), 'utf8'), createModel(document).net, dataFile);
  return { document, data };
}

describe.each(Object.entries(recorded))('the previous engine’s results on %s', (name, rec) => {
  const { document, data } = load(name, rec.data);
  it('one step of every method, ε = 1e-4 and ε = 0 (natural: on the tiny networks)', () => {
    for (const method of METHODS) {
      for (const epsilon of [1e-4, 0]) {
        const expected = rec.steps[`${method}@${epsilon}`];
        if (!expected) continue;
        const model = createModel(document);
        if ('error' in expected) {
          expect(() => stepModel(model, data, { method, lr: 0.05, epsilon, mcSamples: 2, seed: 3 }), `${method}@${epsilon}`).toThrow(expected.error);
          continue;
        }
        const r = stepModel(model, data, { method, lr: 0.05, epsilon, mcSamples: 2, seed: 3 });
        expect(relative(r.direction, expected.direction), `${method}@${epsilon} direction`).toBeLessThan(1e-12);
        expect(Math.abs(r.lossAfter - expected.lossAfter), `${method}@${epsilon} loss after`).toBeLessThan(1e-12 * Math.abs(expected.lossAfter));
      }
    }
  }, 240_000);
  it('training in batch, mini-batch and online modes', async () => {
    for (const [label, t] of Object.entries(rec.trains)) {
      const model = createModel(document);
      const losses: number[] = [];
      await train(model, data, t.options, { iterations: t.iterations }, { onIteration: (r) => losses.push(r.loss) });
      expect(relative(losses, t.losses), `${label} losses`).toBeLessThan(1e-12);
      expect(relative(model.params, t.params), `${label} parameters`).toBeLessThan(1e-12);
    }
  }, 240_000);
});
