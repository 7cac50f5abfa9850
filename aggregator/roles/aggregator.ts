// The aggregator's steps of a round (docs/architecture.md): read who the chain selected, check each
// received update against its attestation, publish the updates, ask the federation's exact rule for
// the weights, aggregate exactly, store the checkpoint that lists the updates, and build the record
// the committee signs (RoundRecord for the direct and batched-ECDSA paths, BatchedRoundRecord for
// in-circuit attestations). The round's state is a value (round-state.ts), never kept here.
import { getAddress, type TypedDataDomain } from "ethers";
import { DsainError, ErrorCode, ensureError } from "../errors.js";
import { aggregateExact } from "../protocol/aggregation.js";
import { recoverAttester } from "../protocol/attestation.js";
import { encodeCheckpoint, encodeUpdateFile, type PublishedUpdate, type TensorSpec } from "../protocol/checkpoint.js";
import { cidToOnchain } from "../protocol/cid.js";
import { NO_DP, epsilonDebit, type DpParams } from "../protocol/evidence.js";
import type { UpdateEntry } from "../protocol/record.js";
import { isSelected, shufflePivots } from "../protocol/selection.js";
import { sortParticipants } from "../protocol/commitment.js";
import { fieldToBytes32, vectorRoot } from "../protocol/vector-root.js";
import { INITIAL_REPUTATION_MICROS, type ExactDecision, type ExactRule } from "../maths/robust/exact-rule.js";
import type { LedgerClient } from "../adapters/chain/ledger.js";
import { buildBatchedRecord, buildRecord, type BuiltBatchedRecord, type BuiltRecord } from "../adapters/chain/records.js";
import type { CheckpointStore } from "../adapters/storage/checkpoint-store.js";
import { batchedEntries, type BatchedEntries } from "../adapters/proof/batched-round.js";
import type { PublicKey } from "../protocol/eddsa.js";
import type { RoundState } from "./round-state.js";

/** Who the chain selected for the open round (docs/protocol.md §10), in both orders the paths use. */
export interface Selection {
  round: bigint;
  selectionSeed: string;
  rosterSize: number;
  /** Selected roster indices, ascending (the batched path's slot order). */
  slots: number[];
  /** Selected addresses, ascending (the record order of the direct and batched-ECDSA paths). */
  addresses: string[];
}

/**
 * Reads the open round's selection from the ledger; `roster` is the roster in enrolment order. S_t is
 * the first `k` participants in shuffle order not revoked for the round (§10): those whose position is
 * below the ledger's bound T (FederationState.selectionBound), less the revoked ones among them.
 */
export async function readSelection(ledger: LedgerClient, federationId: bigint, roster: readonly string[], k: number): Promise<Selection> {
  const state = await ledger.federationState(federationId);
  const rosterSize = Number(state.rosterSize);
  const round = state.lastRound + 1n;
  const bound = Number(state.selectionBound);
  const pivots = rosterSize > bound ? shufflePivots(state.selectionSeed, rosterSize) : [];
  const drawn = Array.from({ length: rosterSize }, (_, i) => i).filter((i) =>
    isSelected(i, rosterSize, bound, state.selectionSeed, pivots),
  );
  const revoked = new Set<number>();
  for (const i of drawn) {
    const { revokedFrom } = await ledger.participantState(federationId, roster[i]);
    if (revokedFrom !== 0n && round >= revokedFrom) revoked.add(i);
  }
  const slots = drawn.filter((i) => !revoked.has(i));
  if (slots.length > k) {
    throw new DsainError(
      ErrorCode.CHAIN_FAILURE,
      `the ledger's selection bound ${bound} draws ${slots.length} participants, more than K = ${k}`,
    );
  }
  return {
    round,
    selectionSeed: state.selectionSeed,
    rosterSize,
    slots,
    addresses: sortParticipants(slots.map((i) => getAddress(roster[i]))),
  };
}

/** An update as the aggregator receives it: the vector and the sender's EIP-712 attestation (direct path: "0x", already on-chain). */
export interface ReceivedUpdate {
  participant: string;
  delta: Int32Array;
  updateRoot: string;
  sampleCount: bigint;
  signature: string;
}

