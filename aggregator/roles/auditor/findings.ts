// What an audit reports and how it verifies proofs: shared by the round checks of every path.
import { getAddress } from "ethers";
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
 * The attestations sent on-chain (`attest`) for round `round` before its record that the record leaves
 * out (docs/protocol.md §11; the ledger refuses such a record, ProvenanceAttestationOmitted): `attesters`
 * made them, `named` are the participants the record names (none for a batched record).
 */
export function omittedAttestations(round: number, attesters: readonly string[], named: readonly string[]): Finding[] {
  const inRecord = new Set(named.map((a) => getAddress(a)));
  return attesters
    .map((a) => getAddress(a))
    .filter((a) => !inRecord.has(a))
    .map((a) => ({
      round,
      link: "participants",
      message: `${a} attested on-chain for round ${round}, but its record leaves the attestation out`,
    }));
}

/**
 * A quorum signature that recovers no committee member over the record at hand: an outsider signed
 * it, or a member signed another record (the chain cannot tell them apart, nor can an auditor).
 */
export function notAMemberOverThisRecord(index: number, recovered: string, record: string): string {
  return `quorum signature ${index + 1} does not recover a committee member over this ${record} (it recovers ${recovered}: signed by someone off the committee, or by a member over another record)`;
}
