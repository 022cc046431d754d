import type { Kernels } from '../backend/kernels.js';
import { makeBatch, type Batch } from '../engine/batch.js';
import type { Model } from '../engine/model.js';
import { createWorkspace, type Workspace } from '../engine/workspace.js';
import { evaluateMethod, measureMethod, methodDirection, NetworkCache, type MethodSpec } from '../methods/methods.js';
import type { DataDocument } from '../network/types.js';
import { Prng } from '../random/prng.js';
import type { MetricEstimate } from '../reductions/reductions.js';

/** A network taking fixed-rate batch steps of one method; `step` returns the loss before the step (nats). */
export interface Stepper {
  readonly model: Model;
  readonly data: DataDocument;
  step(): number;
}

export interface StepperOptions {
  spec: MethodSpec;
  kernels: Kernels;
  lr: number;
  epsilon: number;
  mcSamples: number;
  seed: number;
}

/** Plain steps w ← w + η δw on the whole data set. */
export function plainStepper(model: Model, data: DataDocument, o: StepperOptions): Stepper {
  const cache = new NetworkCache(model.net);
  const batch = makeBatch(model.net, data);
  const ws = createWorkspace(model.net, batch.size);
  const rng = new Prng(o.seed);
  return {
    model,
    data,
    step() {
      const { lossNats, direction } = evaluateMethod(o.spec, o.kernels, cache, model.params, batch, ws, { epsilon: o.epsilon, mcSamples: o.mcSamples, rng });
      for (let p = 0; p < direction.length; p++) model.params[p] += o.lr * direction[p];
      return lossNats;
    },
  };
}

/**
 * Steps of a network whose units receive affinely recombined incoming signals (Prop. 31):
 * unit k sees ã = T_k (1, a_i...) with T_k = [[1, 0], [c_k, B_k]] fixed, and is parametrised by
 * θ'_k with V_k = θ'_kᵀ ã, i.e. effective weights θ_k = T_kᵀ θ'_k. Everything a unit computes
 * from its inputs transforms accordingly: G' = T G and A' = T A Tᵀ (ψ_k does not change: the
 * network function is the same), and the reduction runs on A' (quasi-diagonal entries of A',
 * not of A). The step δθ' is mapped back, δθ = Tᵀ δθ'. `model.params` holds the effective θ.
 */
export function recombinedStepper(model: Model, data: DataDocument, o: StepperOptions, transforms: Float64Array[]): Stepper {
  const { net } = model;
  const cache = new NetworkCache(net);
  const batch: Batch = makeBatch(net, data);
  const ws: Workspace = createWorkspace(net, batch.size);
  const rng = new Prng(o.seed);
  const layout = cache.metricLayout();
  const measuredSpec: MethodSpec = o.spec.reduction === 'whole-network' || o.spec.metric === 'euclidean' ? o.spec : { ...o.spec, reduction: 'full' };
  return {
    model,
    data,
    step() {
      const m = measureMethod(measuredSpec, o.kernels, cache, model.params, batch, ws, { epsilon: o.epsilon, mcSamples: o.mcSamples, rng });
      const gradient = new Float64Array(net.nParams);
      for (let k = net.nInputs; k < net.nUnits; k++) apply(transforms[k], m.gradient, gradient, net.blockOffsets[k], false);
      let estimate: MetricEstimate | undefined;
      if (m.estimate?.kind === 'blocks') estimate = transformedEstimate(o.spec, net.nParams, net.nInputs, net.nUnits, net.blockOffsets, layout.matrixOffsets, m.estimate.blocks, transforms);
      else if (m.estimate?.kind === 'matrix') estimate = { kind: 'matrix', matrix: congruence(m.estimate.matrix, net.nParams, net.nInputs, net.nUnits, net.blockOffsets, transforms) };
      const samples = m.modulus ? { ws, modulus: m.modulus, transforms } : undefined;
      const direction = methodDirection(o.spec, o.kernels, cache, gradient, estimate, o.epsilon, samples);
      const effective = new Float64Array(net.nParams);
      for (let k = net.nInputs; k < net.nUnits; k++) apply(transforms[k], direction, effective, net.blockOffsets[k], true);
      for (let p = 0; p < effective.length; p++) model.params[p] += o.lr * effective[p];
      return m.lossNats;
    },
  };
}

/** out_block = T v_block (or Tᵀ v_block), T n × n row-major. */
function apply(t: Float64Array, v: Float64Array, out: Float64Array, p0: number, transpose: boolean): void {
  const n = Math.round(Math.sqrt(t.length));
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += (transpose ? t[j * n + i] : t[i * n + j]) * v[p0 + j];
    out[p0 + i] = s;
  }
}

/** T A Tᵀ per unit, in the estimate the reduction needs (blocks, or their quasi-diagonal entries). */
function transformedEstimate(spec: MethodSpec, nParams: number, nInputs: number, nUnits: number, blockOffsets: Int32Array, matrixOffsets: Int32Array, blocks: Float64Array, transforms: Float64Array[]): MetricEstimate {
  const out = new Float64Array(blocks.length);
  for (let k = nInputs; k < nUnits; k++) {
    const n = blockOffsets[k + 1] - blockOffsets[k];
    const t = transforms[k];
    const base = matrixOffsets[k];
    const ta = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let l = 0; l < n; l++) ta[i * n + j] += t[i * n + l] * blocks[base + l * n + j];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let l = 0; l < n; l++) out[base + i * n + j] += ta[i * n + l] * t[j * n + l];
  }
  if (spec.reduction === 'full') return { kind: 'blocks', blocks: out };
  const diagonal = new Float64Array(nParams);
  const cross = new Float64Array(nParams);
  for (let k = nInputs; k < nUnits; k++) {
    const n = blockOffsets[k + 1] - blockOffsets[k];
    for (let i = 0; i < n; i++) {
      diagonal[blockOffsets[k] + i] = out[matrixOffsets[k] + i * n + i];
      cross[blockOffsets[k] + i] = out[matrixOffsets[k] + i];
    }
  }
  return { kind: 'entries', diagonal, cross: spec.reduction === 'quasi-diagonal' ? cross : undefined };
}

/** T F Tᵀ for the block-diagonal T of all units (whole-network Fisher matrix, P × P). */
function congruence(f: Float64Array, P: number, nInputs: number, nUnits: number, blockOffsets: Int32Array, transforms: Float64Array[]): Float64Array {
  const rows = new Float64Array(P * P);
  const column = new Float64Array(P);
  const mapped = new Float64Array(P);
  for (let c = 0; c < P; c++) {
    for (let r = 0; r < P; r++) column[r] = f[r * P + c];
    for (let k = nInputs; k < nUnits; k++) apply(transforms[k], column, mapped, blockOffsets[k], false);
    for (let r = 0; r < P; r++) rows[r * P + c] = mapped[r];
  }
  const out = new Float64Array(P * P);
  for (let r = 0; r < P; r++) {
    const row = rows.subarray(r * P, (r + 1) * P);
    for (let k = nInputs; k < nUnits; k++) apply(transforms[k], row, mapped, blockOffsets[k], false);
    out.set(mapped, r * P);
  }
  return out;
}
