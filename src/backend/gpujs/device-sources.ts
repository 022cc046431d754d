import { activationSlope, activationValue } from './device-helpers.js';
/**
 * Device-resident gpu.js kernels: elementwise helpers, reductions and propagation. gpu.js
 * compiles each function's source to a GLSL fragment shader (headlessgl) or to WebAssembly
 * (webasm), so bodies keep to its JavaScript subset: numbers and flat arrays, `Math`, loops with
 * an argument as bound, no closures, no nested array lookups (indices are read into locals
 * first: gpu.js's GL translation names hoisted nested lookups per kernel, and two collide).
 *
 * Every kernel has a 1-D output covering a WHOLE buffer: a kernel that updates some rows (one
 * level of units, the output units, ...) copies every other entry from its `old` argument.
 * Per-unit arrays are unit-major [nUnits × S] (unit k, sample s at k·S + s) as in `EngineWorkspace`;
 * CSR arrays (`inOffsets`, `inSources`, `outOffsets`, ...) are the `CompiledNetwork`'s, as float32.
 * Row indices are ⌊x / d⌋ in the kernels' float32 arithmetic, written in two lines:
 * `q0 = Math.floor(x / d)`, then `q = q0 + (r >= d ? 1 : 0) - (r < 0 ? 1 : 0)` with the remainder
 * r = x - q0·d, an exact integer: the correction undoes a quotient that rounded across an integer,
 * and q is exact for integers x < 2^24 (the engine checks; where the division is not correctly
 * rounded, as in GL, for x + d ≤ 2^24 or even d). Inline, not a helper: webasm runs helper calls
 * lane by lane in its SIMD kernels (a helper cost gatherBlocks ~1.5× its time).
 * NOTE: the former `Math.floor((x + 0.5) / d)` is exact only below 2^23: from there x + 0.5
 * rounds to an even integer (x + 1 for odd x), and the quotient's rounding error passes the
 * margin of 0.5 / d, so the last entry of a row read the next row. At 10⁶ edges the packed group
 * of 9 × 9 blocks (webasm; 12 × 12 padded in headlessgl) passes 2^23 entries, and the Cholesky
 * factors of the units beyond mixed with their neighbours' blocks.
 */

/** What gpu.js puts in `this` inside a kernel. */
export interface KernelThis {
  /** y: the row of a 2-D output (row launches, `device-rows.ts`); 0 for 1-D outputs. */
  thread: { x: number; y: number };
}
/** A kernel's array argument (a texture or a Float32Array at run time). */
export type A = number[];

/** Every entry `value` (a fresh zero-filled or constant buffer). */
export function fillValue(this: KernelThis, value: number): number {
  return value;
}

/** `below` at x < boundary, `above` after (e.g. derivatives: 1 on the input rows, 0 elsewhere). */
export function fillSplit(this: KernelThis, boundary: number, below: number, above: number): number {
  if (this.thread.x < boundary) {
    return below;
  }
  return above;
}

/** values[x]: a whole buffer from a host array (an upload). */
export function fromArray(this: KernelThis, values: A): number {
  return values[this.thread.x];
}

/** values[x - offset] on offset ≤ x < offset + count (an upload of a range), old[x] elsewhere. */
export function splice(this: KernelThis, old: A, values: A, offset: number, count: number): number {
  const x = this.thread.x;
  if (x >= offset && x < offset + count) {
    return values[x - offset];
  }
  return old[x];
}

/** src[offset + x]: a range of a buffer, for a read of that range only. */
export function slice(this: KernelThis, src: A, offset: number): number {
  return src[offset + this.thread.x];
}

/** values[index[x]] (e.g. the weights of the out-edges in CSR order: index = outParams). */
export function gather(this: KernelThis, values: A, index: A): number {
  const i = index[this.thread.x];
  return values[i];
}

/** α·x + β·y. */
export function combine(this: KernelThis, x: A, y: A, alpha: number, beta: number): number {
  return alpha * x[this.thread.x] + beta * y[this.thread.x];
}

/**
 * One stage of a reduction: thread t reduces x[t·chunk .. min(n, (t+1)·chunk) - 1].
 * op 0: sum; 1: minimum (1e30 when empty); 2: count of entries that are not finite; 3: count of negative entries; 4: sum of squares.
 */
export function reduceChunk(this: KernelThis, x: A, n: number, chunk: number, op: number): number {
  const first = this.thread.x * chunk;
  let acc = 0;
  if (op > 0.5 && op < 1.5) {
    acc = 1e30;
  }
  for (let i = first; i < first + chunk; i++) {
    if (i < n) {
      const v = x[i];
      if (op < 0.5) {
        acc += v;
      } else if (op < 1.5) {
        acc = Math.min(acc, v);
      } else if (op < 2.5) {
        // NaN fails every comparison and ±∞ exceeds the largest float32.
        if (Math.abs(v) <= 3.4028234e38) {
          acc += 0;
        } else {
          acc += 1;
        }
      } else if (op < 3.5) {
        if (v < 0) {
          acc += 1;
        }
      } else {
        acc += v * v;
      }
    }
  }
  return acc;
}

