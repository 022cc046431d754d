/**
 * Helper functions shared by the device kernels (gpu.js compiles them into each kernel that
 * calls them). A helper returns one number, so activations come as value and slope; webasm mode
 * takes no array arguments in helpers, so the block-entry → unit search stays in each kernel.
 */

/**
 * s(z) for activation code 1 (sigmoid), 2 (tanh), 3 (linear), 4 (relu), 5 (softplus) (the
 * numbers of `ActivationCode`); written with exp(-|z|) so that it never overflows. softplus is
 * max(z, 0) + ln(1 + exp(-|z|)) (no log1p in the kernel language: for z ≪ 0 it keeps absolute,
 * not relative, precision).
 */
export function activationValue(code: number, z: number): number {
  if (code < 1.5) {
    const e = Math.exp(-Math.abs(z));
    const high = 1 / (1 + e);
    if (z >= 0) {
      return high;
    }
    return e * high;
  }
  if (code < 2.5) {
    const t = Math.exp(-2 * Math.abs(z));
    const magnitude = (1 - t) / (1 + t);
    if (z >= 0) {
      return magnitude;
    }
    return -magnitude;
  }
  if (code < 3.5) {
    return z;
  }
  if (code < 4.5) {
    return Math.max(z, 0);
  }
  return Math.max(z, 0) + Math.log(1 + Math.exp(-Math.abs(z)));
}

/** s'(z) for the same codes (Eq. 6); relu's is 1 for z > 0, else 0 (as on the CPU), softplus's is sigm(z). */
export function activationSlope(code: number, z: number): number {
  if (code < 1.5) {
    const e = Math.exp(-Math.abs(z));
    const high = 1 / (1 + e);
    return high * (e * high);
  }
  if (code < 2.5) {
    const t = Math.exp(-2 * Math.abs(z));
    return (4 * t) / ((1 + t) * (1 + t));
  }
  if (code < 3.5) {
    return 1;
  }
  if (code < 4.5) {
    if (z > 0) {
      return 1;
    }
    return 0;
  }
  const e = Math.exp(-Math.abs(z));
  if (z >= 0) {
    return 1 / (1 + e);
  }
  return e / (1 + e);
}
