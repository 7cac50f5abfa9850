// A small executable model of the ledger's round rules (docs/protocol.md §9-§12), independent of
// the contract: given an action it predicts success or the exact custom error, and applies the
// effect. Selection seeds are observations (they depend on prevrandao), everything else is computed.
import { isSelected, selectionBound } from "../../aggregator/protocol/index.js";

export type Status = "None" | "Genesis" | "Proposed" | "Attested" | "Proven" | "Finalized" | "Rejected";

export interface ModelRound {
  status: Status;
  parent: number;
  openedAt: number;
  provenAt: number;
  /** Participants named in the record who still have to attest. */
  pending: Set<string>;
  participants: string[];
}

export interface ModelParticipant {
  index: number;
  revokedFrom: number;
  lastAttested: number;
  spent: bigint;
  reputation: number;
}

export interface ModelConfig {
  k: number;
  /** The number of updates the federation's verifier proves (RoundChunk(K, DEPTH)'s K): it has no verifyProof for another count. */
  verifierK: number;
  minUpdates: number;
  budget: bigint;
  /** The epsilon every update attests (the federation's dp.epsilonMicros): each entry must debit exactly this. */
  debit: bigint;
  roundDeadline: number;
  finalityDelay: number;
}

/** One entry of a record the test is about to post. */
export interface PlannedEntry {
  participant: string;
  inline: boolean;
  epsilon: bigint;
  reputation: number;
}

export type Outcome = { ok: true } | { error: string };

const OK: Outcome = { ok: true };
const fail = (error: string): Outcome => ({ error });

export class LedgerModel {
  lastRound = 0;
  head = 0;
  lastFinalized = 0;
  openedAt: number;
  rosterSize: number;
  seed: string;
  /** Attestations made on-chain for the open round: its record must name every one (issue 16). */
  openAttestations = 0;
  readonly roster: string[];
  readonly participants = new Map<string, ModelParticipant>();
  readonly rounds = new Map<number, ModelRound>();

  constructor(
    readonly config: ModelConfig,
    roster: string[],
    now: number,
    seed: string,
  ) {
    this.roster = [...roster];
    roster.forEach((a, index) => this.participants.set(a, { index, revokedFrom: 0, lastAttested: 0, spent: 0n, reputation: 0 }));
    this.rounds.set(0, { status: "Genesis", parent: 0, openedAt: now, provenAt: 0, pending: new Set(), participants: [] });
    this.openedAt = now;
    this.rosterSize = roster.length;
    this.seed = seed;
  }

  get openRound(): number {
    return this.lastRound + 1;
  }

  status(round: number): Status {
    return this.rounds.get(round)?.status ?? "None";
  }

  /** In S_t of the open round: among the first K non-revoked participants in shuffle order (§10). */
  selected(address: string): boolean {
    const p = this.participants.get(address);
    if (p === undefined) return false;
    const t = this.openRound;
    const revoked = [...this.participants.values()].filter((q) => q.revokedFrom !== 0 && q.revokedFrom <= t).map((q) => q.index);
    const bound = selectionBound(this.rosterSize, this.config.k, this.seed, revoked);
    return !revoked.includes(p.index) && isSelected(p.index, this.rosterSize, bound, this.seed);
  }

  /** The open round moves on: the caller then observes the new seed with {@link observeOpening}. */
  private open(now: number): void {
    this.openedAt = now;
    this.rosterSize = this.roster.length;
    this.openAttestations = 0;
  }

  observeOpening(seed: string): void {
    this.seed = seed;
  }

  // ------------------------------------------------------------------ actions

  enrol(address: string): Outcome {
    this.participants.set(address, { index: this.roster.length, revokedFrom: 0, lastAttested: 0, spent: 0n, reputation: 0 });
    this.roster.push(address);
    return OK;
  }

  revoke(address: string): Outcome {
    const p = this.participants.get(address);
    if (p === undefined) return fail("ProvenanceNotEnrolled");
    if (p.revokedFrom !== 0) return fail("ProvenanceAlreadyRevoked");
    p.revokedFrom = this.lastRound + 2;
    return OK;
  }

  post(entries: PlannedEntry[], now: number): Outcome {
    const t = this.openRound;
    if (this.status(this.head) === "Proposed") return fail("ProvenanceRoundNotAttested");
    if (now > this.openedAt + this.config.roundDeadline) return fail("ProvenanceDeadlinePassed");
    if (entries.length < this.config.minUpdates || entries.length > this.config.k) return fail("ProvenanceWrongUpdateCount");
    const spent = new Map<string, bigint>();
    for (const e of entries) {
      const p = this.participants.get(e.participant);
      if (p === undefined) return fail("ProvenanceNotEnrolled");
      if (p.revokedFrom !== 0 && t >= p.revokedFrom) return fail("ProvenanceParticipantRevoked");
      if (!this.selected(e.participant)) return fail("ProvenanceNotSelected");
      if (e.inline && p.lastAttested === t) return fail("ProvenanceDuplicateAttestation");
      if (e.epsilon !== this.config.debit) return fail("ProvenanceWrongDebit");
      if (e.epsilon > this.config.budget - p.spent) return fail("ProvenanceBudgetExceeded");
      spent.set(e.participant, p.spent + e.epsilon);
    }
    // Every on-chain attestation of the round is a direct entry of its record.
    const included = entries.filter((e) => !e.inline && this.participants.get(e.participant)!.lastAttested === t).length;
    if (included !== this.openAttestations) return fail("ProvenanceAttestationOmitted");
    const pending = new Set<string>();
    for (const e of entries) {
      const p = this.participants.get(e.participant)!;
      if (e.inline) p.lastAttested = t;
      else if (p.lastAttested !== t) pending.add(e.participant);
      p.spent = spent.get(e.participant)!;
      p.reputation = e.reputation;
    }
    this.rounds.set(t, {
      status: pending.size === 0 ? "Attested" : "Proposed",
      parent: this.head,
      openedAt: this.openedAt,
      provenAt: 0,
      pending,
      participants: entries.map((e) => e.participant),
    });
    this.lastRound = t;
    this.head = t;
    this.open(now);
    return OK;
  }

