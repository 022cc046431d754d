/**
 * Per-batch host arrays of the host-array kernels (the CPU reference; see `HostEngine`). Every
 * per-unit array is unit-major with samples contiguous: the value for unit k and sample s is at
 * index `k * size + s`. This makes each edge's work a contiguous loop over the samples.
 */
export interface Workspace {
  /** Number of samples in the batch. */
  readonly size: number;
  /** Pre-activations V_k = w_0k + Σ_i w_ik a_i (Eq. 2; gain·V for units with a gain, Def. 29). Input rows are unused. [nUnits × size] */
  readonly pre: Float64Array;
  /** Activities a_k (inputs: the data). [nUnits × size] */
  readonly act: Float64Array;
  /** Derivatives r_k = s'(V_k) (Eq. 6); 1 for inputs and linear units. [nUnits × size] */
  readonly deriv: Float64Array;
  /** Backpropagated values b_k = -∂ℓ/∂a_k (Eq. 4-5), for hidden units only. [nUnits × size] */
  readonly back: Float64Array;
  /** Reduced backpropagated values b̃_k = r_k b_k (Eq. 9-10), for every non-input unit. [nUnits × size] */
  readonly backReduced: Float64Array;
  /** Loss ℓ(x) = -ln ω(y) in nats per sample (Eq. 3). [size] */
  readonly loss: Float64Array;
}
