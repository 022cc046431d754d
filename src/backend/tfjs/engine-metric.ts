import type * as TF from '@tensorflow/tfjs-core';
import { UsageError, problem } from '../../errors.js';
import { checkRateChunk } from '../engine.js';
import { fusedFisherModulus } from './cpu-fused-metric.js';
import { onCpu } from './cpu-fused.js';
import { chunkSeeds, columnChunk, propagateColumns, seedRows, sumBlocks } from './engine-columns.js';
import { withZeroInputs, writeOutputRows, type EngineContext, type TfjsWorkspace } from './engine-context.js';
import { outputTerms, reducedOutputBack, sumOutputs, type OutputTerms } from './engine-propagation.js';
import { repeatColumns } from './engine-weights.js';
import type { CompiledNetwork } from '../../engine/compiled-network.js';
import type { TensorBuffer } from './tensor-buffer.js';

/** Per-workspace buffers of the output metric (rewritten by each `Engine.outputMetric` call): [nOutputs × size] each, `betaExtra` [size]. */
export type MetricBuffers = { seeds: TensorBuffer; beta: TensorBuffer; gamma?: TensorBuffer; betaExtra?: TensorBuffer };

/** A workspace's output-metric buffers, made by `make(length)`: γ and the extra β for softmax and spherical outputs only. */
export function outputMetricBuffers(net: CompiledNetwork, size: number, make: (length: number) => TensorBuffer): MetricBuffers {
  const perOutput = net.nOutputs * size;
  const classes = net.interpretation === 'softmax' || net.interpretation === 'spherical';
  return { seeds: make(perOutput), beta: make(perOutput), ...(classes ? { gamma: make(perOutput), betaExtra: make(size) } : {}) };
}

/**
 * The output metric of Example 1 (see `metrics/output-metric.ts`) as tensors [nOutputs × size]
 * (β_x [size]): seeds σ, weights β (undefined: 1), and for softmax and spherical outputs γ, β_x.
 */
export interface MetricTensors {
  readonly seeds: TF.Tensor2D;
  readonly beta?: TF.Tensor2D;
  readonly gamma?: TF.Tensor2D;
  readonly betaExtra?: TF.Tensor1D;
}

/** {@link MetricTensors} of the forward pass in `ws`. */
export function metricTensors(ctx: EngineContext, ws: TfjsWorkspace): MetricTensors {
  const { tf, net, size: S } = ctx;
  const t = outputTerms(ctx, ws);
  if (net.interpretation === 'bernoulli') return { seeds: tf.sqrt(t.r) };
  if (net.interpretation === 'softmax') return { seeds: t.r, beta: t.p, gamma: t.p, betaExtra: tf.fill([S], -1) };
  if (net.interpretation === 'spherical') {
    const norm2 = t.norm2 as TF.Tensor1D;
    return { seeds: t.r, beta: tf.div(tf.fill([net.nOutputs, S], 4), norm2) as TF.Tensor2D, gamma: t.a, betaExtra: tf.div(-4, tf.square(norm2)) as TF.Tensor1D };
  }
  return { seeds: t.r };
}

/** m̃_o = β σ² + β_x (γ σ)² (Eq. 27) into the output rows of `modulus`. */
export function outputModulus(ctx: EngineContext, ws: TfjsWorkspace, modulus: TensorBuffer): void {
  const { tf } = ctx;
  const m = metricTensors(ctx, ws);
  const square = tf.square(m.seeds);
  let value = m.beta ? tf.mul(m.beta, square) : square;
  if (m.gamma && m.betaExtra) value = tf.add(value, tf.mul(tf.square(tf.mul(m.gamma, m.seeds)), m.betaExtra));
  writeOutputRows(ctx, modulus, value);
}

/** Rows `first .. first+C-1` of [nOutputs × S] as one flat [C·S] vector (a column block per output). */
function flatRows(tf: typeof TF, x: TF.Tensor2D, first: number, C: number): TF.Tensor1D {
  return tf.reshape(C === x.shape[0] ? x : tf.slice(x, [first, 0], [C, x.shape[1]]), [-1]);
}

