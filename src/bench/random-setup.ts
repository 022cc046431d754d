import { makeBatch, type Batch } from '../engine/batch.js';
import { createModel, type Model } from '../engine/model.js';
import { generateBinaryData } from '../generate/data.js';
import { generateRandomDag } from '../generate/random-dag.js';

/** The sizes of a benchmark network. */
export interface ScalingConfig {
  units: number;
  fanIn: number;
  outputs: number;
}

/** What the scaling and memory benchmarks time: a 4-level random DAG (seed 1) with random 0/1 inputs and targets, ready to compute. */
export interface BenchSetup {
  model: Model;
  batch: Batch;
}

export function benchSetup(config: ScalingConfig, size: number): BenchSetup {
  const model = createModel(generateRandomDag({ ...config, levels: 4, seed: 1 }));
  const { net } = model;
  const inputs = generateBinaryData({ seed: 1, samples: size, length: net.nInputs }).inputs;
  const targets = generateBinaryData({ seed: 2, samples: size, length: net.nOutputs }).targets;
  return { model, batch: makeBatch(net, { inputs, targets }) };
}
