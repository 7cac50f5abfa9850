// The auditor: from the ledger's events and IPFS alone, replays a federation's lifecycle, recomputes
// every hash and selection, checks every signature, quorum, budget, checkpoint and proof, and names
// the round and link that breaks.
import { getAddress } from "ethers";
import { byzFedRule, fedAvgRule, type WeightRule } from "./rules.js";
import {
  accountingDigest,
  attestationDomain,
  challengeChunk,
  challengeSeed,
  chunkCount,
  decodeCheckpoint,
  fieldToBytes32,
  isSelected,
  participantsRoot,
  recoverAttester,
  recoverRollbackSigner,
  recoverRoundRecordSigner,
  reasonHash,
  roundCommitment,
  selectionSeed,
  shufflePivots,
  updatesDigest,
  vectorRoot,
  WEIGHT_TOTAL,
} from "../protocol/index.js";
import { cidFromOnchain } from "../protocol/cid.js";
import {
  AggregationRule,
  type FederationEvidence,
  type LedgerEvent,
  type RoundEvidence,
  type RoundStatusName,
  type SolidityProof,
} from "../chain/ledger.js";
import { ensureError } from "../errors.js";

/** Reads checkpoint bytes by CID and refuses bytes that do not hash to it. */
export interface CheckpointSource {
  getVerified(cid: ReturnType<typeof cidFromOnchain>): Promise<Uint8Array>;
}

/** Verifies a Groth16 proof in Solidity form against public signals, off-chain. */
export type ProofVerifier = (publicSignals: bigint[], proof: SolidityProof) => Promise<boolean>;

export interface AuditOptions {
  evidence: FederationEvidence;
  checkpoints: CheckpointSource;
  verifyProof: ProofVerifier;
  /** sha256 (0x-hex) of the verifying key that verifyProof uses; must equal the federation's. */
  verifyingKeyHash: string;
  /** Overrides the rule the federation's parameters name. */
  weightRule?: WeightRule;
  onRound?: (round: number, findings: Finding[], status: RoundStatusName | "genesis") => void;
}

export interface Finding {
  round: number;
  link:
    | "participants"
    | "selection"
    | "signature"
    | "quorum"
    | "weights"
    | "budget"
    | "commitment"
    | "checkpoint"
    | "proof"
    | "sequence"
    | "lifecycle"
    | "federation";
  message: string;
}

export interface AuditReport {
  ok: boolean;
  /** Rounds with a posted record. */
  rounds: number;
  proven: number;
  finalized: number;
  rejected: number;
  /** Posted rounds not yet proven or finalized (not a failure). */
  pending: number;
  findings: Finding[];
}

/** Renders a finding as the one line a user reads: round, broken link, what is wrong. */
export function formatFinding(f: Finding): string {
  return `round ${f.round}: ${f.link}: ${f.message}`;
}

/** What the replay of the events knows about the round that was open when each round was posted. */
interface Opening {
  round: number;
  parentRound: number;
  prevrandao: bigint;
  rosterSize: number;
  selectionSeed: string;
  transactionHash: string;
}

