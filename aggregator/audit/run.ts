// Wires the auditor to its real sources: ledger evidence, the IPFS store and snarkjs verification.
import type { FederationEvidence, RoundStatusName, SolidityProof } from "../chain/ledger.js";
import type { CheckpointStore } from "../ipfs/checkpoint-store.js";
import { loadSnarkjs, type VerificationKey } from "../zk/keys.js";
import { fromSolidityProof } from "../zk/prover.js";
import { auditFederation, formatFinding, type AuditReport } from "./audit.js";

/** What an "ok" line vouches for, by the round's status. */
const CHECKED: Record<RoundStatusName | "genesis", string> = {
  genesis: "genesis checkpoint and h_0",
  None: "nothing recorded",
  Genesis: "genesis checkpoint and h_0",
  Proposed: "selection, signatures so far, quorum, h_t, checkpoint; awaiting attestations",
  Attested: "selection, signatures, quorum, budgets, h_t, checkpoint; awaiting its proof",
  Proven: "selection, signatures, quorum, budgets, h_t, checkpoint, proof; awaiting finality",
  Finalized: "selection, signatures, quorum, budgets, h_t, checkpoint, proof; final",
  Rejected: "selection, signatures, quorum, budgets, h_t; rejected, kept as history",
};

export interface AuditOutcome {
  ok: boolean;
  report: AuditReport;
  lines: string[];
}

export async function auditEvidence(opts: {
  evidence: FederationEvidence;
  store: Pick<CheckpointStore, "getVerified">;
  vkey: VerificationKey;
  vkeyHash: string;
  log?: (line: string) => void;
}): Promise<AuditOutcome> {
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
    verifyProof: async (signals: bigint[], proof: SolidityProof) =>
      snarkjs.groth16.verify(opts.vkey, signals.map(String), fromSolidityProof(proof)),
    onRound: (round, findings, status) => {
      if (findings.length === 0) say(`  round ${round}: ok (${CHECKED[status]})`);
      for (const f of findings) say(`  ✗ ${formatFinding(f)}`);
    },
  });
  const tally = `${report.finalized} finalized, ${report.pending} pending, ${report.rejected} rejected`;
  say(
    report.ok
      ? `  verdict: PASS — ${report.rounds} round(s) (${tally}); every hash, selection, signature, quorum, budget and proof verified`
      : `  verdict: FAIL — ${report.findings.length} broken link(s); first: ${formatFinding(report.findings[0])}`,
  );
  return { ok: report.ok, report, lines };
}
