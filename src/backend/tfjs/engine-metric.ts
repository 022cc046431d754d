import type * as TF from '@tensorflow/tfjs-core';
import { ancestry, columnChunk, outputColumns, propagateColumns } from './engine-columns.js';
import { withZeroInputs, writeOutputRows, type EngineContext, type TfjsWorkspace } from './engine-context.js';
import { outputTerms, reducedOutputBack, type OutputTerms } from './engine-propagation.js';
import type { TensorBuffer } from './tensor-buffer.js';

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
  const r = t.r as TF.Tensor2D;
  if (net.interpretation === 'bernoulli') return { seeds: tf.sqrt(r) };
  if (net.interpretation === 'softmax') {
    const p = t.p as TF.Tensor2D;
    return { seeds: r, beta: p, gamma: p, betaExtra: tf.fill([S], -1) };
  }
  if (net.interpretation === 'spherical') {
    const norm2 = t.norm2 as TF.Tensor2D; // [1 × S]
    return { seeds: r, beta: tf.mul(tf.onesLike(r), tf.div(4, norm2)) as TF.Tensor2D, gamma: t.a as TF.Tensor2D, betaExtra: tf.reshape(tf.div(-4, tf.square(norm2)), [S]) };
  }
  return { seeds: r };
}

/** m̃_o = β σ² + β_x (γ σ)² (Eq. 27) into the output rows of `modulus`. */
export function outputModulus(ctx: EngineContext, ws: TfjsWorkspace, modulus: TensorBuffer): void {
  const { tf } = ctx;
  const m = metricTensors(ctx, ws);
  const square = tf.square(m.seeds);
  let value = m.beta ? tf.mul(m.beta, square) : square;
  if (m.gamma && m.betaExtra) value = tf.add(value, tf.mul(m.betaExtra, tf.square(tf.mul(m.gamma, m.seeds))));
  writeOutputRows(ctx, modulus, value);
}

/**
 * The reduced Fisher modulus φ̃ (Def. 3, Eq. 14-17): the transfer rates of every output at once
 * (one column per output, seeded σ_o), φ̃_k = Σ_o β_o J̃_k^o² + β_x (Σ_o γ_o J̃_k^o)². Inputs: 0.
 * NOTE: always by the explicit route; the CPU's Gram route for bottom units saves scalar work,
 * while here a level costs the same few launches whatever its width.
 */
export function fisherModulus(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, modulus: TensorBuffer): void {
  const { tf, net, size: S } = ctx;
  const m = metricTensors(ctx, ws);
  const O = net.nOutputs;
  const chunk = Math.min(O, columnChunk(ctx));
  const L = ctx.index.levels.length;
  const sums: TF.Tensor[][] = [];
  const extras: TF.Tensor[][] = [];
  for (let c0 = 0; c0 < O; c0 += chunk) {
    const C = Math.min(chunk, O - c0);
    const columns = (t: TF.Tensor2D) => tf.reshape(tf.transpose(C === O ? t : tf.slice(t, [c0, 0], [C, S])), [1, S, C]);
    const [sum, extra] = tf.tidy(() => {
      const seeds = columns(m.seeds);
      const beta = m.beta && columns(m.beta);
      const gamma = m.gamma && columns(m.gamma);
      const sum: TF.Tensor[] = [];
      const extra: TF.Tensor[] = [];
      propagateColumns(ctx, params, ws.deriv, {
        columns: C,
        hiddenOnly: false,
        seed: (lv) => {
          const eq = outputColumns(tf, lv, c0, C);
          return eq && tf.mul(eq, seeds);
        },
        visit: (_lv, l, rates) => {
          const square = tf.square(rates);
          sum[l - 1] = tf.sum(beta ? tf.mul(square, beta) : square, 2);
          if (gamma) extra[l - 1] = tf.sum(tf.mul(rates, gamma), 2);
        },
      });
      return [sum, extra];
    });
    sums.push(sum);
    extras.push(extra);
  }
  const total = (parts: TF.Tensor[][], l: number) => (parts.length === 1 ? parts[0][l] : tf.addN(parts.map((p) => p[l])));
  const levels: TF.Tensor[] = [];
  for (let l = 0; l < L; l++) {
    const phi = total(sums, l);
    levels.push(m.gamma && m.betaExtra ? tf.add(phi, tf.mul(tf.square(total(extras, l)), m.betaExtra)) : phi);
  }
  modulus.set(withZeroInputs(ctx, levels));
}

/**
 * Reduced transfer rates J̃ of output `output` (Def. 2, Eq. 13) into its rows and its
 * ancestors' rows of `rates`, and with `raw` the plain J (Σ_j w_kj J̃_j; 1 at the output); other
 * rows are kept. The ancestry is found on the device from the padded lists.
 */
export function transferRates(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, output: number, rates: TensorBuffer, raw?: TensorBuffer): void {
  const { tf, size: S } = ctx;
  const m = metricTensors(ctx, ws);
  const seed = tf.reshape(tf.slice(m.seeds, [output, 0], [1, S]), [1, S, 1]);
  const L = ctx.index.levels.length;
  const J: TF.Tensor[] = new Array(L);
  const plain: TF.Tensor[] = new Array(L);
  propagateColumns(ctx, params, ws.deriv, {
    columns: 1,
    hiddenOnly: false,
    seed: (lv) => {
      const eq = outputColumns(tf, lv, output, 1);
      return eq && tf.mul(eq, seed);
    },
    visit: (lv, l, level, sums) => {
      J[l - 1] = level;
      const eq = outputColumns(tf, lv, output, 1);
      const base = sums ?? tf.zeros([lv.count, S, 1]);
      plain[l - 1] = eq ? tf.add(base, eq) : base;
    },
  });
  const mask = tf.cast(withZeroInputs(ctx, ancestry(ctx, output).map((a) => tf.tile(a, [1, S]))), 'bool');
  rates.set(tf.where(mask, withZeroInputs(ctx, J), rates.tensor));
  raw?.set(tf.where(mask, withZeroInputs(ctx, plain), raw.tensor));
}