  /** A participant's own attestation for `round` (the open round, or a Proposed one naming it). */
  attest(address: string, round: number, now: number): Outcome {
    const p = this.participants.get(address);
    if (p === undefined) return fail("ProvenanceNotEnrolled");
    if (p.revokedFrom !== 0 && round >= p.revokedFrom) return fail("ProvenanceParticipantRevoked");
    if (p.lastAttested === round) return fail("ProvenanceDuplicateAttestation");
    const rec = this.rounds.get(round);
    let openedAt: number;
    if (round === this.openRound) {
      if (this.status(this.head) === "Proposed") return fail("ProvenanceRoundNotAttested");
      if (!this.selected(address)) return fail("ProvenanceNotSelected");
      if (this.config.debit > this.config.budget - p.spent) return fail("ProvenanceBudgetExceeded");
      openedAt = this.openedAt;
    } else if (round === this.lastRound && rec?.status === "Proposed") {
      if (!rec.participants.includes(address)) return fail("ProvenanceAttestationMismatch");
      openedAt = rec.openedAt;
    } else {
      return fail("ProvenanceRoundOutOfOrder");
    }
    if (now > openedAt + this.config.roundDeadline) return fail("ProvenanceDeadlinePassed");
    p.lastAttested = round;
    if (round === this.openRound) this.openAttestations++;
    if (rec?.status === "Proposed" && round !== this.openRound) {
      rec.pending.delete(address);
      if (rec.pending.size === 0) rec.status = "Attested";
    }
    return OK;
  }

  /** proveRound with a valid proof of `round`'s recorded aggregation (the only kind that can succeed). */
  prove(round: number, now: number): Outcome {
    const rec = this.rounds.get(round);
    if (rec?.status !== "Attested") return fail("ProvenanceRoundNotAttested");
    if (now > rec.openedAt + this.config.roundDeadline) return fail("ProvenanceDeadlinePassed");
    // Rounds with fewer than K updates are padded to the verifier's K slots (docs/protocol.md §8).
    if (rec.participants.length > this.config.verifierK) return fail("ProvenanceVerifierCallFailed");
    rec.status = "Proven";
    rec.provenAt = now;
    return OK;
  }

  finalize(round: number, now: number): Outcome {
    const rec = this.rounds.get(round);
    if (rec?.status !== "Proven") return fail("ProvenanceRoundNotProven");
    if (rec.parent !== this.lastFinalized) return fail("ProvenanceParentNotFinalized");
    if (now < rec.provenAt + this.config.finalityDelay) return fail("ProvenanceFinalityDelayPending");
    rec.status = "Finalized";
    this.lastFinalized = round;
    return OK;
  }

  /** rejectRound (admin, `stale` false) or expireRound (anyone, `stale` true). */
  reject(round: number, stale: boolean, now: number): Outcome {
    if (round === this.openRound) {
      if (stale && now <= this.openedAt + this.config.roundDeadline) return fail("ProvenanceDeadlineNotReached");
      this.rounds.set(round, {
        status: "Rejected",
        parent: this.head,
        openedAt: this.openedAt,
        provenAt: 0,
        pending: new Set(),
        participants: [],
      });
      this.lastRound = round;
      this.open(now);
      return OK;
    }
    const rec = this.rounds.get(round);
    const s = rec?.status ?? "None";
    const pending = round !== 0 && round <= this.lastRound && (s === "Proposed" || s === "Attested" || (s === "Proven" && !stale));
    if (!pending) return fail("ProvenanceRoundNotPending");
    if (stale && now <= rec!.openedAt + this.config.roundDeadline) return fail("ProvenanceDeadlineNotReached");
    this.rejectFrom(round, rec!.parent, now);
    return OK;
  }

  rollback(toRound: number, now: number): Outcome {
    if (toRound !== this.lastFinalized) return fail("ProvenanceInvalidRollbackTarget");
    if (this.head === toRound) return fail("ProvenanceNothingToRollBack");
    this.rejectFrom(toRound + 1, toRound, now);
    return OK;
  }

  private rejectFrom(from: number, newHead: number, now: number): void {
    const open = this.openRound;
    for (let r = from; r < open; r++) {
      const rec = this.rounds.get(r);
      if (rec !== undefined) rec.status = "Rejected";
    }
    this.rounds.set(open, {
      status: "Rejected",
      parent: this.head,
      openedAt: this.openedAt,
      provenAt: 0,
      pending: new Set(),
      participants: [],
    });
    this.lastRound = open;
    this.head = newHead;
    this.open(now);
  }
}
