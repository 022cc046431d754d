import { readFileSync } from 'node:fs';
import type { DataDocument, NetworkDocument } from '../../src/network/types.js';

export const repoRoot = new URL('../../', import.meta.url).pathname;

/** A network from networks/, parsed (not validated). */
export function exampleNetwork(name: string): NetworkDocument {
  return JSON.parse(readFileSync(`${repoRoot}networks/${name}.json`, 'utf8')) as NetworkDocument;
}

export function exampleData(name: string): DataDocument {
  return JSON.parse(readFileSync(`${repoRoot}networks/${name}.data.json`, 'utf8')) as DataDocument;
}
