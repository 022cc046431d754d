import { activationSlope, activationValue } from './device-helpers.js';
/**
 * Fused gpu.js kernels for headlessgl mode: each is the main function of a gpu.js kernel map
 * (`createKernelMap`), whose extra outputs are the values passed to the identity functions
 * `mapFirst` and `mapSecond` (one GL draw with several render targets). Same subset of
 * JavaScript and same whole-buffer, copy-through layout as `device-sources.ts`.
 * The network's constants come in one table `net` (`PackedNetwork`): inOffsets at 0,
 * blockOffsets at U + 1, outOffsets at 2(U + 1), then per unit kind, gain, scale, shift,
 * gainScale, outputIndex at 3(U + 1) + f·U (f = 0..5), U = nUnits; the other arrays at the
 * offsets passed as arguments.
 * NOTE: on llvmpipe a launch costs ~0.2–0.6 ms whatever its threads, so one launch that writes
 * three arrays beats three launches that each re-read the same inputs; in webasm mode launches
 * are cheap and the engine keeps the separate kernels. Measured on llvmpipe, a fused forward
 * level whose threads all copy through still costs ~1 ms (as if masked-off branches ran their
 * fetches), so fewer launches, not early returns, are what save time there.
 * The propagation kernels (level, output layer, batch) compute entry x = base + y·width + x of
 * their thread: base 0 and a 1-D output for a draw over the whole array, or a row launch's
 * window (`device-rows.ts`), whose outputs the runtime copies into the arrays' rows in place.
 */
import type { A, KernelThis } from './device-sources.js';

/** The first extra output of a fused kernel: its argument. */
export function mapFirst(value: number): number {
  return value;
}

/** The second extra output of a fused kernel: its argument. */
export function mapSecond(value: number): number {
  return value;
}

/**
 * One forward level in one launch (Eq. 2, 6; Def. 29): returns z = pre of the units
 * start ≤ k < end (as `forwardSum`), with a = scale·s(z) + shift as `mapFirst` and
 * r = scale·gain·s'(z) as `mapSecond` (as `forwardActivation`); other rows keep pre, act, deriv.
 * All outputs [nUnits × S].
 */
export function forwardLevelFused(
  this: KernelThis,
  pre: A,
  act: A,
  deriv: A,
  weights: A,
  net: A,
  inSources0: number,
  U: number,
  start: number,
  end: number,
  S: number,
  base: number,
  width: number,
): number {
  const x = base + this.thread.y * width + this.thread.x;
  const k0 = Math.floor(x / S);
  const k = k0 + (x - k0 * S >= S ? 1 : 0) - (x - k0 * S < 0 ? 1 : 0);
  let z = pre[x];
  let a = act[x];
  let r = deriv[x];
  if (k >= start && k < end) {
    const s = x - k * S;
    const u0 = 3 * (U + 1);
    const p0 = net[U + 1 + k];
    const e0 = net[k];
    const e1 = net[k + 1];
    let sum = weights[p0];
    for (let e = e0; e < e1; e++) {
      const source = net[inSources0 + e];
      const w = weights[p0 + 1 + e - e0];
      const v = act[source * S + s];
      sum += w * v;
    }
    z = net[u0 + U + k] * sum;
    const code = net[u0 + k];
    const value = activationValue(code, z);
    const slope = activationSlope(code, z);
    a = net[u0 + 2 * U + k] * value + net[u0 + 3 * U + k];
    r = net[u0 + 4 * U + k] * slope;
  }
  mapFirst(a);
  mapSecond(r);
  return z;
}

/**
 * One backward level in one launch, hidden units start ≤ k < end (outputIndex[k] < 0), thread
 * x = k·S + s, with t = Σ_e w[outParams_e]·b̃[outTargets_e·S + s]: returns b̃ = r_k·t (Eq. 10),
 * with b = t as `mapFirst` (Eq. 5) and, when withModulus = 1, m̃ = r_k²·Σ_e w²·m̃[target·S + s]
 * as `mapSecond` (Eq. 26). Other rows keep backReduced, back, modulus. All outputs [nUnits × S].
 */
export function backwardLevelFused(
  this: KernelThis,
  backReduced: A,
  back: A,
  modulus: A,
  weights: A,
  net: A,
  outTargets0: number,
  outParams0: number,
  U: number,
  deriv: A,
  start: number,
  end: number,
  S: number,
  withModulus: number,
  base: number,
  width: number,
): number {
  const x = base + this.thread.y * width + this.thread.x;
  const k0 = Math.floor(x / S);
  const k = k0 + (x - k0 * S >= S ? 1 : 0) - (x - k0 * S < 0 ? 1 : 0);
  let reduced = backReduced[x];
  let b = back[x];
  let m = modulus[x];
  if (k >= start && k < end) {
    if (net[3 * (U + 1) + 5 * U + k] < -0.5) {
      const s = x - k * S;
      const e0 = net[2 * (U + 1) + k];
      const e1 = net[2 * (U + 1) + k + 1];
      let sum = 0;
      let sum2 = 0;
      for (let e = e0; e < e1; e++) {
        const target = net[outTargets0 + e];
        const param = net[outParams0 + e];
        const w = weights[param];
        const v = backReduced[target * S + s];
        sum += w * v;
        if (withModulus > 0.5) {
          const mv = modulus[target * S + s];
          sum2 += w * w * mv;
        }
      }
      const r = deriv[x];
      b = sum;
      reduced = r * sum;
      if (withModulus > 0.5) {
        m = r * r * sum2;
      }
    }
  }
  mapFirst(b);
  mapSecond(m);
  return reduced;
}

