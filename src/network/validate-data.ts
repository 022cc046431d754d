import { problem, show, type Problem } from '../errors.js';
import type { DataDocument, Interpretation } from './types.js';

/** What a data file is checked against: the network's input and output counts and interpretation (a CompiledNetwork is one). */
export interface DataShape {
  nInputs: number;
  nOutputs: number;
  interpretation: Interpretation;
}

const PROBABILITY_TOLERANCE = 1e-9;

/**
 * Checks a parsed data file `{ "inputs": number[][], "targets": number[][] }` against a network:
 * equal sample counts, row lengths, finite numbers, Bernoulli targets in [0,1], softmax and
 * spherical targets that are probability vectors (non-negative, summing to 1 within 1e-9).
 * At most `maxPerKind` problems of each kind are reported, then a count of the rest.
 */
export function validateData(value: unknown, shape: DataShape, maxPerKind = 5): { document: DataDocument | undefined; problems: Problem[] } {
  const problems: Problem[] = [];
  const counts = new Map<string, number>();
  const report = (code: string, message: string, path: string) => {
    const n = (counts.get(code) ?? 0) + 1;
    counts.set(code, n);
    if (n <= maxPerKind) problems.push(problem(code, message, path));
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { document: undefined, problems: [problem('data-shape', 'the data must be a JSON object {"inputs": number[][], "targets": number[][]}')] };
  }
  const { inputs, targets } = value as Record<string, unknown>;
  for (const [name, rows] of [['inputs', inputs], ['targets', targets]] as const) {
    if (!Array.isArray(rows)) problems.push(problem('data-shape', `"${name}" must be an array with one row (array of numbers) per sample`, `/${name}`));
  }
  if (problems.length > 0) return { document: undefined, problems };
  const inRows = inputs as unknown[];
  const outRows = targets as unknown[];
  if (inRows.length === 0) problems.push(problem('no-samples', 'the data has no samples; add at least one row to "inputs" and "targets"', '/inputs'));
  if (inRows.length !== outRows.length) {
    problems.push(problem('sample-count', `"inputs" has ${inRows.length} rows but "targets" has ${outRows.length}; give one target row per input row`, '/targets'));
  }
  const checkRows = (name: 'inputs' | 'targets', rows: unknown[], width: number) => {
    rows.forEach((row, s) => {
      const path = `/${name}/${s}`;
      if (!Array.isArray(row)) return report('data-shape', `${name}[${s}] is not an array of numbers`, path);
      if (row.length !== width) {
        const what = name === 'inputs' ? 'input units' : 'output units';
        return report('row-length', `${name}[${s}] has ${row.length} values but the network has ${width} ${what}`, path);
      }
      row.forEach((v, j) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) report('non-finite', `${name}[${s}][${j}] is ${show(v)}, not a finite number`, `${path}/${j}`);
      });
      if (name === 'targets') checkTarget(row as number[], s, shape.interpretation, report);
    });
  };
  checkRows('inputs', inRows, shape.nInputs);
  checkRows('targets', outRows, shape.nOutputs);
  for (const [code, n] of counts) {
    if (n > maxPerKind) problems.push(problem(code, `... and ${n - maxPerKind} more problem(s) of the same kind (${code})`));
  }
  return { document: problems.length === 0 ? (value as DataDocument) : undefined, problems };
}

function checkTarget(row: number[], s: number, interpretation: Interpretation, report: (code: string, message: string, path: string) => void): void {
  if (!row.every((v) => typeof v === 'number' && Number.isFinite(v))) return;
  if (interpretation === 'bernoulli') {
    row.forEach((v, j) => {
      if (v < 0 || v > 1) report('bernoulli-target', `targets[${s}][${j}] is ${v}; Bernoulli targets are probabilities in [0, 1]`, `/targets/${s}/${j}`);
    });
  } else if (interpretation === 'softmax' || interpretation === 'spherical') {
    const sum = row.reduce((a, b) => a + b, 0);
    if (row.some((v) => v < 0) || Math.abs(sum - 1) > PROBABILITY_TOLERANCE * row.length) {
      report('probability-target', `targets[${s}] (sum ${sum}) is not a probability vector; ${interpretation} targets must be non-negative and sum to 1 (one-hot for a class)`, `/targets/${s}`);
    }
  }
}