export async function auditFederation(opts: AuditOptions): Promise<AuditReport> {
  const { evidence } = opts;
  const cfg = evidence.config;
  const rule = opts.weightRule ?? (cfg.aggregation.rule === AggregationRule.ByzFed ? byzFedRule : fedAvgRule);
  const findings: Finding[] = [];
  const domain = attestationDomain(evidence.chainId, evidence.ledger);
  const chunks = chunkCount(cfg.modelLength);
  const committee = new Set(cfg.committee.map((a) => getAddress(a)));

  if (opts.verifyingKeyHash.toLowerCase() !== cfg.verifyingKeyHash.toLowerCase()) {
    findings.push({
      round: 0,
      link: "federation",
      message: `the verifying key at hand (${opts.verifyingKeyHash}) is not the one the federation pins (${cfg.verifyingKeyHash})`,
    });
  }

  // Round 0: the genesis model.
  const genesis = {
    round: 0,
    modelRoot: cfg.genesisModelRoot,
    cidCodec: cfg.genesisCidCodec,
    cidDigest: cfg.genesisCidDigest,
    commitment: evidence.genesisCommitment,
  };
  const genesisFindings: Finding[] = [];
  const expectedGenesis = roundCommitment({ ...genesis, participantsRoot: participantsRoot([]) });
  if (expectedGenesis !== genesis.commitment) {
    genesisFindings.push({ round: 0, link: "commitment", message: `genesis h_0 is ${genesis.commitment}, recomputed ${expectedGenesis}` });
  }
  genesisFindings.push(...(await checkCheckpoint(opts, genesis, cfg.modelId, cfg.modelLength)));
  findings.push(...genesisFindings);
  opts.onRound?.(0, genesisFindings, "genesis");

  // Pass 1: replay the lifecycle in chain order.
  const replay = replayLifecycle(evidence, findings);

  // Pass 2: judge every posted record.
  const byRound = new Map(evidence.rounds.map((r) => [r.round, r]));
  // Spend carried over from a predecessor federation counts against the same budget (§13).
  const spent = new Map<string, bigint>(replay.carried);
  let proven = 0;
  for (const r of evidence.rounds) {
    const f: Finding[] = [];
    const t = r.round;
    const parent = t > 0 && r.parentRound === 0 ? genesis : byRound.get(r.parentRound);
    if (parent === undefined) {
      f.push({ round: t, link: "sequence", message: `parent round ${r.parentRound} has no record` });
    }
    const baseModelRoot = parent?.modelRoot ?? "";
    const opening = replay.openings.get(t);

    // Participants: a strictly ascending subset of S_t, each enrolled and not revoked.
    const addrs = r.updates.map((u) => getAddress(u.participant));
    if (addrs.length < cfg.minUpdates || addrs.length > cfg.participantsPerRound) {
      f.push({
        round: t,
        link: "participants",
        message: `${addrs.length} updates; the federation takes between ${cfg.minUpdates} and ${cfg.participantsPerRound}`,
      });
    }
    for (let i = 1; i < addrs.length; i++) {
      if (BigInt(addrs[i]) <= BigInt(addrs[i - 1]))
        f.push({ round: t, link: "participants", message: `participants not strictly ascending at position ${i}` });
    }
    if (opening === undefined) {
      f.push({ round: t, link: "selection", message: "no RoundOpened event fixes this round's selection" });
    } else {
      const pivots = opening.rosterSize > cfg.participantsPerRound ? shufflePivots(opening.selectionSeed, opening.rosterSize) : [];
      for (const a of addrs) {
        const index = replay.rosterIndex.get(a);
        if (index === undefined) {
          f.push({ round: t, link: "participants", message: `${a} attested but was never enrolled` });
        } else if (!isSelected(index, opening.rosterSize, cfg.participantsPerRound, opening.selectionSeed, pivots)) {
          f.push({ round: t, link: "selection", message: `${a} (roster index ${index}) is not in S_${t}` });
        }
        const revokedFrom = replay.revokedFrom.get(a);
        if (revokedFrom !== undefined && t >= revokedFrom) {
          f.push({ round: t, link: "participants", message: `${a} attested in round ${t}, revoked from round ${revokedFrom}` });
        }
      }
    }

    // Participant attestations over the parent's model.
    for (const u of r.updates) {
      if (u.signature === "") {
        if (r.status !== "Proposed" && r.status !== "Rejected") {
          f.push({ round: t, link: "signature", message: `${u.participant} is in the record but never attested` });
        }
        continue;
      }
      if (u.attestedRoot !== "" && u.attestedRoot !== u.updateRoot) {
        f.push({ round: t, link: "signature", message: `${u.participant} attested ${u.attestedRoot}, the record names ${u.updateRoot}` });
      }
      let recovered = "";
      try {
        recovered = recoverAttester(
          domain,
          {
            federationId: evidence.federationId,
            round: BigInt(t),
            baseModelRoot,
            updateRoot: u.updateRoot,
            sampleCount: u.sampleCount,
            dpEpsilonMicros: cfg.dp.epsilonMicros,
            dpDeltaPicos: cfg.dp.deltaPicos,
            dpClipMicros: cfg.dp.clipMicros,
            dpNoiseMicros: cfg.dp.noiseMicros,
          },
          u.signature,
        );
      } catch (e) {
        recovered = `nothing (${ensureError(e).message.split("\n")[0]})`;
      }
      if (recovered !== getAddress(u.participant)) {
        f.push({
          round: t,
          link: "signature",
          message: `attestation of ${u.participant} does not recover its signer (recovered ${recovered})`,
        });
      }
    }

    // Weights: sum and the federation's rule.
    const weights = r.updates.map((u) => u.weight);
    const sum = weights.reduce((a, b) => a + b, 0);
    if (sum !== WEIGHT_TOTAL) f.push({ round: t, link: "weights", message: `weights sum to ${sum}, not ${WEIGHT_TOTAL}` });
    if (r.updates.every((u) => u.signature !== "")) {
      const expectedWeights = safeWeights(rule, r);
      if (expectedWeights !== undefined && expectedWeights.join(",") !== weights.join(",")) {
        f.push({ round: t, link: "weights", message: `weights [${weights}] differ from the ${rule.name} rule's [${expectedWeights}]` });
      }
    }

    // Privacy budgets: debits are cumulative over every record, rejected ones included.
    for (const u of r.updates) {
      const a = getAddress(u.participant);
      const total = (spent.get(a) ?? 0n) + u.epsilonMicros;
      spent.set(a, total);
      if (total > cfg.epsilonBudgetMicros) {
        f.push({ round: t, link: "budget", message: `${a} has spent ${total} µε of a ${cfg.epsilonBudgetMicros} µε budget` });
      }
    }

    // Hashes: S_t root, updates and accounting digests, h_t, the proof challenge.
    let pRoot = "";
    try {
      pRoot = participantsRoot(addrs);
    } catch (e) {
      f.push({ round: t, link: "participants", message: ensureError(e).message });
    }
    if (pRoot !== "" && pRoot !== r.participantsRoot) {
      f.push({ round: t, link: "participants", message: `participantsRoot ${r.participantsRoot} recorded, recomputed ${pRoot}` });
    }
    const uDigest = updatesDigest(
      addrs,
      r.updates.map((u) => u.updateRoot),
      weights,
    );
    if (uDigest !== r.updatesDigest) {
      f.push({ round: t, link: "commitment", message: `updatesDigest ${r.updatesDigest} recorded, recomputed ${uDigest}` });
    }
    const aDigest = accountingDigest(
      addrs,
      r.updates.map((u) => u.epsilonMicros),
      r.updates.map((u) => u.reputationMicros),
    );
    if (aDigest !== r.accountingDigest) {
      f.push({ round: t, link: "commitment", message: `accountingDigest ${r.accountingDigest} recorded, recomputed ${aDigest}` });
    }
    const h = roundCommitment({
      modelRoot: r.modelRoot,
      cidCodec: r.cidCodec,
      cidDigest: r.cidDigest,
      participantsRoot: r.participantsRoot,
      round: t,
    });
    if (h !== r.commitment) {
      f.push({
        round: t,
        link: "commitment",
        message: `h_t ${r.commitment} recorded, recomputed ${h} from the round's model, CID, participants and t`,
      });
    }
    const nextOpening = replay.openingByTx.get(r.transactionHash);
    if (nextOpening !== undefined) {
      const seed = challengeSeed(r.commitment, nextOpening.prevrandao, BigInt(r.blockNumber));
      if (seed !== r.challengeSeed) {
        f.push({ round: t, link: "proof", message: `challenge seed ${r.challengeSeed} recorded, recomputed ${seed}` });
      }
    }

    // Aggregator quorum: f+1 distinct committee members signed this very record.
    f.push(...checkQuorum(domain, committee, cfg.quorum, t, r, aDigest, uDigest, evidence.federationId));

    // Checkpoint and proof: required once the round counts.
    if (r.status !== "Rejected") f.push(...(await checkCheckpoint(opts, r, cfg.modelId, cfg.modelLength)));
    if (r.proof === undefined) {
      if (r.status === "Proven" || r.status === "Finalized") {
        f.push({ round: t, link: "proof", message: `the round is ${r.status} but no proof was recorded` });
      }
    } else {
      const signals = [
        BigInt(baseModelRoot || 0),
        BigInt(r.modelRoot),
        BigInt(challengeChunk(r.challengeSeed, chunks)),
        ...r.updates.map((u) => BigInt(u.updateRoot)),
        ...weights.map(BigInt),
      ];
      let ok = false;
      let why = "";
      try {
        ok = await opts.verifyProof(signals, r.proof);
      } catch (e) {
        why = ` (${ensureError(e).message})`;
      }
      if (ok) proven++;
      else f.push({ round: t, link: "proof", message: `the Groth16 proof does not verify against the round's public inputs${why}` });
    }

    const replayed = replay.statuses.get(t);
    if (replayed !== r.status) {
      f.push({ round: t, link: "lifecycle", message: `the events leave the round ${replayed ?? "unknown"}, the record says ${r.status}` });
    }
    findings.push(...f);
    opts.onRound?.(t, f, r.status);
  }
  const count = (s: RoundStatusName) => evidence.rounds.filter((r) => r.status === s).length;
  return {
    ok: findings.length === 0,
    rounds: evidence.rounds.length,
    proven,
    finalized: count("Finalized"),
    rejected: count("Rejected"),
    pending: count("Proposed") + count("Attested") + count("Proven"),
    findings,
  };
}

