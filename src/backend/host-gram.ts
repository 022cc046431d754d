import type { GramPlan } from './engine.js';

/**
 * The Kronecker-factor kernels on host arrays (the CPU reference's `groupGram` and
 * `accumulateWeighted`, see `Engine`). Per-unit arrays are unit-major [nUnits × S].
 */

/**
 * out[offsets[g] + a·m + b] += scale · Σ_s w_s x[ρ_a, s] x[ρ_b, s] for every list g of `plan`
 * (row -1 = the constant 1); `w` is one weight row [S] or undefined (all 1). Symmetric: each
 * pair is summed once.
 * NOTE: rows that are zero on the whole batch are skipped (a transfer-rate pass leaves every
 * unit outside the output's ancestry at 0: most of KFLR's pairs); checking costs one pass per row.
 */
export function groupGramHost(X: Float64Array, S: number, plan: GramPlan, out: Float64Array, scale: number, w?: Float64Array): void {
  const live = (r: number) => {
    if (r < 0) return true;
    for (let s = r * S; s < (r + 1) * S; s++) if (X[s] !== 0) return true;
    return false;
  };
  const ones = new Float64Array(S).fill(1);
  const weighted = new Float64Array(S);
  plan.rows.forEach((rows, g) => {
    const m = rows.length;
    const base = plan.offsets[g];
    const positions: number[] = [];
    for (let i = 0; i < m; i++) if (live(rows[i])) positions.push(i);
    for (let ia = 0; ia < positions.length; ia++) {
      const a = positions[ia];
      const [va, ra] = rows[a] < 0 ? [ones, 0] : [X, rows[a] * S];
      for (let s = 0; s < S; s++) weighted[s] = w ? w[s] * va[ra + s] : va[ra + s];
      for (let ib = ia; ib < positions.length; ib++) {
        const b = positions[ib];
        const [vb, rb] = rows[b] < 0 ? [ones, 0] : [X, rows[b] * S];
        let sum = 0;
        for (let s = 0; s < S; s++) sum += weighted[s] * vb[rb + s];
        out[base + a * m + b] += scale * sum;
        if (b !== a) out[base + b * m + a] += scale * sum;
      }
    }
  });
}

/** dst[k·S + s] += w[s] · src[k·S + s] for every unit k, with `w` one weight row [S]. */
export function accumulateWeightedHost(dst: Float64Array, src: Float64Array, w: Float64Array): void {
  const S = w.length;
  for (let i = 0; i < dst.length; i++) dst[i] += w[i % S] * src[i];
}
