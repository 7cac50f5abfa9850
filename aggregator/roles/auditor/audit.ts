// The auditor: from the ledger's events and IPFS alone, replays a federation's lifecycle, recomputes
// every hash and selection, checks every signature, quorum, budget, deadline, checkpoint and proof,
// recomputes every round's aggregation (and ByzFed decision) from the published updates, and names
// the round and link that breaks.
import { getAddress } from "ethers";
import {
  accountingDigest,
  aggregateExact,
  attestationDomain,
  challengeChunk,
  challengeSeed,
  chunkCount,
  CHUNK_SIZE,
  decodeCheckpoint,
  decodeUpdateFile,
  fieldToBytes32,
  isSelected,
  padSlots,
  participantsRoot,
  recoverAttester,
  recoverRollbackSigner,
  recoverRoundRecordSigner,
  reasonHash,
  roundCommitment,
  selectionSeed,
  selectionBound,
  shufflePivots,
  updatesDigest,
  vectorRoot,
  PROTOCOL_VERSION,
  WEIGHT_TOTAL,
  type Checkpoint,
  type TensorSpec,
} from "../../protocol/index.js";
import { cidFromOnchain } from "../../protocol/cid.js";
import { exactRuleOf, INITIAL_REPUTATION_MICROS, type ExactRule } from "../../maths/robust/exact-rule.js";
import {
  epsilonDebit,
  type FederationEvidence,
  type LedgerEvent,
  type RoundEvidence,
  type RoundStatusName,
} from "../../protocol/evidence.js";
import { DsainError, ensureError, ErrorCode } from "../../errors.js";
import { batchedChunkIndices, checkBatchedRound, replayKeyRegistry } from "./batched.js";
import { notAMemberOverThisRecord, omittedAttestations, type Finding, type ProofVerifier } from "./findings.js";

export type { Finding, ProofVerifier };

/** Reads checkpoint and update files by CID and refuses bytes that do not hash to it. */
export interface CheckpointSource {
  getVerified(cid: ReturnType<typeof cidFromOnchain> | string): Promise<Uint8Array>;
}

export interface AuditOptions {
  evidence: FederationEvidence;
  checkpoints: CheckpointSource;
  verifyProof: ProofVerifier;
  /** sha256 (0x-hex) of the verifying key that verifyProof uses; must equal the federation's. */
  verifyingKeyHash: string;
  /** Verifies batched rounds' RoundAttested proofs (docs/protocol.md §14); needed for a batched federation. */
  batchedVerifyProof?: ProofVerifier;
  /** sha256 (0x-hex) of the key batchedVerifyProof uses; must equal the federation's batched verifyingKeyHash. */
  batchedVerifyingKeyHash?: string;
  /** Overrides the rule the federation's parameters name. */
  rule?: ExactRule;
  /**
   * Rounds whose updates were not published (a version-1 checkpoint) or cannot be fetched are
   * warnings instead of findings: the audit then vouches for everything but their aggregation.
   */
  allowMissingUpdates?: boolean;
  onRound?: (round: number, findings: Finding[], status: RoundStatusName | "genesis", checks: RoundChecks) => void;
}

