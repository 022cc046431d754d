import type * as TF from '@tensorflow/tfjs-core';
import type { PropagationKernels } from '../kernels.js';
import { levelAt, netTensors } from './tfjs-structures.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** [rows × size] tensor of a unit-major workspace array (float32: TensorFlow.js computes in float32). */
export function matrix(tf: typeof TF, values: Float64Array, rows: number, size: number): TF.Tensor2D {
  return tf.tensor2d(Float32Array.from(values.subarray(0, rows * size)), [rows, size]);
}

/** [rows + 1 × size]: the array's rows and a zero row (the padding target of padded edge lists). */
export function withZeroRow(tf: typeof TF, values: Float64Array, rows: number, size: number): TF.Tensor2D {
  const out = new Float32Array((rows + 1) * size);
  for (let i = 0; i < rows * size; i++) out[i] = values[i];
  return tf.tensor2d(out, [rows + 1, size]);
}

/** The parameters and a trailing 0 (the padding weight of padded edge lists). */
export function paramsWithZero(tf: typeof TF, params: Float64Array): TF.Tensor1D {
  const out = new Float32Array(params.length + 1);
  out.set(params);
  return tf.tensor1d(out);
}

/** Copies a [count × size] tensor into rows `start ..` of a unit-major array. */
export function writeRows(target: Float64Array, start: number, size: number, t: TF.Tensor): void {
  target.set(t.dataSync(), start * size);
}

/** Copies the rows `local` of a [count × size] tensor to units start + local. */
export function writeSomeRows(target: Float64Array, start: number, local: number[], size: number, values: Float32Array | Int32Array | Uint8Array): void {
  for (const i of local) target.set(values.subarray(i * size, (i + 1) * size), (start + i) * size);
}

/**
 * Propagation kernels as TensorFlow.js operations, one call per level: gathers of the source
 * rows, products with the gathered weights and unsorted segment sums onto the level's units.
 * NOTE: the workspace stays in Float64Arrays (the engine's one layout), so every call uploads
 * what it reads and downloads what it writes; with a native or GPU backend the arithmetic is on
 * the device but these copies remain. `parameterChunkEntries` caps the [parameters × samples]
 * gathers of the gradient kernel (taken a chunk of parameters at a time).
 */
