// The tests' deterministic pseudo-random numbers: one xorshift32 stream, so every run tests the same
// vectors (not for anything but tests).

/** xorshift32 (Marsaglia, 2003) from `seed` (0 is taken as 1): each call gives the next uint32. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** A deterministic int32 vector of `length` entries in [-span, span], drawn from xorshift32(seed). */
export function seededVector(seed: number, length: number, span: number): Int32Array {
  const next = xorshift32(seed);
  return Int32Array.from({ length }, () => (next() % (2 * span + 1)) - span);
}
