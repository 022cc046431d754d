import type * as TF from '@tensorflow/tfjs-core';
import { UsageError, problem } from '../../errors.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { TransferPlan } from '../../metrics/transfer-plan.js';
import type { MetricKernels, UpdateKernels } from '../kernels.js';
import { onlineVectors, packBlocks, packBlockVectors, shermanMorrisonCoefficients, storeOnlineStep } from '../padded-lists.js';
import { matrix, paramsWithZero } from './tfjs-propagation.js';
import { keepAll, netTensors } from './tfjs-structures.js';

/** Per output: its plan units grouped by level (descending), each group's edges as index tensors. */
interface OutputGroups {
  /** Padded (ELL) edge lists: [units × fan] targets (padding: the zero row nUnits) and parameters (padding: nParams). */
  groups: Array<{ units: TF.Tensor1D; unitIds: number[]; fan: number; targets: TF.Tensor1D; params: TF.Tensor1D }>;
  rows: TF.Tensor1D; // the output and its plan units
}

const groupCache = new WeakMap<TransferPlan, OutputGroups[]>();

function outputGroups(tf: typeof TF, net: CompiledNetwork, plan: TransferPlan): OutputGroups[] {
  const known = groupCache.get(plan);
  if (known) return known;
  const built = keepAll(tf, buildGroups(tf, net, plan));
  groupCache.set(plan, built);
  return built;
}

function buildGroups(tf: typeof TF, net: CompiledNetwork, plan: TransferPlan): OutputGroups[] {
  const levelOf = new Int32Array(net.nUnits);
  for (let l = 0; l < net.levelOffsets.length - 1; l++) for (let k = net.levelOffsets[l]; k < net.levelOffsets[l + 1]; k++) levelOf[k] = l;
  const result: OutputGroups[] = [];
  for (let j = 0; j < net.nOutputs; j++) {
    const byLevel = new Map<number, number[]>();
    for (let q = plan.unitOffsets[j]; q < plan.unitOffsets[j + 1]; q++) {
      const l = levelOf[plan.units[q]];
      byLevel.set(l, [...(byLevel.get(l) ?? []), q]);
    }
    const groups = [...byLevel.entries()]
      .sort((a, b) => b[0] - a[0])
      .map(([, qs]) => {
        const fan = Math.max(1, ...qs.map((q) => plan.edgeOffsets[q + 1] - plan.edgeOffsets[q]));
        const targets: number[] = [];
        const params: number[] = [];
        for (const q of qs) {
          for (let i = 0; i < fan; i++) {
            const e = plan.edgeOffsets[q] + i;
            const real = e < plan.edgeOffsets[q + 1];
            targets.push(real ? plan.edgeTargets[e] : net.nUnits);
            params.push(real ? plan.edgeParams[e] : net.nParams);
          }
        }
        const unitIds = qs.map((q) => plan.units[q]);
        return { units: tf.tensor1d(unitIds, 'int32'), unitIds, fan, targets: tf.tensor1d(targets, 'int32'), params: tf.tensor1d(params, 'int32') };
      });
    result.push({ groups, rows: tf.tensor1d([net.outputUnits[j], ...Array.from(plan.units.subarray(plan.unitOffsets[j], plan.unitOffsets[j + 1]))], 'int32') });
  }
  return result;
}

/**
 * Metric and update kernels as TensorFlow.js operations: transfer rates one level of an
 * output's ancestry at a time; the Fisher modulus accumulated with scatter-adds (always by the
 * explicit route: the Gram route is a CPU-side saving with the same result); per-unit blocks
 * as batched products over units with blocks of one size; per-unit solves by batched QR of the
 * regularised blocks and back substitution; the quasi-diagonal and diagonal formulas elementwise;
 * the online Sherman-Morrison step (Eq. 37-38) as batched products per block size.
 */
