/** max |a - b| / max(floor, max |b|): the relative gap of `a` to the reference `b`. */
export function relative(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-300): number {
  let diff = 0;
  let scale = floor;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}
