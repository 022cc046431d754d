import { UsageError, problem } from '../errors.js';
/**
 * The one PRNG of unitwise: xoshiro128** (Blackman & Vigna, 2018), 32-bit state words,
 * seeded from a single integer through splitmix32. Chosen because it is small, fast in
 * JavaScript's 32-bit integer arithmetic, statistically sound for simulation, and its state
 * (four uint32) serialises trivially, so runs can be resumed bit-for-bit.
 */

/** Serialisable generator state: four unsigned 32-bit words. */
export type PrngState = [number, number, number, number];

export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Spare standard normal from the last Box-Muller pair, or NaN. */
  private spare = Number.NaN;

  /** Seeds the generator from any finite number (its integer part, modulo 2^32). */
  constructor(seed: number | PrngState) {
    if (Array.isArray(seed)) {
      [this.s0, this.s1, this.s2, this.s3] = seed.map((w) => w >>> 0) as PrngState;
    } else {
      let x = Math.trunc(seed) >>> 0;
      const next = (): number => {
        // splitmix32
        x = (x + 0x9e3779b9) >>> 0;
        let z = x;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        return (z ^ (z >>> 16)) >>> 0;
      };
      this.s0 = next();
      this.s1 = next();
      this.s2 = next();
      this.s3 = next();
    }
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Current state, to resume the exact same stream later with `new Prng(state)`. */
  state(): PrngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Continues the stream of `state` (as `new Prng(state)` does). */
  setState(state: PrngState): void {
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w >>> 0) as PrngState;
    this.spare = Number.NaN;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!(n >= 1 && n <= 0x100000000)) throw new UsageError([problem('prng', `Prng.int: bound ${n} is outside 1 .. 2^32`)]);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal draw (Box-Muller, polar-free form; pairs cached). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = Number.NaN;
      return z;
    }
    const u1 = 1 - this.uniform(); // (0, 1]
    const u2 = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    this.spare = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  }

  /** `count` distinct integers drawn uniformly from [0, n), in draw order (partial Fisher-Yates). */
  sampleWithoutReplacement(n: number, count: number): number[] {
    if (count > n) throw new UsageError([problem('prng', `cannot draw ${count} distinct values from ${n}`)]);
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + this.int(n - i);
      const tmp = pool[i];
      pool[i] = pool[j];
      pool[j] = tmp;
    }
    return pool.slice(0, count);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
