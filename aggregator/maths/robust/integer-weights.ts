// The link from the float path to the exact integer path (docs/protocol.md §3): the float rules
// decide who counts and how much (ByzFed's reputations, FedAvg's sample counts, Krum's choice);
// the committed model is aggregateExact(base, deltas, toIntegerWeights(weights)).
import { DsainError, ErrorCode } from "../../errors.js";
import { WEIGHT_TOTAL } from "../../protocol/constants.js";

/** x = m * 2^e exactly, for a finite x >= 0 (every binary64 value is a dyadic rational). */
function dyadic(x: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  // Subnormals (biased exponent 0) have no implicit leading bit and the exponent of 1.
  return biased === 0 ? { m: fraction, e: -1074 } : { m: fraction | (1n << 52n), e: biased - 1075 };
}

/**
 * Integer weights a_i >= 0 with sum a_i = 65536, proportional to `weights` (finite, >= 0, not all
 * zero; any scale: normalised or not). The floats are read as the exact rationals they are, so
 * the split is exact and machine-independent: a_i = floor(w_i * A / W), then the A - sum a_i
 * remaining units go one each to the largest remainders w_i * A mod W, ties to the lower
 * position — Hamilton's method, the rule `integerWeights` applies to sample counts (and for
 * integer weights both give the same result). Positions keep their order: pass the weights in
 * the participant order S_t. A zero weight stays zero: an update the float rule excluded is
 * never in the committed model.
 */
export function toIntegerWeights(weights: ArrayLike<number>): number[] {
  if (weights.length === 0) throw new DsainError(ErrorCode.EMPTY_INPUT, "no weights: a round needs at least one update");
  const parts: { m: bigint; e: number }[] = [];
  let minE = Infinity;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (!Number.isFinite(w) || w < 0)
      throw new DsainError(ErrorCode.BAD_WEIGHTS, `weight ${i} is ${w}; float weights must be finite and >= 0`);
    const p = w === 0 ? { m: 0n, e: 0 } : dyadic(w);
    if (p.m !== 0n && p.e < minE) minE = p.e;
    parts.push(p);
  }
  if (minE === Infinity) throw new DsainError(ErrorCode.BAD_WEIGHTS, "every weight is 0; at least one update must carry weight");
  const scaled = parts.map(({ m, e }) => (m === 0n ? 0n : m << BigInt(e - minE)));
  const total = scaled.reduce((a, b) => a + b, 0n);
  const A = BigInt(WEIGHT_TOTAL);
  const base = scaled.map((x) => (x * A) / total);
  const rem = scaled.map((x) => (x * A) % total);
  let left = A - base.reduce((a, b) => a + b, 0n);
  const order = scaled.map((_, i) => i).sort((i, j) => (rem[j] > rem[i] ? 1 : rem[j] < rem[i] ? -1 : i - j));
  for (const i of order) {
    if (left === 0n) break;
    base[i] += 1n;
    left -= 1n;
  }
  return base.map(Number);
}