export function tfjsMetricKernels(tf: typeof TF): MetricKernels & UpdateKernels {
  /** One output's transfer rates, as a dense [nUnits + 1 × size] tensor (zero off its ancestry; the last row is the padding row). */
  const ratesOf = (net: CompiledNetwork, plan: TransferPlan, params: Float64Array, deriv: TF.Tensor2D, output: number, seeds: Float64Array, S: number): { rates: TF.Tensor2D; raw: TF.Tensor2D } => {
    const o = net.outputUnits[output];
    const shape: [number, number] = [net.nUnits + 1, S];
    const p = paramsWithZero(tf, params);
    let rates = tf.scatterND([[o]], tf.tensor2d(Float32Array.from(seeds.subarray(output * S, (output + 1) * S)), [1, S]), shape) as TF.Tensor2D;
    let raw = tf.scatterND([[o]], tf.ones([1, S]), shape) as TF.Tensor2D;
    for (const g of outputGroups(tf, net, plan)[output].groups) {
      const count = g.unitIds.length;
      const sums = tf.sum(tf.mul(tf.reshape(tf.gather(rates, g.targets), [count, g.fan, S]), tf.reshape(tf.gather(p, g.params), [count, g.fan, 1])), 1);
      const indices = g.unitIds.map((k) => [k]);
      raw = tf.add(raw, tf.scatterND(indices, sums, shape));
      rates = tf.add(rates, tf.scatterND(indices, tf.mul(sums, tf.gather(deriv, g.units)), shape));
    }
    return { rates, raw };
  };

  return {
    transferRates(net, plan, params, ws, output, seeds, rates, raw) {
      const S = ws.size;
      tf.tidy(() => {
        const result = ratesOf(net, plan, params, matrix(tf, ws.deriv, net.nUnits, S), output, seeds, S);
        const r = result.rates.dataSync();
        const j = raw ? result.raw.dataSync() : undefined;
        const rows = outputGroups(tf, net, plan)[output].rows.dataSync();
        for (const k of rows) {
          rates.set(r.subarray(k * S, (k + 1) * S), k * S);
          if (raw && j) raw.set(j.subarray(k * S, (k + 1) * S), k * S);
        }
      });
    },

    fisherModulus(net, plan, params, ws, metric, modulus) {
      const S = ws.size;
      tf.tidy(() => {
        const deriv = matrix(tf, ws.deriv, net.nUnits, S);
        const beta = matrix(tf, metric.beta, net.nOutputs, S);
        const gamma = metric.gamma ? matrix(tf, metric.gamma, net.nOutputs, S) : undefined;
        let total = tf.zeros([net.nUnits, S]) as TF.Tensor2D;
        let extra = tf.zeros([net.nUnits, S]) as TF.Tensor2D;
        for (let j = 0; j < net.nOutputs; j++) {
          // NOTE: one tidy per output frees its intermediate rate tensors (a few per level, each
          // [units × samples]) before the next output, instead of holding all n_out sets at once.
          const [nextTotal, nextExtra] = tf.tidy(() => {
            const rates = tf.slice(ratesOf(net, plan, params, deriv, j, metric.seeds, S).rates, [0, 0], [net.nUnits, S]);
            const next = tf.add(total, tf.mul(tf.square(rates), tf.slice(beta, [j, 0], [1, S]))) as TF.Tensor2D;
            return gamma ? [next, tf.add(extra, tf.mul(rates, tf.slice(gamma, [j, 0], [1, S]))) as TF.Tensor2D] : [next];
          });
          tf.dispose(total);
          total = nextTotal;
          if (nextExtra) {
            tf.dispose(extra);
            extra = nextExtra;
          }
        }
        if (gamma && metric.betaExtra) total = tf.add(total, tf.mul(tf.square(extra), tf.tensor2d(Float32Array.from(metric.betaExtra), [1, S])));
        const values = total.dataSync();
        for (let i = net.nInputs * S; i < modulus.length; i++) modulus[i] += values[i];
      });
    },

    accumulateUnitBlocks(net, layout, ws, modulus, blocks) {
      const S = ws.size;
      tf.tidy(() => {
        const act = tf.concat([matrix(tf, ws.act, net.nUnits, S), tf.ones([1, S])], 0);
        const psi = matrix(tf, modulus, net.nUnits, S);
        for (const g of netTensors(tf, net).blockGroups) {
          const x = tf.reshape(tf.gather(act, tf.reshape(g.rows, [-1])), [g.units.length, g.n, S]);
          const weighted = tf.mul(x, tf.expandDims(tf.gather(psi, tf.tensor1d(g.units, 'int32')), 1));
          const a = tf.div(tf.matMul(weighted, x, false, true), S).dataSync();
          g.units.forEach((k, i) => blocks.set(a.subarray(i * g.n * g.n, (i + 1) * g.n * g.n), layout.matrixOffsets[k]));
        }
      });
    },

    solveUnitBlocks(net, layout, blocks, gradient, epsilon, out) {
      if (epsilon === 0) {
        throw new UsageError([problem('epsilon', 'the tfjs backend solves per-unit blocks by QR in float32 and needs ε > 0; use the cpu backend for the least-squares solves of ε = 0')]);
      }
      let failed = -1;
      tf.tidy(() => {
        for (const g of netTensors(tf, net).blockGroups) {
          const n = g.n;
          const u = g.units.length;
          const a = packBlocks(layout.matrixOffsets, g.units, n, blocks);
          const b = packBlockVectors(net, g.units, n, gradient);
          const regularised = tf.add(tf.tensor3d(a, [u, n, n]), tf.mul(epsilon, tf.eye(n)));
          const [q, r] = tf.linalg.qr(regularised);
          const c = tf.squeeze(tf.matMul(q, tf.tensor3d(b, [u, n, 1]), true, false), [2]); // Qᵀb, [u, n]
          const rv = r.dataSync();
          const cv = c.dataSync();
          // Back substitution R x = Qᵀ b, one unit per row of the batch.
          g.units.forEach((k, i) => {
            const p0 = net.blockOffsets[k];
            for (let row = n - 1; row >= 0; row--) {
              let s = cv[i * n + row];
              for (let col = row + 1; col < n; col++) s -= rv[i * n * n + row * n + col] * out[p0 + col];
              out[p0 + row] = s / rv[i * n * n + row * n + row];
            }
            for (let t = 0; t < n; t++) if (!Number.isFinite(out[p0 + t]) && (failed < 0 || k < failed)) failed = k;
          });
        }
      });
      return failed;
    },

    quasiDiagonalSolve(net, diagonal, cross, gradient, epsilon, out) {
      const t = netTensors(tf, net);
      tf.tidy(() => {
        const d = tf.add(tf.tensor1d(Float32Array.from(diagonal)), epsilon);
        const c = tf.tensor1d(Float32Array.from(cross));
        const g = tf.tensor1d(Float32Array.from(gradient));
        const a00 = tf.gather(d, t.paramBias);
        const g0 = tf.gather(g, t.paramBias);
        const denominator = tf.sub(tf.mul(d, a00), tf.square(c));
        const isBias = tf.equal(t.paramSource, net.nUnits);
        const weight = tf.where(tf.logicalAnd(tf.greater(denominator, 0), tf.logicalNot(isBias)), tf.div(tf.sub(tf.mul(g, a00), tf.mul(g0, c)), denominator), tf.zerosLike(g));
        // Eq. 23: δw_0 = G_0/A_00 - Σ_i (A_0i/A_00) δw_i, the sum over each unit's (contiguous)
        // block taken as a difference of a running sum (zero at the biases themselves).
        const running = tf.cumsum(tf.mul(tf.div(c, a00), weight));
        const correction = tf.sub(tf.gather(running, t.paramBlockLast), tf.gather(running, t.paramBias));
        const bias = tf.sub(tf.div(g, d), correction);
        out.set(tf.where(isBias, tf.where(tf.greater(d, 0), bias, tf.zerosLike(g)), weight).dataSync());
      });
    },

    onlineBlockStep(net, layout, blocks, inverses, act, modulus, size, sample, gradient, decay, out) {
      const refused: number[] = [];
      const keep = 1 - decay;
      for (const g of netTensors(tf, net).blockGroups) {
        const { n } = g;
        const u = g.units.length;
        const matrices = packBlocks(layout.matrixOffsets, g.units, n, blocks);
        const inverse = packBlocks(layout.matrixOffsets, g.units, n, inverses);
        const rhs = packBlockVectors(net, g.units, n, gradient);
        const vectors = onlineVectors(net, g.units, n, act, modulus, size, sample);
        tf.tidy(() => {
          const h = tf.tensor3d(inverse, [u, n, n]);
          const v = tf.tensor3d(vectors, [u, n, 1]);
          const hu = tf.matMul(h, v); // [u, n, 1]
          const coef = shermanMorrisonCoefficients(vectors, hu.dataSync() as Float32Array, u, n, decay);
          const f = tf.tensor3d(coef.map((c) => (Number.isNaN(c) ? 0 : c)), [u, 1, 1]);
          // Eq. 37: A' = (1-γ)A + γuuᵀ; H' = ((H + Hᵀ)/2 - f Hu (Hu)ᵀ)/(1-γ).
          const nextA = tf.add(tf.mul(keep, tf.tensor3d(matrices, [u, n, n])), tf.mul(decay, tf.matMul(v, v, false, true)));
          const symmetric = tf.mul(0.5, tf.add(h, tf.transpose(h, [0, 2, 1])));
          const nextH = tf.div(tf.sub(symmetric, tf.mul(f, tf.matMul(hu, hu, false, true))), keep);
          const direction = tf.matMul(nextH, tf.tensor3d(rhs, [u, n, 1]));
          refused.push(...storeOnlineStep(net, layout.matrixOffsets, g.units, n, coef, blocks, inverses, nextA.dataSync(), nextH.dataSync(), direction.dataSync(), out));
        });
      }
      return refused.sort((x, y) => x - y);
    },

    diagonalSolve(diagonal, gradient, epsilon, root, out) {
      tf.tidy(() => {
        const d = tf.add(tf.tensor1d(Float32Array.from(diagonal)), epsilon);
        const g = tf.tensor1d(Float32Array.from(gradient));
        out.set(tf.where(tf.greater(d, 0), tf.div(g, root ? tf.sqrt(d) : d), tf.zerosLike(g)).dataSync());
      });
    },
  };
}
