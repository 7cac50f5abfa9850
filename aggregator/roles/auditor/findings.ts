// What an audit reports and how it verifies proofs: shared by the round checks of every path.
import type { SolidityProof } from "../../protocol/evidence.js";

/** Verifies a Groth16 proof in Solidity form against public signals, off-chain. */
export type ProofVerifier = (publicSignals: bigint[], proof: SolidityProof) => Promise<boolean>;

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
    | "updates"
    | "aggregation"
    | "reputation"
    | "deadline"
    | "proof"
    | "sequence"
    | "lifecycle"
    | "federation"
    | "registry"
    | "updatesCommitment";
  message: string;
}

/**
 * A quorum signature that recovers no committee member over the record at hand: an outsider signed
 * it, or a member signed another record (the chain cannot tell them apart, nor can an auditor).
 */
export function notAMemberOverThisRecord(index: number, recovered: string, record: string): string {
  return `quorum signature ${index + 1} does not recover a committee member over this ${record} (it recovers ${recovered}: signed by someone off the committee, or by a member over another record)`;
}
