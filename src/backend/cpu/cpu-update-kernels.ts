import { addToDiagonal, choleskyInPlace, choleskySolve, pivotedCholeskySolve } from '../../linalg/cholesky.js';
import { blockTimesVector, discountedRankOneUpdate } from '../../linalg/sherman-morrison.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { UpdateKernels } from '../kernels.js';

/**
 * Float64 CPU kernels of the update phase: the per-unit solves δw = (A + εI)⁻¹G (Eq. 20, 30),
 * the quasi-diagonal formulas (Eq. 22-23, 32-33), the diagonal ones, and the online
 * Sherman-Morrison step (Eq. 37-38).
 */
export const cpuUpdateKernels: UpdateKernels = {
  solveUnitBlocks(net, layout, blocks, gradient, epsilon, out, start = net.nInputs, end = net.nUnits) {
    for (let k = start; k < end; k++) {
      const p0 = net.blockOffsets[k];
      const n = net.blockOffsets[k + 1] - p0;
      const base = layout.matrixOffsets[k];
      for (let i = base; i < base + n * n; i++) if (!Number.isFinite(blocks[i])) return k;
      if (epsilon === 0) {
        // Unregularised: least squares (Section 3.3), since blocks with fewer samples than
        // parameters are singular and the gradient lies in their range.
        pivotedCholeskySolve(blocks, base, n, gradient, p0, out, p0);
        continue;
      }
      addToDiagonal(blocks, base, n, epsilon);
      if (!choleskyInPlace(blocks, base, n)) return k;
      choleskySolve(blocks, base, n, gradient, p0, out, p0);
    }
    return -1;
  },

  quasiDiagonalSolve(net, diagonal, cross, gradient, epsilon, out, start = net.nInputs, end = net.nUnits) {
    for (let k = start; k < end; k++) {
      const p0 = net.blockOffsets[k];
      const a00 = diagonal[p0] + epsilon;
      const g0 = gradient[p0];
      let bias = a00 > 0 ? g0 / a00 : 0;
      for (let p = p0 + 1; p < net.blockOffsets[k + 1]; p++) {
        // Eq. 22: δw_i = (G_i A_00 - G_0 A_0i) / (A_ii A_00 - A_0i²), ε on A_00 and A_ii only.
        // A zero denominator means a_i is constant over the (weighted) data: then the numerator
        // vanishes too and the least-squares reading (Section 3.3) gives δw_i = 0.
        const a0i = cross[p];
        const denominator = (diagonal[p] + epsilon) * a00 - a0i * a0i;
        const dw = denominator > 0 ? (gradient[p] * a00 - g0 * a0i) / denominator : 0;
        out[p] = dw;
        if (a00 > 0) bias -= (a0i / a00) * dw; // Eq. 23
      }
      out[p0] = bias;
    }
  },

  diagonalSolve(diagonal, gradient, epsilon, root, out) {
    for (let p = 0; p < gradient.length; p++) {
      const d = diagonal[p] + epsilon;
      out[p] = d > 0 ? gradient[p] / (root ? Math.sqrt(d) : d) : 0;
    }
  },

  onlineBlockStep(net, layout, blocks, inverses, act, modulus, size, sample, gradient, decay, out, start = net.nInputs, end = net.nUnits) {
    const u = new Float64Array(net.nParams);
    const scratch = new Float64Array(net.nParams);
    const refused: number[] = [];
    for (let k = start; k < end; k++) {
      const p0 = net.blockOffsets[k];
      const n = net.blockOffsets[k + 1] - p0;
      onlineVector(net, k, act, modulus, size, sample, u, 0);
      const off = layout.matrixOffsets[k];
      if (discountedRankOneUpdate(blocks, inverses, off, n, u, decay, scratch)) blockTimesVector(inverses, off, n, gradient, p0, out);
      else refused.push(k);
    }
    return refused;
  },
};

/**
 * Writes the online vector u = √ψ̃_k(x)·(1, a_i(x)) of unit k (Eq. 37), read from sample `sample`
 * of the unit-major `act` and `modulus` ([nUnits × size]), into `out[o .. o + n_k - 1]`.
 */
function onlineVector(net: CompiledNetwork, k: number, act: Float64Array, modulus: Float64Array, size: number, sample: number, out: Float64Array | Float32Array, o: number): void {
  const root = Math.sqrt(Math.max(0, modulus[k * size + sample]));
  out[o] = root;
  for (let e = net.inOffsets[k], i = 1; e < net.inOffsets[k + 1]; e++, i++) out[o + i] = root * act[net.inSources[e] * size + sample];
}