function safeWeights(rule: WeightRule, r: RoundEvidence): number[] | undefined {
  try {
    return rule.weights(r.updates);
  } catch {
    return undefined;
  }
}

function checkQuorum(
  domain: ReturnType<typeof attestationDomain>,
  committee: Set<string>,
  quorum: number,
  t: number,
  r: RoundEvidence,
  aDigest: string,
  uDigest: string,
  federationId: bigint,
): Finding[] {
  const out: Finding[] = [];
  const signers = new Set<string>();
  const message = {
    federationId,
    round: BigInt(t),
    parentRound: BigInt(r.parentRound),
    commitment: r.commitment,
    updatesDigest: uDigest,
    accountingDigest: aDigest,
  };
  for (const sig of r.quorumSignatures) {
    let signer = "";
    try {
      signer = recoverRoundRecordSigner(domain, message, sig);
    } catch (e) {
      out.push({ round: t, link: "quorum", message: `a quorum signature is malformed (${ensureError(e).message.split("\n")[0]})` });
      continue;
    }
    if (!committee.has(signer)) out.push({ round: t, link: "quorum", message: `${signer} signed the record but is not on the committee` });
    else if (signers.has(signer)) out.push({ round: t, link: "quorum", message: `${signer} signed the record twice` });
    signers.add(signer);
  }
  const valid = [...signers].filter((s) => committee.has(s)).length;
  if (valid < quorum) out.push({ round: t, link: "quorum", message: `${valid} committee signatures over the record, ${quorum} needed` });
  return out;
}

