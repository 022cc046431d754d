import { UsageError, problem } from '../../errors.js';
import type { UpdateKernels } from '../kernels.js';
import type { GpujsRuntime } from './gpu.js';
import { onlineVectors, packBlocks, packBlockVectors, shermanMorrisonCoefficients, storeOnlineStep } from '../padded-lists.js';
import { gpuNetwork } from './gpujs-arrays.js';

/**
 * Update kernels on gpu.js. Per-unit solves (Eq. 20, 30) are batched over the units whose
 * blocks have one size n: Cholesky factorisation one column per launch (thread = unit × row),
 * then forward and backward substitution one row per launch (thread = unit): 3n launches per
 * block size, whatever the number of units. The quasi-diagonal (Eq. 22-23) and diagonal steps
 * are one or two launches over the parameters. The online step (Eq. 37-38) is four launches per
 * block size: Hu, the rank-one updates of A and of H, and the direction H G.
 * NOTE: a launch per column keeps every thread's work O(n) without per-thread scratch arrays,
 * which gpu.js kernels cannot allocate; the factors travel to the device at every launch.
 */
export function gpujsUpdateKernels(gpu: GpujsRuntime): UpdateKernels {
  return {
    solveUnitBlocks(net, layout, blocks, gradient, epsilon, out) {
      if (epsilon === 0) {
        throw new UsageError([problem('epsilon', 'the gpujs backend solves per-unit blocks by Cholesky in float32 and needs ε > 0; use the cpu backend for the least-squares solves of ε = 0')]);
      }
      let failed = -1;
      for (const g of gpuNetwork(net).blockGroups) {
        const { n } = g;
        const u = g.units.length;
        const a = packBlocks(layout.matrixOffsets, g.units, n, blocks);
        const rhs = packBlockVectors(net, g.units, n, gradient);
        const factors = new Float32Array(u * n * n);
        for (let j = 0; j < n; j++) {
          const column = gpu.run('choleskyColumn', u * n, a, factors, j, n, epsilon);
          for (let i = 0; i < u; i++) for (let row = j; row < n; row++) factors[i * n * n + row * n + j] = column[i * n + row];
        }
        const forward = new Float32Array(u * n);
        for (let row = 0; row < n; row++) {
          const values = gpu.run('triangularRow', u, factors, forward, rhs, row, n, 0);
          for (let i = 0; i < u; i++) forward[i * n + row] = values[i];
        }
        const solution = new Float32Array(u * n);
        for (let row = n - 1; row >= 0; row--) {
          const values = gpu.run('triangularRow', u, factors, solution, forward, row, n, 1);
          for (let i = 0; i < u; i++) solution[i * n + row] = values[i];
        }
        g.units.forEach((k, i) => {
          const p0 = net.blockOffsets[k];
          for (let t = 0; t < n; t++) {
            out[p0 + t] = solution[i * n + t];
            if (!Number.isFinite(out[p0 + t]) && (failed < 0 || k < failed)) failed = k;
          }
        });
      }
      return failed;
    },

    quasiDiagonalSolve(net, diagonal, cross, gradient, epsilon, out) {
      const g = gpuNetwork(net);
      const d = Float32Array.from(diagonal);
      const c = Float32Array.from(cross);
      const grad = Float32Array.from(gradient);
      const weights = gpu.run('quasiDiagonalWeight', net.nParams, d, c, grad, g.paramBias, epsilon);
      out.set(gpu.run('quasiDiagonalBias', net.nParams, weights, d, c, grad, g.paramBias, g.paramBlockLast, epsilon));
    },

    onlineBlockStep(net, layout, blocks, inverses, act, modulus, size, sample, gradient, decay, out) {
      const refused: number[] = [];
      const keep = 1 - decay;
      for (const g of gpuNetwork(net).blockGroups) {
        const { n } = g;
        const u = g.units.length;
        const a = packBlocks(layout.matrixOffsets, g.units, n, blocks);
        const h = packBlocks(layout.matrixOffsets, g.units, n, inverses);
        const rhs = packBlockVectors(net, g.units, n, gradient);
        const vectors = onlineVectors(net, g.units, n, act, modulus, size, sample);
        const hu = gpu.run('blockVector', u * n, h, vectors, n);
        const coef = shermanMorrisonCoefficients(vectors, hu, u, n, decay);
        const nextA = gpu.run('rankOneBlock', u * n * n, a, vectors, new Float32Array(u).fill(-decay / keep), keep, n, 0);
        const nextH = gpu.run('rankOneBlock', u * n * n, h, hu, coef.map((f) => (Number.isNaN(f) ? 0 : f)), 1 / keep, n, 1);
        const direction = gpu.run('blockVector', u * n, nextH, rhs, n);
        refused.push(...storeOnlineStep(net, layout.matrixOffsets, g.units, n, coef, blocks, inverses, nextA, nextH, direction, out));
      }
      return refused.sort((x, y) => x - y);
    },

    diagonalSolve(diagonal, gradient, epsilon, root, out) {
      out.set(gpu.run('diagonalStep', diagonal.length, Float32Array.from(diagonal), Float32Array.from(gradient), epsilon, root ? 1 : 0));
    },
  };
}
