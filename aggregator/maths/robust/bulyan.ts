// Bulyan: select theta = n - 2f updates by running Krum repeatedly on the ones not yet chosen,
// then, per coordinate, average the beta = theta - 2f selected values closest to their median.
//
// E. M. El Mhamdi, R. Guerraoui, S. Rouault. The Hidden Vulnerability of Distributed Learning in
// Byzantium. ICML 2018.
// Reference matched case by case: Flower `aggregate_bulyan` with `aggregate_krum` (refuses
// n < 4f + 3); its Krum is the "flower" variant (krum.ts), recomputed on the shrinking set.
import { DsainError, ErrorCode } from "../../errors.js";
import { checkF, checkUpdates, type AggregationOutcome, type RobustAggregator, type RoundUpdates, type Vec } from "./common.js";
import { pairwiseSquaredDistances } from "./distances.js";
import { krumScores, type KrumVariant } from "./krum.js";
import { meanAroundMedian } from "./meamed.js";

/** The theta = n - 2f positions Bulyan's Krum stage selects, in selection order. */
export function bulyanSelect(updates: readonly Vec[], f: number, variant: KrumVariant = "flower"): number[] {
  checkUpdates(updates, "Bulyan");
  checkF("Bulyan", f);
  const n = updates.length;
  if (n < 4 * f + 3) {
    throw new DsainError(
      ErrorCode.TOO_FEW_UPDATES,
      `Bulyan cannot tolerate f=${f} Byzantine updates among n=${n}: it needs n >= 4f + 3 = ${4 * f + 3} updates (or a smaller f)`,
    );
  }
  const dist2 = pairwiseSquaredDistances(updates);
  const remaining = Array.from({ length: n }, (_, i) => i);
  const selected: number[] = [];
  for (let t = 0; t < n - 2 * f; t++) {
    const scores = krumScores(dist2, n, f, variant, remaining);
    let best = 0;
    for (let i = 1; i < scores.length; i++) if (scores[i] < scores[best]) best = i;
    selected.push(remaining[best]);
    remaining.splice(best, 1);
  }
  return selected;
}

/** Bulyan's aggregate. Refuses n < 4f + 3. */
export function bulyan(updates: readonly Vec[], f: number, variant: KrumVariant = "flower"): Float64Array {
  const selected = bulyanSelect(updates, f, variant);
  return meanAroundMedian(updates, selected, selected.length - 2 * f);
}

export class Bulyan implements RobustAggregator {
  readonly name = "bulyan";

  constructor(
    readonly f: number,
    readonly variant: KrumVariant = "flower",
  ) {
    checkF("Bulyan", f);
  }

  aggregate({ updates }: RoundUpdates): AggregationOutcome {
    return { aggregate: bulyan(updates, this.f, this.variant), weights: null };
  }
}
