// Aggregation-weight rules an auditor can re-derive from the attested updates alone.
import { integerWeights } from "../protocol/aggregation.js";
import type { RoundUpdate } from "../chain/ledger.js";

export interface WeightRule {
  name: string;
  /** The weights the rule gives these updates, or undefined when the rule needs more than the chain holds. */
  weights(updates: readonly Pick<RoundUpdate, "sampleCount" | "reputationMicros">[]): number[] | undefined;
}

/** FedAvg on the exact path: integer weights proportional to the attested sample counts. */
export const fedAvgRule: WeightRule = {
  name: "fedavg",
  weights: (updates) => integerWeights(updates.map((u) => u.sampleCount)),
};

/**
 * ByzFed: weights come from the committee's robust aggregation and the reputations it records;
 * until that rule has an integer twin here, the auditor checks the sum and the quorum, not the split.
 */
export const byzFedRule: WeightRule = {
  name: "byzfed",
  weights: () => undefined,
};
