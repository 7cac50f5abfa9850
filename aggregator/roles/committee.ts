// The committee member's steps (docs/architecture.md): given a proposed record and access to the
// published updates, re-execute the round exactly with the auditor's own round check (checkRound in
// its "proposal" phase: the same code, not a copy) and sign the record only if every check passes;
// and never sign two different records for the same round, the signature's commitment being written
// to the member's log before the signature leaves it. A quorum of such members is a set of
// independent checkers, not co-signers of one process's result.
import { getAddress, type Signer, type TypedDataDomain } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";
import type { BatchedEntry, FederationEvidence, RoundEvidence, RoundUpdate } from "../protocol/evidence.js";
import { signBatchedRoundRecord, signRoundRecord } from "../protocol/quorum.js";
import { fieldToBytes32 } from "../protocol/vector-root.js";
import type { UpdateEntry } from "../protocol/record.js";
import type { BuiltBatchedRecord, BuiltRecord } from "../adapters/chain/records.js";
import { attestationMessage, roundScope, verifyMessage, type EdDSASignature } from "../protocol/eddsa.js";
import { checkRound, prepareAudit, type AuditContext, type AuditOptions, type AuditState } from "./auditor/audit.js";
import { omittedAttestations, type Finding } from "./auditor/findings.js";
import { packParticipantSlots } from "../protocol/batched.js";

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
    ...unposted(record),
    updatesDigest: record.message.updatesDigest,
    accountingDigest: record.message.accountingDigest,
    updates,
  };
}

/** What a record not posted yet shows of itself as a round: its post, no block, no quorum, no challenge. */
function unposted(
  record: BuiltRecord | BuiltBatchedRecord,
): Omit<RoundEvidence, "updatesDigest" | "accountingDigest" | "updates" | "batched"> {
  return {
    round: Number(record.post.round),
    parentRound: Number(record.post.parentRound),
    blockNumber: 0,
    transactionHash: "",
    commitment: record.post.commitment,
    modelRoot: record.post.modelRoot,
    cidCodec: record.post.cidCodec,
    cidDigest: record.post.cidDigest,
    participantsRoot: record.participantsRoot,
    challengeSeed: "0x" + "00".repeat(32),
    quorumSignatures: [],
    status: "Proposed",
  };
}

/** Refuses to sign a second, different record for a round the member already endorsed. */
async function refuseEquivocation(log: EndorsementLog, round: bigint, commitment: string): Promise<void> {
  const earlier = await log.signed(round);
  if (earlier !== undefined && earlier.toLowerCase() !== commitment.toLowerCase()) {
    throw new DsainError(
      ErrorCode.INPUT_INVALID,
      `this member already endorsed another record for round ${round} (commitment ${earlier}); it signs one record per round`,
    );
  }
}

/**
 * What a proposed record of round `round` (no record on-chain yet) leaves out of the attestations
 * sent on-chain for it: `direct` are the participants it names as direct entries (none when batched).
 */
export function omittedAttestationsOf(evidence: FederationEvidence, round: number, direct: readonly string[]): Finding[] {
  const attesters = evidence.events.flatMap((e) => (e.kind === "attestation" && e.round === round ? [e.participant] : []));
  return omittedAttestations(round, attesters, direct);
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
  await refuseEquivocation(log, round, record.post.commitment);
  const proposal = proposedRound(basis.ctx.evidence, record, entries);
  const judged = await checkRound(basis.ctx, basis.state, proposal, "proposal");
  // Entries without a signature are direct: their attestation is (or will be) on-chain.
  const direct = entries.filter((e) => /^0x(00)*$/.test(e.signature)).map((e) => e.participant);
  const findings = [...judged.findings, ...omittedAttestationsOf(basis.ctx.evidence, Number(round), direct)];
  if (findings.length > 0) return { signed: false, findings, state: basis.state };
  await log.record(round, record.post.commitment);
  return { signed: true, signature: await signRoundRecord(member, domain, record.message), state: judged.state };
}

/** A participant's in-circuit attestation of its entry (docs/protocol.md §14), as the proposer hands it to the committee. */
export interface EdDSAAttestation {
  meta: bigint;
  signature: EdDSASignature;
}

