// MoNNA (mean of the nearest neighbours of a trusted update): the mean of the n - f updates
// closest to update `idx` (the server's or a trusted client's own), itself included.
//
// S. Farhadkhani, R. Guerraoui, N. Gupta, L. N. Hoang, R. Pinot, J. Stephan. Robust Collaborative
// Learning with Linear Gradient Overhead. ICML 2023.
// Reference matched case by case: ByzFL `MoNNA(f, idx=0)` (refuses 2f >= n and idx >= n). Equal
// distances at the cut go to the lower position (numpy's argpartition leaves them unspecified).
import { DsainError, ErrorCode } from "../../errors.js";
import {
  checkF,
  checkUpdates,
  distance,
  requireHonestMajority,
  uniformOver,
  weightedSum,
  type AggregationOutcome,
  type RobustAggregator,
  type RoundUpdates,
  type Vec,
} from "./common.js";
import { rankByScore } from "./krum.js";

/** The n - f positions nearest to update `idx`, nearest first. */
export function monnaSelect(updates: readonly Vec[], f: number, idx = 0): number[] {
  checkUpdates(updates, "MoNNA");
  const n = updates.length;
  requireHonestMajority("MoNNA", n, f);
  if (!Number.isInteger(idx) || idx < 0 || idx >= n) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `MoNNA: idx must be the position of an update, an integer in [0, n=${n}), got ${idx}`);
  }
  const dist = updates.map((u) => distance(u, updates[idx]));
  return rankByScore(dist).slice(0, n - f);
}

export function monnaWeighted(updates: readonly Vec[], f: number, idx = 0): AggregationOutcome {
  const kept = monnaSelect(updates, f, idx);
  return {
    aggregate: weightedSum(updates, new Float64Array(updates.length).fill(1), kept.length, kept),
    weights: uniformOver(updates.length, kept),
  };
}

export function monna(updates: readonly Vec[], f: number, idx = 0): Float64Array {
  return monnaWeighted(updates, f, idx).aggregate;
}

export class MoNNA implements RobustAggregator {
  readonly name = "monna";

  /** @param f Byzantine clients tolerated. @param idx position of the trusted update. */
  constructor(
    readonly f: number,
    readonly idx = 0,
  ) {
    checkF("MoNNA", f);
  }

  aggregate({ updates }: RoundUpdates): AggregationOutcome {
    return monnaWeighted(updates, this.f, this.idx);
  }
}
