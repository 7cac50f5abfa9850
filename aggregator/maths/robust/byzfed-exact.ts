// ByzFed on the exact path (docs/protocol.md §3, "ByzFed rounds"): the float ByzFed of byzfed.ts
// decides who is kept; reputations (millionths, as the ledger stores them) and the integer weights
// follow in integers, so the committee that posts a round and every auditor who re-runs it from the
// published updates and the on-chain reputations get the same bits.
import { DsainError, ErrorCode } from "../../errors.js";
import { MICROS, SCALE } from "../../protocol/constants.js";
import { byzFedRound } from "./byzfed.js";
import { toIntegerWeights } from "./integer-weights.js";

/** Reputation of a participant with no reputation on record yet: 1.0 (ByzFed's initial value). */
export const INITIAL_REPUTATION_MICROS = MICROS;

/** The federation's ByzFed parameters as the ledger holds them (`FederationConfig.aggregation`). */
export interface ByzFedExactParams {
  /** tau in millionths: kept when distance <= tau * robust scale. */
  tauMicros: bigint | number;
  /** alpha in millionths, in (0, 10^6]: r <- alpha * r + (1 - alpha) * [kept]. */
  reputationDecayMicros: bigint | number;
}

export interface ByzFedExactResult {
  /** Positions (in S_t order) whose distance to the geometric median is within the threshold. */
  kept: number[];
  /** True when nobody was kept and every update is used with its decayed reputation. */
  fallback: boolean;
  /** Positions that carry weight: `kept`, or all of them on fallback. */
  used: number[];
  /** ||Δ_i / 2^16 - geometric median||, from the float path. */
  distances: Float64Array;
  /** tau * robust scale, from the float path. */
  threshold: number;
  /** Reputations after the round, millionths, in S_t order: what the record must carry. */
  reputationsAfter: number[];
  /** Integer weights summing to 65536, in S_t order: what the record must carry. */
  weights: number[];
}

/**
 * One ByzFed round on the exact path. `deltas` are the encoded updates Δ_i in S_t order,
 * `participants` their senders, `reputationsBefore` each one's reputation before the round in
 * millionths (INITIAL_REPUTATION_MICROS when it has none on record).
 *
 * 1. The float path (`byzFedRound`, the authors' defaults but tau and alpha) runs on Δ_i / 2^16 in
 *    binary64 and decides the kept set: distance <= tau * 1.4826 * median distance.
 * 2. r_i' = floor(alpha_µ * r_i / 10^6) + (10^6 - alpha_µ) * [i kept], exactly, in millionths.
 * 3. a = toIntegerWeights(r_i' for the used positions, 0 elsewhere): Hamilton's method, sum 65536.
 */
export function byzFedExactRound(
  deltas: readonly Int32Array[],
  participants: readonly string[],
  reputationsBefore: readonly number[],
  params: ByzFedExactParams,
): ByzFedExactResult {
  if (reputationsBefore.length !== deltas.length) {
    throw new DsainError(ErrorCode.BAD_PARTICIPANT_SET, `ByzFed: ${reputationsBefore.length} reputations for ${deltas.length} updates`);
  }
  for (const [i, r] of reputationsBefore.entries()) {
    if (!Number.isInteger(r) || r < 0 || r > 0xffffffff) {
      throw new DsainError(ErrorCode.INPUT_INVALID, `ByzFed: reputation ${i} is ${r}; reputations are uint32 millionths`);
    }
  }
  const decay = BigInt(params.reputationDecayMicros);
  const micros = BigInt(MICROS);
  if (decay <= 0n || decay > micros) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `ByzFed: reputationDecayMicros is ${decay}; it must be in (0, ${MICROS}]`);
  }
  const floats = deltas.map((d) => Float64Array.from(d, (x) => x / SCALE));
  const decision = byzFedRound(floats, participants, new Map(participants.map((p, i) => [p, reputationsBefore[i] / MICROS])), {
    tau: Number(params.tauMicros) / MICROS,
    alpha: Number(decay) / MICROS,
  });
  const kept = new Set(decision.kept);
  const reputationsAfter = reputationsBefore.map((r, i) => Number((decay * BigInt(r)) / micros + (kept.has(i) ? micros - decay : 0n)));
  const used = new Set(decision.used);
  const weights = toIntegerWeights(reputationsAfter.map((r, i) => (used.has(i) ? r : 0)));
  return {
    kept: decision.kept,
    fallback: decision.fallback,
    used: decision.used,
    distances: decision.distances,
    threshold: decision.threshold,
    reputationsAfter,
    weights,
  };
}