/**
 * The gradient and the quasi-diagonal entries in one launch, thread x = p of unit k =
 * paramUnit[p], x_p = 1 at a bias and a of the weight's source otherwise: returns
 * (1/S) Σ_s x_p·b̃ (Eq. 8, 11), with (1/S) Σ_s x_p²·ψ̃ as `mapFirst` and (1/S) Σ_s x_p·ψ̃ as
 * `mapSecond` (Eq. 22). All outputs [nParams].
 */
export function momentsFused(this: KernelThis, act: A, backReduced: A, modulus: A, net: A, paramUnit0: number, inSources0: number, U: number, S: number): number {
  const p = this.thread.x;
  const k = net[paramUnit0 + p];
  const p0 = net[U + 1 + k];
  const i = p - p0;
  let source = -1;
  if (i > 0.5) {
    const e0 = net[k];
    source = net[inSources0 + e0 + i - 1];
  }
  let gradient = 0;
  let diagonal = 0;
  let cross = 0;
  for (let s = 0; s < S; s++) {
    let v = 1;
    if (source > -0.5) {
      v = act[source * S + s];
    }
    const y = backReduced[k * S + s];
    const m = modulus[k * S + s];
    gradient += v * y;
    diagonal += v * v * m;
    cross += v * m;
  }
  mapFirst(diagonal / S);
  mapSecond(cross / S);
  return gradient / S;
}

/**
 * The output layer in one launch, thread x over [nUnits × S]: returns b̃ of the output units as
 * `outputBack` (other rows keep backReduced), with the loss ℓ of sample x as `mapFirst` for
 * x < S, as `outputLoss` (Eq. 3; 0 beyond). The engine keeps the loss rows [S] of that output.
 */
export function outputLayerFused(
  this: KernelThis,
  backReduced: A,
  act: A,
  pre: A,
  deriv: A,
  targets: A,
  net: A,
  outputUnits0: number,
  U: number,
  interpretation: number,
  nOut: number,
  S: number,
  base: number,
  width: number,
): number {
  const x = base + this.thread.y * width + this.thread.x;
  let loss = 0;
  if (x < S) {
    let top1 = -1e30;
    let norm1 = 0;
    for (let q1 = 0; q1 < nOut; q1++) {
      const k1 = net[outputUnits0 + q1];
      const a1 = act[k1 * S + x];
      top1 = Math.max(top1, a1);
      norm1 += a1 * a1;
    }
    let total1 = 0;
    for (let q2 = 0; q2 < nOut; q2++) {
      const k2 = net[outputUnits0 + q2];
      const a2 = act[k2 * S + x];
      total1 += Math.exp(a2 - top1);
    }
    const logNormaliser = top1 + Math.log(total1);
    for (let q = 0; q < nOut; q++) {
      const kq = net[outputUnits0 + q];
      const aq = act[kq * S + x];
      const yq = targets[q * S + x];
      if (interpretation < 0.5) {
        loss += 0.5 * (yq - aq) * (yq - aq) + 0.9189385332046727;
      } else if (interpretation < 1.5) {
        const z = pre[kq * S + x] * (1 + net[outputUnits0 + nOut + q]);
        const tail = Math.log(1 + Math.exp(-Math.abs(z)));
        loss += yq * (Math.max(-z, 0) + tail) + (1 - yq) * (Math.max(z, 0) + tail);
      } else if (interpretation < 2.5) {
        if (Math.abs(yq) > 0) {
          loss -= yq * (aq - logNormaliser);
        }
      } else if (Math.abs(yq) > 0) {
        loss -= yq * (Math.log(aq * aq) - Math.log(norm1));
      }
    }
  }
  mapFirst(loss);
  mapSecond(0);
  const k0 = Math.floor(x / S);
  const k = k0 + (x - k0 * S >= S ? 1 : 0) - (x - k0 * S < 0 ? 1 : 0);
  const j = net[3 * (U + 1) + 5 * U + k];
  let back = backReduced[x];
  if (j > -0.5) {
    const s = x - k * S;
    const a = act[x];
    const r = deriv[x];
    const y = targets[j * S + s];
    if (interpretation < 0.5) {
      back = r * (y - a);
    } else if (interpretation < 1.5) {
      back = y - a - net[outputUnits0 + nOut + j] * (1 - y);
    } else {
      let top = -1e30;
      let norm2 = 0;
      for (let q3 = 0; q3 < nOut; q3++) {
        const k3 = net[outputUnits0 + q3];
        const a3 = act[k3 * S + s];
        top = Math.max(top, a3);
        norm2 += a3 * a3;
      }
      if (interpretation < 2.5) {
        let total = 0;
        for (let q4 = 0; q4 < nOut; q4++) {
          const k4 = net[outputUnits0 + q4];
          const a4 = act[k4 * S + s];
          total += Math.exp(a4 - top);
        }
        back = r * (y - Math.exp(a - top - Math.log(total)));
      } else {
        let direct = 0;
        if (Math.abs(y) > 0) {
          direct = (2 * y) / a;
        }
        back = r * (direct - (2 * a) / norm2);
      }
    }
  }
  return back;
}

/**
 * A batch in one launch, thread x over [nUnits × S]: returns act with inputs[x] on x < count
 * (the input rows), with targets[x] on x < nTargets as `mapFirst` (0 beyond; the engine keeps
 * the target rows [nOutputs × S] of that output).
 */
export function batchFused(this: KernelThis, act: A, inputs: A, targets: A, count: number, nTargets: number, base: number, width: number): number {
  const x = base + this.thread.y * width + this.thread.x;
  let y = 0;
  if (x < nTargets) {
    y = targets[x];
  }
  mapFirst(y);
  mapSecond(0);
  if (x < count) {
    return inputs[x];
  }
  return act[x];
}