/**
 * Pre-activations of the units start ≤ k < end (Eq. 2; gain·V, Def. 29), thread x = k·S + s - base
 * (base 0 over the whole [nUnits × S] array, or start·S over the level's rows only: see `updateRows` in `device-propagation.ts`):
 * gain_k (w[b_k] + Σ_e w[b_k + 1 + e - in_k] a[source_e·S + s]) with b_k = blockOffsets[k], in_k = inOffsets[k].
 */
export function forwardSum(this: KernelThis, old: A, act: A, weights: A, inOffsets: A, inSources: A, blockOffsets: A, gain: A, start: number, end: number, S: number, base: number): number {
  const x = base + this.thread.x;
  const k0 = Math.floor(x / S);
  const k = k0 + (x - k0 * S >= S ? 1 : 0) - (x - k0 * S < 0 ? 1 : 0);
  if (k < start || k >= end) {
    return old[x];
  }
  const s = x - k * S;
  const p0 = blockOffsets[k];
  const e0 = inOffsets[k];
  const e1 = inOffsets[k + 1];
  let sum = weights[p0];
  for (let e = e0; e < e1; e++) {
    const source = inSources[e];
    const w = weights[p0 + 1 + e - e0];
    const a = act[source * S + s];
    sum += w * a;
  }
  return gain[k] * sum;
}

/**
 * Activities (which = 0: a = scale·s(z) + shift) or derivatives (which = 1: r = scale·gain·s'(z))
 * of the units start ≤ k < end from z = pre (Eq. 2, 6). kind: 1 sigmoid, 2 tanh, 3 linear, 4 relu, 5 softplus.
 * As the CPU reference, r comes from z without cancellation: sigmoid a·(e·a) with e = exp(-|z|),
 * tanh 4t/(1+t)² with t = exp(-2|z|).
 */
export function forwardActivation(this: KernelThis, old: A, pre: A, kind: A, scale: A, shift: A, gainScale: A, start: number, end: number, S: number, which: number, base: number): number {
  const x = base + this.thread.x;
  const k0 = Math.floor(x / S);
  const k = k0 + (x - k0 * S >= S ? 1 : 0) - (x - k0 * S < 0 ? 1 : 0);
  if (k < start || k >= end) {
    return old[x];
  }
  const z = pre[x];
  const code = kind[k];
  if (which > 0.5) {
    return gainScale[k] * activationSlope(code, z);
  }
  return scale[k] * activationValue(code, z) + shift[k];
}

/**
 * Backward sums of the hidden units start ≤ k < end (outputIndex[k] < 0), thread x = k·S + s - base:
 * factor · Σ_e w[outParams_e]^power · values[outTargets_e·S + s], factor = r_k^power when reduce = 1.
 * b (Eq. 5): values = b̃, power 1, reduce 0; b̃ (Eq. 10): reduce 1; m̃ (Eq. 26): values = m̃, power 2, reduce 1.
 */
export function backwardSum(this: KernelThis, old: A, values: A, weights: A, outOffsets: A, outTargets: A, outParams: A, outputIndex: A, deriv: A, start: number, end: number, S: number, power: number, reduce: number, base: number): number {
  const x = base + this.thread.x;
  const k0 = Math.floor(x / S);
  const k = k0 + (x - k0 * S >= S ? 1 : 0) - (x - k0 * S < 0 ? 1 : 0);
  if (k < start || k >= end) {
    return old[x];
  }
  if (outputIndex[k] > -0.5) {
    return old[x];
  }
  const s = x - k * S;
  const e0 = outOffsets[k];
  const e1 = outOffsets[k + 1];
  let sum = 0;
  for (let e = e0; e < e1; e++) {
    const target = outTargets[e];
    const param = outParams[e];
    const w = weights[param];
    const v = values[target * S + s];
    if (power > 1.5) {
      sum += w * w * v;
    } else {
      sum += w * v;
    }
  }
  if (reduce > 0.5) {
    const r = deriv[x];
    if (power > 1.5) {
      return r * r * sum;
    }
    return r * sum;
  }
  return sum;
}

/**
 * Per-parameter sample means (1/S) Σ_s x_p(s)^power · y[k·S + s], thread x = p of unit k =
 * paramUnit[p]: x_p = 1 at a bias, a of the weight's source unit otherwise. Gradient (Eq. 8, 11):
 * y = b̃, power 1; quasi-diagonal entries (Eq. 22): y = ψ̃, power 2 (A_ii, A_00) and 1 (A_0i, A_00).
 */
export function moment(this: KernelThis, act: A, y: A, paramUnit: A, blockOffsets: A, inOffsets: A, inSources: A, S: number, power: number): number {
  const p = this.thread.x;
  const k = paramUnit[p];
  const p0 = blockOffsets[k];
  const i = p - p0;
  let source = -1;
  if (i > 0.5) {
    const e0 = inOffsets[k];
    source = inSources[e0 + i - 1];
  }
  let sum = 0;
  for (let s = 0; s < S; s++) {
    let v = 1;
    if (source > -0.5) {
      v = act[source * S + s];
    }
    const w = y[k * S + s];
    if (power > 1.5) {
      sum += v * v * w;
    } else {
      sum += v * w;
    }
  }
  return sum / S;
}
