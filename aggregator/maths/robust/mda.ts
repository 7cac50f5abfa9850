// MDA (minimum-diameter averaging): the mean of the subset of n - f updates whose diameter (largest
// pairwise distance) is smallest.
//
// E. M. El Mhamdi, R. Guerraoui, A. Guirguis, L. N. Hoang, S. Rouault. Genuinely Distributed
// Byzantine Machine Learning. PODC 2020.
// Reference matched case by case: ByzFL `MDA(f)` (refuses 2f >= n). Subsets are visited in
// itertools.combinations order and only a strictly smaller diameter replaces the best, so ties go
// to the lexicographically first subset, as in ByzFL. The search visits C(n, f) subsets: keep f small.
import {
  checkF,
  checkUpdates,
  requireHonestMajority,
  uniformOver,
  weightedSum,
  type AggregationOutcome,
  type RobustAggregator,
  type RoundUpdates,
  type Vec,
} from "./common.js";
import { pairwiseSquaredDistances } from "./distances.js";

/** The n - f positions (ascending) of the minimum-diameter subset. */
export function mdaSelect(updates: readonly Vec[], f: number): number[] {
  checkUpdates(updates, "MDA");
  const n = updates.length;
  requireHonestMajority("MDA", n, f);
  const k = n - f;
  const dist2 = pairwiseSquaredDistances(updates);
  // Diameters compare as squared distances (sqrt is monotone); the subset is all that is returned.
  let best: number[] = Array.from({ length: k }, (_, i) => i);
  let bestDiameter = Infinity;
  const subset = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    let diameter = -Infinity;
    search: for (let a = 0; a < k; a++) {
      for (let b = a + 1; b < k; b++) {
        const v = dist2[subset[a] * n + subset[b]];
        if (v > diameter) {
          diameter = v;
          if (diameter >= bestDiameter) break search; // cannot win: only strictly smaller replaces
        }
      }
    }
    if (diameter < bestDiameter) {
      bestDiameter = diameter;
      best = subset.slice();
    }
    // Next combination in lexicographic order (itertools.combinations).
    let i = k - 1;
    while (i >= 0 && subset[i] === i + n - k) i--;
    if (i < 0) break;
    subset[i]++;
    for (let j = i + 1; j < k; j++) subset[j] = subset[j - 1] + 1;
  }
  return best;
}

export function mdaWeighted(updates: readonly Vec[], f: number): AggregationOutcome {
  const kept = mdaSelect(updates, f);
  return {
    aggregate: weightedSum(updates, new Float64Array(updates.length).fill(1), kept.length, kept),
    weights: uniformOver(updates.length, kept),
  };
}

export function mda(updates: readonly Vec[], f: number): Float64Array {
  return mdaWeighted(updates, f).aggregate;
}

export class MDA implements RobustAggregator {
  readonly name = "mda";

  constructor(readonly f: number) {
    checkF("MDA", f);
  }

  aggregate({ updates }: RoundUpdates): AggregationOutcome {
    return mdaWeighted(updates, this.f);
  }
}
