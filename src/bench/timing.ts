/** Median wall time of `fn` in microseconds: warm-up runs, then `rounds` timed batches of `inner` calls. */
export function medianMicros(fn: () => void, options: { warmup?: number; rounds?: number; inner?: number } = {}): number {
  const { warmup = 200, rounds = 31, inner = 50 } = options;
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / inner);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}
