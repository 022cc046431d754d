import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel } from '../engine/model.js';
import { generateBinaryData } from '../generate/data.js';
import type { DataDocument, NetworkDocument } from '../network/types.js';
import { train } from '../train/trainer.js';
import { html } from './report.js';
import { lineChart } from './svg.js';

export interface Figure1Result {
  /** Loss (bits) before each step and after the last, for (x, x) and for (1-x, 1-x). */
  ones: number[];
  zeros: number[];
  density: number;
}

/** Two layers of `size` units, fully connected, sigmoid outputs, Bernoulli interpretation, all weights and biases 0. */
export function twoLayerNetwork(size: number): NetworkDocument {
  const nodes = [
    ...Array.from({ length: size }, (_, i) => ({ key: `x${i}`, attributes: { role: 'input' as const } })),
    ...Array.from({ length: size }, (_, i) => ({ key: `y${i}`, attributes: { role: 'output' as const, bias: 0 } })),
  ];
  const edges = Array.from({ length: size * size }, (_, e) => ({ source: `x${Math.floor(e / size)}`, target: `y${e % size}`, attributes: { weight: 0 } }));
  return { options: { type: 'directed', multi: false, allowSelfLoops: false }, attributes: { interpretation: 'bernoulli', activation: 'sigmoid' }, nodes, edges };
}

/**
 * Figure 1: backprop learns faster with 1's. A 50-50 network with all weights 0 is trained by
 * 100 backprop steps at rate 0.01 on (x, x), x a random binary string of length 50 with 75%
 * ones, and again from scratch on (1-x, 1-x).
 */
export async function runFigure1(options: { seed?: number; size?: number; steps?: number; lr?: number; density?: number } = {}): Promise<Figure1Result> {
  const { seed = 1, size = 50, steps = 100, lr = 0.01, density = 0.75 } = options;
  const x = generateBinaryData({ seed, samples: 1, length: size, density });
  const flipped: DataDocument = { inputs: x.inputs.map((r) => r.map((v) => 1 - v)), targets: x.targets.map((r) => r.map((v) => 1 - v)) };
  const curve = async (data: DataDocument) => {
    const losses: number[] = [size]; // at w = 0 every output is 1/2: exactly 1 bit per output
    await train(createModel(twoLayerNetwork(size)), data, { method: 'backprop', lr, lrSchedule: 'fixed' }, { iterations: steps }, { onIteration: (r) => losses.push(r.loss) });
    return losses;
  };
  return { ones: await curve(x), zeros: await curve(flipped), density: x.inputs[0].reduce((a, b) => a + b, 0) / size };
}

/** Writes figure1.json, figure1.svg and index.html into `dir`. */
export function writeFigure1(dir: string, result: Figure1Result): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'figure1.json'), JSON.stringify(result, null, 2) + '\n');
  const svg = lineChart({
    title: 'Figure 1: backprop learns faster with 1’s',
    xLabel: 'backprop step (learning rate 0.01)',
    yLabel: 'loss (bits per sample)',
    series: [
      { name: `(x, x), ${Math.round(result.density * 100)}% ones`, points: result.ones.map((v, i) => [i, v]) },
      { name: '(1-x, 1-x)', points: result.zeros.map((v, i) => [i, v]) },
    ],
  });
  writeFileSync(join(dir, 'figure1.svg'), svg);
  const table = ['| step | loss on (x, x) | loss on (1-x, 1-x) |', '|---|---|---|', ...[0, 25, 50, 75, result.ones.length - 1].map((s) => `| ${s} | ${result.ones[s].toFixed(2)} | ${result.zeros[s].toFixed(2)} |`)].join('\n');
  writeFileSync(join(dir, 'index.html'), html('unitwise: Figure 1 of the paper', [{ title: 'Loss (bits per sample)', markdown: table }], [{ file: 'figure1.svg', caption: 'Figure 1: Backpropagation learns faster with 1’s. A network with two layers of size 50, all initial weights 0, is trained to reproduce its input for 100 backpropagation steps (learning rate 0.01) on (x, x), x a random binary string with 75% of 1’s, and again on (1-x, 1-x). Step 0 is the initial loss (50 bits: every output is 1/2).', svg }]));
}
