// The committee member's loop (docs/protocol.md §12, §15), direct path: for the round the chain
// has open, collect the selected participants' announced updates (each fetched from its sender's
// node, decoded, hashed and matched with its on-chain attestation); when this member is the slot's
// proposer and the round is ready, re-execute it, store the checkpoint, sign and propose; when
// another member proposes, fetch exactly the updates it names, re-execute the round the same way,
// and sign only if its own record is the same bytes (else publish a refusal naming the difference).
// The proposer posts once f+1 signatures recover over its record, then proves the challenged chunk
// and finalizes. A member never signs two records for one round: the log is on disk first.
import { getAddress, type HDNodeWallet, type TypedDataDomain, type Wallet } from "ethers";
import { DsainError, ErrorCode, ensureError, isRetryable } from "../errors.js";
import { attestationDomain } from "../protocol/attestation.js";
import { decodeCheckpoint, decodeUpdateFile, type PublishedUpdate, type TensorSpec } from "../protocol/checkpoint.js";
import { cidFromOnchain } from "../protocol/cid.js";
import { RoundStatus, type FederationEvidence } from "../protocol/evidence.js";
import { recoverRoundRecordSigner, roundRecordDigest, signRoundRecord } from "../protocol/quorum.js";
import type { UpdateEntry } from "../protocol/record.js";
import {
  WIRE_VERSION,
  decodeWireMessage,
  encodeWireMessage,
  proposerOf,
  proposerSlot,
  topicName,
  type Endorsement as EndorsementMessage,
  type RecordProposal,
  type UpdateAnnouncement,
  type WireMessage,
} from "../protocol/wire.js";
import { exactRuleOf } from "../maths/robust/exact-rule.js";
import type { BuiltRecord } from "../adapters/chain/records.js";
import { ensureCircuitKeys } from "../adapters/proof/keys.js";
import { aggregateRound, readSelection, recordEntries, proposeRecord, storeCheckpoint, type Selection } from "../roles/aggregator.js";
import { endorse, reviewBasis } from "../roles/committee.js";
import { commitUpdate } from "../roles/participant.js";
import { finalizeRecord, postRecord, proveRecord } from "../roles/poster.js";
import { proveChunk, readChallenge } from "../roles/prover.js";
import { stateFromChain, type RoundState } from "../roles/round-state.js";
import { formatFinding, type AuditState } from "../roles/auditor/audit.js";
import type { NodeContext } from "./context.js";
import { since } from "./log.js";
import { sleep } from "./retry.js";
import { checkpointByteCap } from "./participant.js";

/** An update this member fetched and checked against the chain. */
interface CheckedUpdate {
  participant: string;
  cid: string;
  delta: Int32Array;
  updateRoot: string;
  sampleCount: bigint;
}

/** A record this member built (as proposer or to compare with a proposal). */
interface BuiltRound {
  record: BuiltRecord;
  entries: UpdateEntry[];
  checkpointCid: string;
  digest: string;
  next: Int32Array;
  weights: number[];
  deltas: Int32Array[];
}

/** What the member knows of the open round. */
interface OpenRound {
  round: bigint;
  openedAt: bigint;
  evidence: FederationEvidence;
  selection: Selection;
  base: RoundState;
  tensors: TensorSpec[];
  received: Map<string, CheckedUpdate>;
  refusedCids: Set<string>;
  refusedDigests: Set<string>;
  /** The record this member endorsed for another proposer (if any), with its signature and that proposal. */
  endorsed?: { built: BuiltRound; signature: string; proposal: RecordProposal };
  /** The record this member proposed (if any), the proposal message and the signatures collected. */
  mine?: { built: BuiltRound; proposal: RecordProposal; signatures: Map<string, string>; lastSent: number };
  posted: boolean;
}

const REPUBLISH_MS = 2000;

