// Builds a round record as the committee posts it: the post (with h_t), the columns a proof needs
// and the EIP-712 message the quorum signs, from one list of entries (docs/protocol.md §4, §5, §12).
import type { Signer, TypedDataDomain } from "ethers";
import {
  accountingDigest,
  checkSortedParticipants,
  participantsRoot,
  roundCommitment,
  signRoundRecord,
  updatesDigest,
  type RoundRecordMessage,
} from "../protocol/index.js";
import type { RoundColumns, RoundPost, UpdateEntry } from "./ledger.js";

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
