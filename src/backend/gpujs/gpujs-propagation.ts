import type { PropagationKernels } from '../kernels.js';
import type { GpujsRuntime } from './gpu.js';
import { checkExact, gpuLevelAt, gpuNetwork, paramsF32, rowsF32 } from './gpujs-arrays.js';

const INTERPRETATION_CODE = { square: 0, bernoulli: 1, softmax: 2, spherical: 3 } as const;

/** Copies the rows `local` of a [count × size] kernel output to units start + local. */
function writeRows(target: Float64Array, start: number, local: readonly number[], size: number, values: Float32Array): void {
  for (const i of local) target.set(values.subarray(i * size, (i + 1) * size), (start + i) * size);
}

/**
 * Propagation kernels on gpu.js, one launch per level and phase: the level's weighted sums over
 * its padded edge lists (thread = unit × sample), then elementwise activations or reductions.
 * NOTE: the workspace stays in Float64Arrays (the engine's one layout), so each launch converts
 * and uploads what it reads (in GL mode, as textures) and reads back what it writes; this
 * host↔device traffic, not the arithmetic, dominates on small networks.
 */
export function gpujsPropagationKernels(gpu: GpujsRuntime): Omit<PropagationKernels, 'name' | 'precision'> {
  return {
    forwardLevel(net, params, ws, start) {
      const S = ws.size;
      checkExact(net, S);
      const lv = gpuLevelAt(gpuNetwork(net), start);
      const n = lv.level.count * S;
      const act = rowsF32(ws.act, net.nUnits, S, 1);
      const z = gpu.run('levelSum', n, act, paramsF32(params), lv.inSource, lv.inParam, lv.biasParam, lv.gain, lv.level.fanIn, S, 1);
      ws.pre.set(z, start * S);
      ws.act.set(gpu.run('activation', n, z, lv.code, lv.scale, lv.shift, lv.gainScale, S, 0), start * S);
      ws.deriv.set(gpu.run('activation', n, z, lv.code, lv.scale, lv.shift, lv.gainScale, S, 1), start * S);
    },

    outputLayer(net, ws, targets) {
      const S = ws.size;
      const rows = (values: Float64Array) => {
        const out = new Float32Array(net.nOutputs * S);
        net.outputUnits.forEach((k, j) => out.set(values.subarray(k * S, (k + 1) * S), j * S));
        return out;
      };
      const args = [rows(ws.act), rows(ws.pre), rows(ws.deriv), Float32Array.from(targets.subarray(0, net.nOutputs * S)), gpuNetwork(net).outputIsTanh, INTERPRETATION_CODE[net.interpretation], net.nOutputs, S] as const;
      ws.loss.set(gpu.run('outputLayer', S, ...args, 0));
      const reduced = gpu.run('outputLayer', net.nOutputs * S, ...args, 1);
      net.outputUnits.forEach((k, j) => ws.backReduced.set(reduced.subarray(j * S, (j + 1) * S), k * S));
    },

    backwardLevel(net, params, ws, start, _end, modulus) {
      const S = ws.size;
      const lv = gpuLevelAt(gpuNetwork(net), start);
      if (lv.level.hidden.length === 0) return;
      const n = lv.level.count * S;
      const w = paramsF32(params);
      const r = Float32Array.from(ws.deriv.subarray(start * S, start * S + n));
      const sum = (values: Float64Array, power: number) =>
        gpu.run('levelSum', n, rowsF32(values, net.nUnits, S, 1), w, lv.outTarget, lv.outParam, lv.noBias, lv.ones, lv.level.fanOut, S, power);
      const b = sum(ws.backReduced, 1);
      writeRows(ws.back, start, lv.level.hidden, S, b);
      writeRows(ws.backReduced, start, lv.level.hidden, S, gpu.run('scaled', n, b, r, 1));
      if (modulus) writeRows(modulus, start, lv.level.hidden, S, gpu.run('scaled', n, sum(modulus, 2), r, 2));
    },

    gradient(net, ws, out, entries) {
      const S = ws.size;
      const g = gpuNetwork(net);
      const x = rowsF32(ws.act, net.nUnits, S, 1, 1);
      const moment = (y: Float32Array, power: number) => gpu.run('moment', net.nParams, x, y, g.paramSource, g.paramUnit, S, power);
      out.set(moment(rowsF32(ws.backReduced, net.nUnits, S), 1));
      if (entries) {
        const psi = rowsF32(entries.modulus, net.nUnits, S);
        entries.diagonal.set(moment(psi, 2));
        entries.cross?.set(moment(psi, 1));
      }
    },
  };
}
