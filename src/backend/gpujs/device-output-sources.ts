import type { A, KernelThis } from './device-sources.js';

/**
 * Device-resident gpu.js kernels of the output layer and the output metric (same conventions as
 * `device-sources.ts`). Interpretation codes: 0 square, 1 Bernoulli, 2 softmax, 3 spherical.
 * `outputUnits` [nOut] maps output j to its unit; `outputIndex` [nUnits] maps back (-1 elsewhere);
 * `isTanh` [nOut] marks tanh outputs; targets are [nOut × S].
 */

/**
 * Loss ℓ = -ln ω(y) per sample (Eq. 3), thread x = s. Bernoulli: y softplus(-z) + (1-y) softplus(z)
 * with z = V (2V for tanh outputs), softplus(x) = max(x, 0) + log(1 + e^-|x|) (no overflow).
 */
export function outputLoss(this: KernelThis, act: A, pre: A, targets: A, outputUnits: A, isTanh: A, interpretation: number, nOut: number, S: number): number {
  const s = this.thread.x;
  let top = -1e30;
  let norm2 = 0;
  for (let q1 = 0; q1 < nOut; q1++) {
    const k1 = outputUnits[q1];
    const a1 = act[k1 * S + s];
    top = Math.max(top, a1);
    norm2 += a1 * a1;
  }
  let total = 0;
  for (let q2 = 0; q2 < nOut; q2++) {
    const k2 = outputUnits[q2];
    const a2 = act[k2 * S + s];
    total += Math.exp(a2 - top);
  }
  const logNormaliser = top + Math.log(total);
  let loss = 0;
  for (let q = 0; q < nOut; q++) {
    const k = outputUnits[q];
    const a = act[k * S + s];
    const y = targets[q * S + s];
    if (interpretation < 0.5) {
      loss += 0.5 * (y - a) * (y - a) + 0.9189385332046727;
    } else if (interpretation < 1.5) {
      const z = pre[k * S + s] * (1 + isTanh[q]);
      const tail = Math.log(1 + Math.exp(-Math.abs(z)));
      loss += y * (Math.max(-z, 0) + tail) + (1 - y) * (Math.max(z, 0) + tail);
    } else if (interpretation < 2.5) {
      if (Math.abs(y) > 0) {
        loss -= y * (a - logNormaliser);
      }
    } else if (Math.abs(y) > 0) {
      loss -= y * (Math.log(a * a) - Math.log(norm2));
    }
  }
  return loss;
}

/**
 * b̃ of the output units (Eq. 7, 9), thread x = k·S + s over every unit (other rows: old):
 * square r(y - a); Bernoulli y - a (2y - 1 - a for tanh); softmax r(y - p); spherical
 * r(2y/a - 2a/Σa²), the y/a term 0 where y = 0.
 */
export function outputBack(this: KernelThis, old: A, act: A, deriv: A, targets: A, outputIndex: A, outputUnits: A, isTanh: A, interpretation: number, nOut: number, S: number): number {
  const x = this.thread.x;
  const k0 = Math.floor(x / S);
  const k = k0 + (x - k0 * S >= S ? 1 : 0) - (x - k0 * S < 0 ? 1 : 0);
  const j = outputIndex[k];
  if (j < -0.5) {
    return old[x];
  }
  const s = x - k * S;
  const a = act[x];
  const r = deriv[x];
  const y = targets[j * S + s];
  if (interpretation < 0.5) {
    return r * (y - a);
  }
  if (interpretation < 1.5) {
    return y - a - isTanh[j] * (1 - y);
  }
  let top = -1e30;
  let norm2 = 0;
  for (let q1 = 0; q1 < nOut; q1++) {
    const k1 = outputUnits[q1];
    const a1 = act[k1 * S + s];
    top = Math.max(top, a1);
    norm2 += a1 * a1;
  }
  if (interpretation < 2.5) {
    let total = 0;
    for (let q2 = 0; q2 < nOut; q2++) {
      const k2 = outputUnits[q2];
      const a2 = act[k2 * S + s];
      total += Math.exp(a2 - top);
    }
    return r * (y - Math.exp(a - top - Math.log(total)));
  }
  let direct = 0;
  if (Math.abs(y) > 0) {
    direct = (2 * y) / a;
  }
  return r * (direct - (2 * a) / norm2);
}

/**
 * The output metric (`OutputMetric`), thread x = j·S + s: which 0 seeds σ (√r Bernoulli, r
 * otherwise), 1 β (p softmax, 4/Σa² spherical, 1 otherwise), 2 γ (p softmax, a spherical);
 * which 3, thread x = s: β_x (-1 softmax, -4/(Σa²)² spherical).
 */
