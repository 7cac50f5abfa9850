// Coordinate-wise trimmed mean: per coordinate, drop the b largest and b smallest values and
// average the rest.
//
// D. Yin, Y. Chen, K. Ramchandran, P. Bartlett. Byzantine-Robust Distributed Learning: Towards
// Optimal Statistical Rates. ICML 2018.
// References matched case by case: ByzFL `TrMean(f)` (b = f, refuses 2f >= n) and Flower
// `aggregate_trimmed_avg(proportiontocut)` (b = floor(proportiontocut * n), scipy's `trim_mean`).
import { DsainError, ErrorCode } from "../../errors.js";
import {
  checkF,
  checkUpdates,
  meanOfRows,
  requireHonestMajority,
  type AggregationOutcome,
  type RobustAggregator,
  type RoundUpdates,
  type Vec,
} from "./common.js";
import { allRows, forEachColumnBlock, selectInPlace } from "./select.js";

/** Mean of the values of rank [b, n - b) in every coordinate; b = 0 is the plain mean. Needs n > 2b. */
function trimmedMeanRaw(updates: readonly Vec[], b: number): Float64Array {
  const n = updates.length;
  if (b === 0) return meanOfRows(updates);
  const d = updates[0].length;
  const out = new Float64Array(d);
  const kept = n - 2 * b;
  forEachColumnBlock(updates, allRows(n), (buf, c0, c1) => {
    for (let j = c0, o = 0; j < c1; j++, o += n) {
      selectInPlace(buf, o, o + n, o + b);
      selectInPlace(buf, o + b, o + n, o + n - b - 1);
      let s = 0;
      for (let r = o + b; r < o + n - b; r++) s += buf[r];
      out[j] = s / kept;
    }
  });
  return out;
}

/**
 * Trimmed mean dropping f values on each side of every coordinate (ByzFL `TrMean`). Refuses
 * 2f >= n, as ByzFL does.
 */
export function trimmedMean(updates: readonly Vec[], f: number): Float64Array {
  checkUpdates(updates, "trimmed mean");
  requireHonestMajority("trimmed mean", updates.length, f);
  return trimmedMeanRaw(updates, f);
}

/**
 * Trimmed mean cutting floor(proportion * n) values on each side (Flower's `aggregate_trimmed_avg`,
 * after scipy's `trim_mean`). Flower raises "Proportion too big." when the cut exceeds half; an
 * empty middle (cut exactly half) would average nothing, so it is refused too.
 */
export function trimmedMeanProportion(updates: readonly Vec[], proportion: number): Float64Array {
  checkUpdates(updates, "trimmed mean");
  if (!Number.isFinite(proportion) || proportion < 0) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `trimmed mean: proportiontocut must be a finite number >= 0, got ${proportion}`);
  }
  const n = updates.length;
  const cut = Math.trunc(proportion * n);
  if (cut >= n - cut) {
    throw new DsainError(
      ErrorCode.TOO_FEW_UPDATES,
      `trimmed mean: proportiontocut=${proportion} cuts ${cut} of n=${n} updates on each side and leaves nothing to average; use a proportion below 1/2`,
    );
  }
  return trimmedMeanRaw(updates, cut);
}

export class TrimmedMean implements RobustAggregator {
  readonly name = "trimmed-mean";

  /** @param f values dropped on each side of every coordinate (the number of Byzantine clients tolerated). */
  constructor(readonly f: number) {
    checkF("trimmed mean", f);
  }

  aggregate({ updates }: RoundUpdates): AggregationOutcome {
    return { aggregate: trimmedMean(updates, this.f), weights: null };
  }
}
