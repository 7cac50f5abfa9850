// The types the robust kernels share: an update vector and the Weiszfeld engine the SIMD and
// scalar passes both implement (apart, so that neither kernel file imports the other for types).

/** One client's update (or model). Models are float32 in tfjs; the reference vectors are float64. */
export type Vec = Float64Array | Float32Array;

/** An extra weighted sum a pass can make from its read of the input. */
export interface ExtraSum {
  readonly weights: ArrayLike<number>;
  readonly divisor: number;
  /** Rows summed, ascending. */
  readonly rows: readonly number[];
  /** Written: sum_{i in rows} weights_i u_i / divisor. */
  readonly into: Float64Array;
}

/** Sums a pass returns: ||s||^2 and y . s, s = next - y (on the first pass: ||next||^2 and 0). */
export interface PassSums {
  readonly step2: number;
  readonly prevDotStep: number;
}

/**
 * The iterates of one Weiszfeld run and the passes between them. One engine per run: the first
 * pass has no previous iterate; `accept` makes the pass's candidate the current iterate.
 */
export interface WeiszfeldEngine {
  /**
   * One pass from the current iterate y (none on the first pass) to the candidate y' =
   * (sum_i w_i u_i, in row order) * (1 / total), a product with the reciprocal (at most one ulp from
   * the reference's division, which would cost a sixth of the pass). Per row, out[i] is
   * ||u_i - y'||^2 where direct[i] is 1, else u_i . (y' - y) (the update form; not on the first
   * pass). `extra`: also sum_{i in rows} weights_i u_i / divisor, each coordinate accumulated in row
   * order and divided once (common.ts's `weightedSum`, to the bit), from the same read.
   */
  pass(w: Float64Array, total: number, direct: Uint8Array, out: Float64Array, extra?: ExtraSum): PassSums;
  /** The candidate becomes the current iterate. */
  accept(): void;
  /** out[i] = ||u_i - candidate||^2 for the listed rows (others untouched): one read of those rows. */
  candidateDistances(rows: readonly number[], out: Float64Array): void;
  /** The current iterate (the engine is not used afterwards). */
  current(): Float64Array;
}