export function outputMetricValues(this: KernelThis, act: A, deriv: A, outputUnits: A, interpretation: number, nOut: number, S: number, which: number): number {
  let j = 0;
  let s = this.thread.x;
  if (which < 2.5) {
    const j0 = Math.floor(this.thread.x / S);
    j = j0 + (this.thread.x - j0 * S >= S ? 1 : 0) - (this.thread.x - j0 * S < 0 ? 1 : 0);
    s = this.thread.x - j * S;
  }
  const k = outputUnits[j];
  const r = deriv[k * S + s];
  if (which < 0.5) {
    if (interpretation > 0.5 && interpretation < 1.5) {
      return Math.sqrt(r);
    }
    return r;
  }
  if (interpretation < 1.5) {
    return 1;
  }
  const a = act[k * S + s];
  let top = -1e30;
  let norm2 = 0;
  for (let q1 = 0; q1 < nOut; q1++) {
    const k1 = outputUnits[q1];
    const a1 = act[k1 * S + s];
    top = Math.max(top, a1);
    norm2 += a1 * a1;
  }
  if (which > 2.5) {
    if (interpretation < 2.5) {
      return -1;
    }
    return -4 / (norm2 * norm2);
  }
  if (interpretation > 2.5) {
    if (which < 1.5) {
      return 4 / norm2;
    }
    return a;
  }
  let total = 0;
  for (let q2 = 0; q2 < nOut; q2++) {
    const k2 = outputUnits[q2];
    const a2 = act[k2 * S + s];
    total += Math.exp(a2 - top);
  }
  return Math.exp(a - top) / total;
}

/**
 * Output rows of the reduced backpropagated modulus m̃_o = β σ² + β_x (γ σ)² (Eq. 27), thread
 * x = k·S + s (other rows: old): square r², Bernoulli r, softmax r² p(1-p), spherical
 * r² (4/N)(1 - a²/N) with N = Σa².
 */
export function outputModulus(this: KernelThis, old: A, act: A, deriv: A, outputIndex: A, outputUnits: A, interpretation: number, nOut: number, S: number): number {
  const x = this.thread.x;
  const k0 = Math.floor(x / S);
  const k = k0 + (x - k0 * S >= S ? 1 : 0) - (x - k0 * S < 0 ? 1 : 0);
  const j = outputIndex[k];
  if (j < -0.5) {
    return old[x];
  }
  const s = x - k * S;
  const r = deriv[x];
  if (interpretation < 0.5) {
    return r * r;
  }
  if (interpretation < 1.5) {
    return r;
  }
  const a = act[x];
  let top = -1e30;
  let norm2 = 0;
  for (let q1 = 0; q1 < nOut; q1++) {
    const k1 = outputUnits[q1];
    const a1 = act[k1 * S + s];
    top = Math.max(top, a1);
    norm2 += a1 * a1;
  }
  if (interpretation > 2.5) {
    return r * r * (4 / norm2 - (4 * a * a) / (norm2 * norm2));
  }
  let total = 0;
  for (let q2 = 0; q2 < nOut; q2++) {
    const k2 = outputUnits[q2];
    const a2 = act[k2 * S + s];
    total += Math.exp(a2 - top);
  }
  const p = Math.exp(a - top) / total;
  return r * r * (p - p * p);
}

/**
 * Outputs y ~ ω(x) from draw d of the host's numbers (`outputDraws`: draws[base + j·S + s], base =
 * d·nOut·S), thread x = j·S + s: square a + n; Bernoulli u < p (p = a, or (1+a)/2 for tanh);
 * softmax and spherical one-hot of the class found by walking the probabilities with u = draws[base + s].
 */
export function drawTargets(this: KernelThis, act: A, draws: A, outputUnits: A, isTanh: A, interpretation: number, nOut: number, S: number, base: number): number {
  const j0 = Math.floor(this.thread.x / S);
  const j = j0 + (this.thread.x - j0 * S >= S ? 1 : 0) - (this.thread.x - j0 * S < 0 ? 1 : 0);
  const s = this.thread.x - j * S;
  const k = outputUnits[j];
  const a = act[k * S + s];
  if (interpretation < 0.5) {
    return a + draws[base + this.thread.x];
  }
  if (interpretation < 1.5) {
    let p = a;
    if (isTanh[j] > 0.5) {
      p = 0.5 * (1 + a);
    }
    if (draws[base + this.thread.x] < p) {
      return 1;
    }
    return 0;
  }
  let top = -1e30;
  let total = 0;
  for (let q1 = 0; q1 < nOut; q1++) {
    const k1 = outputUnits[q1];
    top = Math.max(top, act[k1 * S + s]);
  }
  for (let q2 = 0; q2 < nOut; q2++) {
    const k2 = outputUnits[q2];
    const a2 = act[k2 * S + s];
    if (interpretation < 2.5) {
      total += Math.exp(a2 - top);
    } else {
      total += a2 * a2;
    }
  }
  let u = draws[base + s];
  let chosen = nOut - 1;
  let found = 0;
  for (let q = 0; q < nOut - 1; q++) {
    const kq = outputUnits[q];
    const aq = act[kq * S + s];
    let pq = (aq * aq) / total;
    if (interpretation < 2.5) {
      pq = Math.exp(aq - top) / total;
    }
    if (found < 0.5) {
      if (u >= pq) {
        u -= pq;
      } else {
        chosen = q;
        found = 1;
      }
    }
  }
  if (Math.abs(chosen - j) < 0.5) {
    return 1;
  }
  return 0;
}
