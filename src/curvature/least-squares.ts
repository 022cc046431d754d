import type { CompiledNetwork } from '../engine/compiled-network.js';
import { leastSquaresQR } from '../linalg/qr.js';

/** Per-sample data for least-squares solves, on the host: a batch's activities, b̃ and modulus ψ̃. */
export interface LeastSquaresSamples {
  readonly size: number;
  /** Activities [nUnits × size]. */
  readonly act: ArrayLike<number>;
  /** Reduced backpropagated values b̃ [nUnits × size]. */
  readonly backReduced: ArrayLike<number>;
  /** Reduced modulus ψ̃ [nUnits × size]. */
  readonly modulus: ArrayLike<number>;
  /** Optional per-unit affine recombination T_k of the incoming signals (Prop. 31), n_k × n_k row-major. */
  readonly transforms?: Float64Array[];
}

/**
 * The unregularised unitwise step as the weighted least-squares fit of Prop. 32 / Section 3.3,
 * solved on the samples rather than on the normal equations: at unit k, rows √ψ̃(x)·ā(x)
 * (ā = (1, a_i...), or T_k ā) and targets b̃_k(x)/√ψ̃(x), samples with ψ̃ = 0 left out. Singular
 * blocks (fewer samples than parameters) have many solutions; this one has the same fitted
 * values, hence the same outputs on the data, in every parametrisation. Returns δw laid out
 * like the parameters.
 */
export function unitwiseLeastSquares(net: CompiledNetwork, samples: LeastSquaresSamples): Float64Array {
  const { size: S, act, backReduced, modulus, transforms } = samples;
  const out = new Float64Array(net.nParams);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    const p0 = net.blockOffsets[k];
    const n = net.blockOffsets[k + 1] - p0;
    const rows: number[] = [];
    const targets: number[] = [];
    const abar = new Float64Array(n);
    for (let s = 0; s < S; s++) {
      const psi = modulus[k * S + s];
      if (!(psi > 0)) continue;
      const root = Math.sqrt(psi);
      abar[0] = 1;
      for (let e = net.inOffsets[k], i = 1; e < net.inOffsets[k + 1]; e++, i++) abar[i] = act[net.inSources[e] * S + s];
      const t = transforms?.[k];
      for (let i = 0; i < n; i++) {
        let v = abar[i];
        if (t) {
          v = 0;
          for (let j = 0; j < n; j++) v += t[i * n + j] * abar[j];
        }
        rows.push(root * v);
      }
      targets.push(backReduced[k * S + s] / root);
    }
    if (targets.length === 0) continue;
    const delta = new Float64Array(n);
    leastSquaresQR(Float64Array.from(rows), targets.length, n, Float64Array.from(targets), delta);
    out.set(delta, p0);
  }
  return out;
}
