import type { Interpretation } from '../network/types.js';
import { ActivationCode, type CompiledNetwork } from './compiled-network.js';
import type { Workspace } from './workspace.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Loss ℓ = -ln ω(y) (Eq. 3) per sample into `ws.loss`, and the reduced backpropagated values
 * b̃_k = r_k b_k of the output units (Eq. 7, 9) into `ws.backReduced`, for the network's
 * interpretation (Example 1). `targets` is unit-major [nOutputs × size].
 *
 * Everything is computed in the reduced variables, so no 0/0 appears when outputs saturate:
 * - square: ℓ = ½Σ(y-a)² + (n_out/2)·ln 2π (the Gaussian's normalising constant is kept so
 *   that ℓ really is -ln ω(y)); b̃ = r(y - a).
 * - bernoulli, sigmoid output: p = a = sigm(V), ℓ = y·softplus(-V) + (1-y)·softplus(V) written
 *   with one log of the more probable side (NOTE: one log instead of exp + log1p per output:
 *   the output layer was a third of a backprop iteration); b̃ = y - a (r·(y-a)/(a(1-a))
 *   simplified). tanh output: p = (1+a)/2 = sigm(2V) (Section 3.2), ℓ likewise with z = 2V, and
 *   b̃ = (1-a²)·(y-p)/(2p(1-p)) = 2(y - p) = 2y - 1 - a.
 * - softmax: log-sum-exp with the maximum subtracted; b̃ = r(y - softmax(a)).
 * - spherical: p_k = a_k²/Σa²; ℓ = -Σ y_k ln p_k; b̃ = r(2y/a - 2a/Σa²), the y/a term taken as 0 where y = 0.
 * Terms with a zero target weight are skipped, so 0·∞ never arises.
 */
export function outputLayer(net: CompiledNetwork, ws: Workspace, targets: Float64Array): void {
  LAYERS[net.interpretation](net, ws, targets);
}

type OutputLayer = (net: CompiledNetwork, ws: Workspace, targets: Float64Array) => void;

const LAYERS: Record<Interpretation, OutputLayer> = {
  square(net, ws, targets) {
    const S = ws.size;
    ws.loss.fill(net.nOutputs * HALF_LOG_2PI);
    for (let j = 0; j < net.nOutputs; j++) {
      const row = net.outputUnits[j] * S;
      for (let s = 0; s < S; s++) {
        const diff = targets[j * S + s] - ws.act[row + s];
        ws.loss[s] += 0.5 * diff * diff;
        ws.backReduced[row + s] = ws.deriv[row + s] * diff;
      }
    }
  },

  bernoulli(net, ws, targets) {
    const S = ws.size;
    const { pre, act, backReduced, loss } = ws;
    loss.fill(0);
    for (let j = 0; j < net.nOutputs; j++) {
      const k = net.outputUnits[j];
      const row = k * S;
      const tanh = net.activation[k] === ActivationCode.Tanh;
      for (let s = 0; s < S; s++) {
        const y = targets[j * S + s];
        const a = act[row + s];
        // p = sigm(z): z = V (sigmoid) or 2V (tanh, p = (1+a)/2). With the more probable side's
        // log, which is accurate: ℓ = -ln p + (1-y)z for z ≥ 0, ℓ = -ln(1-p) - yz for z < 0.
        const z = tanh ? 2 * pre[row + s] : pre[row + s];
        if (z >= 0) loss[s] += (1 - y) * z - Math.log(tanh ? 0.5 * (1 + a) : a);
        else loss[s] -= y * z + Math.log(tanh ? 0.5 * (1 - a) : 1 - a);
        backReduced[row + s] = tanh ? 2 * y - 1 - a : y - a;
      }
    }
  },

  softmax(net, ws, targets) {
    const S = ws.size;
    const { act, deriv, backReduced, loss } = ws;
    for (let s = 0; s < S; s++) {
      let max = -Infinity;
      for (let j = 0; j < net.nOutputs; j++) max = Math.max(max, act[net.outputUnits[j] * S + s]);
      let sum = 0;
      for (let j = 0; j < net.nOutputs; j++) sum += Math.exp(act[net.outputUnits[j] * S + s] - max);
      const logSumExp = max + Math.log(sum);
      let l = 0;
      for (let j = 0; j < net.nOutputs; j++) {
        const i = net.outputUnits[j] * S + s;
        const y = targets[j * S + s];
        const logP = act[i] - logSumExp;
        if (y !== 0) l -= y * logP;
        backReduced[i] = deriv[i] * (y - Math.exp(logP));
      }
      loss[s] = l;
    }
  },

  spherical(net, ws, targets) {
    const S = ws.size;
    const { act, deriv, backReduced, loss } = ws;
    for (let s = 0; s < S; s++) {
      let norm2 = 0;
      for (let j = 0; j < net.nOutputs; j++) {
        const a = act[net.outputUnits[j] * S + s];
        norm2 += a * a;
      }
      const logNorm2 = Math.log(norm2);
      let l = 0;
      for (let j = 0; j < net.nOutputs; j++) {
        const i = net.outputUnits[j] * S + s;
        const y = targets[j * S + s];
        const a = act[i];
        let b = (-2 * a) / norm2;
        if (y !== 0) {
          l -= y * (Math.log(a * a) - logNorm2);
          b += (2 * y) / a;
        }
        backReduced[i] = deriv[i] * b;
      }
      loss[s] = l;
    }
  },
};