/**
 * Replays the events in chain order against the lifecycle rules (docs/protocol.md §11): roster
 * indices, revocations, openings and their selection seeds, postings, proofs, finalization,
 * rejections and rollbacks. Returns what pass 2 needs.
 */
function replayLifecycle(evidence: FederationEvidence, findings: Finding[]) {
  const cfg = evidence.config;
  const domain = attestationDomain(evidence.chainId, evidence.ledger);
  const committee = new Set(cfg.committee.map((a) => getAddress(a)));
  const rounds = new Map(evidence.rounds.map((r) => [r.round, r]));
  const rosterIndex = new Map<string, number>();
  const revokedFrom = new Map<string, number>();
  const carried = new Map<string, bigint>();
  const openings = new Map<number, Opening>();
  const openingByTx = new Map<string, Opening>();
  const statuses = new Map<number, RoundStatusName>([[0, "Genesis"]]);
  const commitments = new Map<number, string>([[0, evidence.genesisCommitment]]);
  let open: Opening | undefined;
  let lastRound = 0;
  let lastFinalized = 0;
  let sealed = false;
  let txHeads = { tx: "", head: 0 };
  const head = () => Math.max(...[...statuses.entries()].filter(([, s]) => s !== "Rejected" && s !== "None").map(([t]) => t));
  const bad = (round: number, link: Finding["link"], message: string) => findings.push({ round, link, message });

  for (const e of evidence.events as LedgerEvent[]) {
    if (e.transactionHash !== txHeads.tx) txHeads = { tx: e.transactionHash, head: head() };
    if (sealed) bad(lastRound, "lifecycle", `a ${e.kind} event follows the federation's sealing`);
    switch (e.kind) {
      case "enrolled": {
        const a = getAddress(e.participant);
        if (e.index !== rosterIndex.size) bad(lastRound, "participants", `${a} enrolled at index ${e.index}, expected ${rosterIndex.size}`);
        if (!e.did.startsWith("did:")) bad(lastRound, "participants", `${a} has DID "${e.did}", which is not a DID`);
        rosterIndex.set(a, e.index);
        break;
      }
      case "carriedOver":
        if (cfg.predecessor.ledger === "0x0000000000000000000000000000000000000000") {
          bad(lastRound, "budget", `${e.participant} carries spend over, but the federation has no predecessor`);
        }
        carried.set(getAddress(e.participant), e.epsilonSpentMicros);
        break;
      case "revoked":
        if (e.effectiveFromRound !== lastRound + 2) {
          bad(lastRound, "participants", `${e.participant} revoked from round ${e.effectiveFromRound}; the open round is ${lastRound + 1}`);
        }
        revokedFrom.set(getAddress(e.participant), e.effectiveFromRound);
        break;
      case "opened": {
        if (e.round !== lastRound + 1) bad(e.round, "sequence", `round ${e.round} opened after round ${lastRound}`);
        if (e.parentRound !== head()) bad(e.round, "sequence", `round ${e.round} opened on round ${e.parentRound}, the head is ${head()}`);
        if (e.rosterSize !== rosterIndex.size) {
          bad(e.round, "selection", `round ${e.round} snapshots ${e.rosterSize} participants, ${rosterIndex.size} are enrolled`);
        }
        const parentCommitment = commitments.get(e.parentRound) ?? "0x" + "00".repeat(32);
        const seed = selectionSeed(evidence.federationId, e.round, parentCommitment, e.prevrandao);
        if (seed !== e.selectionSeed) bad(e.round, "selection", `selection seed ${e.selectionSeed} recorded, recomputed ${seed}`);
        open = { ...e, transactionHash: e.transactionHash };
        openings.set(e.round, open);
        openingByTx.set(e.transactionHash, open);
        break;
      }
      case "attestation":
        if (open?.round !== e.round && statuses.get(e.round) !== "Proposed") {
          bad(e.round, "sequence", `${e.participant} attested for round ${e.round}, which is neither open nor awaiting attestations`);
        }
        if (!rounds.get(e.round)?.updates.some((u) => getAddress(u.participant) === getAddress(e.participant))) {
          // Part of no record (e.g. its round was rejected): judged here; recorded ones with their record.
          checkLooseAttestation(evidence, domain, e, baseModelOf(rounds, cfg.genesisModelRoot, open), bad);
        }
        break;
      case "proposed": {
        const r = rounds.get(e.round);
        if (open?.round !== e.round) bad(e.round, "sequence", `round ${e.round} was posted while round ${open?.round} was open`);
        if (r !== undefined && r.parentRound !== head()) {
          bad(e.round, "sequence", `round ${e.round} builds on round ${r.parentRound}, the head was ${head()}`);
        }
        if (r !== undefined) commitments.set(e.round, r.commitment);
        statuses.set(e.round, "Proposed");
        lastRound = e.round;
        break;
      }
      case "attested":
        expectStatus(statuses, e.round, "Proposed", "Attested", bad);
        break;
      case "proven":
        expectStatus(statuses, e.round, "Attested", "Proven", bad);
        break;
      case "finalized": {
        const r = rounds.get(e.round);
        if (r !== undefined && r.parentRound !== lastFinalized) {
          bad(e.round, "lifecycle", `round ${e.round} finalized before its parent ${r.parentRound}`);
        }
        expectStatus(statuses, e.round, "Proven", "Finalized", bad);
        lastFinalized = e.round;
        break;
      }
      case "rejected": {
        const s = statuses.get(e.round);
        if (s === "Finalized" || s === "Rejected" || s === "Genesis") bad(e.round, "lifecycle", `a ${s} round was rejected`);
        if (e.round === lastRound + 1) lastRound = e.round;
        statuses.set(e.round, "Rejected");
        break;
      }
      case "rolledBack": {
        if (e.toRound !== lastFinalized)
          bad(lastRound, "lifecycle", `rolled back to round ${e.toRound}, the last finalized is ${lastFinalized}`);
        if (e.fromHead !== txHeads.head) bad(lastRound, "lifecycle", `rolled back from round ${e.fromHead}, the head was ${txHeads.head}`);
        if (head() !== lastFinalized) bad(lastRound, "lifecycle", `after the rollback the head is ${head()}, not ${lastFinalized}`);
        if (e.quorumSignatures.length > 0) {
          const signers = new Set<string>();
          for (const sig of e.quorumSignatures) {
            try {
              const m = {
                federationId: evidence.federationId,
                toRound: BigInt(e.toRound),
                head: BigInt(e.fromHead),
                reasonHash: reasonHash(e.reason),
              };
              const s = recoverRollbackSigner(domain, m, sig);
              if (committee.has(s)) signers.add(s);
            } catch {
              // counted as missing below
            }
          }
          if (signers.size < cfg.quorum)
            bad(lastRound, "quorum", `the rollback carries ${signers.size} committee signatures, ${cfg.quorum} needed`);
        }
        break;
      }
      case "sealed":
        if (e.lastFinalized !== lastFinalized || head() !== lastFinalized) {
          bad(lastRound, "lifecycle", `sealed at round ${e.lastFinalized} with head ${head()} and last finalized ${lastFinalized}`);
        }
        sealed = true;
        break;
    }
  }
  return { rosterIndex, revokedFrom, carried, openings, openingByTx, statuses };
}

