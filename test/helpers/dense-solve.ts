/** Dense (M + εI)⁻¹ g by Gaussian elimination with partial pivoting (independent of the library's Cholesky solves). */
export function denseSolve(m: Float64Array, g: Float64Array, epsilon = 0): Float64Array {
  const n = g.length;
  const a = Array.from({ length: n }, (_, i) => [...Array.from(m.subarray(i * n, (i + 1) * n), (v, j) => v + (i === j ? epsilon : 0)), g[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    for (let r = c + 1; r < n; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k <= n; k++) a[r][k] -= f * a[c][k];
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r][n];
    for (let k = r + 1; k < n; k++) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
  return x;
}