export function tfjsPropagationKernels(tf: typeof TF, parameterChunkEntries = 1 << 22): Omit<PropagationKernels, 'name' | 'precision'> {
  return {
    forwardLevel(net, params, ws, start, end) {
      const S = ws.size;
      const lv = levelAt(netTensors(tf, net), start);
      void end;
      tf.tidy(() => {
        const act = withZeroRow(tf, ws.act, net.nUnits, S);
        const p = paramsWithZero(tf, params);
        const sources = tf.reshape(tf.gather(act, lv.inSource), [lv.count, lv.fanIn, S]);
        const weights = tf.reshape(tf.gather(p, lv.inParam), [lv.count, lv.fanIn, 1]);
        const v = tf.add(tf.sum(tf.mul(sources, weights), 1), tf.expandDims(tf.gather(p, lv.biasParam), 1));
        const z = tf.mul(v, lv.gain);
        const sig = tf.sigmoid(z);
        const th = tf.tanh(z);
        const s = tf.add(tf.add(tf.mul(lv.isSigmoid, sig), tf.mul(lv.isTanh, th)), tf.mul(lv.isLinear, z));
        const ds = tf.add(tf.add(tf.mul(lv.isSigmoid, tf.mul(sig, tf.sub(1, sig))), tf.mul(lv.isTanh, tf.sub(1, tf.square(th)))), lv.isLinear);
        writeRows(ws.pre, start, S, z);
        writeRows(ws.act, start, S, tf.add(tf.mul(s, lv.scale), lv.shift));
        writeRows(ws.deriv, start, S, tf.mul(ds, tf.mul(lv.scale, lv.gain)));
      });
    },

    outputLayer(net, ws, targets) {
      const S = ws.size;
      const t = netTensors(tf, net);
      tf.tidy(() => {
        const rows = (values: Float64Array) => tf.gather(matrix(tf, values, net.nUnits, S), t.outputUnits);
        const a = rows(ws.act);
        const r = rows(ws.deriv);
        const y = matrix(tf, targets, net.nOutputs, S);
        let loss: TF.Tensor;
        let reduced: TF.Tensor;
        if (net.interpretation === 'square') {
          loss = tf.add(tf.sum(tf.mul(0.5, tf.square(tf.sub(y, a))), 0), net.nOutputs * HALF_LOG_2PI);
          reduced = tf.mul(r, tf.sub(y, a));
        } else if (net.interpretation === 'bernoulli') {
          const z = tf.mul(rows(ws.pre), tf.add(1, t.outputIsTanh)); // p = sigm(V), or sigm(2V) for tanh outputs
          loss = tf.sum(tf.add(tf.mul(y, tf.softplus(tf.neg(z))), tf.mul(tf.sub(1, y), tf.softplus(z))), 0);
          reduced = tf.sub(tf.sub(y, a), tf.mul(t.outputIsTanh, tf.sub(1, y))); // y - a, or 2y - 1 - a
        } else if (net.interpretation === 'softmax') {
          const logP = tf.transpose(tf.logSoftmax(tf.transpose(a)));
          loss = tf.neg(tf.sum(tf.mul(y, logP), 0));
          reduced = tf.mul(r, tf.sub(y, tf.exp(logP)));
        } else {
          const norm2 = tf.sum(tf.square(a), 0);
          const positive = tf.greater(y, 0);
          const zeros = tf.zerosLike(y);
          loss = tf.neg(tf.sum(tf.where(positive, tf.mul(y, tf.sub(tf.log(tf.square(a)), tf.log(norm2))), zeros), 0));
          reduced = tf.mul(r, tf.sub(tf.where(positive, tf.div(tf.mul(2, y), a), zeros), tf.div(tf.mul(2, a), norm2)));
        }
        ws.loss.set(loss.dataSync());
        const values = reduced.dataSync() as Float32Array;
        net.outputUnits.forEach((k, j) => ws.backReduced.set(values.subarray(j * S, (j + 1) * S), k * S));
      });
    },

    backwardLevel(net, params, ws, start, end, modulus) {
      const S = ws.size;
      const lv = levelAt(netTensors(tf, net), start);
      void end;
      if (lv.hidden.length === 0) return;
      tf.tidy(() => {
        const w = tf.reshape(tf.gather(paramsWithZero(tf, params), lv.outParam), [lv.count, lv.fanOut, 1]);
        const gathered = (values: Float64Array) => tf.reshape(tf.gather(withZeroRow(tf, values, net.nUnits, S), lv.outTarget), [lv.count, lv.fanOut, S]);
        const r = tf.slice(matrix(tf, ws.deriv, net.nUnits, S), [start, 0], [lv.count, S]);
        const b = tf.sum(tf.mul(gathered(ws.backReduced), w), 1);
        writeSomeRows(ws.back, start, lv.hidden, S, b.dataSync() as Float32Array);
        writeSomeRows(ws.backReduced, start, lv.hidden, S, tf.mul(r, b).dataSync() as Float32Array);
        if (modulus) {
          const m = tf.sum(tf.mul(gathered(modulus), tf.square(w)), 1);
          writeSomeRows(modulus, start, lv.hidden, S, tf.mul(tf.square(r), m).dataSync() as Float32Array);
        }
      });
    },

    gradient(net, ws, out, entries) {
      const S = ws.size;
      const t = netTensors(tf, net);
      // NOTE: the per-parameter gathers are [parameters × samples]; they are taken a chunk of
      // parameters at a time (2^22 entries, 16 MiB each) and freed after each chunk, so that a
      // 10^6-edge network with 64 samples does not hold a dozen 300 MB intermediates at once.
      const chunk = Math.max(1, Math.floor(parameterChunkEntries / S));
      const act = tf.concat([matrix(tf, ws.act, net.nUnits, S), tf.ones([1, S])], 0);
      const back = matrix(tf, ws.backReduced, net.nUnits, S);
      const psi = entries ? matrix(tf, entries.modulus, net.nUnits, S) : undefined;
      for (let p0 = 0; p0 < net.nParams; p0 += chunk) {
        const count = Math.min(chunk, net.nParams - p0);
        tf.tidy(() => {
          const units = tf.slice(t.paramUnit, p0, count);
          const a = tf.gather(act, tf.slice(t.paramSource, p0, count));
          out.set(tf.mean(tf.mul(a, tf.gather(back, units)), 1).dataSync(), p0);
          if (entries && psi) {
            const weighted = tf.mul(a, tf.gather(psi, units));
            entries.diagonal.set(tf.mean(tf.mul(weighted, a), 1).dataSync(), p0);
            entries.cross?.set(tf.mean(weighted, 1).dataSync(), p0);
          }
        });
      }
      tf.dispose([act, back, ...(psi ? [psi] : [])]);
    },
  };
}