/** The model root each round's attestations are signed over: its parent's model. */
function baseModelOf(rounds: Map<number, RoundEvidence>, genesisModelRoot: string, open: Opening | undefined) {
  return (round: number): string | undefined => {
    const parent = open?.round === round ? open.parentRound : rounds.get(round)?.parentRound;
    if (parent === undefined) return undefined;
    return parent === 0 ? genesisModelRoot : rounds.get(parent)?.modelRoot;
  };
}

function checkLooseAttestation(
  evidence: FederationEvidence,
  domain: ReturnType<typeof attestationDomain>,
  e: Extract<LedgerEvent, { kind: "attestation" }>,
  baseOf: (round: number) => string | undefined,
  bad: (round: number, link: Finding["link"], message: string) => void,
): void {
  const base = baseOf(e.round);
  if (base === undefined) return;
  const dp = evidence.config.dp;
  let recovered = "";
  try {
    recovered = recoverAttester(
      domain,
      {
        federationId: evidence.federationId,
        round: BigInt(e.round),
        baseModelRoot: base,
        updateRoot: e.updateRoot,
        sampleCount: e.sampleCount,
        dpEpsilonMicros: dp.epsilonMicros,
        dpDeltaPicos: dp.deltaPicos,
        dpClipMicros: dp.clipMicros,
        dpNoiseMicros: dp.noiseMicros,
      },
      e.signature,
    );
  } catch {
    recovered = "nothing";
  }
  if (recovered !== getAddress(e.participant)) {
    bad(e.round, "signature", `direct attestation of ${e.participant} does not recover its signer (recovered ${recovered})`);
  }
}

