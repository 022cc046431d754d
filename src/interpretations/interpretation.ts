import type { CompiledNetwork } from '../engine/compiled-network.js';
import type { Workspace } from '../engine/workspace.js';
import type { Prng } from '../random/prng.js';

/** The host arrays an interpretation reads: a forward pass of `size` samples. */
export type OutputPass = Pick<Workspace, 'size' | 'pre' | 'act' | 'deriv'>;

/**
 * The Fisher metric of the output distribution ω on the output pre-activations, per sample, in
 * reduced variables (multiplied by r, as b̃ = rb, so saturated outputs give zeros rather than
 * 0/0). Transfer rates are backpropagated from output o with seed σ_o (Def. 2 with J_o^o := 1,
 * times r: J̃_k^o = r_k J_k^o σ_o / r_o). The pairwise Fisher modulus of Prop. 27 (Eq. 102)
 * then reads, for units k, k' (reduced: r_k r_k' Φ_kk'):
 *   Σ_o β_o J̃_k^o J̃_k'^o + β_x (Σ_o γ_o J̃_k^o)(Σ_o γ_o J̃_k'^o);
 * the Fisher modulus (Def. 3, reduced: φ̃_k = r_k² Φ_k) is the case k = k'.
 */
export interface OutputMetric {
  /** Seeds σ_o per sample: [nOutputs × size]. */
  seeds: Float64Array;
  /** β_o per sample: [nOutputs × size]. */
  beta: Float64Array;
  /** γ_o per sample, or undefined when there is no extra term: [nOutputs × size]. */
  gamma: Float64Array | undefined;
  /** β_x per sample, or undefined: [size]. */
  betaExtra: Float64Array | undefined;
}

/**
 * One output interpretation of Example 1: everything the engine needs to know about the output
 * distribution ω(y | a_out), in one object. Arrays are unit-major like the workspace; targets
 * and probabilities are [nOutputs × size].
 */
export interface OutputInterpretation {
  /**
   * ℓ = -ln ω(y) per sample (Eq. 3) into `loss` ([size]) and the reduced backpropagated values
   * b̃ = r b of the output units (Eq. 7, 9) into the output rows of `backReduced`, computed in
   * the reduced variables so that saturated outputs never give 0/0; terms with a zero target
   * weight are skipped, so 0·∞ never arises.
   */
  outputLayer(net: CompiledNetwork, pass: OutputPass, targets: Float64Array, loss: Float64Array, backReduced: Float64Array): void;
  /** The output Fisher metric (Eq. 14-17) on a forward pass. */
  metric(net: CompiledNetwork, pass: OutputPass): OutputMetric;
  /**
   * Optional: the reduced backpropagated modulus of the output units (Eq. 27), the diagonal
   * β σ² + β_x (γ σ)² of {@link metric}, written straight into the output rows of `out`
   * ([nUnits × size]) with the same values, without building the metric's arrays.
   */
  outputModulus?(net: CompiledNetwork, pass: OutputPass, out: Float64Array): void;
  /** What ω(x) predicts per output and sample: P(Y = 1), class probabilities, or Gaussian means. */
  probabilities(net: CompiledNetwork, pass: Pick<OutputPass, 'size' | 'act'>): Float64Array;
  /**
   * The random numbers of one Monte-Carlo draw y ~ ω(x) (Eq. 100), consumed from `rng` in a fixed
   * order, into `out` ([nOutputs × size]; class distributions use row 0, one uniform per sample).
   */
  drawNumbers(net: CompiledNetwork, size: number, rng: Prng, out: Float64Array): void;
  /** Outputs y ~ ω(x) from one draw's numbers into `targets`. */
  sample(net: CompiledNetwork, pass: Pick<OutputPass, 'size' | 'act'>, draw: Float64Array, targets: Float64Array): void;
}
