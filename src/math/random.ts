/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so tests, benchmarks and synthetic data are
 * reproducible across runs and machines. Math.random cannot be seeded, and a module-level generator
 * would couple unrelated callers; every caller owns its Rng.
 */

/** Array-likes that can be permuted in place: plain arrays and typed arrays. */
export interface MutableArrayLike<T> {
  length: number;
  [index: number]: T;
}

const TWO_32 = 4294967296;

/** One splitmix32 step: turns arbitrary (even poor, e.g. 0, 1, 2) seeds into well-mixed words. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return [next, (z ^ (z >>> 15)) >>> 0];
}

export class Rng {
  /**
   * sfc32 state a, b, c, d. An Int32Array rather than four fields: V8 boxes numbers beyond the 31-bit
   * small-integer range when stored in object fields, which made next() three times slower.
   */
  private readonly state = new Int32Array(4);
  /** Marsaglia's polar method yields normals in pairs; the second is kept for the next call. */
  private readonly spare = new Float64Array(1);
  private hasSpare = false;

  /**
   * @param seed any finite number; integers up to 2^53 are used in full.
   * @param stream selects an independent sequence for the same seed (e.g. one per data file), so
   *   changing how much one consumer draws does not shift what another sees.
   */
  constructor(seed: number, stream = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng seed must be finite, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_32) >>> 0;
    let s = lo ^ Math.imul(hi, 0x85ebca6b) ^ Math.imul(stream >>> 0, 0xc2b2ae35);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(s);
      s = next;
      words.push(out);
    }
    this.state.set(words);
    // The first outputs of sfc32 are still correlated with the seed: discard them.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    const s = this.state;
    const a = s[0]!;
    const b = s[1]!;
    const c = s[2]!;
    const d = s[3]!;
    const t = (((a + b) | 0) + d) | 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) | 0;
    s[2] = (((c << 21) | (c >>> 11)) + t) | 0;
    s[3] = (d + 1) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / TWO_32;
  }

  /** Uniform integer in [0, n), n ≤ 2^32 (bias ≤ n / 2^32, negligible for our sizes). */
  int(n: number): number {
    if (!(n >= 1 && n <= TWO_32 && Number.isInteger(n))) throw new RangeError(`Rng.int needs 1 ≤ n ≤ 2^32, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Standard normal N(0, 1). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare[0]!;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare[0] = v * f;
    this.hasSpare = true;
    return u * f;
  }

  /** Exponential with rate 1 (mean 1). Uses 1 - next() so log never sees 0. */
  exponential(): number {
    return -Math.log(1 - this.next());
  }

  /**
   * A uniform random draw of `count` of the array's entries into its first `count` places, in place: the first
   * `count` steps of a front-to-back Fisher–Yates shuffle (an epoch's sample, k-means' seeds).
   */
  shuffleFirst<A extends MutableArrayLike<unknown>>(array: A, count: number): A {
    const n = array.length;
    for (let t = 0; t < count; t++) {
      const j = t + this.int(n - t);
      const tmp = array[t];
      array[t] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<A extends MutableArrayLike<unknown>>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }
}
