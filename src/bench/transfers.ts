import type { TransferStats } from '../backend/engine.js';
import { makeBatch } from '../engine/batch.js';
import { createModel } from '../engine/model.js';
import { generateAutoencoder } from '../generate/autoencoder.js';
import { generateBinaryData } from '../generate/data.js';
import { generateRandomDag } from '../generate/random-dag.js';
import type { MethodName } from '../methods/methods.js';
import { methodLoop, transfersPerIteration } from './loop.js';

/** One network of {@link measureTransfers}: its sizes and each method's transfers per iteration. */
export interface TransferNetwork {
  label: string;
  units: number;
  levels: number;
  parameters: number;
  /** The batch in (inputs and targets) plus the parameters, in float32 bytes: what a copy-everything engine would move at least. */
  referenceBytes: number;
  /** Transfers per iteration, by method. */
  methods: Record<string, TransferStats>;
}

/**
 * Host↔device traffic of one iteration of each method on `backend` (the mean over 3 iterations
 * after a first one), on the autoencoder (seed 1, 16 samples, 5 levels) and on a deeper network
 * with as many units (a 12-level random DAG, 13 levels with the inputs): bytes per iteration
 * should not depend on the number of levels. `onRow` sees each method's figures as measured.
 */
export function measureTransfers(backend: string, methods: MethodName[], onRow?: (network: TransferNetwork, method: MethodName) => void): TransferNetwork[] {
  const networks = [
    ['autoencoder (5 levels)', createModel(generateAutoencoder({ seed: 1, activation: 'sigmoid' }))],
    ['random DAG (13 levels)', createModel(generateRandomDag({ units: 270, fanIn: 5, outputs: 100, levels: 12, seed: 1 }))],
  ] as const;
  const result: TransferNetwork[] = [];
  for (const [label, model] of networks) {
    const { net } = model;
    const batch = makeBatch(net, { inputs: generateBinaryData({ seed: 1, length: net.nInputs }).inputs, targets: generateBinaryData({ seed: 2, length: net.nOutputs }).targets });
    const network: TransferNetwork = { label, units: net.nUnits, levels: net.levelOffsets.length - 1, parameters: net.nParams, referenceBytes: ((net.nInputs + net.nOutputs) * batch.size + net.nParams) * 4, methods: {} };
    result.push(network);
    for (const method of methods) {
      const loop = methodLoop(backend, net, model.params, batch, method);
      loop.iterate();
      const before = loop.engine.transfers.snapshot();
      const n = 3;
      for (let i = 0; i < n; i++) loop.iterate();
      network.methods[method] = transfersPerIteration(before, loop.engine.transfers.snapshot(), n);
      loop.dispose();
      onRow?.(network, method);
    }
  }
  return result;
}

/** A transfers line as `--transfers` prints it: uploads, bytes in, reads, bytes out, then the reference size. */
export function transfersLine(network: TransferNetwork, method: string): string {
  const t = network.methods[method];
  return `${network.label.padEnd(24)} ${method.padEnd(38)} ${t.uploads.toFixed(0).padStart(7)} ${t.uploadBytes.toFixed(0).padStart(9)} ${t.reads.toFixed(0).padStart(6)} ${t.readBytes.toFixed(0).padStart(10)}  (${network.referenceBytes})`;
}