export async function aggregatorLoop(
  ctx: NodeContext<"aggregator">,
  wallet: Wallet | HDNodeWallet,
  chainStatus: (error: string | undefined) => void,
): Promise<void> {
  const { config, log, ledger, provider, store, metrics, signal, federation } = ctx;
  const fid = config.federationId;
  const me = getAddress(ctx.account);
  const committee = federation.committee.map((m) => getAddress(m));
  const domain: TypedDataDomain = attestationDomain(ctx.chainId, config.ledger);
  const rule = exactRuleOf(federation.aggregation);
  const updateCap = 4 * federation.modelLength + 64 * 1024;
  const checkpointCap = checkpointByteCap(federation.modelLength);
  const topics = store.topics!;
  const topic = (kind: "updates" | "proposals" | "endorsements") => topicName(ctx.chainId, config.ledger, fid, kind);
  const endorsementLog = ctx.state.endorsementLog(fid);
  const content = { getVerified: (cid: Parameters<typeof store.fetch>[0]) => store.fetch(cid, { maxBytes: checkpointCap, signal }) };

  let keys: Awaited<ReturnType<typeof ensureCircuitKeys>> | undefined;
  if (config.prove) {
    keys = await ensureCircuitKeys(config.circuit, { log: (m) => log.info({ circuit: config.circuit }, m) });
    if (keys.vkeyHash.toLowerCase() !== federation.verifyingKeyHash.toLowerCase()) {
      throw new DsainError(
        ErrorCode.CONFIG_INVALID,
        `circuit ${config.circuit} has verifying key ${keys.vkeyHash}; federation ${fid} pins ${federation.verifyingKeyHash}: set circuit to the federation's instance`,
      );
    }
  }

  // Messages are queued by the subscription and handled by the loop, one at a time.
  const inbox: WireMessage[] = [];
  const onMessage = (m: { data: Uint8Array; from: string }): void => {
    try {
      inbox.push(decodeWireMessage(m.data));
    } catch (error) {
      metrics.roundsRefused.inc({ reason: "malformed-message" });
      log.warn({ from: m.from, reason: ensureError(error).message }, "ignored a malformed message");
    }
  };
  const unsubscribe = [
    topics.subscribe(topic("updates"), onMessage),
    topics.subscribe(topic("proposals"), onMessage),
    topics.subscribe(topic("endorsements"), onMessage),
  ];

  /** Rounds this member can prove (it built or re-executed their record), by round. */
  const provable = new Map<bigint, { built: BuiltRound; base: Int32Array }>();
  let reviewed: { round: bigint; commitment: string; state: AuditState } | undefined;
  let open: OpenRound | undefined;
  let announcedOpen: bigint | undefined;
  try {
    while (!signal.aborted) {
      try {
        await tick();
        chainStatus(undefined);
      } catch (error) {
        if (signal.aborted) break;
        const e = ensureError(error);
        if (!isRetryable(error)) {
          metrics.roundsRefused.inc({ reason: (error as DsainError).code ?? "error" });
          log.error(
            { round: open === undefined ? undefined : Number(open.round), reason: e.message, code: (error as DsainError).code },
            "round step failed",
          );
          if (open !== undefined) open.refusedCids.clear();
        } else {
          if ((error as DsainError).code === ErrorCode.CHAIN_UNAVAILABLE) chainStatus(e.message);
          log.warn({ reason: e.message }, "transient failure; trying again at the next poll");
        }
      }
      await sleep(config.pollMs, signal);
    }
  } finally {
    for (const u of unsubscribe) u();
  }

  async function tick(): Promise<void> {
    const fs = await ledger.federationState(fid);
    const round = fs.lastRound + 1n;
    metrics.currentRound.set(Number(round));
    // Rounds this member posted (or anyone did) and that still need a proof or finalization.
    await proveAndFinalize(fs.head);
    if (config.lastRound !== undefined && round > BigInt(config.lastRound)) {
      if (announcedOpen !== round) {
        announcedOpen = round;
        log.info({ round: Number(round), lastRound: config.lastRound }, "round open after lastRound: not taking part");
      }
      return;
    }
    if (open === undefined || open.round !== round) {
      open = await openRound(round, fs.openedAt);
      if (open === undefined) return;
    }
    const current = open;
    for (const m of inbox.splice(0)) await handle(current, m);
    if (current.posted) return;
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const slot = proposerSlot(current.openedAt, now, config.slotSeconds);
    if (proposerOf(current.round, committee, slot) === me) await propose(current, slot, now, fs.openAttestations);
    if (current.mine !== undefined && Date.now() - current.mine.lastSent >= REPUBLISH_MS) {
      await topics.publish(topic("proposals"), encodeWireMessage(current.mine.proposal));
      current.mine.lastSent = Date.now();
    }
  }

  async function openRound(round: bigint, openedAt: bigint): Promise<OpenRound | undefined> {
    const t0 = performance.now();
    if (announcedOpen !== round) {
      announcedOpen = round;
      metrics.roundsSeen.inc();
      log.info({ round: Number(round), openedAt: Number(openedAt) }, "round open");
    }
    const evidence = await ledger.readEvidence(fid, provider);
    const selection = await readSelection(ledger, fid, evidence.participants, federation.participantsPerRound);
    if (selection.round !== round) return undefined;
    const base = await stateFromChain(ledger, fid, evidence, content);
    if (base.round !== round) return undefined;
    const parentRecord = base.parentRound === 0n ? undefined : evidence.rounds.find((r) => BigInt(r.round) === base.parentRound);
    const parentCid =
      parentRecord === undefined
        ? cidFromOnchain(federation.genesisCidCodec, federation.genesisCidDigest)
        : cidFromOnchain(parentRecord.cidCodec, parentRecord.cidDigest);
    const tensors = decodeCheckpoint(await store.fetch(parentCid, { maxBytes: checkpointCap, signal })).tensors;
    log.info(
      { round: Number(round), parent: Number(base.parentRound), selected: selection.addresses.length, ms: since(t0) },
      "base model rebuilt from the chain",
    );
    return {
      round,
      openedAt,
      evidence,
      selection,
      base,
      tensors,
      received: new Map(),
      refusedCids: new Set(),
      refusedDigests: new Set(),
      posted: false,
    };
  }

  async function handle(r: OpenRound, m: WireMessage): Promise<void> {
    if (m.federationId !== fid) return;
    if (m.round !== r.round) {
      if (m.round > r.round) inbox.push(m); // from a round this member has not seen open yet: keep it
      return;
    }
    if (m.kind === "update") await onUpdate(r, m);
    else if (m.kind === "proposal") await onProposal(r, m);
    else if (m.kind === "endorsement") onEndorsement(r, m);
    else if (r.mine !== undefined && m.recordDigest === r.mine.built.digest) {
      log.warn({ round: Number(r.round), member: m.signer, reason: m.reason }, "a member refused this member's proposal");
    }
  }

  /** Fetches an update by CID from whoever has it and checks it against the round and its on-chain attestation. */
  async function fetchChecked(r: OpenRound, participant: string, cid: string): Promise<CheckedUpdate> {
    const t0 = performance.now();
    const who = getAddress(participant);
    if (!r.selection.addresses.some((a) => getAddress(a) === who)) {
      throw new DsainError(ErrorCode.INPUT_INVALID, `${who} is not selected for round ${r.round}`);
    }
    const bytes = await store.fetch(cid, { maxBytes: updateCap, signal });
    const file = decodeUpdateFile(bytes);
    if (BigInt(file.round) !== r.round || getAddress(file.participant) !== who || file.modelId !== federation.modelId) {
      throw new DsainError(
        ErrorCode.INPUT_INVALID,
        `update ${cid} is for round ${file.round} of ${file.participant} on model ${file.modelId}, not round ${r.round} of ${who} on ${federation.modelId}`,
      );
    }
    if (file.values.length !== federation.modelLength) {
      throw new DsainError(
        ErrorCode.INPUT_INVALID,
        `update ${cid} has ${file.values.length} values; the model has ${federation.modelLength}`,
      );
    }
    const updateRoot = await commitUpdate(file.values);
    const attested = await ledger.attestationOf(fid, r.round, who);
    if (attested === undefined) throw new DsainError(ErrorCode.CHAIN_NOT_READY, `${who} has not attested round ${r.round} on-chain yet`);
    if (attested.toLowerCase() !== updateRoot.toLowerCase()) {
      throw new DsainError(
        ErrorCode.INPUT_INVALID,
        `update ${cid} of ${who} hashes to ${updateRoot}, not to its attested root ${attested}`,
      );
    }
    const sampleCount = sampleCountOf(r, who);
    metrics.updatesFetched.inc();
    metrics.bytesFetched.inc(bytes.length);
    metrics.stepSeconds.observe({ step: "fetch-update" }, (performance.now() - t0) / 1000);
    return { participant: who, cid, delta: file.values, updateRoot, sampleCount };
  }

  /** The sample count a participant attested for the open round (its UpdateAttested event). */
  function sampleCountOf(r: OpenRound, who: string): bigint {
    const e = r.evidence.events.find((x) => x.kind === "attestation" && x.round === Number(r.round) && getAddress(x.participant) === who);
    if (e === undefined || e.kind !== "attestation")
      throw new DsainError(ErrorCode.CHAIN_NOT_READY, `no UpdateAttested event of ${who} for round ${r.round} read yet`);
    return e.sampleCount;
  }

  async function onUpdate(r: OpenRound, m: UpdateAnnouncement): Promise<void> {
    const who = getAddress(m.participant);
    if (r.received.has(who) || r.refusedCids.has(m.cid)) return;
    try {
      if (!r.evidence.events.some((x) => x.kind === "attestation" && x.round === Number(r.round) && getAddress(x.participant) === who)) {
        r.evidence = await ledger.readEvidence(fid, provider); // its attestation came after the round opened
      }
      const u = await fetchChecked(r, who, m.cid);
      r.received.set(who, u);
      log.info({ round: Number(r.round), participant: who, cid: m.cid, received: r.received.size }, "update fetched and checked");
    } catch (error) {
      if (isRetryable(error) || signal.aborted) return; // asked again at its next announcement
      r.refusedCids.add(m.cid);
      metrics.roundsRefused.inc({ reason: "update" });
      log.warn({ round: Number(r.round), participant: who, cid: m.cid, reason: ensureError(error).message }, "update refused");
    }
  }

  /** Re-executes the round from exactly these updates (record order) and builds its record and checkpoint. */
  async function build(r: OpenRound, updates: readonly CheckedUpdate[], lie = false): Promise<BuiltRound> {
    const t0 = performance.now();
    const ordered = [...updates].sort((a, b) => (BigInt(a.participant) < BigInt(b.participant) ? -1 : 1));
    const { decision, next } = aggregateRound(rule, r.base, ordered);
    if (lie) next[next.length - 1] += 1 << 16; // fault injection: one weight off by 1.0
    const published: PublishedUpdate[] = ordered.map((u) => ({ participant: u.participant, cid: u.cid }));
    const checkpoint = await storeCheckpoint(store, {
      round: Number(r.round),
      modelId: federation.modelId,
      tensors: r.tensors,
      values: next,
      updates: published,
    });
    const entries = recordEntries(
      ordered.map((u) => ({ participant: u.participant, updateRoot: u.updateRoot, sampleCount: u.sampleCount, signature: "0x" })),
      decision,
      r.base.reputations,
      federation.dp,
    );
    const record = proposeRecord(fid, r.base, checkpoint, entries);
    metrics.stepSeconds.observe({ step: "aggregate" }, (performance.now() - t0) / 1000);
    return {
      record,
      entries,
      checkpointCid: checkpoint.cid,
      digest: roundRecordDigest(domain, record.message),
      next,
      weights: decision.weights,
      deltas: ordered.map((u) => u.delta),
    };
  }

  /** Reviews a record with the auditor's round check and signs it (logged on disk first); the findings if it refuses. */
  async function review(r: OpenRound, built: BuiltRound): Promise<{ signature?: string; refusal?: string }> {
    const t0 = performance.now();
    const evidence = await ledger.readEvidence(fid, provider);
    // The state after the parent, from this member's last review when the chain posted that same
    // record; otherwise folded again over the whole history (after a restart, or another record).
    const parent = evidence.rounds.find((x) => BigInt(x.round) === r.base.parentRound);
    const previous =
      reviewed !== undefined &&
      parent !== undefined &&
      reviewed.round === r.base.parentRound &&
      reviewed.commitment === parent.commitment.toLowerCase()
        ? reviewed.state
        : undefined;
    const basis = await reviewBasis(evidence, content, previous);
    const answer = await endorse(wallet, domain, basis, built.record, built.entries, endorsementLog);
    if (answer.signed) reviewed = { round: r.round, commitment: built.record.post.commitment.toLowerCase(), state: answer.state };
    metrics.stepSeconds.observe({ step: "review" }, (performance.now() - t0) / 1000);
    if (!answer.signed) return { refusal: answer.findings.map(formatFinding).join("; ") };
    log.info({ round: Number(r.round), step: "review", ms: since(t0) }, "re-executed the round with the auditor's checks");
    return { signature: answer.signature };
  }

  async function propose(r: OpenRound, slot: number, now: bigint, openAttestations: bigint): Promise<void> {
    if (r.mine !== undefined) {
      await maybePost(r);
      return;
    }
    const selected = r.selection.addresses.length;
    const waited = now - r.openedAt;
    const all = r.received.size === selected;
    const enough = r.received.size >= federation.minUpdates && waited >= BigInt(config.collectSeconds);
    // Every update attested on-chain must be in the record (§11): wait until each one is fetched.
    if (!(all || enough) || BigInt(r.received.size) < openAttestations) return;
    if (r.endorsed !== undefined) {
      // This member already signed another member's record for the round: it proposes that same
      // record (§15), with the original proposer's signature and its own, rather than a second one.
      const { built, signature, proposal: theirs } = r.endorsed;
      const proposal: RecordProposal = { ...theirs, slot, proposer: me, signature };
      r.mine = {
        built,
        proposal,
        signatures: new Map([
          [me, signature],
          [getAddress(theirs.proposer), theirs.signature],
        ]),
        lastSent: Date.now(),
      };
      metrics.roundsProposed.inc();
      log.info({ round: Number(r.round), slot, adopted: theirs.proposer, digest: built.digest }, "proposed a record (the one it endorsed)");
      await topics.publish(topic("proposals"), encodeWireMessage(proposal));
      await maybePost(r);
      return;
    }
    const earlier = await endorsementLog.signed(r.round);
    const lie = config.misbehave === "lie";
    const built = await build(r, [...r.received.values()], lie);
    if (!lie && earlier !== undefined && earlier.toLowerCase() !== built.record.post.commitment.toLowerCase()) {
      log.warn(
        { round: Number(r.round), slot },
        "this member already signed another record for the round; it endorses that one rather than proposing",
      );
      return;
    }
    const own = lie ? { signature: await signRoundRecord(wallet, domain, built.record.message) } : await review(r, built);
    if (own.signature === undefined) {
      log.error({ round: Number(r.round), reason: own.refusal }, "this member's own record fails the auditor's checks; not proposing");
      return;
    }
    const proposal: RecordProposal = {
      v: WIRE_VERSION,
      kind: "proposal",
      federationId: fid,
      round: r.round,
      parentRound: r.base.parentRound,
      slot,
      proposer: me,
      included: built.entries.map((e) => ({ participant: e.participant, cid: r.received.get(getAddress(e.participant))!.cid })),
      checkpointCid: built.checkpointCid,
      recordDigest: built.digest,
      signature: own.signature,
    };
    r.mine = { built, proposal, signatures: new Map([[me, own.signature]]), lastSent: Date.now() };
    metrics.roundsProposed.inc();
    log.info(
      { round: Number(r.round), slot, updates: built.entries.length, checkpoint: built.checkpointCid, digest: built.digest },
      "proposed a record",
    );
    await topics.publish(topic("proposals"), encodeWireMessage(proposal));
    await maybePost(r);
  }

  function onEndorsement(r: OpenRound, m: EndorsementMessage): void {
    if (r.mine === undefined || m.recordDigest !== r.mine.built.digest) return;
    let signer: string;
    try {
      signer = getAddress(recoverRoundRecordSigner(domain, r.mine.built.record.message, m.signature));
    } catch {
      log.warn({ round: Number(r.round), from: m.signer }, "ignored an endorsement whose signature does not decode");
      return;
    }
    if (signer !== getAddress(m.signer) || !committee.includes(signer)) {
      log.warn(
        { round: Number(r.round), claimed: m.signer, recovered: signer },
        "ignored an endorsement that does not recover a committee member over this record",
      );
      return;
    }
    if (!r.mine.signatures.has(signer)) {
      r.mine.signatures.set(signer, m.signature);
      log.info({ round: Number(r.round), member: signer, signatures: r.mine.signatures.size }, "endorsement received");
    }
  }

  async function maybePost(r: OpenRound): Promise<void> {
    if (r.mine === undefined || r.posted || r.mine.signatures.size < federation.quorum) return;
    const t0 = performance.now();
    const quorum = [...r.mine.signatures.values()].slice(0, federation.quorum);
    const posted = await postRecord(ledger, fid, r.mine.built.record, r.mine.built.entries, quorum);
    r.posted = true;
    const gas = posted.sent ? Number(posted.receipt.gasUsed) : 0;
    if (posted.sent) metrics.gasUsed.inc({ method: "postRound" }, gas);
    metrics.roundsPosted.inc();
    metrics.stepSeconds.observe({ step: "post" }, (performance.now() - t0) / 1000);
    log.info(
      { round: Number(r.round), step: "post", gas, ms: since(t0), sent: posted.sent },
      posted.sent ? "posted the record" : "the record was already on-chain",
    );
    provable.set(r.round, { built: r.mine.built, base: r.base.model });
  }

  async function onProposal(r: OpenRound, m: RecordProposal): Promise<void> {
    if (getAddress(m.proposer) === me) return;
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const currentSlot = proposerSlot(r.openedAt, now, config.slotSeconds);
    if (r.refusedDigests.has(m.recordDigest)) return; // refused once, with its reason; not re-executed at every resend
    const refuse = async (reason: string, final = true): Promise<void> => {
      if (final) r.refusedDigests.add(m.recordDigest);
      metrics.roundsRefused.inc({ reason: "proposal" });
      log.warn({ round: Number(r.round), proposer: m.proposer, reason }, "refused a proposal");
      await topics.publish(
        topic("endorsements"),
        encodeWireMessage({
          v: WIRE_VERSION,
          kind: "refusal",
          federationId: fid,
          round: r.round,
          recordDigest: m.recordDigest,
          signer: me,
          reason: reason.slice(0, 2000),
        }),
      );
    };
    if (config.misbehave === "lie") {
      // Fault injection: sign whatever digest is proposed, without re-executing anything.
      const signature = wallet.signingKey.sign(m.recordDigest).serialized;
      log.warn({ round: Number(r.round), proposer: m.proposer }, "misbehaving: endorsed a proposal without re-executing it");
      await topics.publish(
        topic("endorsements"),
        encodeWireMessage({
          v: WIRE_VERSION,
          kind: "endorsement",
          federationId: fid,
          round: r.round,
          recordDigest: m.recordDigest,
          signer: me,
          signature,
        }),
      );
      return;
    }
    if (r.endorsed !== undefined) {
      if (r.endorsed.built.digest !== m.recordDigest)
        return refuse(`this member already endorsed record ${r.endorsed.built.digest} for the round`);
      return publishEndorsement(r, r.endorsed.built.digest, r.endorsed.signature); // the same record again: the same signature
    }
    if (m.parentRound !== r.base.parentRound) return refuse(`parent round ${m.parentRound} is not the head ${r.base.parentRound}`);
    if (m.slot > currentSlot) return refuse(`slot ${m.slot} has not begun (the chain is in slot ${currentSlot})`, false);
    if (proposerOf(r.round, committee, m.slot) !== getAddress(m.proposer))
      return refuse(`${m.proposer} is not the proposer of slot ${m.slot}`);
    const t0 = performance.now();
    const updates: CheckedUpdate[] = [];
    try {
      r.evidence = await ledger.readEvidence(fid, provider);
      for (const inc of m.included)
        updates.push(
          r.received.get(getAddress(inc.participant))?.cid === inc.cid
            ? r.received.get(getAddress(inc.participant))!
            : await fetchChecked(r, inc.participant, inc.cid),
        );
    } catch (error) {
      if (isRetryable(error)) return; // the proposer sends it again
      return refuse(`an update it names is refused: ${ensureError(error).message}`);
    }
    const built = await build(r, updates);
    if (built.checkpointCid !== m.checkpointCid) {
      return refuse(
        `re-executing the round from the ${updates.length} named updates gives checkpoint ${built.checkpointCid}, not ${m.checkpointCid} (the aggregate differs)`,
      );
    }
    if (built.digest !== m.recordDigest)
      return refuse(`re-executing the round gives record ${built.digest}, not ${m.recordDigest} (weights, reputations or debits differ)`);
    let proposerSigner = "";
    try {
      proposerSigner = getAddress(recoverRoundRecordSigner(domain, built.record.message, m.signature));
    } catch {
      // left empty: refused below
    }
    if (proposerSigner !== getAddress(m.proposer))
      return refuse(`the proposal's signature does not recover its proposer ${m.proposer} over the record`);
    const answer = await review(r, built);
    if (answer.signature === undefined) return refuse(`the auditor's checks fail: ${answer.refusal}`);
    metrics.roundsEndorsed.inc();
    log.info(
      { round: Number(r.round), proposer: m.proposer, step: "endorse", ms: since(t0) },
      "re-executed the proposal: same record; endorsed",
    );
    provable.set(r.round, { built, base: r.base.model });
    r.endorsed = { built, signature: answer.signature, proposal: m };
    await publishEndorsement(r, built.digest, answer.signature);
  }

  async function publishEndorsement(r: OpenRound, recordDigest: string, signature: string): Promise<void> {
    await topics.publish(
      topic("endorsements"),
      encodeWireMessage({ v: WIRE_VERSION, kind: "endorsement", federationId: fid, round: r.round, recordDigest, signer: me, signature }),
    );
  }

  async function proveAndFinalize(head: bigint): Promise<void> {
    for (const [round, p] of [...provable]) {
      const { status } = await ledger.roundRecord(fid, round);
      if (status === BigInt(RoundStatus.None)) continue; // not posted yet
      if (status === BigInt(RoundStatus.Rejected) || status === BigInt(RoundStatus.Finalized)) {
        provable.delete(round);
        continue;
      }
      if (status === BigInt(RoundStatus.Attested) && keys !== undefined) {
        // The proposer proves; if it is gone, the member whose slot it is now takes over.
        const now = BigInt((await provider.getBlock("latest"))!.timestamp);
        const { openedAt } = await ledger.federationState(fid);
        const mineToProve =
          open?.mine?.built.digest === p.built.digest ||
          proposerOf(round, committee, proposerSlot(openedAt, now, config.slotSeconds)) === me;
        if (!mineToProve) continue;
        const t0 = performance.now();
        const publicInputs = await readChallenge(() => ledger.publicInputs(fid, round, p.built.record.columns), {
          provider,
          mine: false,
          nudge: wallet.connect(provider),
          what: `round ${round}`,
        });
        const proved = await proveChunk({
          instance: config.circuit,
          round,
          base: p.base,
          next: p.built.next,
          deltas: p.built.deltas,
          weights: p.built.weights,
          slots: federation.participantsPerRound,
          publicInputs: publicInputs.challenge,
        });
        const sent = await proveRecord(ledger, fid, round, p.built.record.columns, proved.proof);
        if (sent.sent) metrics.gasUsed.inc({ method: "proveRound" }, Number(sent.receipt.gasUsed));
        metrics.proofSeconds.observe((proved.witnessMs + proved.proveMs) / 1000);
        log.info(
          { round: Number(round), step: "prove", chunk: proved.chunkIndex, proveMs: Math.round(proved.proveMs), ms: since(t0) },
          "proved the round",
        );
        continue;
      }
      if (status === BigInt(RoundStatus.Proven) && round <= head) {
        try {
          await finalizeRecord(ledger, fid, round);
          provable.delete(round);
          log.info({ round: Number(round) }, "round finalized");
        } catch (error) {
          if (!isRetryable(error) && !(error instanceof DsainError && error.code === ErrorCode.CHAIN_FAILURE)) throw error;
          // Too early (finality delay) or its parent is not final yet: tried again at the next poll.
        }
      }
    }
  }
}
