/**
 * Helper functions shared by the device kernels (gpu.js compiles them into each kernel that
 * calls them). A helper returns one number, so activations come as value and slope; webasm mode
 * takes no array arguments in helpers, so the block-entry → unit search stays in each kernel.
 */

/** s(z) for activation code 1 (sigmoid), 2 (tanh), else linear; written with exp(-|z|) so that it never overflows. */
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
  return z;
}

/** s'(z) for the same codes (Eq. 6). */
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
  return 1;
}