function expectStatus(
  statuses: Map<number, RoundStatusName>,
  round: number,
  from: RoundStatusName,
  to: RoundStatusName,
  bad: (round: number, link: Finding["link"], message: string) => void,
): void {
  const s = statuses.get(round);
  if (s !== from) bad(round, "lifecycle", `round ${round} became ${to} from ${s ?? "nothing"}, not from ${from}`);
  statuses.set(round, to);
}

async function checkCheckpoint(
  opts: AuditOptions,
  r: Pick<RoundEvidence, "round" | "modelRoot" | "cidCodec" | "cidDigest">,
  modelId: string,
  modelLength: number,
): Promise<Finding[]> {
  const t = r.round;
  let cid;
  try {
    cid = cidFromOnchain(r.cidCodec, r.cidDigest);
  } catch (e) {
    return [{ round: t, link: "checkpoint", message: ensureError(e).message }];
  }
  let bytes: Uint8Array;
  try {
    bytes = await opts.checkpoints.getVerified(cid);
  } catch (e) {
    return [{ round: t, link: "checkpoint", message: `${cid.toString()}: ${ensureError(e).message}` }];
  }
  try {
    const ck = decodeCheckpoint(bytes);
    const out: Finding[] = [];
    if (ck.round !== t) out.push({ round: t, link: "checkpoint", message: `${cid.toString()} is the checkpoint of round ${ck.round}` });
    if (ck.modelId !== modelId)
      out.push({ round: t, link: "checkpoint", message: `${cid.toString()} holds model ${ck.modelId}, not ${modelId}` });
    if (ck.values.length !== modelLength) {
      out.push({
        round: t,
        link: "checkpoint",
        message: `${cid.toString()} has ${ck.values.length} parameters, the federation ${modelLength}`,
      });
      return out;
    }
    const root = fieldToBytes32(await vectorRoot(ck.values));
    if (root !== r.modelRoot)
      out.push({
        round: t,
        link: "checkpoint",
        message: `${cid.toString()} commits to model root ${root}, the chain records ${r.modelRoot}`,
      });
    return out;
  } catch (e) {
    return [{ round: t, link: "checkpoint", message: `${cid.toString()}: ${ensureError(e).message}` }];
  }
}