/**
 * The reduced Fisher modulus φ̃ (Def. 3, Eq. 14-17): the transfer rates of every output at once
 * (one column block per output, seeded σ_o), φ̃_k = Σ_o β_o J̃_k^o² + β_x (Σ_o γ_o J̃_k^o)². Inputs: 0.
 * NOTE: always by the explicit route; the CPU's Gram route for bottom units saves scalar work,
 * while here a level costs the same few launches whatever its width.
 */
export function fisherModulus(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, modulus: TensorBuffer): void {
  const { tf, net, size: S } = ctx;
  const m = metricTensors(ctx, ws);
  if (onCpu(tf)) return modulus.writeWith(0, modulus.length, (dest) => fusedFisherModulus(tf, net, S, params.tensor, ws.deriv.rowPieces(0, net.nUnits, S), m, dest));
  const O = net.nOutputs;
  const chunk = Math.min(O, columnChunk(ctx));
  const sums: TF.Tensor2D[][] = [];
  const extras: TF.Tensor2D[][] = [];
  for (let c0 = 0; c0 < O; c0 += chunk) {
    const C = Math.min(chunk, O - c0);
    const [sum, extra] = tf.tidy(() => {
      const seeds = chunkSeeds(tf, m.seeds, c0, C);
      const beta = m.beta && flatRows(tf, m.beta, c0, C);
      const gamma = m.gamma && flatRows(tf, m.gamma, c0, C);
      const sum: TF.Tensor2D[] = [];
      const extra: TF.Tensor2D[] = [];
      propagateColumns(ctx, params, ws.deriv, {
        width: C * S,
        hiddenOnly: false,
        seed: (lv) => seedRows(tf, lv, seeds),
        visit: (_lv, l, rates) => {
          const square = tf.square(rates);
          sum[l - 1] = sumBlocks(tf, beta ? tf.mul(square, beta) : square, C, S);
          if (gamma) extra[l - 1] = sumBlocks(tf, tf.mul(rates, gamma), C, S);
        },
      });
      return [sum, extra];
    });
    sums.push(sum);
    extras.push(extra);
  }
  const total = (parts: TF.Tensor2D[][], l: number) => (parts.length === 1 ? parts[0][l] : tf.addN(parts.map((p) => p[l])));
  const levels = ctx.index.levels.map((_, l) => {
    const phi = total(sums, l);
    return m.betaExtra && m.gamma ? tf.add(phi, tf.mul(tf.square(total(extras, l)), m.betaExtra)) : phi;
  });
  modulus.set(withZeroInputs(ctx, levels));
}

/**
 * Reduced transfer rates J̃ of output `output` (Def. 2, Eq. 13) into its rows and its
 * ancestors' rows of `rates`, and with `raw` the plain J (Σ_j w_kj J̃_j; 1 at the output); other
 * rows are kept. The ancestry comes from a structural pass over the same lists.
 */
export function transferRates(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, output: number, rates: TensorBuffer, raw?: TensorBuffer): void {
  const { tf, net, size: S } = ctx;
  const m = metricTensors(ctx, ws);
  const seeds = chunkSeeds(tf, m.seeds, output, 1);
  const ones = chunkSeeds(tf, tf.ones([net.nOutputs, S]) as TF.Tensor2D, output, 1);
  const L = ctx.index.levels.length;
  const J: TF.Tensor2D[] = new Array(L);
  const plain: TF.Tensor2D[] = new Array(L);
  const reach: TF.Tensor2D[] = new Array(L);
  propagateColumns(ctx, params, ws.deriv, {
    width: S,
    hiddenOnly: false,
    seed: (lv) => seedRows(tf, lv, seeds),
    visit: (lv, l, level, sums) => {
      J[l - 1] = level;
      const one = seedRows(tf, lv, ones);
      const base = sums ?? tf.zeros([lv.count, S]);
      plain[l - 1] = one ? tf.add(base, one) : base;
    },
  });
  const self = chunkSeeds(tf, tf.ones([net.nOutputs, 1]) as TF.Tensor2D, output, 1);
  propagateColumns(ctx, params, ws.deriv, {
    width: 1,
    hiddenOnly: false,
    structural: true,
    seed: (lv) => seedRows(tf, lv, self),
    visit: (_lv, l, level) => {
      reach[l - 1] = repeatColumns(tf, level, S);
    },
  });
  const mask = tf.greater(withZeroInputs(ctx, reach), 0.5);
  rates.set(tf.where(mask, withZeroInputs(ctx, J), rates.tensor));
  raw?.set(tf.where(mask, withZeroInputs(ctx, plain), raw.tensor));
}

