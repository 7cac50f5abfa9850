// Meamed (mean around the median): per coordinate, the mean of the n - f values closest to the
// coordinate-wise median.
//
// C. Xie, O. Koyejo, I. Gupta. Generalized Byzantine-tolerant SGD. arXiv:1802.10116, 2018.
// Reference matched case by case: ByzFL `Meamed(f)` (refuses 2f >= n).
import {
  checkF,
  checkUpdates,
  requireHonestMajority,
  type AggregationOutcome,
  type RobustAggregator,
  type RoundUpdates,
  type Vec,
} from "./common.js";
import { allRows, forEachColumnBlock, medianInPlace, selectInPlace } from "./select.js";

/**
 * For every coordinate, the mean of the k values of the listed rows closest to their median
 * (Meamed, and the last step of Bulyan). Values at exactly the k-th distance are taken in row
 * order; numpy's argpartition leaves that tie implementation-defined.
 */
export function meanAroundMedian(updates: readonly Vec[], rows: readonly number[], k: number): Float64Array {
  const d = updates[0].length;
  const m = rows.length;
  const out = new Float64Array(d);
  const vals = new Float64Array(m);
  const diff = new Float64Array(m);
  const scratch = new Float64Array(m);
  forEachColumnBlock(updates, rows, (buf, c0, c1) => {
    for (let j = c0, o = 0; j < c1; j++, o += m) {
      for (let r = 0; r < m; r++) vals[r] = buf[o + r];
      const med = medianInPlace(buf, o, o + m);
      for (let r = 0; r < m; r++) scratch[r] = diff[r] = Math.abs(vals[r] - med);
      selectInPlace(scratch, 0, m, k - 1);
      const cut = scratch[k - 1];
      let s = 0;
      let taken = 0;
      for (let r = 0; r < m; r++) {
        if (diff[r] < cut) {
          s += vals[r];
          taken++;
        }
      }
      // Then the ties at the cut (and NaN, which orders nowhere), in row order.
      for (let r = 0; r < m && taken < k; r++) {
        if (!(diff[r] < cut) && !(diff[r] > cut)) {
          s += vals[r];
          taken++;
        }
      }
      out[j] = s / k;
    }
  });
  return out;
}

/** Meamed: per coordinate, the mean of the n - f values closest to the median. Refuses 2f >= n. */
export function meamed(updates: readonly Vec[], f: number): Float64Array {
  checkUpdates(updates, "Meamed");
  requireHonestMajority("Meamed", updates.length, f);
  return meanAroundMedian(updates, allRows(updates.length), updates.length - f);
}

export class Meamed implements RobustAggregator {
  readonly name = "meamed";

  constructor(readonly f: number) {
    checkF("Meamed", f);
  }

  aggregate({ updates }: RoundUpdates): AggregationOutcome {
    return { aggregate: meamed(updates, this.f), weights: null };
  }
}