/**
 * Checks an update against its attestation before it counts: its vector hashes to the attested
 * root, and the EIP-712 signature (when it travels with the update) recovers its sender over this
 * round, this base model and these DP parameters. Throws INPUT_INVALID naming the sender and the link.
 */
export async function checkReceivedUpdate(
  u: ReceivedUpdate,
  o: { domain: TypedDataDomain; federationId: bigint; round: bigint; baseModelRoot: string; dp?: DpParams },
): Promise<void> {
  const root = fieldToBytes32(await vectorRoot(u.delta));
  if (root.toLowerCase() !== u.updateRoot.toLowerCase()) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${u.participant}'s update hashes to ${root}, not to the attested root ${u.updateRoot}`);
  }
  if (u.signature === "0x") return;
  const dp = o.dp ?? NO_DP;
  let signer: string;
  try {
    signer = recoverAttester(
      o.domain,
      {
        federationId: o.federationId,
        round: o.round,
        baseModelRoot: o.baseModelRoot,
        updateRoot: u.updateRoot,
        sampleCount: u.sampleCount,
        dpEpsilonMicros: dp.epsilonMicros,
        dpDeltaPicos: dp.deltaPicos,
        dpClipMicros: dp.clipMicros,
        dpNoiseMicros: dp.noiseMicros,
      },
      u.signature,
    );
  } catch (e) {
    throw new DsainError(
      ErrorCode.INPUT_INVALID,
      `${u.participant}'s attestation is not a signature: ${ensureError(e).message.split("\n")[0]}`,
    );
  }
  if (signer !== getAddress(u.participant)) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${u.participant}'s attestation recovers ${signer}, not its sender`);
  }
}

/** Puts each update file in the store (docs/protocol.md §7) and returns the list the checkpoint carries, in the same order. */
export async function publishUpdates(
  store: Pick<CheckpointStore, "put">,
  meta: { round: number; modelId: string; tensors: readonly TensorSpec[] },
  updates: readonly { participant: string; delta: Int32Array }[],
): Promise<PublishedUpdate[]> {
  const published: PublishedUpdate[] = [];
  for (const u of updates) {
    const file = encodeUpdateFile({
      round: meta.round,
      participant: u.participant,
      modelId: meta.modelId,
      tensors: [...meta.tensors],
      values: u.delta,
    });
    published.push({ participant: u.participant, cid: (await store.put(file)).toString() });
  }
  return published;
}

/** The rule's decision and the exact new model w_{t+1} = w_t + Σ a_i Δ_i / 65536. */
export interface Aggregated {
  decision: ExactDecision;
  next: Int32Array;
}

/**
 * Asks the federation's rule for the weights of these updates (in record order), with each sender's
 * reputation as the state holds it, and aggregates exactly on the parent model.
 */
export function aggregateRound(
  rule: ExactRule,
  state: Pick<RoundState, "model" | "reputations">,
  updates: readonly { participant: string; delta: Int32Array; sampleCount: bigint }[],
): Aggregated {
  const decision = rule.decide({
    participants: updates.map((u) => u.participant),
    sampleCounts: updates.map((u) => u.sampleCount),
    reputationsBefore: updates.map((u) => state.reputations.get(u.participant) ?? INITIAL_REPUTATION_MICROS),
    deltas: updates.map((u) => u.delta),
  });
  return {
    decision,
    next: aggregateExact(
      state.model,
      updates.map((u) => u.delta),
      decision.weights,
    ),
  };
}

/** A checkpoint in the store: its CID (and the on-chain form) and its model's root. */
export interface StoredCheckpoint {
  cid: string;
  cidCodec: number;
  cidDigest: string;
  modelRoot: string;
}

