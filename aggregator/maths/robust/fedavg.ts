// FedAvg: the sample-weighted mean of the updates, and the plain mean (ByzFL's Average).
//
// H. B. McMahan, E. Moore, D. Ramage, S. Hampson, B. Agüera y Arcas. Communication-Efficient
// Learning of Deep Networks from Decentralized Data. AISTATS 2017.
// References matched case by case: Flower `aggregate` (sum_i n_i u_i / sum_i n_i) and ByzFL `Average`.
import { DsainError, ErrorCode } from "../../errors.js";
import {
  checkUpdates,
  meanOfRows,
  weightedSum,
  type AggregationOutcome,
  type RobustAggregator,
  type RoundUpdates,
  type Vec,
} from "./common.js";

/** The unweighted mean (1/n) sum_i u_i. */
export function mean(updates: readonly Vec[]): Float64Array {
  checkUpdates(updates, "mean");
  return meanOfRows(updates);
}

/** sum_i w_i u_i / sum_i w_i for finite weights >= 0 with a positive sum. */
export function weightedMean(updates: readonly Vec[], weights: readonly number[]): Float64Array {
  checkUpdates(updates, "weighted mean");
  if (weights.length !== updates.length) {
    throw new DsainError(ErrorCode.BAD_WEIGHTS, `weighted mean: ${weights.length} weights for ${updates.length} updates`);
  }
  let total = 0;
  for (const [i, w] of weights.entries()) {
    if (!Number.isFinite(w) || w < 0)
      throw new DsainError(ErrorCode.BAD_WEIGHTS, `weighted mean: weight ${i} is ${w}; weights are finite and >= 0`);
    total += w;
  }
  if (!(total > 0)) throw new DsainError(ErrorCode.BAD_WEIGHTS, "weighted mean: the weights sum to 0; at least one must be positive");
  return weightedSum(updates, weights, total);
}

/** FedAvg: sum_i n_i u_i / sum_i n_i with n_i the clients' local sample counts (integers >= 1). */
export function fedAvg(updates: readonly Vec[], sampleCounts: readonly number[]): Float64Array {
  checkUpdates(updates, "FedAvg");
  if (sampleCounts.length !== updates.length) {
    throw new DsainError(ErrorCode.BAD_SAMPLE_COUNT, `FedAvg: ${sampleCounts.length} sample counts for ${updates.length} updates`);
  }
  for (const [i, n] of sampleCounts.entries()) {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new DsainError(ErrorCode.BAD_SAMPLE_COUNT, `FedAvg: sample count ${i} is ${n}; it must be an integer >= 1`);
    }
  }
  return weightedMean(updates, sampleCounts);
}

/** FedAvg as a strategy: sample-weighted when the round carries sample counts, the plain mean otherwise. */
export class FedAvg implements RobustAggregator {
  readonly name = "fedavg";

  aggregate({ updates, sampleCounts }: RoundUpdates): AggregationOutcome {
    const counts = sampleCounts ?? updates.map(() => 1);
    const aggregate = fedAvg(updates, counts);
    const total = counts.reduce((a, b) => a + b, 0);
    return { aggregate, weights: Float64Array.from(counts, (n) => n / total) };
  }
}
