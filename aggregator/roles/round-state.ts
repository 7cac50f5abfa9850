// A federation's round state as a value the round's steps pass along: the round to run, the model
// it starts from and the reputations the ledger holds. The demo carries it from round to round; a
// process that starts late (or restarts) rebuilds it from the chain and the content store alone.
import { DsainError, ErrorCode } from "../errors.js";
import { decodeCheckpoint } from "../protocol/checkpoint.js";
import { cidFromOnchain } from "../protocol/cid.js";
import type { FederationEvidence } from "../protocol/evidence.js";
import { fieldToBytes32, vectorRoot } from "../protocol/vector-root.js";
import type { LedgerClient } from "../adapters/chain/ledger.js";
import type { CheckpointSource } from "./auditor/audit.js";

export interface RoundState {
  /** The round to run next. */
  readonly round: bigint;
  /** The round whose model it builds on (the federation's head; 0 = genesis). */
  readonly parentRound: bigint;
  /** w_t: the parent's model, encoded. */
  readonly model: Int32Array;
  /** Its Poseidon root (bytes32): what the participants attest as their base model. */
  readonly modelRoot: string;
  /** Reputations (millionths) as the ledger holds them; absent: never in a record (INITIAL_REPUTATION_MICROS). */
  readonly reputations: ReadonlyMap<string, number>;
}

/** The state before round 1: the genesis model. */
export function genesisState(model: Int32Array, modelRoot: string): RoundState {
  return { round: 1n, parentRound: 0n, model, modelRoot, reputations: new Map() };
}

/** The state after round `state.round` was recorded with `next` as its model and these entries' reputations. */
export function advanceState(
  state: RoundState,
  recorded: { model: Int32Array; modelRoot: string; entries: readonly { participant: string; reputationMicros: number }[] },
): RoundState {
  const reputations = new Map(state.reputations);
  for (const e of recorded.entries) reputations.set(e.participant, e.reputationMicros);
  return { round: state.round + 1n, parentRound: state.round, model: recorded.model, modelRoot: recorded.modelRoot, reputations };
}

/**
 * The state of the federation's next round, rebuilt from the chain and the content store: the
 * round after the ledger's last, on top of its head, whose checkpoint is fetched and checked
 * against the root the chain holds; reputations replayed from the events as the ledger applied
 * them (carried over from a predecessor, then each record in chain order).
 */
export async function stateFromChain(
  ledger: Pick<LedgerClient, "federationState">,
  federationId: bigint,
  evidence: FederationEvidence,
  content: CheckpointSource,
): Promise<RoundState> {
  const { lastRound, head } = await ledger.federationState(federationId);
  const cfg = evidence.config;
  const headRecord = head === 0n ? undefined : evidence.rounds.find((r) => BigInt(r.round) === head);
  if (head !== 0n && headRecord === undefined) {
    throw new DsainError(ErrorCode.CHAIN_FAILURE, `the ledger's head is round ${head}, which no RoundProposed event records`);
  }
  const cid =
    headRecord === undefined
      ? cidFromOnchain(cfg.genesisCidCodec, cfg.genesisCidDigest)
      : cidFromOnchain(headRecord.cidCodec, headRecord.cidDigest);
  const checkpoint = decodeCheckpoint(await content.getVerified(cid));
  const modelRoot = fieldToBytes32(await vectorRoot(checkpoint.values));
  const expectedRoot = headRecord === undefined ? cfg.genesisModelRoot : headRecord.modelRoot;
  if (modelRoot.toLowerCase() !== expectedRoot.toLowerCase()) {
    throw new DsainError(
      ErrorCode.CHECKPOINT_MALFORMED,
      `the checkpoint of round ${head} (${cid.toString()}) has root ${modelRoot}; the chain holds ${expectedRoot}`,
    );
  }
  const reputations = new Map<string, number>();
  for (const e of evidence.events) if (e.kind === "carriedOver") reputations.set(e.participant, e.reputationMicros);
  for (const r of [...evidence.rounds].sort((a, b) => a.round - b.round)) {
    for (const u of r.updates) reputations.set(u.participant, u.reputationMicros);
  }
  return { round: lastRound + 1n, parentRound: head, model: checkpoint.values, modelRoot, reputations };
}
