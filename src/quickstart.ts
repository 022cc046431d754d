import { createModel } from './engine/model.js';
import { maxDistributionGap, outputDistribution } from './engine/output-distribution.js';
import { generateAutoencoder } from './generate/autoencoder.js';
import { generateBinaryData } from './generate/data.js';
import { convertData, convertNetwork } from './transform/convert.js';
import { stepModel } from './train/step.js';

/** One row of the quickstart's progress: loss of the sigmoid and tanh twins after `step` steps. */
export interface QuickstartRow {
  step: number;
  sigmoidBits: number;
  tanhBits: number;
}

export interface QuickstartResult {
  units: number;
  edges: number;
  /** Largest |p_sigmoid - p_tanh| over outputs and samples before training (Section 3.2 twins). */
  initialOutputGap: number;
  rows: QuickstartRow[];
}

/**
 * The default job until the full replication lands: Section 4's autoencoder (seed 1) and data,
 * its converted tanh twin, the check that both give the same output probabilities, then
 * batch backprop at a fixed rate on both, reporting the losses as they part (backprop is
 * not invariant, Section 3.2).
 */
export function runQuickstart(options: { seed?: number; steps?: number; lr?: number; every?: number; onRow?: (row: QuickstartRow) => void } = {}): QuickstartResult {
  const { seed = 1, steps = 1000, lr = 0.3, every = 100 } = options;
  const document = generateAutoencoder({ seed, activation: 'sigmoid' });
  const data = generateBinaryData({ seed, samples: 16, length: 100 });
  const sigmoid = createModel(document);
  const tanh = createModel(convertNetwork(document, 'tanh').document);
  const tanhData = convertData(data, 'tanh');
  const gap = maxDistributionGap(outputDistribution(sigmoid, data), outputDistribution(tanh, tanhData));
  const rows: QuickstartRow[] = [];
  for (let step = 1; step <= steps; step++) {
    const a = stepModel(sigmoid, data, { method: 'backprop', lr });
    const b = stepModel(tanh, tanhData, { method: 'backprop', lr });
    if (step === 1 || step % every === 0) {
      const row = { step, sigmoidBits: a.lossAfter, tanhBits: b.lossAfter };
      rows.push(row);
      options.onRow?.(row);
    }
  }
  return { units: sigmoid.net.nUnits, edges: sigmoid.net.nEdges, initialOutputGap: gap, rows };
}

