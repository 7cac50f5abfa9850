// Aggregation-weight rules an auditor can re-derive from the attested updates alone.
import { integerWeights } from "../../protocol/aggregation.js";
import type { RoundUpdate } from "../../protocol/evidence.js";

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
 * ByzFed: weights depend on the updates themselves (distances to their geometric median), which the
 * chain does not hold; the auditor re-runs ByzFed from the published updates instead
 * (`checkByzFed` in audit.ts, docs/protocol.md §3), so this rule has nothing to say from sample counts.
 */
export const byzFedRule: WeightRule = {
  name: "byzfed",
  weights: () => undefined,
};
