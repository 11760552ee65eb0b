// Seedable pseudo-random numbers with a serialisable state.
//
// Generator: sfc32 (Chris Doty-Humphrey's "small fast chaotic" generator, 128-bit state, period
// >= 2^32, passes PractRand). The whole state is four uint32 words, so a checkpoint can store it
// as JSON and a killed run resumes with exactly the same stream (getState / setState).
//
// Nothing here tries to reproduce PyTorch's or Python's generators: the official DoRA code draws
// from torch and `random` in an order we cannot replay anyway. What we keep is the *distribution*
// of every draw and bit-for-bit determinism under our own seed.

/** JSON-serialisable generator state (see {@link Rng.getState}). */
export interface RngState {
  readonly algorithm: 'sfc32';
  /** The four uint32 state words a, b, c, d. */
  readonly words: readonly [number, number, number, number];
}

const TWO_POW_32 = 4294967296;

/** 32-bit mixing step of splitmix32; spreads a seed over the state words. */
function splitmix32(seed: number): () => number {
  let z = seed >>> 0;
  return () => {
    z = (z + 0x9e3779b9) >>> 0;
    let t = z;
    t = Math.imul(t ^ (t >>> 16), 0x21f0aaad);
    t = Math.imul(t ^ (t >>> 15), 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

/** Hashes a string to a uint32 (FNV-1a followed by a murmur3 finaliser for avalanche). */
export function hashString32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function seedToUint32(seed: number | string): number {
  if (typeof seed === 'string') return hashString32(seed);
  if (!Number.isFinite(seed)) throw new Error(`Rng seed must be a finite number or a string, got ${seed}`);
  // Fold the high bits of large integer seeds in, so 1 and 2^32 + 1 differ.
  const high = Math.floor(seed / TWO_POW_32);
  return (seed >>> 0) ^ Math.imul(high >>> 0, 0x9e3779b1);
}

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(seed: number | string = 0) {
    const mix = splitmix32(seedToUint32(seed));
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    // The first outputs of sfc32 still reflect the seed's structure; the reference
    // implementation discards 12 of them.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Rebuilds a generator from a state returned by {@link getState}. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  /** Next raw uint32 output. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [low, highExclusive), without modulo bias (rejection sampling). */
  int(low: number, highExclusive: number): number {
    if (!Number.isInteger(low) || !Number.isInteger(highExclusive)) {
      throw new Error(`Rng.int needs integer bounds, got [${low}, ${highExclusive})`);
    }
    const span = highExclusive - low;
    if (span <= 0) throw new Error(`Rng.int needs low < highExclusive, got [${low}, ${highExclusive})`);
    if (span > TWO_POW_32) throw new Error(`Rng.int range ${span} exceeds 2^32`);
    // Accept only draws below the largest multiple of span, so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % span);
    let draw = this.nextUint32();
    while (draw >= limit) draw = this.nextUint32();
    return low + (draw % span);
  }

  /** Standard normal draw (Box-Muller; the second value is discarded so the state stays 4 words). */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.next(); // (0, 1]: log stays finite
    const u2 = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** In-place Fisher-Yates shuffle; returns the same array. */
  shuffle<A extends { length: number; [index: number]: unknown }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** Uniform random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }

  /**
   * k distinct integers from 0..n-1 in random order, like Python's random.sample(range(n), k)
   * (the tracker's `random.sample(range(6), 3)`, utils.py L41). Partial Fisher-Yates.
   */
  sample(k: number, n: number): number[] {
    if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || k > n) {
      throw new Error(`Rng.sample needs 0 <= k <= n (integers), got k=${k}, n=${n}`);
    }
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = this.int(i, n);
      const tmp = pool[i];
      pool[i] = pool[j];
      pool[j] = tmp;
    }
    return pool.slice(0, k);
  }

  /**
   * An independent generator derived from this one's current state and a label. It does NOT
   * advance this generator, so adding a fork never shifts the parent's stream; two forks with
   * different labels (or from different parent states) give unrelated streams.
   */
  fork(label: string): Rng {
    const labelHash = hashString32(label);
    const mix = splitmix32(labelHash ^ this.a);
    const child = new Rng(0);
    child.a = (this.a ^ mix()) >>> 0;
    child.b = (this.b ^ mix()) >>> 0;
    child.c = (this.c ^ mix()) >>> 0;
    child.d = (this.d ^ mix() ^ labelHash) >>> 0;
    for (let i = 0; i < 12; i++) child.nextUint32();
    return child;
  }

  getState(): RngState {
    return { algorithm: 'sfc32', words: [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0] };
  }

  setState(state: RngState): void {
    const words = state?.words;
    if (
      state?.algorithm !== 'sfc32' ||
      !Array.isArray(words) ||
      words.length !== 4 ||
      !words.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)
    ) {
      throw new Error(`Invalid Rng state: expected { algorithm: 'sfc32', words: [4 × uint32] }, got ${JSON.stringify(state)}`);
    }
    this.a = words[0] | 0;
    this.b = words[1] | 0;
    this.c = words[2] | 0;
    this.d = words[3] | 0;
  }
}
