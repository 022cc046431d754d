import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadDataFile } from '../data/load-data.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import { UsageError, problem } from '../errors.js';
import { generateAutoencoder, type AutoencoderOptions } from '../generate/autoencoder.js';
import { generateBinaryData } from '../generate/data.js';
import { initialiseNetwork, type InitScheme } from '../generate/init.js';
import { loadMnistDigits, mnistDataSets, type MnistDigits, type MnistOptions } from '../generate/mnist.js';
import { generateMlp, type MlpOptions } from '../generate/mlp.js';
import { generateRandomDag, type RandomDagOptions } from '../generate/random-dag.js';
import { readNetworkFile } from '../network/load.js';
import type { DataDocument, NetworkDocument } from '../network/types.js';
import { validateData } from '../network/validate-data.js';

/** The network generators a train sweep may name, with the options each takes (the seed comes from the run). */
export const NETWORK_GENERATORS = {
  mlp: ['layers', 'fanIn', 'skip', 'activation', 'interpretation'],
  autoencoder: ['layers', 'fan', 'activation'],
  'random-dag': ['units', 'fanIn', 'outputs', 'levels', 'skip', 'interpretation', 'activation'],
} as const;
export type NetworkGenerator = keyof typeof NETWORK_GENERATORS;

/**
 * A file a job reads: the path as the sweep file gives it (relative to the sweep file) and the
 * SHA-256 of its bytes, both in the job's digest; `at`, where this machine finds it, is not
 * (see `PlannedJob.located`).
 */
export interface FileRef {
  file: string;
  sha256: string;
  at?: string;
}

/** A generated network: the generator, its options, the run's seed, and optionally another initialisation. */
export type GeneratedNetwork = { generate: NetworkGenerator; seed: number; init?: { scheme: InitScheme } } & Record<string, unknown>;

/** Where a job's network comes from. */
export type NetworkSource = FileRef | GeneratedNetwork;

/** Column options of a CSV or .npy data file (as `unitwise train --inputs/--targets/--one-hot`). */
export interface DataColumns {
  inputs?: string;
  targets?: string;
  oneHot?: boolean;
}

/**
 * Where a job's data comes from: a file, random binary strings (target = input, as long as
 * the network's inputs; `generate data`), or a part of the seeded MNIST split (`data mnist`).
 */
export type DataSource =
  | (FileRef & DataColumns)
  | { generate: 'binary'; samples: number; density?: number; encoding?: '01' | 'pm1'; seed: number }
  | { mnist: MnistOptions; part: 'train' | 'test' };

/** Whether a source is a file (else a generator). */
export function isFileRef(source: NetworkSource | DataSource): source is FileRef {
  return typeof (source as Partial<FileRef>).file === 'string' && typeof (source as Partial<FileRef>).sha256 === 'string';
}

/** SHA-256 (hex) of a file's bytes. */
export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function readRef(ref: FileRef): string {
  const path = ref.at ?? ref.file;
  const digest = fileSha256(path);
  if (digest !== ref.sha256) throw new UsageError([problem('file-changed', `${path} changed since the sweep was planned (SHA-256 ${digest.slice(0, 12)}, planned ${ref.sha256.slice(0, 12)}): its jobs would be other jobs; run the sweep again to plan them`)], path);
  return path;
}

/** A job's network document: the file read and validated, or the generator run with the job's seed (then the initialisation scheme, if given). */
export function buildNetwork(source: NetworkSource): NetworkDocument {
  if (isFileRef(source)) return readNetworkFile(readRef(source)).document;
  const { generate, seed, init, ...options } = source;
  if (generate === 'mlp') return generateMlp({ ...(options as unknown as MlpOptions), seed, ...(init ? { init: init.scheme } : {}) });
  const document = generate === 'autoencoder' ? generateAutoencoder({ ...(options as AutoencoderOptions), seed }) : generateRandomDag({ ...(options as unknown as RandomDagOptions), seed });
  return init ? initialiseNetwork(document, { scheme: init.scheme, seed }) : document;
}

let digits: MnistDigits | undefined;

/** A job's data, checked against its network (binary strings are as long as the network's inputs). */
export function buildData(source: DataSource, net: CompiledNetwork): DataDocument {
  if (isFileRef(source)) {
    const columns = source as DataColumns;
    return loadDataFile(readRef(source), net, { inputs: columns.inputs, targets: columns.targets, oneHot: columns.oneHot });
  }
  let data: DataDocument;
  if ('mnist' in source) {
    digits ??= loadMnistDigits();
    data = mnistDataSets(digits, source.mnist)[source.part];
  } else {
    data = generateBinaryData({ samples: source.samples, density: source.density, encoding: source.encoding, seed: source.seed, length: net.nInputs });
  }
  const { document, problems } = validateData(data, net);
  const found = problems.filter((p) => p.severity === 'error');
  if (document === undefined || found.length > 0) throw new UsageError(found);
  return document;
}

/** A short name of a network source for tables: the file, or the generator and its sizes. */
export function networkLabel(source: NetworkSource): string {
  if (isFileRef(source)) return source.file;
  const sizes = Array.isArray(source.layers) ? (source.layers as number[]).join('-') : source.units !== undefined ? `${String(source.units)} units` : '';
  return [source.generate, sizes, typeof source.activation === 'string' ? source.activation : '', source.init ? `${source.init.scheme} init` : ''].filter(Boolean).join(' ');
}

/** A short name of a data source for tables. */
export function dataLabel(source: DataSource): string {
  if (isFileRef(source)) return source.file;
  if ('mnist' in source) return `mnist ${source.mnist.task} ${source.part} (${source.part === 'train' ? source.mnist.train : source.mnist.test})`;
  return `binary ${source.samples}${source.density !== undefined ? ` p=${source.density}` : ''}`;
}
