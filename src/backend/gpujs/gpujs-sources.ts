/**
 * The gpu.js kernel functions. gpu.js compiles each function's source text to a GLSL fragment
 * shader (headlessgl) or to WebAssembly (webasm), so these bodies keep to its subset of
 * JavaScript: numbers and flat arrays, `Math`, loops with an argument as bound, no closures.
 * Every kernel has a 1-D output; thread x runs over a flattened index documented per kernel.
 * Index arrays arrive as float32 (exact below 2^24, which the backend checks).
 */

/** What gpu.js puts in `this` inside a kernel. */
export interface KernelThis {
  thread: { x: number };
}
/** A kernel's array argument (a flat Float32Array at run time). */
export type A = number[];

/**
 * One level's weighted sums. Thread x = i·S + s (unit i of the level, sample s):
 * gain_i · (w[bias_i] + Σ_f w[param_if]^power · values[source_if·S + s]).
 * Forward (Eq. 2): values = a, power 1. Backward (Eq. 5): values = b̃ of the targets.
 * Backpropagated modulus (Eq. 26): values = m̃ of the targets, power 2.
 */
export function levelSum(this: KernelThis, values: A, weights: A, sources: A, params: A, bias: A, gain: A, fan: number, S: number, power: number): number {
  const i = Math.floor(this.thread.x / S);
  const s = this.thread.x - i * S;
  const first = i * fan;
  // NOTE: indices are read into locals first: gpu.js's GL translation names hoisted nested
  // lookups per kernel, and two nested lookups in one kernel collide.
  const biasIndex = bias[i];
  let sum = weights[biasIndex];
  for (let f = 0; f < fan; f++) {
    const param = params[first + f];
    const source = sources[first + f];
    const w = weights[param];
    const v = values[source * S + s];
    if (power > 1.5) {
      sum += w * w * v;
    } else {
      sum += w * v;
    }
  }
  return gain[i] * sum;
}

/**
 * Activities and derivatives (Eq. 2, 6) from z = gain·V. Thread x = i·S + s.
 * which = 0: a = scale·s(z) + shift; which = 1: r = scale·gain·s'(z). kind: 1 sigmoid, 2 tanh, 3 linear.
 */
export function activation(this: KernelThis, z: A, kind: A, scale: A, shift: A, gainScale: A, S: number, which: number): number {
  const i = Math.floor(this.thread.x / S);
  const x = z[this.thread.x];
  let value = x;
  let slope = 1;
  if (kind[i] < 2.5) {
    // tanh(x) = 2 sigm(2x) - 1; the exponent is clamped where float32 sigm is already 0 or 1.
    const t = kind[i] > 1.5 ? 2 * x : x;
    const sig = 1 / (1 + Math.exp(-Math.min(Math.max(t, -80), 80)));
    value = sig;
    slope = sig * (1 - sig);
    if (kind[i] > 1.5) {
      value = 2 * sig - 1;
      slope = 1 - value * value;
    }
  }
  if (which > 0.5) {
    return gainScale[i] * slope;
  }
  return scale[i] * value + shift[i];
}

/** Elementwise x · r^power (b̃ = r b, m̃ = r² m). */
export function scaled(this: KernelThis, x: A, r: A, power: number): number {
  const v = r[this.thread.x];
  if (power > 1.5) {
    return x[this.thread.x] * v * v;
  }
  return x[this.thread.x] * v;
}

/**
 * The output layer (Eq. 3, 7, 9) for the four interpretations (interpretation 0 square, 1 Bernoulli,
 * 2 softmax, 3 spherical). Arrays a, z (= pre), r, y are [nOut × S]; isTanh [nOut].
 * which = 0: thread x = s, the loss ℓ in nats; which = 1: thread x = j·S + s, b̃ of output j.
 */
export function outputLayer(this: KernelThis, a: A, z: A, r: A, y: A, isTanh: A, interpretation: number, nOut: number, S: number, which: number): number {
  let j = 0;
  let s = this.thread.x;
  if (which > 0.5) {
    j = Math.floor(this.thread.x / S);
    s = this.thread.x - j * S;
  }
  let top = -1e30;
  let norm2 = 0;
  for (let q1 = 0; q1 < nOut; q1++) {
    const aq = a[q1 * S + s];
    top = Math.max(top, aq);
    norm2 += aq * aq;
  }
  let total = 0;
  for (let q2 = 0; q2 < nOut; q2++) {
    total += Math.exp(a[q2 * S + s] - top);
  }
  const logNormaliser = top + Math.log(total);
  if (which > 0.5) {
    const t = j * S + s;
    if (interpretation < 0.5) {
      return r[t] * (y[t] - a[t]);
    }
    if (interpretation < 1.5) {
      return y[t] - a[t] - isTanh[j] * (1 - y[t]);
    }
    if (interpretation < 2.5) {
      return r[t] * (y[t] - Math.exp(a[t] - logNormaliser));
    }
    let direct = 0;
    if (y[t] > 0) {
      direct = (2 * y[t]) / a[t];
    }
    return r[t] * (direct - (2 * a[t]) / norm2);
  }
  let loss = 0;
  for (let q = 0; q < nOut; q++) {
    const t = q * S + s;
    if (interpretation < 0.5) {
      loss += 0.5 * (y[t] - a[t]) * (y[t] - a[t]) + 0.9189385332046727;
    } else if (interpretation < 1.5) {
      const zq = z[t] * (1 + isTanh[q]);
      // y softplus(-z) + (1 - y) softplus(z), with softplus(x) = max(x, 0) + log(1 + e^-|x|) (no overflow).
      const tail = Math.log(1 + Math.exp(-Math.abs(zq)));
      loss += y[t] * (Math.max(-zq, 0) + tail) + (1 - y[t]) * (Math.max(zq, 0) + tail);
    } else if (interpretation < 2.5) {
      loss -= y[t] * (a[t] - logNormaliser);
    } else if (y[t] > 0) {
      loss -= y[t] * (Math.log(a[t] * a[t]) - Math.log(norm2));
    }
  }
  return loss;
}

