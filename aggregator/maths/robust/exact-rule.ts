// One interface for the rules that decide a round's integer weights on the exact path (docs/protocol.md
// §3): the aggregator that posts a round, the committee member that re-executes it and the auditor
// all ask the same rule, with the round's state passed in and out explicitly (no hidden reputations).
// The float engines of robust/ (RobustAggregator) stay the simulator's; a rule here is what a ledger
// record can carry: integer weights summing to 65536 and the reputations after the round. The
// baselines that are weighted means of whole updates get an exact path through weightedMeanExact.
import { DsainError, ErrorCode } from "../../errors.js";
import { integerWeights } from "../../protocol/aggregation.js";
import { AggregationRule, type AggregationParams } from "../../protocol/evidence.js";
import { SCALE } from "../../protocol/constants.js";
import { byzFedExactRound, INITIAL_REPUTATION_MICROS, type ByzFedExactParams } from "./byzfed-exact.js";
import type { RobustAggregator } from "./common.js";
import { toIntegerWeights } from "./integer-weights.js";

export { INITIAL_REPUTATION_MICROS };

/** A round as a rule sees it, in record order. */
export interface ExactRoundInput {
  /** The senders (checksummed addresses). */
  readonly participants: readonly string[];
  /** The attested sample counts. */
  readonly sampleCounts: readonly bigint[];
  /** Each sender's reputation before the round, in millionths (INITIAL_REPUTATION_MICROS when none is on record). */
  readonly reputationsBefore: readonly number[];
  /** The encoded updates Δ_i; a rule with `needsUpdates` refuses to decide without them. */
  readonly deltas?: readonly Int32Array[];
}

/** What a rule decides for a round: what the record must carry. */
export interface ExactDecision {
  /** Integer weights summing to 65536, in record order. */
  readonly weights: number[];
  /** Reputations after the round, in millionths, in record order; null: the rule leaves them as they were. */
  readonly reputationsAfter: number[] | null;
  /** Positions kept by a filtering rule (all positions for a rule that keeps everyone). */
  readonly kept: number[];
  /** A filtering rule kept nobody and used every update. */
  readonly fallback: boolean;
}

export interface ExactRule {
  /** "fedavg" or "byzfed": the name the CLI and the logs use. */
  readonly name: string;
  /** Whether the rule reads the updates themselves (ByzFed: distances to their geometric median), not only the counts. */
  readonly needsUpdates: boolean;
  decide(input: ExactRoundInput): ExactDecision;
}

/** FedAvg on the exact path: integer weights proportional to the attested sample counts (Hamilton's method). */
export const fedAvgExact: ExactRule = {
  name: "fedavg",
  needsUpdates: false,
  decide(input) {
    return {
      weights: integerWeights(input.sampleCounts),
      reputationsAfter: null,
      kept: input.participants.map((_, i) => i),
      fallback: false,
    };
  },
};

/** ByzFed on the exact path with the federation's tau and reputation decay (byzfed-exact.ts). */
export function byzFedExact(params: ByzFedExactParams): ExactRule {
  return {
    name: "byzfed",
    needsUpdates: true,
    decide(input) {
      if (input.deltas === undefined) {
        throw new DsainError(ErrorCode.INPUT_INVALID, "ByzFed decides its weights from the updates themselves; none were given");
      }
      const d = byzFedExactRound(input.deltas, input.participants, input.reputationsBefore, params);
      return { weights: d.weights, reputationsAfter: d.reputationsAfter, kept: d.kept, fallback: d.fallback };
    },
  };
}

/** The rule a federation's parameters name (IProvenanceLedger.AggregationParams). */
export function exactRuleOf(aggregation: AggregationParams): ExactRule {
  if (aggregation.rule === AggregationRule.FedAvg) return fedAvgExact;
  if (aggregation.rule === AggregationRule.ByzFed) return byzFedExact(aggregation);
  throw new DsainError(ErrorCode.INPUT_INVALID, `aggregation rule ${aggregation.rule} is neither FedAvg (0) nor ByzFed (1)`);
}

/**
 * The exact path of a robust baseline whose aggregate is a weighted mean of whole updates (Krum,
 * Multi-Krum, MDA, MoNNA, …): the float rule runs on Δ_i / 2^16 and its convex weights become
 * integer weights summing to 65536 (toIntegerWeights, Hamilton's method). Coordinate-wise rules
 * (median, trimmed mean, Bulyan, Meamed) have no such weights, and so no exact path: refused.
 * Reputations are not the rule's: they stay as the ledger holds them. The rule's state, if any,
 * lives in `aggregator` (one instance per federation).
 */
export function weightedMeanExact(aggregator: RobustAggregator): ExactRule {
  return {
    name: aggregator.name,
    needsUpdates: true,
    decide(input) {
      if (input.deltas === undefined) {
        throw new DsainError(
          ErrorCode.INPUT_INVALID,
          `${aggregator.name} decides its weights from the updates themselves; none were given`,
        );
      }
      const outcome = aggregator.aggregate({
        updates: input.deltas.map((d) => Float64Array.from(d, (x) => x / SCALE)),
        sampleCounts: input.sampleCounts.map(Number),
        clientIds: [...input.participants],
      });
      if (outcome.weights === null) {
        throw new DsainError(
          ErrorCode.INPUT_INVALID,
          `${aggregator.name} is not a weighted mean of whole updates, so it has no exact path (no integer weights to commit)`,
        );
      }
      const weights = toIntegerWeights(outcome.weights);
      return { weights, reputationsAfter: null, kept: weights.flatMap((w, i) => (w > 0 ? [i] : [])), fallback: false };
    },
  };
}
