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
 * code. Sample-outer loop; per sample, one `const` per unit activity and reduced backpropagated
 * value (b̃ = r·b, Eq. 9-10), the Bernoulli output layer of Example 1 (b̃ = y - a, loss with one
 * log of the more probable side, as the engine computes it), and the gradient accumulated in
 * place. Sigmoid hidden and output units, Bernoulli interpretation, no affine units: Section 4's
 * network; anything else is refused (it is a benchmark instrument, not an engine).
 *
 * NOTE: the activations use the plain 1/(1 + e^-V) and r = a(1-a) of a hand-written loop, not
 * the engine's cancellation-free forms; the results agree to rounding on the bench's network.
 */
export function referenceBackprop(net: CompiledNetwork): ReferenceBackprop {
  if (net.interpretation !== 'bernoulli' || net.affine) throw new UsageError([problem('network', 'the hand-written reference covers Bernoulli networks of plain sigmoid units (Section 4); use the autoencoder')]);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    if (net.activation[k] !== ActivationCode.Sigmoid) throw new UsageError([problem('network', `unit ${net.unitKeys[k]} is not a sigmoid unit; the hand-written reference covers sigmoid networks only`)]);
  }
  // NOTE: per sample, straight-line statements over scratch arrays (V, A, D: one entry per unit)
  // cut into functions of CHUNK statements, rather than one function with a local per unit:
  // V8 optimises no function above ~60 KB of bytecode, and one function for the whole
  // autoencoder is larger, so it would run interpreted (14x slower), which is no yardstick.
  const forward: string[] = [];
  for (let i = 0; i < net.nInputs; i++) forward.push(`A[${i}] = X[${i} * S + s];`);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const b = net.blockOffsets[k];
    const terms = [`P[${b}]`];
    for (let e = net.inOffsets[k], p = b + 1; e < net.inOffsets[k + 1]; e++, p++) terms.push(`P[${p}] * A[${net.inSources[e]}]`);
    forward.push(`V[${k}] = ${terms.join(' + ')};`, `A[${k}] = 1 / (1 + Math.exp(-V[${k}]));`);
  }
  const backward: string[] = [];
  for (let j = 0; j < net.nOutputs; j++) {
    const k = net.outputUnits[j];
    backward.push(`{ const y = T[${j} * S + s]; const a = A[${k}]; const v = V[${k}]; D[${k}] = y - a; loss += v >= 0 ? (1 - y) * v - Math.log(a) : -y * v - Math.log(1 - a); }`);
  }
  for (let i = net.nUnits - 1; i >= net.nInputs; i--) {
    if (net.outputIndex[i] >= 0) continue;
    const terms: string[] = [];
    for (let e = net.outOffsets[i]; e < net.outOffsets[i + 1]; e++) terms.push(`P[${net.outParams[e]}] * D[${net.outTargets[e]}]`);
    backward.push(`D[${i}] = A[${i}] * (1 - A[${i}]) * (${terms.length > 0 ? terms.join(' + ') : '0'});`);
  }
  const gradient: string[] = [];
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const b = net.blockOffsets[k];
    gradient.push(`G[${b}] += D[${k}];`);
    for (let e = net.inOffsets[k], p = b + 1; e < net.inOffsets[k + 1]; e++, p++) gradient.push(`G[${p}] += A[${net.inSources[e]}] * D[${k}];`);
  }
  const passes = [...chunks(forward), ...chunks(backward, 'let loss = 0;'), ...chunks(gradient)];
  const V = new Float64Array(net.nUnits);
  const A = new Float64Array(net.nUnits);
  const D = new Float64Array(net.nUnits);
  const body = (P: Float64Array, X: Float64Array, T: Float64Array, S: number, G: Float64Array): number => {
    G.fill(0);
    let loss = 0;
    for (let s = 0; s < S; s++) {
      for (const pass of passes) loss += pass(P, X, T, S, s, V, A, D, G);
    }
    for (let p = 0; p < G.length; p++) G[p] /= S;
    return loss / S;
  };
  return (params, batch, gradient) => body(params, batch.inputs, batch.targets, batch.size, gradient);
}

type Pass = (P: Float64Array, X: Float64Array, T: Float64Array, S: number, s: number, V: Float64Array, A: Float64Array, D: Float64Array, G: Float64Array) => number;

/** Straight-line statements compiled as functions of at most CHUNK statements each (V8 optimises none above ~60 KB of bytecode). */
const CHUNK = 150;

function chunks(lines: string[], prologue?: string): Pass[] {
  const out: Pass[] = [];
  for (let i = 0; i < lines.length; i += CHUNK) {
    const body = lines.slice(i, i + CHUNK);
    const code = prologue ? [prologue, ...body, 'return loss;'] : [...body, 'return 0;'];
    out.push(new Function('P', 'X', 'T', 'S', 's', 'V', 'A', 'D', 'G', code.join('\n')) as Pass);
  }
  return out;
}