/** Encodes and stores the checkpoint of round `round`, listing the round's published updates (docs/protocol.md §7). */
export async function storeCheckpoint(
  store: Pick<CheckpointStore, "put">,
  c: { round: number; modelId: string; tensors: readonly TensorSpec[]; values: Int32Array; updates?: readonly PublishedUpdate[] },
): Promise<StoredCheckpoint> {
  const cid = await store.put(
    encodeCheckpoint({
      round: c.round,
      modelId: c.modelId,
      tensors: [...c.tensors],
      values: c.values,
      updates: c.updates === undefined ? undefined : [...c.updates],
    }),
  );
  const onchain = cidToOnchain(cid);
  return { cid: cid.toString(), cidCodec: onchain.codec, cidDigest: onchain.digest, modelRoot: fieldToBytes32(await vectorRoot(c.values)) };
}

/**
 * The record's entries of the direct and batched-ECDSA paths: what each sender attested, the rule's
 * weight and reputation, and its debit, `epsilonDebit(dp)` of the federation's DP parameters (an
 * update's `epsilonMicros` overrides it only to build records the ledger must refuse).
 */
export function recordEntries(
  updates: readonly { participant: string; updateRoot: string; sampleCount: bigint; signature: string; epsilonMicros?: bigint }[],
  decision: ExactDecision,
  reputationsBefore: ReadonlyMap<string, number>,
  dp: DpParams,
): UpdateEntry[] {
  return updates.map((u, i) => ({
    participant: u.participant,
    updateRoot: u.updateRoot,
    sampleCount: u.sampleCount,
    weight: decision.weights[i],
    epsilonMicros: u.epsilonMicros ?? epsilonDebit(dp),
    reputationMicros: decision.reputationsAfter?.[i] ?? reputationsBefore.get(u.participant) ?? INITIAL_REPUTATION_MICROS,
    signature: u.signature,
  }));
}

/** The RoundRecord the committee signs for round `round` of `state` (direct and batched-ECDSA paths). */
export function proposeRecord(
  federationId: bigint,
  state: Pick<RoundState, "round" | "parentRound">,
  checkpoint: Pick<StoredCheckpoint, "cidCodec" | "cidDigest" | "modelRoot">,
  entries: readonly UpdateEntry[],
): BuiltRecord {
  return buildRecord({ ...recordHead(federationId, state, checkpoint), entries });
}

/** The fields every record kind takes from the round and its checkpoint. */
function recordHead(
  federationId: bigint,
  state: Pick<RoundState, "round" | "parentRound">,
  checkpoint: Pick<StoredCheckpoint, "cidCodec" | "cidDigest" | "modelRoot">,
) {
  return {
    federationId,
    round: state.round,
    parentRound: state.parentRound,
    modelRoot: checkpoint.modelRoot,
    cidCodec: checkpoint.cidCodec,
    cidDigest: checkpoint.cidDigest,
  };
}

/** One line of a batched round (in-circuit attestations), in slot order. */
export interface BatchedLine {
  slot: number;
  participant: string;
  publicKey: PublicKey;
  delta: Int32Array;
  sampleCount: bigint;
  epsilonMicros?: bigint;
}

/** The BatchedRoundRecord of round `round` and its entries, from the lines and the rule's decision. */
export async function proposeBatchedRecord(
  federationId: bigint,
  state: Pick<RoundState, "round" | "parentRound" | "reputations">,
  checkpoint: Pick<StoredCheckpoint, "cidCodec" | "cidDigest" | "modelRoot">,
  lines: readonly BatchedLine[],
  decision: ExactDecision,
  dp: DpParams,
): Promise<{ record: BuiltBatchedRecord; built: BatchedEntries }> {
  const built = await batchedEntries(
    lines.map((l, i) => ({
      slot: l.slot,
      participant: l.participant,
      publicKey: l.publicKey,
      delta: l.delta,
      sampleCount: l.sampleCount,
      weight: decision.weights[i],
      epsilonMicros: l.epsilonMicros ?? epsilonDebit(dp),
      reputationMicros: decision.reputationsAfter?.[i] ?? state.reputations.get(l.participant) ?? INITIAL_REPUTATION_MICROS,
    })),
    dp,
  );
  const record = buildBatchedRecord({
    ...recordHead(federationId, state, checkpoint),
    entries: built.entries,
    updatesCommitment: built.updatesCommitment,
  });
  return { record, built };
}
