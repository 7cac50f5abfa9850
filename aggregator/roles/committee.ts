// The committee member's steps (docs/architecture.md): given a proposed record and access to the
// published updates, re-execute the round exactly with the auditor's own round check (checkRound in
// its "proposal" phase: the same code, not a copy) and sign the record only if every check passes;
// and never sign two different records for the same round, the signature's commitment being written
// to the member's log before the signature leaves it. A quorum of such members is a set of
// independent checkers, not co-signers of one process's result.
import { getAddress, type Signer, type TypedDataDomain } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";
import type { FederationEvidence, RoundEvidence, RoundUpdate } from "../protocol/evidence.js";
import { signRoundRecord } from "../protocol/quorum.js";
import type { UpdateEntry } from "../protocol/record.js";
import type { BuiltRecord } from "../adapters/chain/records.js";
import { checkRound, prepareAudit, type AuditContext, type AuditOptions, type AuditState } from "./auditor/audit.js";
import type { Finding } from "./auditor/findings.js";

/**
 * A member's memory of what it signed: the commitment of the record it endorsed for each round.
 * A daemon keeps it on disk; it must be written before a signature is released.
 */
export interface EndorsementLog {
  signed(round: bigint): Promise<string | undefined>;
  record(round: bigint, commitment: string): Promise<void>;
}

/** An EndorsementLog in memory: for one process's life (the demo, tests). */
export class MemoryEndorsementLog implements EndorsementLog {
  private readonly byRound = new Map<bigint, string>();

  async signed(round: bigint): Promise<string | undefined> {
    return this.byRound.get(round);
  }

  async record(round: bigint, commitment: string): Promise<void> {
    this.byRound.set(round, commitment);
  }
}

/**
 * The round a proposed record (direct and batched-ECDSA paths) will be on-chain, as the auditor reads
 * rounds: inline attestations from the entries, direct ones from the UpdateAttested events already in
 * `evidence` (an entry whose attestation is not there has none: the review says so).
 */
export function proposedRound(evidence: FederationEvidence, record: BuiltRecord, entries: readonly UpdateEntry[]): RoundEvidence {
  const round = Number(record.post.round);
  const attested = new Map<string, { updateRoot: string; signature: string }>();
  for (const e of evidence.events) {
    if (e.kind === "attestation" && e.round === round) attested.set(getAddress(e.participant), e);
  }
  const updates: RoundUpdate[] = entries.map((e) => {
    const onChain = e.signature === "0x" ? attested.get(getAddress(e.participant)) : undefined;
    return {
      participant: e.participant,
      updateRoot: e.updateRoot,
      attestedRoot: e.signature === "0x" ? (onChain?.updateRoot ?? "") : e.updateRoot,
      sampleCount: e.sampleCount,
      weight: e.weight,
      epsilonMicros: e.epsilonMicros,
      reputationMicros: e.reputationMicros,
      signature: e.signature === "0x" ? (onChain?.signature ?? "") : e.signature,
    };
  });
  return {
    round,
    parentRound: Number(record.post.parentRound),
    blockNumber: 0,
    transactionHash: "",
    commitment: record.post.commitment,
    modelRoot: record.post.modelRoot,
    cidCodec: record.post.cidCodec,
    cidDigest: record.post.cidDigest,
    participantsRoot: record.participantsRoot,
    updatesDigest: record.message.updatesDigest,
    accountingDigest: record.message.accountingDigest,
    challengeSeed: "0x" + "00".repeat(32),
    updates,
    quorumSignatures: [],
    status: "Proposed",
  };
}

/** A member's view of the federation: the audit context of its history so far and the state after its last round. */
export interface ReviewBasis {
  ctx: AuditContext;
  state: AuditState;
}

/**
 * The basis a member reviews the next proposal on, from the chain's evidence and the content store:
 * the auditor's context of the history, and the state folded over every round already posted.
 */
export async function reviewBasis(
  evidence: FederationEvidence,
  checkpoints: AuditOptions["checkpoints"],
  previous?: AuditState,
): Promise<ReviewBasis> {
  const { ctx, state } = await prepareAudit({
    evidence,
    checkpoints,
    // A review judges a record before any proof exists; the federation's own key hash keeps the
    // key check (an auditor's concern) silent.
    verifyingKeyHash: evidence.config.verifyingKeyHash,
    verifyProof: () => Promise.reject(new DsainError(ErrorCode.INPUT_INVALID, "a proposal review verifies no proof")),
  });
  if (previous !== undefined) return { ctx, state: previous };
  let folded = state;
  for (const r of evidence.rounds) folded = (await checkRound(ctx, folded, r)).state;
  return { ctx, state: folded };
}

/** What a member answers a proposal with: its signature, or the findings that made it refuse. */
export type Endorsement =
  { signed: true; signature: string; state: AuditState } | { signed: false; findings: Finding[]; state: AuditState };

/**
 * Reviews a proposed RoundRecord with the auditor's round check and signs it only if nothing is
 * found. Refuses (throws) to sign a second, different record for a round it already endorsed; the
 * same record again gets the same (deterministic) signature. `state` in the answer is the state
 * after the round, to review the next one on.
 */
export async function endorse(
  member: Signer,
  domain: TypedDataDomain,
  basis: ReviewBasis,
  record: BuiltRecord,
  entries: readonly UpdateEntry[],
  log: EndorsementLog,
): Promise<Endorsement> {
  const round = record.post.round;
  const earlier = await log.signed(round);
  if (earlier !== undefined && earlier.toLowerCase() !== record.post.commitment.toLowerCase()) {
    throw new DsainError(
      ErrorCode.INPUT_INVALID,
      `this member already endorsed another record for round ${round} (commitment ${earlier}); it signs one record per round`,
    );
  }
  const proposal = proposedRound(basis.ctx.evidence, record, entries);
  const judged = await checkRound(basis.ctx, basis.state, proposal, "proposal");
  if (judged.findings.length > 0) return { signed: false, findings: judged.findings, state: basis.state };
  await log.record(round, record.post.commitment);
  return { signed: true, signature: await signRoundRecord(member, domain, record.message), state: judged.state };
}
