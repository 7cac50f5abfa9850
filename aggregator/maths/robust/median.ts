// Coordinate-wise median: each coordinate of the aggregate is the median of that coordinate over
// the updates (the mean of the middle pair for an even count, as numpy's `median`).
//
// D. Yin, Y. Chen, K. Ramchandran, P. Bartlett. Byzantine-Robust Distributed Learning: Towards
// Optimal Statistical Rates. ICML 2018.
// References matched case by case: ByzFL `Median` and Flower `aggregate_median`.
import { checkUpdates, type AggregationOutcome, type RobustAggregator, type RoundUpdates, type Vec } from "./common.js";
import { allRows, forEachColumnBlock, medianInPlace } from "./select.js";

/** Coordinate-wise median of the listed rows (all when omitted). */
export function coordinateMedian(updates: readonly Vec[], rows?: readonly number[]): Float64Array {
  const d = checkUpdates(updates, "coordinate median");
  const idx = rows ?? allRows(updates.length);
  const m = idx.length;
  const out = new Float64Array(d);
  forEachColumnBlock(updates, idx, (buf, c0, c1) => {
    for (let j = c0, o = 0; j < c1; j++, o += m) out[j] = medianInPlace(buf, o, o + m);
  });
  return out;
}

export class CoordinateMedian implements RobustAggregator {
  readonly name = "median";

  aggregate({ updates }: RoundUpdates): AggregationOutcome {
    return { aggregate: coordinateMedian(updates), weights: null };
  }
}