/**
 * Monte-Carlo Fisher modulus (Eq. 100): targets y ~ ω(x) from the host's uniforms (normals for
 * square outputs) uploaded once ([K × nOutputs × size], counted), b̃ of each draw by one column
 * pass (a column per draw), and (1/K) Σ b̃². `ws` is not written.
 */
export function monteCarloModulus(ctx: EngineContext, params: TensorBuffer, ws: TfjsWorkspace, draws: Float64Array, modulus: TensorBuffer): void {
  const { tf, net, size: S } = ctx;
  const O = net.nOutputs;
  const K = draws.length / (O * S);
  ctx.transfers.upload(draws.length * 4);
  const uniforms = tf.tensor3d(Float32Array.from(draws), [K, O, S]);
  const t = outputTerms(ctx, ws);
  const terms: OutputTerms = {
    a: tf.expandDims(t.a, 2),
    r: tf.expandDims(t.r, 2),
    p: t.p && tf.expandDims(t.p, 2),
    norm2: t.norm2 && tf.expandDims(t.norm2, 2),
    isTanh: t.isTanh && tf.expandDims(t.isTanh, 2),
  };
  const chunk = Math.min(K, columnChunk(ctx));
  const parts: TF.Tensor[][] = [];
  for (let k0 = 0; k0 < K; k0 += chunk) {
    const C = Math.min(chunk, K - k0);
    parts.push(
      tf.tidy(() => {
        const u = C === K ? uniforms : tf.slice(uniforms, [k0, 0, 0], [C, O, S]);
        const y = tf.transpose(sampleTargets(ctx, t, u), [1, 2, 0]); // [O × S × C]
        const back = tf.concat([tf.reshape(reducedOutputBack(tf, net.interpretation, y, terms), [O, S * C]), tf.zeros([1, S * C])]);
        const squares: TF.Tensor[] = [];
        propagateColumns(ctx, params, ws.deriv, {
          columns: C,
          hiddenOnly: true,
          seed: (lv) => lv.outputOf && tf.reshape(tf.gather(back, lv.outputOf), [lv.count, S, C]),
          visit: (_lv, l, rows) => {
            squares[l - 1] = tf.sum(tf.square(rows), 2);
          },
        });
        return squares;
      }),
    );
  }
  const levels = parts[0].map((_, l) => (parts.length === 1 ? parts[0][l] : tf.addN(parts.map((p) => p[l]))));
  modulus.set(tf.div(withZeroInputs(ctx, levels), K));
}

/** Targets y ~ ω(x) [C × nOutputs × size] from draws `u` [C × nOutputs × size] (see `targetsFromDraws`). */
function sampleTargets(ctx: EngineContext, t: OutputTerms, u: TF.Tensor): TF.Tensor {
  const { tf, net, size: S } = ctx;
  const O = net.nOutputs;
  if (net.interpretation === 'square') return tf.add(u, t.a);
  if (net.interpretation === 'bernoulli') {
    const p = t.isTanh ? tf.add(t.a, tf.mul(t.isTanh, tf.mul(tf.sub(1, t.a), 0.5))) : t.a; // a, or (1 + a)/2
    return tf.cast(tf.less(u, p), 'float32');
  }
  // One uniform per sample (row 0): the class is the number of cumulative probabilities it passes.
  if (O === 1) return tf.onesLike(u);
  const p = net.interpretation === 'softmax' ? (t.p as TF.Tensor) : tf.div(tf.square(t.a), t.norm2 as TF.Tensor);
  const cumulative = tf.slice(tf.cumsum(p, 0), [0, 0], [O - 1, S]);
  const C = u.shape[0];
  const first = tf.slice(u, [0, 0, 0], [C, 1, S]);
  const classes = tf.sum(tf.cast(tf.greaterEqual(first, cumulative), 'int32'), 1) as TF.Tensor2D; // [C × S]
  return tf.transpose(tf.cast(tf.oneHot(classes, O), 'float32'), [0, 2, 1]);
}

/** Outer-product modulus b̃² (Def. 14) of the non-input units; input rows 0. */
export function outerProductModulus(ctx: EngineContext, ws: TfjsWorkspace, modulus: TensorBuffer): void {
  const { tf, net, size: S } = ctx;
  modulus.set(withZeroInputs(ctx, [tf.square(ws.backReduced.range(net.nInputs * S, (net.nUnits - net.nInputs) * S))]));
}

/** Writes the output metric into per-workspace buffers (seeds, β, and γ, β_x where the interpretation has them). */
export function writeOutputMetric(ctx: EngineContext, ws: TfjsWorkspace, target: { seeds: TensorBuffer; beta: TensorBuffer; gamma?: TensorBuffer; betaExtra?: TensorBuffer }): void {
  const { tf } = ctx;
  const m = metricTensors(ctx, ws);
  target.seeds.set(m.seeds);
  target.beta.set(m.beta ?? tf.onesLike(m.seeds));
  if (m.gamma) target.gamma?.set(m.gamma);
  if (m.betaExtra) target.betaExtra?.set(m.betaExtra);
}
