// Exact integer aggregation (docs/protocol.md §3): integer weights summing to 65536 and
// w_{t+1} = w_t + floor(sum_i a_i * delta_i / 65536), identical bits on every machine.
import { DsainError, ErrorCode } from "../errors.js";
import { INT_MAX, INT_MIN, WEIGHT_TOTAL } from "./constants.js";

/**
 * Integer weights proportional to sample counts: floor(n_i * A / N), then the remainder handed
 * out one unit at a time by largest fractional part, ties to the lower index (Hamilton's method).
 */
export function integerWeights(sampleCounts: readonly (number | bigint)[]): number[] {
  if (sampleCounts.length === 0) throw new DsainError(ErrorCode.EMPTY_INPUT, "no sample counts: a round needs at least one update");
  const counts = sampleCounts.map((n, i) => {
    const v = BigInt(n);
    if (v < 1n || v > 2n ** 64n - 1n) {
      throw new DsainError(ErrorCode.BAD_SAMPLE_COUNT, `sample count ${i} is ${v}; it must be an integer in [1, 2^64)`);
    }
    return v;
  });
  const total = counts.reduce((a, b) => a + b, 0n);
  const A = BigInt(WEIGHT_TOTAL);
  const base = counts.map((n) => (n * A) / total);
  const frac = counts.map((n) => (n * A) % total);
  let remainder = A - base.reduce((a, b) => a + b, 0n);
  const order = counts.map((_, i) => i).sort((i, j) => (frac[j] > frac[i] ? 1 : frac[j] < frac[i] ? -1 : i - j));
  for (const i of order) {
    if (remainder === 0n) break;
    base[i] += 1n;
    remainder -= 1n;
  }
  return base.map(Number);
}

export function checkWeights(weights: readonly number[], k: number): void {
  if (weights.length !== k) throw new DsainError(ErrorCode.BAD_WEIGHTS, `${weights.length} weights for ${k} updates`);
  let sum = 0;
  for (const [i, a] of weights.entries()) {
    if (!Number.isInteger(a) || a < 0 || a > WEIGHT_TOTAL) {
      throw new DsainError(ErrorCode.BAD_WEIGHTS, `weight ${i} is ${a}; weights are integers in [0, ${WEIGHT_TOTAL}]`);
    }
    sum += a;
  }
  if (sum !== WEIGHT_TOTAL) throw new DsainError(ErrorCode.BAD_WEIGHTS, `weights sum to ${sum}, not ${WEIGHT_TOTAL}`);
}

/**
 * w_{t+1}[j] = w_t[j] + floor(sum_i a_i * delta_i[j] / A). Exact in binary64: with sum a_i = 2^16
 * and |delta| <= 2^31 every partial sum stays below 2^47 < 2^53, and dividing by 2^16 is exact.
 */
export function aggregateExact(base: Int32Array, deltas: readonly Int32Array[], weights: readonly number[]): Int32Array {
  checkWeights(weights, deltas.length);
  for (const [i, d] of deltas.entries()) {
    if (d.length !== base.length) {
      throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `update ${i} has ${d.length} parameters, the model ${base.length}`);
    }
  }
  const out = new Int32Array(base.length);
  for (let j = 0; j < base.length; j++) {
    let s = 0;
    for (let i = 0; i < deltas.length; i++) s += weights[i] * deltas[i][j];
    const v = base[j] + Math.floor(s / WEIGHT_TOTAL);
    if (v < INT_MIN || v > INT_MAX) {
      throw new DsainError(ErrorCode.ENCODING_OUT_OF_RANGE, `aggregated parameter ${j} = ${v} leaves the int32 range`);
    }
    out[j] = v;
  }
  return out;
}
