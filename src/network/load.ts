import { readFileSync } from 'node:fs';
import { DataFormatError, FileFormatError, NetworkFormatError, problem, type Problem } from '../errors.js';
import { parseJson } from '../json/parse-json.js';
import type { NetworkSkeleton } from '../generate/init.js';
import type { DataDocument, NetworkDocument } from './types.js';
import { validateData, type DataShape } from './validate-data.js';
import { validateNetwork } from './validate-network.js';

/** A network document that passed validation, with the warnings validation gave. */
export interface CheckedNetwork {
  document: NetworkDocument;
  warnings: Problem[];
}

/** Validates a parsed network; throws {@link NetworkFormatError} listing every error. */
export function checkNetwork(value: unknown, file?: string): CheckedNetwork {
  const { document, problems } = validateNetwork(value);
  const errors = problems.filter((p) => p.severity === 'error');
  if (!document || errors.length > 0) throw new NetworkFormatError(errors, file);
  return { document, warnings: problems.filter((p) => p.severity === 'warning') };
}

/**
 * Validates a parsed network that may lack weights and biases (a skeleton for `unitwise init`);
 * every other rule of the format applies. Throws {@link NetworkFormatError} listing every error.
 */
export function checkNetworkSkeleton(value: unknown, file?: string): { document: NetworkSkeleton; warnings: Problem[] } {
  const { document, problems } = validateNetwork(value, { skeleton: true });
  const errors = problems.filter((p) => p.severity === 'error');
  if (!document || errors.length > 0) throw new NetworkFormatError(errors, file);
  return { document: document as NetworkSkeleton, warnings: problems.filter((p) => p.severity === 'warning') };
}

/** Reads and validates a network file that may lack weights and biases ({@link checkNetworkSkeleton}). */
export function readNetworkSkeletonFile(path: string): { document: NetworkSkeleton; warnings: Problem[] } {
  return checkNetworkSkeleton(parseJson(readText(path), path), path);
}

/** Parses and validates network JSON text. Throws {@link FileFormatError} or {@link NetworkFormatError}. */
export function parseNetwork(text: string, file?: string): CheckedNetwork {
  return checkNetwork(parseJson(text, file), file);
}

/** Validates a parsed data file against a network's shape; throws {@link DataFormatError}. */
export function checkData(value: unknown, shape: DataShape, file?: string): DataDocument {
  const { document, problems } = validateData(value, shape);
  if (!document) throw new DataFormatError(problems, file);
  return document;
}

/** Parses and validates data JSON text against a network's shape. */
export function parseData(text: string, shape: DataShape, file?: string): DataDocument {
  return checkData(parseJson(text, file), shape, file);
}

/** Reads a text file, turning I/O failures into a {@link FileFormatError} naming the file. */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new FileFormatError([problem('unreadable', `cannot read the file: ${why}`)], path);
  }
}

/** Reads and validates a network file. */
export function readNetworkFile(path: string): CheckedNetwork {
  return parseNetwork(readText(path), path);
}

/** Reads and validates a data file against a network's shape. */
export function readDataFile(path: string, shape: DataShape): DataDocument {
  return parseData(readText(path), shape, path);
}
