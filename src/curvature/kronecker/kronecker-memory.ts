import { UsageError, problem } from '../../errors.js';
import { CURVATURE_LIMIT_BYTES, formatBytes } from '../../engine/size-guard.js';
import type { KroneckerGroup } from './groups.js';

/**
 * Refuses groups whose Kronecker factors cannot be held: a group over n_g sources and m_g
 * units keeps (n_g+1)² + m_g² numbers per copy of its factors, and about four copies live at once
 * (the estimate, the factors of the last refresh, their factorisations or eigenvectors), plus an
 * (n_g+1) × m_g grid for the solve. A level of a large network (10⁴ sources) alone needs 10⁸
 * numbers per copy. The UsageError names the largest group and the way out (smaller groups).
 */
export function checkKroneckerMemory(groups: readonly KroneckerGroup[], limitBytes = CURVATURE_LIMIT_BYTES): void {
  let bytes = 0;
  let largest: KroneckerGroup | undefined;
  let largestBytes = 0;
  for (const g of groups) {
    const n = g.sources.length + 1;
    const m = g.units.length;
    const b = 8 * (4 * (n * n + m * m) + n * m);
    bytes += b;
    if (b > largestBytes) [largest, largestBytes] = [g, b];
  }
  if (bytes > limitBytes && largest) {
    throw new UsageError([
      problem(
        'too-large',
        `the Kronecker factors need about ${formatBytes(bytes)} (limit ${formatBytes(limitBytes)}); the largest group, '${largest.name}', has ${largest.units.length} units over ${largest.sources.length} sources (factors of ${largest.sources.length + 1}² and ${largest.units.length}² numbers); use --groups attribute with smaller groups, or --groups units`,
      ),
    ]);
  }
}