/**
 * The round a proposed BatchedRoundRecord will be on-chain, as the auditor reads batched rounds; its
 * key registry and participant slots are the ones the member's own replay of the events gives.
 */
export function proposedBatchedRound(basis: ReviewBasis, record: BuiltBatchedRecord, entries: readonly BatchedEntry[]): RoundEvidence {
  const round = Number(record.post.round);
  const bcfg = basis.ctx.evidence.batched?.config;
  if (bcfg === undefined) throw new DsainError(ErrorCode.INPUT_INVALID, "a batched record for a federation without batched rounds");
  const snap = basis.ctx.registry.snapshotFor(round);
  const slots = entries.map((e) => basis.ctx.replay.rosterIndex.get(getAddress(e.participant)) ?? -1);
  let participantSlots = 0n;
  try {
    participantSlots = packParticipantSlots(slots, bcfg.registryDepth);
  } catch {
    // Left at 0: the round check then names the slots the entries do not have.
  }
  return {
    ...unposted(record),
    updatesDigest: record.updatesCommitment,
    accountingDigest: "",
    updates: entries.map((e) => ({ ...e, attestedRoot: "", signature: "" })),
    batched: {
      updatesCommitment: record.updatesCommitment,
      entriesDigest: record.entriesDigest,
      keyRegistryRoot: snap === undefined ? "" : fieldToBytes32(snap.root),
      participantSlots,
      postedBlock: 0,
      nextBlockHash: "",
    },
  };
}

/**
 * Reviews a proposed BatchedRoundRecord: the auditor's round check in the proposal phase, and what
 * only a member can check before the proof exists, each participant's EdDSA-Poseidon attestation
 * under its registry key (round scope, parent model, update root, meta). Signs only when nothing is
 * found, once per round, as `endorse`.
 */
export async function endorseBatched(
  member: Signer,
  domain: TypedDataDomain,
  basis: ReviewBasis,
  record: BuiltBatchedRecord,
  entries: readonly BatchedEntry[],
  attestations: readonly EdDSAAttestation[],
  log: EndorsementLog,
): Promise<Endorsement> {
  const round = record.post.round;
  await refuseEquivocation(log, round, record.post.commitment);
  const proposal = proposedBatchedRound(basis, record, entries);
  const judged = await checkRound(basis.ctx, basis.state, proposal, "proposal");
  const findings = [
    ...judged.findings,
    ...(await checkEdDSAAttestations(basis, proposal, attestations)),
    // A batched record names no on-chain attestation: a round with one goes by the direct path.
    ...omittedAttestationsOf(basis.ctx.evidence, proposal.round, []),
  ];
  if (findings.length > 0) return { signed: false, findings, state: basis.state };
  await log.record(round, record.post.commitment);
  return { signed: true, signature: await signBatchedRoundRecord(member, domain, record.message), state: judged.state };
}

/** Each entry's EdDSA attestation verified under its registry key, over this round's scope and the parent's model root. */
async function checkEdDSAAttestations(basis: ReviewBasis, r: RoundEvidence, attestations: readonly EdDSAAttestation[]): Promise<Finding[]> {
  const { evidence, genesis, byRound, replay, registry } = basis.ctx;
  const t = r.round;
  if (attestations.length !== r.updates.length) {
    return [{ round: t, link: "signature", message: `${attestations.length} EdDSA attestations for ${r.updates.length} entries` }];
  }
  const parent = r.parentRound === 0 ? genesis : byRound.get(r.parentRound);
  const snap = registry.snapshotFor(t);
  if (parent === undefined || snap === undefined) return []; // the round check names the missing parent or registry
  const scope = roundScope(evidence.chainId, evidence.ledger, evidence.federationId, BigInt(t));
  const out: Finding[] = [];
  for (const [i, u] of r.updates.entries()) {
    const slot = replay.rosterIndex.get(getAddress(u.participant));
    const key = slot === undefined ? null : (snap.keys[slot] ?? null);
    const message = await attestationMessage(scope, BigInt(parent.modelRoot), BigInt(u.updateRoot), attestations[i].meta);
    if (key === null || !(await verifyMessage(key, message, attestations[i].signature))) {
      out.push({
        round: t,
        link: "signature",
        message: `${u.participant}'s EdDSA attestation does not verify under its registry key for this round, parent model and update`,
      });
    }
  }
  return out;
}
