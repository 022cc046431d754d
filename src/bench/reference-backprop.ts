import type { Batch } from '../engine/batch.js';
import { ActivationCode, type CompiledNetwork } from '../engine/compiled-network.js';
import { UsageError, problem } from '../errors.js';

/**
 * One batch of backprop written out by hand for one network: straight-line code with every
 * index a constant, what a programmer would write for a fixed small network. Returns the mean
 * loss in nats; `gradient` ([nParams], the engine's parameter layout) receives G = E_x a_i b̃_k
 * (Eq. 8, 19), the direction the engine's backprop returns.
 */
export type ReferenceBackprop = (params: Float64Array, batch: Batch, gradient: Float64Array) => number;

/**
 * The yardstick of issue 13's "CPU reference at its floor": a fully unrolled JavaScript
 * backprop of `net`, generated once as source text and compiled by the JIT like hand-written
 * code for one batch size: per unit, its weights as constants and one loop over the samples
 * (contiguous, unit-major like the engine's rows, which the JIT can keep in registers); the
 * Bernoulli output layer of Example 1 (b̃ = y - a, the loss with one log of the more probable
 * side, as the engine computes it); reduced backpropagated values b̃ = r·b (Eq. 9-10); each
 * gradient entry as one sum over the samples. Sigmoid hidden and output units, Bernoulli interpretation, no affine units: Section 4's
 * network; anything else is refused (it is a benchmark instrument, not an engine).
 *
 * NOTE: the activations use the plain 1/(1 + e^-V) and r = a(1-a) of a hand-written loop, not
 * the engine's cancellation-free forms; the results agree to rounding on the bench's network.
 */
export function referenceBackprop(net: CompiledNetwork, size: number): ReferenceBackprop {
  if (net.interpretation !== 'bernoulli' || net.affine) throw new UsageError([problem('network', 'the hand-written reference covers Bernoulli networks of plain sigmoid units (Section 4); use the autoencoder')]);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    if (net.activation[k] !== ActivationCode.Sigmoid) throw new UsageError([problem('network', `unit ${net.unitKeys[k]} is not a sigmoid unit; the hand-written reference covers sigmoid networks only`)]);
  }
  const S = size;
  const row = (k: number) => k * S;
  // Weights of a unit's incoming (or outgoing) edges as constants named w0, w1, ...
  const weights = (indices: number[]) => indices.map((p, n) => `const w${n} = P[${p}];`).join(' ');
  const statements: Array<{ code: string; loss?: boolean }> = [];
  for (let i = 0; i < net.nInputs; i++) statements.push({ code: `for (let s = 0; s < ${S}; s++) A[${row(i)} + s] = X[${row(i)} + s];` });
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const b = net.blockOffsets[k];
    const params = [b];
    const terms = ['w0'];
    for (let e = net.inOffsets[k]; e < net.inOffsets[k + 1]; e++) {
      terms.push(`w${params.length} * A[${row(net.inSources[e])} + s]`);
      params.push(b + 1 + e - net.inOffsets[k]);
    }
    statements.push({ code: `{ ${weights(params)} for (let s = 0; s < ${S}; s++) { const v = ${terms.join(' + ')}; V[${row(k)} + s] = v; A[${row(k)} + s] = 1 / (1 + Math.exp(-v)); } }` });
  }
  for (let j = 0; j < net.nOutputs; j++) {
    const k = net.outputUnits[j];
    const [y, a, v] = [`T[${row(j)} + s]`, `A[${row(k)} + s]`, `V[${row(k)} + s]`];
    statements.push({ loss: true, code: `for (let s = 0; s < ${S}; s++) { const y = ${y}; const a = ${a}; const v = ${v}; D[${row(k)} + s] = y - a; loss += v >= 0 ? (1 - y) * v - Math.log(a) : -y * v - Math.log(1 - a); }` });
  }
  for (let i = net.nUnits - 1; i >= net.nInputs; i--) {
    if (net.outputIndex[i] >= 0) continue;
    const params: number[] = [];
    const terms: string[] = [];
    for (let e = net.outOffsets[i]; e < net.outOffsets[i + 1]; e++) {
      terms.push(`w${params.length} * D[${row(net.outTargets[e])} + s]`);
      params.push(net.outParams[e]);
    }
    statements.push({ code: `{ ${weights(params)} for (let s = 0; s < ${S}; s++) { const a = A[${row(i)} + s]; D[${row(i)} + s] = a * (1 - a) * (${terms.join(' + ') || '0'}); } }` });
  }
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const b = net.blockOffsets[k];
    statements.push({ code: `{ let g = 0; for (let s = 0; s < ${S}; s++) g += D[${row(k)} + s]; G[${b}] = g / ${S}; }` });
    for (let e = net.inOffsets[k], p = b + 1; e < net.inOffsets[k + 1]; e++, p++) {
      statements.push({ code: `{ let g = 0; for (let s = 0; s < ${S}; s++) g += A[${row(net.inSources[e])} + s] * D[${row(k)} + s]; G[${p}] = g / ${S}; }` });
    }
  }
  // NOTE: straight-line code cut into functions of CHUNK statements: V8 optimises no function
  // above ~60 KB of bytecode, and one function for the whole autoencoder is larger, so it would
  // run interpreted (about 14x slower), which is no yardstick.
  const passes: Pass[] = [];
  for (let c = 0; c < statements.length; c += CHUNK) {
    const chunk = statements.slice(c, c + CHUNK);
    const code = ['let loss = 0;', ...chunk.map((st) => st.code), 'return loss;'].join('\n');
    passes.push(new Function('P', 'X', 'T', 'V', 'A', 'D', 'G', code) as Pass);
  }
  const V = new Float64Array(net.nUnits * S);
  const A = new Float64Array(net.nUnits * S);
  const D = new Float64Array(net.nUnits * S);
  return (params, batch, gradient) => {
    if (batch.size !== S) throw new UsageError([problem('batch', `the reference was generated for ${S} samples, not ${batch.size}`)]);
    let loss = 0;
    for (const pass of passes) loss += pass(params, batch.inputs, batch.targets, V, A, D, gradient);
    return loss / S;
  };
}

type Pass = (P: Float64Array, X: Float64Array, T: Float64Array, V: Float64Array, A: Float64Array, D: Float64Array, G: Float64Array) => number;

/** Statements per compiled function (see the NOTE in {@link referenceBackprop}). */
const CHUNK = 60;
