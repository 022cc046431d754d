import { createHash } from 'node:crypto';
import { NumericalError, problem } from '../errors.js';

/**
 * Canonical JSON: object keys sorted, no whitespace, numbers in JavaScript's shortest
 * round-trip form (negative zero kept as `-0`), `undefined` members left out. Two values that
 * mean the same job give the same text whatever the order their keys were written in.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new NumericalError([problem('non-finite', `cannot digest the non-finite number ${value}`)]);
    return Object.is(value, -0) ? '-0' : String(value);
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return '[' + value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',') + ']';
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return '{' + entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',') + '}';
}

/** SHA-256 (hex) of the canonical JSON of a job's full spec: the job's identity in result files and in the queue. */
export function jobDigest(job: unknown): string {
  return createHash('sha256').update(canonicalJson(job)).digest('hex');
}
