/**
 * Least squares min ‖X δ − y‖ by Householder QR in a fixed column order, for a small dense
 * m × n matrix X (row-major, overwritten) and y (length m, overwritten). Column 0 (the bias,
 * a_0 = 1) is taken first; a later column whose residual norm, after projecting out the columns
 * taken before it, is at or below `relativeTolerance` × its norm after projecting out column 0
 * alone, is linearly dependent: it is left out and its δ component set to 0. This basic
 * solution is exact in the fitted values Xδ (the projection of y on the column space; Section
 * 3.3), and because both the order and the dropping rule are unchanged by an affine
 * reparametrisation of an incoming unit (column j → α col_j + β col_0, Def. 29), it maps
 * covariantly: reparametrised twins take the same finite step even when the block is singular.
 * (Norm-based column pivoting would not.) Working on X rather than on XᵀX squares nothing.
 * Returns the numerical rank.
 */
export function leastSquaresQR(x: Float64Array, m: number, n: number, y: Float64Array, out: Float64Array, relativeTolerance = 1e-10): number {
  const kept: number[] = [];
  const reference = new Float64Array(n);
  let row = 0; // next pivot row
  for (let j = 0; j < n && row < m; j++) {
    let alpha = 0;
    for (let i = row; i < m; i++) alpha += x[i * n + j] ** 2;
    alpha = Math.sqrt(alpha);
    if (j === 0 || kept.length === 0 || reference[j] === 0) reference[j] = alpha;
    if (!(alpha > relativeTolerance * reference[j]) || alpha === 0) continue;
    if (x[row * n + j] > 0) alpha = -alpha;
    x[row * n + j] -= alpha; // Householder vector in place, rows row..m-1 of column j
    let vv = 0;
    for (let i = row; i < m; i++) vv += x[i * n + j] ** 2;
    for (let c = j + 1; c < n; c++) {
      let dot = 0;
      for (let i = row; i < m; i++) dot += x[i * n + j] * x[i * n + c];
      const f = (2 * dot) / vv;
      for (let i = row; i < m; i++) x[i * n + c] -= f * x[i * n + j];
    }
    let dot = 0;
    for (let i = row; i < m; i++) dot += x[i * n + j] * y[i];
    const f = (2 * dot) / vv;
    for (let i = row; i < m; i++) y[i] -= f * x[i * n + j];
    x[row * n + j] = alpha; // R entry
    if (j === 0) {
      // Reference norms: every other column after projecting out the bias column.
      for (let c = 1; c < n; c++) {
        let s = 0;
        for (let i = 1; i < m; i++) s += x[i * n + c] ** 2;
        reference[c] = Math.sqrt(s);
      }
    }
    kept.push(j);
    row++;
  }
  // Back substitution on the kept columns: R[r][kept[q]] holds row r of the triangular factor.
  const r = kept.length;
  const z = new Float64Array(r);
  for (let q = r - 1; q >= 0; q--) {
    let s = y[q];
    for (let t = q + 1; t < r; t++) s -= x[q * n + kept[t]] * z[t];
    z[q] = s / x[q * n + kept[q]];
  }
  out.fill(0);
  kept.forEach((j, q) => (out[j] = z[q]));
  return r;
}
