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
