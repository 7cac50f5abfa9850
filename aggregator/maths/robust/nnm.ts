// NNM (nearest-neighbour mixing), a pre-aggregator: every update is replaced by the mean of its
// n - f nearest updates (itself included); any robust aggregator then runs on the mixed updates.
//
// Y. Allouah, S. Farhadkhani, R. Guerraoui, N. Gupta, R. Pinot, J. Stephan. Fixing by Mixing: A
// Recipe for Optimal Byzantine ML under Heterogeneity. AISTATS 2023.
// Reference matched case by case: ByzFL `NNM(f)` (refuses f >= n). Equal distances at the cut go to
// the lower position.
import { DsainError, ErrorCode } from "../../errors.js";
import { checkF, checkUpdates, weightedSum, type Vec } from "./common.js";
import { pairwiseSquaredDistances } from "./distances.js";
import { rankByScore } from "./krum.js";

export function nnm(updates: readonly Vec[], f: number): Float64Array[] {
  checkUpdates(updates, "NNM");
  checkF("NNM", f);
  const n = updates.length;
  if (f >= n) {
    throw new DsainError(ErrorCode.TOO_FEW_UPDATES, `NNM cannot tolerate f=${f} Byzantine updates among n=${n}: it needs f < n`);
  }
  const dist2 = pairwiseSquaredDistances(updates);
  const ones = new Float64Array(n).fill(1);
  return updates.map((_, i) => weightedSum(updates, ones, n - f, rankByScore(dist2.subarray(i * n, (i + 1) * n)).slice(0, n - f)));
}