/**
 * J̃ of the outputs first .. first + count - 1 (Def. 2, Eq. 13) into `rates` [nUnits × count ×
 * size]: one column pass of count·size columns (output-major blocks, as the Fisher modulus's
 * chunks), the levels' rows in unit order after zero input rows.
 */
export function transferRateChunk(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, first: number, count: number, rates: TensorBuffer): void {
  const { tf, net, size: S } = ctx;
  checkRateChunk(net, S, first, count, rates);
  const m = metricTensors(ctx, ws);
  const seeds = chunkSeeds(tf, m.seeds, first, count);
  const levels: TF.Tensor2D[] = new Array(ctx.index.levels.length);
  propagateColumns(ctx, params, ws.deriv, {
    width: count * S,
    hiddenOnly: false,
    seed: (lv) => seedRows(tf, lv, seeds),
    visit: (_lv, l, level) => {
      levels[l - 1] = level;
    },
  });
  rates.set(tf.concat([tf.zeros([net.nInputs * count * S]), ...levels.map((t) => tf.reshape(t, [-1]))]) as TF.Tensor1D);
}

/**
 * Monte-Carlo Fisher modulus (Eq. 100): targets y ~ ω(x) from the host's uniforms (normals for
 * square outputs; uploaded per chunk of draws, K·nOutputs·size numbers in all, counted), b̃ of
 * each draw by one column pass (a column block per draw), and (1/K) Σ b̃². `ws` is not written.
 */
export function monteCarloModulus(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, draws: Float64Array, modulus: TensorBuffer): void {
  const { tf, net, size: S } = ctx;
  const O = net.nOutputs;
  const K = draws.length / (O * S);
  const t = outputTerms(ctx, ws);
  const chunk = Math.min(K, columnChunk(ctx));
  const parts: TF.Tensor2D[][] = [];
  for (let d0 = 0; d0 < K; d0 += chunk) {
    const C = Math.min(chunk, K - d0);
    // The host lays this chunk's draws out [nOutputs × C·S] (draw-major column blocks) as it uploads them.
    const u = new Float32Array(O * C * S);
    for (let o = 0; o < O; o++) for (let d = 0; d < C; d++) for (let s = 0; s < S; s++) u[(o * C + d) * S + s] = draws[((d0 + d) * O + o) * S + s];
    ctx.transfers.upload(u.length * 4);
    parts.push(
      tf.tidy(() => {
        const squares: TF.Tensor2D[] = [];
        sampledColumns(ctx, params, ws, t, tf.tensor2d(u, [O, C * S]), C, (l, rows) => {
          squares[l - 1] = sumBlocks(tf, tf.square(rows), C, S);
        });
        return squares;
      }),
    );
  }
  const levels = parts[0].map((_, l) => (parts.length === 1 ? parts[0][l] : tf.addN(parts.map((p) => p[l]))));
  modulus.set(tf.div(withZeroInputs(ctx, levels), K));
}

/**
 * b̃(x, y) of every non-input unit into `out` (input rows 0) for targets y ~ ω(x) from one draw of
 * the host's numbers ([nOutputs × size], uploaded and counted): the Monte-Carlo modulus's column
 * pass with one column block. `ws` is not written.
 */
export function sampledBackward(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, draw: Float64Array, out: TensorBuffer): void {
  const { tf, net, size: S } = ctx;
  const n = net.nOutputs * S;
  if (draw.length < n) throw new UsageError([problem('engine', `sampledBackward takes one draw of ${n} numbers, not ${draw.length}`)]);
  const u = Float32Array.from(draw.subarray(0, n));
  ctx.transfers.upload(u.length * 4);
  const levels: TF.Tensor2D[] = [];
  sampledColumns(ctx, params, ws, outputTerms(ctx, ws), tf.tensor2d(u, [net.nOutputs, S]), 1, (l, rows) => {
    levels[l - 1] = rows;
  });
  out.set(withZeroInputs(ctx, levels));
}

