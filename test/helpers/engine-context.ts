import { metricLayout } from '../../src/backend/kernels.js';
import { wholeNetworkFisher } from '../../src/curvature/whole-network.js';
import type { Model } from '../../src/engine/model.js';
import type { Workspace } from '../../src/engine/workspace.js';
import { prepareBatch, type PreparedBatch } from '../../src/methods/context.js';
import { SOURCES, type SourceName } from '../../src/methods/sources.js';
import type { DataDocument } from '../../src/network/types.js';
import { Prng } from '../../src/random/prng.js';

/** A batch prepared on the CPU engine, with helpers that return host arrays. */
export interface TestContext extends PreparedBatch {
  model: Model;
  /** The CPU engine's workspace as host arrays. */
  host: Workspace;
  /** Per-sample reduced modulus ψ̃ of a source ([nUnits × size]); Monte-Carlo draws from `seed`. */
  modulus(source: Exclude<SourceName, 'euclidean'>, options?: { seed?: number; mcSamples?: number }): Float64Array;
  /** Per-unit blocks (metricLayout) of a modulus. */
  blocks(modulus: Float64Array): Float64Array;
  /** Quasi-diagonal entries of a modulus (gradient kernel's pass). */
  entries(modulus: Float64Array): { diagonal: Float64Array; cross: Float64Array };
  /** The whole-network Fisher matrix (Prop. 27). */
  fisher(): Float64Array;
}

export function testContext(model: Model, data: DataDocument): TestContext {
  const prepared = prepareBatch(model, data);
  const { engine, params, ws } = prepared;
  const { net } = model;
  const S = ws.size;
  const upload = (values: Float64Array) => {
    const b = engine.alloc(values.length);
    engine.upload(b, values);
    return b;
  };
  return {
    ...prepared,
    model,
    host: ws as unknown as Workspace,
    modulus(source, options = {}) {
      const out = engine.alloc(net.nUnits * S);
      SOURCES[source].backward({ engine, params, ws, rng: new Prng(options.seed ?? 1), mcSamples: options.mcSamples ?? 1 }, out);
      return engine.read(out).slice();
    },
    blocks(modulus) {
      const out = engine.alloc(metricLayout(net).matrixOffsets[net.nUnits]);
      engine.unitBlocks(ws, upload(modulus), out);
      return engine.read(out).slice();
    },
    entries(modulus) {
      const entries = { modulus: upload(modulus), diagonal: engine.alloc(net.nParams), cross: engine.alloc(net.nParams) };
      engine.gradient(ws, engine.alloc(net.nParams), entries);
      return { diagonal: engine.read(entries.diagonal).slice(), cross: engine.read(entries.cross).slice() };
    },
    fisher: () => wholeNetworkFisher(engine, params, ws),
  };
}