/**
 * Per-parameter sample means. Thread x = p: (1/S) Σ_s x[source_p·S + s]^power · y[unit_p·S + s].
 * x = a with a row of ones (bias sources). Gradient (Eq. 8, 11): y = b̃, power 1; quasi-diagonal
 * entries (Eq. 22): y = ψ̃, power 2 (A_ii) and power 1 (A_0i).
 */
export function moment(this: KernelThis, x: A, y: A, source: A, unit: A, S: number, power: number): number {
  const from = source[this.thread.x] * S;
  const to = unit[this.thread.x] * S;
  let sum = 0;
  for (let s = 0; s < S; s++) {
    const v = x[from + s];
    if (power > 1.5) {
      sum += v * v * y[to + s];
    } else {
      sum += v * y[to + s];
    }
  }
  return sum / S;
}

/**
 * One level of the transfer-rate backpropagations of C outputs j0 .. j0+C-1 at once (Def. 2,
 * Eq. 13). rates: [(nUnits + 1) × C × S] (last unit: the zero padding row). Thread x =
 * (i·C + c)·S + s: J_k = Σ_f w_f J̃[target_f], and J̃_k = r_k J_k (reduced = 1) or J_k (reduced = 0);
 * at output j0 + c itself, the seed (reduced) or 1. deriv: the level's rows [count × S];
 * column: per level unit, its output index or -1; seeds: [nOut × S].
 */
export function transferLevel(this: KernelThis, rates: A, weights: A, targets: A, params: A, fan: number, deriv: A, column: A, seeds: A, C: number, S: number, j0: number, reduced: number): number {
  const i = Math.floor(this.thread.x / (C * S));
  const rest = this.thread.x - i * C * S;
  const c = Math.floor(rest / S);
  const s = rest - c * S;
  if (Math.abs(column[i] - (j0 + c)) < 0.5) {
    if (reduced > 0.5) {
      return seeds[(j0 + c) * S + s];
    }
    return 1;
  }
  let sum = 0;
  for (let f = 0; f < fan; f++) {
    sum += weights[params[i * fan + f]] * rates[(targets[i * fan + f] * C + c) * S + s];
  }
  if (reduced > 0.5) {
    return deriv[i * S + s] * sum;
  }
  return sum;
}

/**
 * Fisher modulus terms (Eq. 14-17) of C outputs. Thread x = k·S + s over every unit:
 * Σ_c coef[(j0 + c)·S + s] · rates[(k·C + c)·S + s]^power (power 2: β_o J̃²; power 1: γ_o J̃).
 */
export function rateMoment(this: KernelThis, rates: A, coef: A, C: number, S: number, j0: number, power: number): number {
  const k = Math.floor(this.thread.x / S);
  const s = this.thread.x - k * S;
  let sum = 0;
  for (let c = 0; c < C; c++) {
    let v = rates[(k * C + c) * S + s];
    if (power > 1.5) {
      v = v * v;
    }
    sum += coef[(j0 + c) * S + s] * v;
  }
  return sum;
}

/**
 * Per-unit metric blocks A_ij = E_x ā_i ā_j ψ̃_k (Eq. 18, 28) of units with blocks of one size n.
 * Thread x = (g·n + i)·n + j; rows: [units × n] rows of x (a with a row of ones); units: [units].
 */
export function blockProduct(this: KernelThis, x: A, psi: A, rows: A, units: A, n: number, S: number): number {
  const g = Math.floor(this.thread.x / (n * n));
  const rest = this.thread.x - g * n * n;
  const i = Math.floor(rest / n);
  const j = rest - i * n;
  const ri = rows[g * n + i] * S;
  const rj = rows[g * n + j] * S;
  const rk = units[g] * S;
  let sum = 0;
  for (let s = 0; s < S; s++) {
    sum += x[ri + s] * x[rj + s] * psi[rk + s];
  }
  return sum / S;
}