/**
 * The backpropagation of sampled targets, C draws side by side: y ~ ω(x) from `u` [nOutputs × C·S]
 * (`t` the output terms of one block, repeated), b̃ of the outputs, then one column pass into the
 * hidden units; `visit` gets each level's rows [count × C·S]. Call inside `tf.tidy`.
 */
function sampledColumns(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, t: OutputTerms, u: TF.Tensor2D, C: number, visit: (level: number, rows: TF.Tensor2D) => void): void {
  const { tf, net, size: S } = ctx;
  const repeat = (x?: TF.Tensor2D) => x && repeatColumns(tf, x, C);
  const terms: OutputTerms = C === 1 ? t : { a: repeat(t.a) as TF.Tensor2D, r: repeat(t.r) as TF.Tensor2D, p: repeat(t.p), isTanh: repeat(t.isTanh), norm2: t.norm2 && tf.concat(new Array<TF.Tensor1D>(C).fill(t.norm2)) };
  const y = sampleTargets(ctx, terms, u, C);
  const back = reducedOutputBack(tf, net.interpretation, y, terms) as TF.Tensor2D;
  propagateColumns(ctx, params, ws.deriv, {
    width: C * S,
    hiddenOnly: true,
    seed: (lv) => seedRows(tf, lv, back),
    visit: (_lv, l, rows) => visit(l, rows),
  });
}

/** Targets y ~ ω(x) [nOutputs × C·S] from draws `u` of the same layout (see `targetsFromDraws`); `t` repeated over the C blocks. */
function sampleTargets(ctx: EngineContext, t: OutputTerms, u: TF.Tensor2D, C: number): TF.Tensor {
  const { tf, net, size: S } = ctx;
  const O = net.nOutputs;
  if (net.interpretation === 'square') return tf.add(u, t.a);
  if (net.interpretation === 'bernoulli') {
    const p = t.isTanh ? tf.add(t.a, tf.mul(t.isTanh, tf.mul(tf.sub(1, t.a), 0.5))) : t.a; // a, or (1 + a)/2
    return tf.cast(tf.less(u, p), 'float32');
  }
  // One uniform per sample (row 0): the class is the number of cumulative probabilities it passes.
  if (O === 1) return tf.onesLike(u);
  const p = net.interpretation === 'softmax' ? (t.p as TF.Tensor2D) : tf.div(tf.square(t.a), t.norm2 as TF.Tensor1D);
  const lower = tf.linalg.bandPart(tf.ones([O - 1, O]), -1, 0); // row c sums p_0 .. p_c
  const first = tf.reshape(tf.slice(u, [0, 0], [1, C * S]), [C * S]);
  const classes = sumOutputs(ctx, tf.concat([tf.cast(tf.greaterEqual(first, tf.matMul(lower as TF.Tensor2D, p as TF.Tensor2D)), 'float32'), tf.zeros([1, C * S])]));
  const index = tf.matMul(tf.reshape(tf.range(0, O), [O, 1]) as TF.Tensor2D, tf.ones([1, C * S]) as TF.Tensor2D);
  return tf.cast(tf.equal(index, classes), 'float32');
}

/** Outer-product modulus b̃² (Def. 14) of the non-input units; input rows 0. */
export function outerProductModulus(ctx: EngineContext, ws: TfjsWorkspace, modulus: TensorBuffer): void {
  const { tf, net, size: S } = ctx;
  modulus.set(withZeroInputs(ctx, [tf.square(ws.backReduced.range(net.nInputs * S, (net.nUnits - net.nInputs) * S))]));
}

/** Writes the output metric into per-workspace buffers (seeds, β, and γ, β_x where the interpretation has them). */
export function writeOutputMetric(ctx: EngineContext, ws: TfjsWorkspace, target: MetricBuffers): void {
  const { tf } = ctx;
  const m = metricTensors(ctx, ws);
  target.seeds.set(m.seeds);
  target.beta.set(m.beta ?? tf.onesLike(m.seeds));
  if (m.gamma) target.gamma?.set(m.gamma);
  if (m.betaExtra) target.betaExtra?.set(m.betaExtra);
}