/** What the audit could check of one round beyond its record (for the report's "ok" lines). */
export interface RoundChecks {
  /** Published updates fetched and verified against the record's update roots. */
  updates: number;
  /** w_{t+1} recomputed with aggregateExact and equal to the checkpoint. */
  recomputed: boolean;
  /** ByzFed's kept set, weights and reputations re-derived and equal to the record's. */
  byzFed: boolean;
  proofVerified: boolean;
  /** Missing updates tolerated by allowMissingUpdates. */
  warnings: Finding[];
  /** A batched round (docs/protocol.md §14): its registry, slots, commitments and challenge were checked. */
  batched?: boolean;
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
  /** Rounds whose aggregation was recomputed from the published updates and matched. */
  recomputed: number;
  findings: Finding[];
  /** Missing updates, when allowMissingUpdates turned them from findings into warnings. */
  warnings: Finding[];
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

/**
 * What every round's check needs to know about the federation, fixed before the first round is
 * judged: the parameters, the rule, the committee, the genesis record, the lifecycle replayed from
 * the events and (batched federations) the key registry.
 */
export interface AuditContext {
  opts: AuditOptions;
  evidence: FederationEvidence;
  cfg: FederationEvidence["config"];
  rule: ExactRule;
  domain: ReturnType<typeof attestationDomain>;
  chunks: number;
  committee: Set<string>;
  genesis: { round: number; modelRoot: string; cidCodec: number; cidDigest: string; commitment: string };
  byRound: Map<number, RoundEvidence>;
  replay: ReturnType<typeof replayLifecycle>;
  registry: Awaited<ReturnType<typeof replayKeyRegistry>>;
  replayFindings: Finding[];
  batchedVerify: ProofVerifier | undefined;
}

/** What the audit carries from round to round: the state the ledger and the models were in after the rounds judged so far. */
export interface AuditState {
  /** Models by round, once their checkpoint verified: the parents a recomputation starts from. */
  models: ReadonlyMap<number, Int32Array>;
  /** Cumulative privacy debits, rejected records included, carried-over spend first (§13). */
  spent: ReadonlyMap<string, bigint>;
  /** Each participant's reputation as the ledger holds it: the latest record's entry, else carried over. */
  reputations: ReadonlyMap<string, number>;
  proven: number;
  recomputed: number;
}

/** The context and the state before round 1, and the findings of the federation and its genesis. */
export async function prepareAudit(
  opts: AuditOptions,
): Promise<{ ctx: AuditContext; state: AuditState; federationFindings: Finding[]; genesisFindings: Finding[] }> {
  const { evidence } = opts;
  const cfg = evidence.config;
  const rule = opts.rule ?? exactRuleOf(cfg.aggregation);
  const findings: Finding[] = [];
  const domain = attestationDomain(evidence.chainId, evidence.ledger);
  const chunks = chunkCount(cfg.modelLength);
  const committee = new Set(cfg.committee.map((a) => getAddress(a)));

  if (evidence.protocolVersion !== PROTOCOL_VERSION) {
    findings.push({
      round: 0,
      link: "federation",
      message: `the ledger speaks DSAIN protocol version ${evidence.protocolVersion}; this auditor checks version ${PROTOCOL_VERSION} (its vector roots would not match)`,
    });
  }

  // The pins must be the keys the verifiers check proofs against (the ledger refuses others from v2 on).
  const pins = [{ path: "", verifier: cfg.verifier, pinned: cfg.verifyingKeyHash, declared: evidence.verifierKeyHashes.direct }];
  if (evidence.batched !== undefined) {
    const { verifier, verifyingKeyHash } = evidence.batched.config;
    pins.push({ path: "batched ", verifier, pinned: verifyingKeyHash, declared: evidence.verifierKeyHashes.batched ?? null });
  }
  for (const { path, verifier, pinned, declared } of pins) {
    if (declared === null || declared.toLowerCase() !== pinned.toLowerCase()) {
      findings.push({
        round: 0,
        link: "federation",
        message: `the federation pins ${path}verifying key ${pinned}, but its ${path}verifier ${verifier} ${declared ? `was generated from ${declared}` : "declares no verifying-key hash"}`,
      });
    }
  }

  if (opts.verifyingKeyHash.toLowerCase() !== cfg.verifyingKeyHash.toLowerCase()) {
    findings.push({
      round: 0,
      link: "federation",
      message: `the verifying key at hand (${opts.verifyingKeyHash}) is not the one the federation pins (${cfg.verifyingKeyHash})`,
    });
  }

  if (evidence.batched !== undefined) {
    const pinned = evidence.batched.config.verifyingKeyHash;
    if (opts.batchedVerifyingKeyHash === undefined || opts.batchedVerifyProof === undefined) {
      findings.push({
        round: 0,
        link: "federation",
        message: `the federation takes batched rounds (verifying key ${pinned}) but no verifying key of its RoundAttested instance is at hand`,
      });
    } else if (opts.batchedVerifyingKeyHash.toLowerCase() !== pinned.toLowerCase()) {
      findings.push({
        round: 0,
        link: "federation",
        message: `the batched verifying key at hand (${opts.batchedVerifyingKeyHash}) is not the one the federation pins for batched rounds (${pinned})`,
      });
    }
  }
  const batchedVerify =
    evidence.batched !== undefined && opts.batchedVerifyingKeyHash?.toLowerCase() === evidence.batched.config.verifyingKeyHash.toLowerCase()
      ? opts.batchedVerifyProof
      : undefined;

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
  const genesisCheckpoint = await checkCheckpoint(opts, genesis, cfg.modelId, cfg.modelLength);
  genesisFindings.push(...genesisCheckpoint.findings);
  // Models by round, once their checkpoint verified: the parents the recomputation starts from.
  const models = new Map<number, Int32Array>();
  if (genesisCheckpoint.checkpoint !== undefined && genesisCheckpoint.findings.length === 0)
    models.set(0, genesisCheckpoint.checkpoint.values);

  // Pass 1: replay the lifecycle in chain order; its findings are reported with their round.
  const replayFindings: Finding[] = [];
  const replay = replayLifecycle(evidence, replayFindings);
  // Batched federations: the key registry rebuilt from enrolments and KeyRegistryUpdated events.
  const registry = await replayKeyRegistry(evidence);
  replayFindings.push(...registry.findings);
  const replayOf = (t: number) => replayFindings.filter((x) => x.round === t);
  genesisFindings.push(...replayOf(0));

  const byRound = new Map(evidence.rounds.map((r) => [r.round, r]));
  // Spend carried over from a predecessor federation counts against the same budget (§13).
  const spent = new Map<string, bigint>(replay.carried);
  // Each participant's reputation as the ledger holds it: the latest record's entry (rejected records
  // included, as for budgets), else a non-zero value carried over from a predecessor (§13).
  const reputations = new Map<string, number>(replay.carriedReputation);
  return {
    ctx: { opts, evidence, cfg, rule, domain, chunks, committee, genesis, byRound, replay, registry, replayFindings, batchedVerify },
    state: { models, spent, reputations, proven: 0, recomputed: 0 },
    federationFindings: findings,
    genesisFindings,
  };
}

/**
 * Judges one posted round (phase "audit") or one proposed record before it is signed (phase
 * "proposal": a committee member's re-execution; what cannot exist yet is not asked for: quorum
 * signatures, the proof, the events of its posting). Returns the round's findings and checks and
 * the state after it; `state` itself is not changed.
 */
export async function checkRound(
  ctx: AuditContext,
  state: AuditState,
  r: RoundEvidence,
  phase: "audit" | "proposal" = "audit",
): Promise<{ findings: Finding[]; checks: RoundChecks; state: AuditState }> {
  const { opts, evidence, cfg, rule, domain, chunks, committee, genesis, byRound, replay, registry, batchedVerify } = ctx;
  const models = new Map(state.models);
  const spent = new Map(state.spent);
  const reputations = new Map(state.reputations);
  let { proven, recomputed: recomputedRounds } = state;
  const byzFed = rule.needsUpdates;
  const t = r.round;
  const f: Finding[] = phase === "audit" ? ctx.replayFindings.filter((x) => x.round === t) : [];
  const checks: RoundChecks = { updates: 0, recomputed: false, byzFed: false, proofVerified: false, warnings: [] };
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
  for (let i = 1; i < addrs.length && r.batched === undefined; i++) {
    if (BigInt(addrs[i]) <= BigInt(addrs[i - 1]))
      f.push({ round: t, link: "participants", message: `participants not strictly ascending at position ${i}` });
  }
  if (opening === undefined) {
    f.push({ round: t, link: "selection", message: "no RoundOpened event fixes this round's selection" });
  } else {
    const pivots = opening.rosterSize > cfg.participantsPerRound ? shufflePivots(opening.selectionSeed, opening.rosterSize) : [];
    // S_t skips the participants revoked for round t, all revoked before it opened (§10).
    const revoked = [...replay.revokedFrom].filter(([, from]) => from <= t).map(([a]) => replay.rosterIndex.get(a)!);
    const bound = selectionBound(opening.rosterSize, cfg.participantsPerRound, opening.selectionSeed, revoked, pivots);
    for (const a of addrs) {
      const index = replay.rosterIndex.get(a);
      if (index === undefined) {
        f.push({ round: t, link: "participants", message: `${a} attested but was never enrolled` });
      } else if (!isSelected(index, opening.rosterSize, bound, opening.selectionSeed, pivots)) {
        f.push({ round: t, link: "selection", message: `${a} (roster index ${index}) is not in S_${t}` });
      }
      const revokedFrom = replay.revokedFrom.get(a);
      if (revokedFrom !== undefined && t >= revokedFrom) {
        f.push({ round: t, link: "participants", message: `${a} attested in round ${t}, revoked from round ${revokedFrom}` });
      }
    }
  }

  // Participant attestations over the parent's model (a batched round's are inside its proof).
  for (const u of r.batched === undefined ? r.updates : []) {
    if (u.signature === "") {
      if (phase === "proposal" || (r.status !== "Proposed" && r.status !== "Rejected")) {
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
  if (r.batched !== undefined || r.updates.every((u) => u.signature !== "")) {
    const expectedWeights = rule.needsUpdates ? undefined : safeWeights(rule, r);
    if (expectedWeights !== undefined && expectedWeights.join(",") !== weights.join(",")) {
      f.push({ round: t, link: "weights", message: `weights [${weights}] differ from the ${rule.name} rule's [${expectedWeights}]` });
    }
  }

  // Privacy budgets: each debit is what its participant attested (§13), cumulative over every
  // record, rejected ones included.
  const debit = epsilonDebit(cfg.dp);
  for (const u of r.updates) {
    const a = getAddress(u.participant);
    if (u.epsilonMicros !== debit) {
      f.push({
        round: t,
        link: "budget",
        message: `${a} is debited ${u.epsilonMicros} µε for an update attested under ε = ${debit} µε (docs/protocol.md §13)`,
      });
    }
    const total = (spent.get(a) ?? 0n) + u.epsilonMicros;
    spent.set(a, total);
    if (total > cfg.epsilonBudgetMicros) {
      f.push({ round: t, link: "budget", message: `${a} has spent ${total} µε of a ${cfg.epsilonBudgetMicros} µε budget` });
    }
  }

  // Hashes: S_t root, updates and accounting digests, h_t, the proof challenge.
  let pRoot = "";
  try {
    if (r.batched === undefined) pRoot = participantsRoot(addrs);
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
  if (r.batched === undefined && uDigest !== r.updatesDigest) {
    f.push({ round: t, link: "commitment", message: `updatesDigest ${r.updatesDigest} recorded, recomputed ${uDigest}` });
  }
  const aDigest = accountingDigest(
    addrs,
    r.updates.map((u) => u.epsilonMicros),
    r.updates.map((u) => u.reputationMicros),
  );
  if (r.batched === undefined && aDigest !== r.accountingDigest) {
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
  // The challenge (§8): h_t and the hash of the block after the one that completed the attestations.
  if (r.batched === undefined && r.proof !== undefined) {
    const next = r.attested?.nextBlockHash ?? "";
    const seed = next === "" ? undefined : challengeSeed(r.commitment, next);
    if (seed === undefined) {
      f.push({
        round: t,
        link: "proof",
        message: "the round is proven but the chain shows no attested block whose successor seeds its challenge",
      });
    } else if (seed !== r.challengeSeed) {
      f.push({
        round: t,
        link: "proof",
        message: `challenge seed ${r.challengeSeed} recorded, recomputed ${seed} from h_t and the hash of block ${r.attested!.block + 1}`,
      });
    }
  }

  // Aggregator quorum: f+1 distinct committee members signed this very record.
  // (A proposal has no quorum yet: the member reviewing it is deciding whether to sign.)
  if (r.batched === undefined && phase === "audit")
    f.push(...checkQuorum(domain, committee, cfg.quorum, t, r, aDigest, uDigest, evidence.federationId));
  let publishedDeltas: Int32Array[] | undefined;

  // Checkpoint, published updates and the recomputation: required once the round counts.
  if (r.status !== "Rejected") {
    const ck = await checkCheckpoint(opts, r, cfg.modelId, cfg.modelLength);
    f.push(...ck.findings);
    if (ck.checkpoint !== undefined && ck.findings.length === 0) {
      models.set(t, ck.checkpoint.values);
      const published = await checkUpdates(opts, r, ck.checkpoint, cfg.modelId, byzFed);
      f.push(...published.findings);
      const missing = published.missing;
      if (opts.allowMissingUpdates === true) checks.warnings.push(...missing);
      else f.push(...missing);
      if (published.deltas !== undefined) {
        publishedDeltas = published.deltas;
        checks.updates = published.deltas.length;
        const before = addrs.map((a) => reputations.get(a) ?? INITIAL_REPUTATION_MICROS);
        if (byzFed) {
          const judged = checkByzFed(t, r, addrs, published.deltas, before, rule);
          f.push(...judged);
          checks.byzFed = judged.length === 0;
        }
        const parentModel = models.get(r.parentRound);
        if (parentModel === undefined) {
          f.push({
            round: t,
            link: "aggregation",
            message: `not recomputed: the model of parent round ${r.parentRound} did not verify (see its checkpoint)`,
          });
        } else if (sum === WEIGHT_TOTAL) {
          const judged = checkAggregation(
            t,
            r,
            parentModel,
            published.deltas,
            weights,
            ck.checkpoint,
            chunks,
            batchedChunkIndices(evidence, r),
          );
          f.push(...judged);
          checks.recomputed = judged.length === 0;
          if (checks.recomputed) recomputedRounds++;
        }
      }
    }
  }
  for (const [i, a] of addrs.entries()) reputations.set(a, r.updates[i].reputationMicros);
  if (r.batched !== undefined) {
    checks.batched = true;
    const judged = await checkBatchedRound({
      evidence,
      r,
      registry,
      rosterIndex: replay.rosterIndex,
      committee,
      baseModelRoot,
      deltas: publishedDeltas,
      verifyProof: batchedVerify,
      phase,
    });
    f.push(...judged.findings);
    if (judged.proofVerified) {
      proven++;
      checks.proofVerified = true;
    }
  } else if (r.proof === undefined) {
    if (r.status === "Proven" || r.status === "Finalized") {
      f.push({ round: t, link: "proof", message: `the round is ${r.status} but no proof was recorded` });
    }
  } else {
    // K circuit slots: a dropout round's missing ones hold the first update at weight 0 (§8).
    const roots = r.updates.map((u) => BigInt(u.updateRoot));
    const slots =
      roots.length >= 1 && roots.length <= cfg.participantsPerRound && weights.length === roots.length
        ? padSlots(roots, weights, cfg.participantsPerRound)
        : { items: roots, weights };
    const signals = [
      BigInt(baseModelRoot || 0),
      BigInt(r.modelRoot),
      BigInt(challengeChunk(r.challengeSeed, chunks)),
      ...slots.items,
      ...slots.weights.map(BigInt),
    ];
    let ok = false;
    let why = "";
    try {
      ok = await opts.verifyProof(signals, r.proof);
    } catch (e) {
      why = ` (${ensureError(e).message})`;
    }
    if (ok) {
      proven++;
      checks.proofVerified = true;
    } else f.push({ round: t, link: "proof", message: `the Groth16 proof does not verify against the round's public inputs${why}` });
  }

  const replayed = replay.statuses.get(t);
  if (phase === "audit" && replayed !== r.status) {
    f.push({ round: t, link: "lifecycle", message: `the events leave the round ${replayed ?? "unknown"}, the record says ${r.status}` });
  }
  return { findings: f, checks, state: { models, spent, reputations, proven, recomputed: recomputedRounds } };
}

export async function auditFederation(opts: AuditOptions): Promise<AuditReport> {
  const { evidence } = opts;
  const { ctx, state: initial, federationFindings, genesisFindings } = await prepareAudit(opts);
  const findings: Finding[] = [...federationFindings, ...genesisFindings];
  opts.onRound?.(0, genesisFindings, "genesis", { updates: 0, recomputed: false, byzFed: false, proofVerified: false, warnings: [] });
  const replayFindings = ctx.replayFindings;
  const replayOf = (t: number) => replayFindings.filter((x) => x.round === t);
  // The audit is a fold of checkRound over the posted rounds, in order.
  const warnings: Finding[] = [];
  let state = initial;
  for (const r of evidence.rounds) {
    const judged = await checkRound(ctx, state, r);
    state = judged.state;
    findings.push(...judged.findings);
    warnings.push(...judged.checks.warnings);
    opts.onRound?.(r.round, judged.findings, r.status, judged.checks);
  }
  const { proven, recomputed: recomputedRounds } = state;
  // Replay findings about rounds without a record (the open round, an unposted number).
  const recorded = new Set([0, ...evidence.rounds.map((r) => r.round)]);
  for (const t of [...new Set(replayFindings.map((x) => x.round))].filter((x) => !recorded.has(x)).sort((a, b) => a - b)) {
    const f = replayOf(t);
    findings.push(...f);
    opts.onRound?.(t, f, "None", { updates: 0, recomputed: false, byzFed: false, proofVerified: false, warnings: [] });
  }
  const count = (s: RoundStatusName) => evidence.rounds.filter((r) => r.status === s).length;
  return {
    ok: findings.length === 0,
    rounds: evidence.rounds.length,
    proven,
    finalized: count("Finalized"),
    rejected: count("Rejected"),
    pending: count("Proposed") + count("Attested") + count("Proven"),
    recomputed: recomputedRounds,
    findings,
    warnings,
  };
}

/** The weights a rule that reads only the counts gives the record's updates (undefined if it refuses them). */
function safeWeights(rule: ExactRule, r: RoundEvidence): number[] | undefined {
  try {
    return rule.decide({
      participants: r.updates.map((u) => u.participant),
      sampleCounts: r.updates.map((u) => u.sampleCount),
      reputationsBefore: r.updates.map(() => INITIAL_REPUTATION_MICROS),
    }).weights;
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
  for (const [i, sig] of r.quorumSignatures.entries()) {
    let signer = "";
    try {
      signer = recoverRoundRecordSigner(domain, message, sig);
    } catch (e) {
      out.push({ round: t, link: "quorum", message: `quorum signature ${i + 1} is malformed (${ensureError(e).message.split("\n")[0]})` });
      continue;
    }
    if (!committee.has(signer)) out.push({ round: t, link: "quorum", message: notAMemberOverThisRecord(i, signer, "record") });
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
 * rejections and rollbacks, and the deadlines and finality delays the ledger enforced, from the
 * events' block timestamps. Returns what pass 2 needs.
 */
function replayLifecycle(evidence: FederationEvidence, findings: Finding[]) {
  const cfg = evidence.config;
  const domain = attestationDomain(evidence.chainId, evidence.ledger);
  const committee = new Set(cfg.committee.map((a) => getAddress(a)));
  const rounds = new Map(evidence.rounds.map((r) => [r.round, r]));
  const rosterIndex = new Map<string, number>();
  const revokedFrom = new Map<string, number>();
  const carried = new Map<string, bigint>();
  const carriedReputation = new Map<string, number>();
  const openings = new Map<number, Opening>();
  const openedAt = new Map<number, number>();
  const provenAt = new Map<number, number>();
  const statuses = new Map<number, RoundStatusName>([[0, "Genesis"]]);
  const commitments = new Map<number, string>([[0, evidence.genesisCommitment]]);
  let open: Opening | undefined;
  /** Participants who attested on-chain for the open round so far (its record must name them). */
  let attestedOpen: string[] = [];
  let lastRound = 0;
  let lastFinalized = 0;
  let sealed = false;
  let txHeads = { tx: "", head: 0 };
  const head = () => Math.max(...[...statuses.entries()].filter(([, s]) => s !== "Rejected" && s !== "None").map(([t]) => t));
  const bad = (round: number, link: Finding["link"], message: string) => findings.push({ round, link, message });
  // The ledger refuses a post, an attestation or a proof once block.timestamp > openedAt + roundDeadline.
  const inTime = (round: number, e: LedgerEvent, what: string) => {
    const opened = openedAt.get(round);
    if (opened === undefined) return;
    const deadline = opened + cfg.roundDeadline;
    if (e.timestamp > deadline) {
      bad(
        round,
        "deadline",
        `${what} is in block ${e.blockNumber} at time ${e.timestamp}, after the deadline ${deadline} (opened at ${opened}, roundDeadline ${cfg.roundDeadline} s)`,
      );
    }
  };

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
        // 0 is what a ledger holds for a participant that never was in a record there.
        if (e.reputationMicros > 0) carriedReputation.set(getAddress(e.participant), e.reputationMicros);
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
        attestedOpen = [];
        openings.set(e.round, open);
        openedAt.set(e.round, e.timestamp);
        break;
      }
      case "attestation":
        inTime(e.round, e, `the attestation of ${getAddress(e.participant)}`);
        if (open?.round === e.round) attestedOpen.push(getAddress(e.participant));
        if (open?.round !== e.round && statuses.get(e.round) !== "Proposed") {
          bad(e.round, "sequence", `${e.participant} attested for round ${e.round}, which is neither open nor awaiting attestations`);
        }
        if (!rounds.get(e.round)?.updates.some((u) => getAddress(u.participant) === getAddress(e.participant))) {
          // Part of no record (e.g. its round was rejected): judged here; recorded ones with their record.
          checkLooseAttestation(evidence, domain, e, baseModelOf(rounds, cfg.genesisModelRoot, open), bad);
        }
        break;
      case "proposed": {
        inTime(e.round, e, "the record");
        const r = rounds.get(e.round);
        if (open?.round !== e.round) bad(e.round, "sequence", `round ${e.round} was posted while round ${open?.round} was open`);
        if (r !== undefined && r.parentRound !== head()) {
          bad(e.round, "sequence", `round ${e.round} builds on round ${r.parentRound}, the head was ${head()}`);
        }
        if (r !== undefined) commitments.set(e.round, r.commitment);
        // Every attestation sent on-chain for the round before its record is in the record (§11); the
        // record's inline attestations come as events just before it, and name it too. A batched
        // record names none.
        if (open?.round === e.round) {
          const named = r === undefined || r.batched !== undefined ? [] : r.updates.map((u) => u.participant);
          for (const x of omittedAttestations(e.round, attestedOpen, named)) bad(x.round, x.link, x.message);
        }
        statuses.set(e.round, "Proposed");
        lastRound = e.round;
        break;
      }
      case "attested":
        expectStatus(statuses, e.round, "Proposed", "Attested", bad);
        break;
      case "proven":
        inTime(e.round, e, "the proof");
        provenAt.set(e.round, e.timestamp);
        expectStatus(statuses, e.round, rounds.get(e.round)?.batched !== undefined ? "Proposed" : "Attested", "Proven", bad);
        break;
      case "finalized": {
        const r = rounds.get(e.round);
        const proved = provenAt.get(e.round);
        if (proved !== undefined && e.timestamp < proved + cfg.finalityDelay) {
          bad(
            e.round,
            "lifecycle",
            `finalized at time ${e.timestamp}, before the finality delay ended (proven at ${proved} + ${cfg.finalityDelay} s)`,
          );
        }
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
  return { rosterIndex, revokedFrom, carried, carriedReputation, openings, statuses };
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

/** Verifies a round's checkpoint (§7) and returns it when it parses. */
async function checkCheckpoint(
  opts: AuditOptions,
  r: Pick<RoundEvidence, "round" | "modelRoot" | "cidCodec" | "cidDigest">,
  modelId: string,
  modelLength: number,
): Promise<{ findings: Finding[]; checkpoint?: Checkpoint }> {
  const t = r.round;
  let cid;
  try {
    cid = cidFromOnchain(r.cidCodec, r.cidDigest);
  } catch (e) {
    return { findings: [{ round: t, link: "checkpoint", message: ensureError(e).message }] };
  }
  let bytes: Uint8Array;
  try {
    bytes = await opts.checkpoints.getVerified(cid);
  } catch (e) {
    return { findings: [{ round: t, link: "checkpoint", message: `${cid.toString()}: ${ensureError(e).message}` }] };
  }
  let ck: Checkpoint;
  try {
    ck = decodeCheckpoint(bytes);
  } catch (e) {
    return { findings: [{ round: t, link: "checkpoint", message: `${cid.toString()}: ${ensureError(e).message}` }] };
  }
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
    return { findings: out, checkpoint: ck };
  }
  const root = fieldToBytes32(await vectorRoot(ck.values));
  if (root !== r.modelRoot) {
    out.push({
      round: t,
      link: "checkpoint",
      message: `${cid.toString()} commits to model root ${root}, the chain records ${r.modelRoot}`,
    });
  }
  return { findings: out, checkpoint: ck };
}

/**
 * Fetches the round's published updates through the list in its (verified) checkpoint, and checks
 * each one against the record (§7): listed for the record's participant in S_t order, bytes that
 * hash to the listed CID, a header naming that participant, this round and this model, and a
 * Poseidon root equal to the update root the participant attested. `deltas` only when all pass.
 */
async function checkUpdates(
  opts: AuditOptions,
  r: RoundEvidence,
  ck: Checkpoint,
  modelId: string,
  byzFed: boolean,
): Promise<{ findings: Finding[]; missing: Finding[]; deltas?: Int32Array[] }> {
  const t = r.round;
  const what = byzFed ? "the aggregation and ByzFed's weights and reputations" : "the aggregation";
  if (ck.updates === undefined) {
    return {
      findings: [],
      missing: [
        { round: t, link: "updates", message: `the round's checkpoint lists no published updates, so ${what} cannot be recomputed` },
      ],
    };
  }
  const names = r.updates.map((u) => getAddress(u.participant));
  const listed = ck.updates.map((u) => u.participant);
  if (listed.join(",") !== names.join(",")) {
    return {
      findings: [
        {
          round: t,
          link: "updates",
          message: `the checkpoint lists updates of [${listed.join(", ")}], the record names [${names.join(", ")}]`,
        },
      ],
      missing: [],
    };
  }
  const findings: Finding[] = [];
  const missing: Finding[] = [];
  const deltas: Int32Array[] = [];
  for (const [i, entry] of ck.updates.entries()) {
    const who = `update of ${entry.participant} (${entry.cid})`;
    let bytes: Uint8Array;
    try {
      bytes = await opts.checkpoints.getVerified(entry.cid);
    } catch (e) {
      const err = ensureError(e);
      if (err instanceof DsainError && err.code === ErrorCode.IPFS_NOT_FOUND) {
        missing.push({ round: t, link: "updates", message: `${who} is not available (${err.message}), so ${what} cannot be recomputed` });
      } else {
        findings.push({ round: t, link: "updates", message: `${who}: ${err.message}` });
      }
      continue;
    }
    let file;
    try {
      file = decodeUpdateFile(bytes);
    } catch (e) {
      findings.push({ round: t, link: "updates", message: `${who}: ${ensureError(e).message}` });
      continue;
    }
    const wrong: string[] = [];
    if (file.participant !== entry.participant) wrong.push(`is the update of ${file.participant}`);
    if (file.round !== t) wrong.push(`is an update for round ${file.round}`);
    if (file.modelId !== modelId) wrong.push(`is an update of model ${file.modelId}`);
    if (file.values.length !== ck.values.length) wrong.push(`has ${file.values.length} parameters, the model ${ck.values.length}`);
    else {
      const root = fieldToBytes32(await vectorRoot(file.values));
      if (root !== r.updates[i].updateRoot) wrong.push(`commits to update root ${root}, the record names ${r.updates[i].updateRoot}`);
    }
    if (wrong.length > 0) findings.push({ round: t, link: "updates", message: `the file listed as the ${who} ${wrong.join("; ")}` });
    deltas.push(file.values);
  }
  return findings.length + missing.length === 0 ? { findings, missing, deltas } : { findings, missing };
}

/** `dense/kernel[17]`: the tensor (§1) and flat offset inside it of coordinate j. */
function coordinateName(tensors: readonly TensorSpec[], j: number): string {
  let offset = j;
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (offset < size) return `${t.name}[${offset}]`;
    offset -= size;
  }
  return `#${j}`;
}

/** w_{t+1} = aggregateExact(w_t, Δ, recorded weights) (§3), byte for byte against the checkpoint. */
function checkAggregation(
  t: number,
  r: RoundEvidence,
  parent: Int32Array,
  deltas: readonly Int32Array[],
  weights: readonly number[],
  ck: Checkpoint,
  chunks: number,
  /** A batched round's challenged chunks (its seed is not the direct path's). */
  challengedChunks?: readonly number[],
): Finding[] {
  let expected: Int32Array;
  try {
    expected = aggregateExact(parent, deltas, weights);
  } catch (e) {
    return [{ round: t, link: "aggregation", message: `the exact aggregation cannot be recomputed: ${ensureError(e).message}` }];
  }
  let first = -1;
  let differing = 0;
  for (let j = 0; j < expected.length; j++) {
    if (expected[j] !== ck.values[j]) {
      if (first < 0) first = j;
      differing++;
    }
  }
  if (first < 0) return [];
  const chunk = Math.floor(first / CHUNK_SIZE);
  if (challengedChunks !== undefined) {
    return [
      {
        round: t,
        link: "aggregation",
        message:
          `coordinate ${first} (${coordinateName(ck.tensors, first)}) is ${ck.values[first]} in the checkpoint, the exact aggregation of the published updates gives ${expected[first]}; ` +
          `${differing} coordinate(s) differ, the first in leaf chunk ${chunk}; the proof opened chunks [${challengedChunks.join(", ")}]`,
      },
    ];
  }
  const challenged = challengeChunk(r.challengeSeed, chunks);
  return [
    {
      round: t,
      link: "aggregation",
      message:
        `coordinate ${first} (${coordinateName(ck.tensors, first)}) is ${ck.values[first]} in the checkpoint, the exact aggregation of the published updates gives ${expected[first]}; ` +
        `${differing} coordinate(s) differ, the first in chunk ${chunk}${chunk === challenged ? " (the challenged chunk)" : `, not the challenged chunk ${challenged}`}`,
    },
  ];
}

/**
 * ByzFed re-run (§3, "ByzFed rounds") from the published updates and the reputations the ledger
 * held before the round: the kept set and integer weights against the record's weights, the
 * reputations after the round against the record's.
 */
function checkByzFed(
  t: number,
  r: RoundEvidence,
  addrs: readonly string[],
  deltas: readonly Int32Array[],
  before: readonly number[],
  rule: ExactRule,
): Finding[] {
  let decision;
  try {
    decision = rule.decide({ participants: addrs, sampleCounts: r.updates.map((u) => u.sampleCount), reputationsBefore: before, deltas });
  } catch (e) {
    return [{ round: t, link: "weights", message: `ByzFed cannot be re-run on the published updates: ${ensureError(e).message}` }];
  }
  const out: Finding[] = [];
  const weights = r.updates.map((u) => u.weight);
  if (decision.weights.join(",") !== weights.join(",")) {
    const kept = decision.kept.map((i) => addrs[i]);
    const weighted = addrs.filter((_, i) => weights[i] > 0);
    out.push({
      round: t,
      link: "weights",
      message: `weights [${weights}] differ from ByzFed's [${decision.weights}]; ByzFed keeps [${kept.join(", ")}]${decision.fallback ? " (nobody: every update is used)" : ""}, the record weights [${weighted.join(", ")}]`,
    });
  }
  const after = decision.reputationsAfter;
  for (const [i, u] of r.updates.entries()) {
    if (after !== null && u.reputationMicros !== after[i]) {
      out.push({
        round: t,
        link: "reputation",
        message: `${addrs[i]}'s reputation after the round is ${u.reputationMicros} µ in the record; ByzFed gives ${after[i]} µ (from ${before[i]} µ, ${decision.kept.includes(i) ? "kept" : "not kept"})`,
      });
    }
  }
  return out;
}
