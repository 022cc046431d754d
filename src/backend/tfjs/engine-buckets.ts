import type { CompiledNetwork } from '../../engine/compiled-network.js';

/**
 * Host-side index arrays of a set of units grouped into buckets of one padded block size n.
 * A unit with a block of n_k < n is embedded as A ⊕ I (its padding rows and columns are zero in
 * the gathered block; the solves add 1 on the padding diagonal): the Cholesky factor is then
 * L ⊕ I, the solution x ⊕ 0 and the inverse A⁻¹ ⊕ I, so a bucket solves all its units at once.
 */
export interface BucketArrays {
  readonly n: number;
  readonly unitIds: Int32Array;
  /** [u × n] rows of act ‖ zero ‖ one (nUnits + 1 for the bias, nUnits for padding). */
  readonly rows: Int32Array;
  /** [u × n] parameter indices (padding: nParams). */
  readonly params: Int32Array;
  /** [u × n × n] indices into the blocks' metric layout (padding: blockLength). */
  readonly blocks: Int32Array;
  readonly padEye: Float32Array;
  readonly realEye: Float32Array;
}

/** Buckets of `units` and where their flattened entries go. */
export interface BucketLayout {
  readonly buckets: BucketArrays[];
  /** Full set only: [blockLength] position of each metric-layout entry in the concatenated flat buckets. */
  readonly blocksPerm: Int32Array;
  /** Full set only: [nParams] position of each parameter in the concatenated flat bucket vectors. */
  readonly paramsPerm: Int32Array;
  /** Full set only: [nParams] position of the parameter's unit in bucket order. */
  readonly paramBucketUnit: Int32Array;
  /** Real entries: metric-layout position and flat bucket position (for scatters into part of a buffer). */
  readonly blockPairs: { layout: Int32Array; flat: Int32Array };
  readonly paramPairs: { layout: Int32Array; flat: Int32Array };
}

/**
 * Relative cost, in multiply-adds, of one kernel launch: an elimination step of a bucket costs
 * about 7 launches whatever its size.
 * NOTE: buckets trade padding work (u·n³ per bucket) for launches (7·n per bucket); the split of
 * the sorted block sizes into buckets minimises their sum by dynamic programming. 10⁴ fits the
 * per-op overhead of tfjs's CPU backend on small tensors; a GPU backend would favour fewer buckets.
 */
const LAUNCH_COST = 1e4;

/** Sorted distinct block sizes split into contiguous runs, each run one bucket (padded to its largest size). */
export function bucketSizes(sizes: readonly number[], counts: readonly number[]): number[][] {
  const m = sizes.length;
  const best = new Float64Array(m + 1).fill(Infinity);
  const cut = new Int32Array(m + 1);
  best[0] = 0;
  for (let j = 1; j <= m; j++) {
    let units = 0;
    for (let i = j; i >= 1; i--) {
      units += counts[i - 1];
      const n = sizes[j - 1];
      const cost = best[i - 1] + 7 * n * LAUNCH_COST + 6 * units * n * n * n;
      if (cost < best[j]) {
        best[j] = cost;
        cut[j] = i - 1;
      }
    }
  }
  const runs: number[][] = [];
  for (let j = m; j > 0; j = cut[j]) runs.unshift(sizes.slice(cut[j], j));
  return runs;
}

/** Buckets of the non-input units (or of `units`), with the index arrays of their gathers and scatters. */
export function blockBuckets(net: CompiledNetwork, matrixOffsets: Int32Array, units?: readonly number[]): BucketLayout {
  const blockLength = matrixOffsets[net.nUnits];
  const list = units ?? Array.from({ length: net.nUnits - net.nInputs }, (_, i) => net.nInputs + i);
  const sizeOf = (k: number) => net.blockOffsets[k + 1] - net.blockOffsets[k];
  const bySize = new Map<number, number[]>();
  for (const k of list) {
    const group = bySize.get(sizeOf(k));
    if (group) group.push(k);
    else bySize.set(sizeOf(k), [k]);
  }
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  const runs = bucketSizes(
    sizes,
    sizes.map((n) => bySize.get(n)?.length ?? 0),
  );
  const blocksPerm = new Int32Array(units ? 0 : blockLength);
  const paramsPerm = new Int32Array(units ? 0 : net.nParams);
  const paramBucketUnit = new Int32Array(units ? 0 : net.nParams);
  const blockPairs = { layout: [] as number[], flat: [] as number[] };
  const paramPairs = { layout: [] as number[], flat: [] as number[] };
  let blockFlat = 0;
  let paramFlat = 0;
  let position = 0;
  const buckets = runs.map((run): BucketArrays => {
    const n = run[run.length - 1];
    const ids = run.flatMap((size) => bySize.get(size) ?? []).sort((a, b) => a - b);
    const u = ids.length;
    const rows = new Int32Array(u * n).fill(net.nUnits);
    const params = new Int32Array(u * n).fill(net.nParams);
    const blocks = new Int32Array(u * n * n).fill(blockLength);
    const padEye = new Float32Array(u * n * n);
    const realEye = new Float32Array(u * n * n);
    ids.forEach((k, g) => {
      const nk = sizeOf(k);
      const p0 = net.blockOffsets[k];
      for (let i = 0; i < n; i++) {
        (i < nk ? realEye : padEye)[g * n * n + i * n + i] = 1;
        if (i >= nk) continue;
        rows[g * n + i] = i === 0 ? net.nUnits + 1 : net.inSources[net.inOffsets[k] + i - 1];
        params[g * n + i] = p0 + i;
        paramPairs.layout.push(p0 + i);
        paramPairs.flat.push(paramFlat + g * n + i);
        if (!units) {
          paramsPerm[p0 + i] = paramFlat + g * n + i;
          paramBucketUnit[p0 + i] = position + g;
        }
        for (let j = 0; j < nk; j++) {
          const at = matrixOffsets[k] + i * nk + j;
          const flat = blockFlat + g * n * n + i * n + j;
          blocks[g * n * n + i * n + j] = at;
          blockPairs.layout.push(at);
          blockPairs.flat.push(flat);
          if (!units) blocksPerm[at] = flat;
        }
      }
    });
    blockFlat += u * n * n;
    paramFlat += u * n;
    position += u;
    return { n, unitIds: Int32Array.from(ids), rows, params, blocks, padEye, realEye };
  });
  return {
    buckets,
    blocksPerm,
    paramsPerm,
    paramBucketUnit,
    blockPairs: { layout: Int32Array.from(blockPairs.layout), flat: Int32Array.from(blockPairs.flat) },
    paramPairs: { layout: Int32Array.from(paramPairs.layout), flat: Int32Array.from(paramPairs.flat) },
  };
}
