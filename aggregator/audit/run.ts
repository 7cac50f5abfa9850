// Wires the auditor to its real sources: ledger evidence, the IPFS store and snarkjs verification.
import type { FederationEvidence, SolidityProof } from "../chain/ledger.js";
import type { CheckpointStore } from "../ipfs/checkpoint-store.js";
import { loadSnarkjs, type VerificationKey } from "../zk/keys.js";
import { fromSolidityProof } from "../zk/prover.js";
import { auditFederation, formatFinding, type AuditReport } from "./audit.js";

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
    onRound: (round, findings) => {
      if (findings.length === 0)
        say(`  round ${round}: ok (${round === 0 ? "genesis checkpoint and h_0" : "signatures, h_t, checkpoint, proof"})`);
      for (const f of findings) say(`  ✗ ${formatFinding(f)}`);
    },
  });
  say(
    report.ok
      ? `  verdict: PASS — ${report.rounds} round(s), every hash recomputed, every signature and proof verified`
      : `  verdict: FAIL — ${report.findings.length} broken link(s); first: ${formatFinding(report.findings[0])}`,
  );
  return { ok: report.ok, report, lines };
}
