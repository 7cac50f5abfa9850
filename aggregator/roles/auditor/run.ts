// Wires the auditor to its real sources: ledger evidence, the IPFS store and snarkjs verification.
import type { FederationEvidence, RoundStatusName, SolidityProof } from "../../protocol/evidence.js";
import type { CheckpointStore } from "../../adapters/storage/checkpoint-store.js";
import { loadSnarkjs, type VerificationKey } from "../../adapters/proof/keys.js";
import { fromSolidityProof } from "../../adapters/proof/prover.js";
import { auditFederation, formatFinding, type AuditReport, type RoundChecks } from "./audit.js";

/** What the record of a round in each status was checked for, before the checkpoint. */
const RECORD_CHECKS: Partial<Record<RoundStatusName, string>> = {
  Proposed: "selection, signatures so far, quorum, deadlines, h_t",
  Rejected: "selection, signatures, quorum, budgets, deadlines, h_t",
};
const FULL_RECORD = "selection, signatures, quorum, budgets, deadlines, h_t";

/** How far along the round is, after its checks. */
const STATE: Record<RoundStatusName | "genesis", string> = {
  genesis: "",
  None: "nothing recorded",
  Genesis: "",
  Proposed: "awaiting attestations",
  Attested: "awaiting its proof",
  Proven: "awaiting finality",
  Finalized: "final",
  Rejected: "rejected, kept as history",
};

/** The "ok" line of a round: what the audit vouches for, by status and by what it could recompute. */
export function okLine(round: number, status: RoundStatusName | "genesis", c: RoundChecks): string {
  if (status === "genesis" || status === "Genesis") return `  round ${round}: ok (genesis checkpoint and h_0)`;
  if (status === "None") return `  round ${round}: ok (${STATE.None})`;
  const parts = [
    c.batched === true
      ? "batched: selection, key registry root and slots, entriesDigest, updatesCommitment, quorum, budgets, deadlines, h_t, challenge"
      : (RECORD_CHECKS[status] ?? FULL_RECORD),
  ];
  if (status !== "Rejected") {
    parts.push("checkpoint");
    if (c.updates > 0) parts.push(`${c.updates} published updates`);
    if (c.byzFed) parts.push("ByzFed kept set, weights and reputations");
    if (c.recomputed) parts.push("aggregation recomputed exactly");
  }
  if (c.proofVerified) parts.push("proof");
  return `  round ${round}: ok (${parts.join(", ")}; ${STATE[status]})`;
}

export interface AuditOutcome {
  ok: boolean;
  report: AuditReport;
  lines: string[];
}

export interface AuditEvidenceOptions {
  evidence: FederationEvidence;
  store: Pick<CheckpointStore, "getVerified">;
  vkey: VerificationKey;
  vkeyHash: string;
  /** The RoundAttested verifying key of a batched federation (docs/protocol.md §14) and its sha256. */
  batchedVkey?: VerificationKey;
  batchedVkeyHash?: string;
  /** Unpublished or unavailable updates are warnings, not failures (`dsain audit --allow-missing-updates`). */
  allowMissingUpdates?: boolean;
  log?: (line: string) => void;
}

export async function auditEvidence(opts: AuditEvidenceOptions): Promise<AuditOutcome> {
  const log = opts.log ?? (() => undefined);
  const snarkjs = await loadSnarkjs();
  const lines: string[] = [];
  const say = (l: string) => {
    lines.push(l);
    log(l);
  };
  const report = await auditFederation({
    evidence: opts.evidence,
    checkpoints: opts.store,
    verifyingKeyHash: opts.vkeyHash,
    allowMissingUpdates: opts.allowMissingUpdates,
    verifyProof: async (signals: bigint[], proof: SolidityProof) =>
      snarkjs.groth16.verify(opts.vkey, signals.map(String), fromSolidityProof(proof)),
    batchedVerifyingKeyHash: opts.batchedVkey === undefined ? undefined : opts.batchedVkeyHash,
    batchedVerifyProof:
      opts.batchedVkey === undefined
        ? undefined
        : async (signals: bigint[], proof: SolidityProof) =>
            snarkjs.groth16.verify(opts.batchedVkey!, signals.map(String), fromSolidityProof(proof)),
    onRound: (round, findings, status, checks) => {
      if (findings.length === 0) say(okLine(round, status, checks));
      for (const f of findings) say(`  ✗ ${formatFinding(f)}`);
      for (const w of checks.warnings) say(`  ⚠ ${formatFinding(w)} (allowed by --allow-missing-updates)`);
    },
  });
  const tally = `${report.finalized} finalized, ${report.pending} pending, ${report.rejected} rejected`;
  const counted = report.rounds - report.rejected;
  const recomputed = `${report.recomputed} of ${counted} aggregation(s) recomputed exactly from the published updates`;
  if (!report.ok) {
    say(`  verdict: FAIL — ${report.findings.length} broken link(s); first: ${formatFinding(report.findings[0])}`);
  } else if (report.warnings.length > 0) {
    say(
      `  verdict: PASS with ${report.warnings.length} warning(s) — ${report.rounds} round(s) (${tally}); ${recomputed}; the other rounds' aggregation is vouched for only by their sampled proofs`,
    );
  } else {
    say(
      `  verdict: PASS — ${report.rounds} round(s) (${tally}); every hash, selection, signature, quorum, budget, deadline, published update and proof verified; ${recomputed}`,
    );
  }
  return { ok: report.ok, report, lines };
}
