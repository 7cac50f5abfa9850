// Builds a round record as the committee posts it: the post (with h_t), the columns a proof needs
// and the EIP-712 message the quorum signs, from one list of entries (docs/protocol.md §4, §5, §12),
// for both record kinds: RoundRecord (postRound) and BatchedRoundRecord (postBatchedRound, §14).
import type { Signer, TypedDataDomain } from "ethers";
import {
  accountingDigest,
  batchedEntriesDigest,
  checkSortedParticipants,
  fieldToBytes32,
  participantsRoot,
  roundCommitment,
  signBatchedRoundRecord,
  signRoundRecord,
  sortParticipants,
  updatesDigest,
  type BatchedRoundRecordMessage,
  type RoundRecordMessage,
} from "../../protocol/index.js";
import type { BatchedEntry, RoundColumns, RoundPost } from "../../protocol/evidence.js";
import type { UpdateEntry } from "../../protocol/record.js";

export interface RecordInput {
  federationId: bigint;
  round: bigint;
  parentRound: bigint;
  modelRoot: string;
  cidCodec: number;
  cidDigest: string;
  /** Entries in S_t order (strictly ascending participants). */
  entries: readonly UpdateEntry[];
}

export interface BuiltRecord {
  post: RoundPost;
  columns: RoundColumns;
  message: RoundRecordMessage;
  participantsRoot: string;
}

export function buildRecord(r: RecordInput): BuiltRecord {
  const participants = r.entries.map((e) => e.participant);
  checkSortedParticipants(participants);
  const columns: RoundColumns = { participants, updateRoots: r.entries.map((e) => e.updateRoot), weights: r.entries.map((e) => e.weight) };
  const pRoot = participantsRoot(participants);
  const commitment = roundCommitment({
    modelRoot: r.modelRoot,
    cidCodec: r.cidCodec,
    cidDigest: r.cidDigest,
    participantsRoot: pRoot,
    round: r.round,
  });
  const message: RoundRecordMessage = {
    federationId: r.federationId,
    round: r.round,
    parentRound: r.parentRound,
    commitment,
    updatesDigest: updatesDigest(participants, columns.updateRoots, columns.weights),
    accountingDigest: accountingDigest(
      participants,
      r.entries.map((e) => e.epsilonMicros),
      r.entries.map((e) => e.reputationMicros),
    ),
  };
  return {
    post: { round: r.round, parentRound: r.parentRound, cidCodec: r.cidCodec, modelRoot: r.modelRoot, cidDigest: r.cidDigest, commitment },
    columns,
    message,
    participantsRoot: pRoot,
  };
}

/** Each committee member's EIP-712 signature over the record, in the order given. */
export async function signRecord(signers: readonly Signer[], domain: TypedDataDomain, message: RoundRecordMessage): Promise<string[]> {
  const out: string[] = [];
  for (const s of signers) out.push(await signRoundRecord(s, domain, message));
  return out;
}

export interface BatchedRecordInput extends Omit<RecordInput, "entries"> {
  /** Entries in strictly ascending roster index (registry slot), the circuit's order. */
  entries: readonly BatchedEntry[];
  /** updatesCommitment (aggregator/protocol/eddsa.ts) of the same entries. */
  updatesCommitment: bigint;
}

export interface BuiltBatchedRecord {
  post: RoundPost;
  message: BatchedRoundRecordMessage;
  participantsRoot: string;
  entriesDigest: string;
  /** updatesCommitment as the bytes32 postBatchedRound takes. */
  updatesCommitment: string;
}

/**
 * A batched record (docs/protocol.md §14): h_t over S_t sorted by address (§4, §5) whatever the
 * entries' roster order, and the BatchedRoundRecord message the committee signs.
 */
export function buildBatchedRecord(r: BatchedRecordInput): BuiltBatchedRecord {
  const pRoot = participantsRoot(sortParticipants(r.entries.map((e) => e.participant)));
  const commitment = roundCommitment({
    modelRoot: r.modelRoot,
    cidCodec: r.cidCodec,
    cidDigest: r.cidDigest,
    participantsRoot: pRoot,
    round: r.round,
  });
  const entriesDigest = batchedEntriesDigest(r.entries);
  const updatesCommitment = fieldToBytes32(r.updatesCommitment);
  return {
    post: { round: r.round, parentRound: r.parentRound, cidCodec: r.cidCodec, modelRoot: r.modelRoot, cidDigest: r.cidDigest, commitment },
    message: {
      federationId: r.federationId,
      round: r.round,
      parentRound: r.parentRound,
      commitment,
      updatesCommitment,
      entriesDigest,
    },
    participantsRoot: pRoot,
    entriesDigest,
    updatesCommitment,
  };
}

/** Each committee member's EIP-712 signature over a batched record, in the order given. */
export async function signBatchedRecord(
  signers: readonly Signer[],
  domain: TypedDataDomain,
  message: BatchedRoundRecordMessage,
): Promise<string[]> {
  const out: string[] = [];
  for (const s of signers) out.push(await signBatchedRoundRecord(s, domain, message));
  return out;
}
