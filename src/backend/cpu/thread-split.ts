/**
 * Cut points of `start .. end-1` into `parts` contiguous ranges of about equal total weight
 * (part p is `cuts[p] .. cuts[p+1]-1`; some may be empty). Deterministic: the same arguments
 * always give the same cuts. [parts + 1]
 */
export function splitByWeight(start: number, end: number, parts: number, weight: (i: number) => number): Int32Array {
  const cuts = new Int32Array(parts + 1).fill(end);
  cuts[0] = start;
  let total = 0;
  for (let i = start; i < end; i++) total += weight(i);
  let sum = 0;
  let p = 1;
  for (let i = start; i < end && p < parts; i++) {
    sum += weight(i);
    while (p < parts && sum >= (total * p) / parts) cuts[p++] = i + 1;
  }
  return cuts;
}

/** Cut points of `start .. end-1` into `parts` ranges of sizes differing by at most one. [parts + 1] */
export function splitEvenly(start: number, end: number, parts: number): Int32Array {
  const cuts = new Int32Array(parts + 1);
  const n = end - start;
  for (let p = 0; p <= parts; p++) cuts[p] = start + Math.floor((n * p) / parts);
  return cuts;
}

/** Total weight of `start .. end-1`. */
export function totalWeight(start: number, end: number, weight: (i: number) => number): number {
  let total = 0;
  for (let i = start; i < end; i++) total += weight(i);
  return total;
}
