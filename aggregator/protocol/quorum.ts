// EIP-712 messages the aggregator committee signs (docs/protocol.md §12): a round record is
// accepted with f+1 of 2f+1 signatures (Fantastyc's Proof of Availability & Integrity), and so is a rollback.
// Same domain as attestations (§6); Solidity twin: ProtocolHashes.roundRecordStructHash / rollbackStructHash.
// A batched round's record (§14) is a BatchedRoundRecord: ProtocolHashes.batchedRoundRecordStructHash.
import { TypedDataEncoder, keccak256, toUtf8Bytes, verifyTypedData, type Signer, type TypedDataDomain } from "ethers";

export const ROUND_RECORD_TYPES = {
  RoundRecord: [
    { name: "federationId", type: "uint256" },
    { name: "round", type: "uint64" },
    { name: "parentRound", type: "uint64" },
    { name: "commitment", type: "bytes32" },
    { name: "updatesDigest", type: "bytes32" },
    { name: "accountingDigest", type: "bytes32" },
  ],
};

/** The canonical type string, as Solidity's ROUND_RECORD_TYPEHASH spells it. */
export const ROUND_RECORD_TYPE =
  "RoundRecord(uint256 federationId,uint64 round,uint64 parentRound,bytes32 commitment,bytes32 updatesDigest,bytes32 accountingDigest)";

export interface RoundRecordMessage {
  federationId: bigint;
  round: bigint;
  parentRound: bigint;
  /** h_t (§5). */
  commitment: string;
  /** keccak256(abi.encode(S_t, updateRoots, weights)) (§4). */
  updatesDigest: string;
  /** keccak256(abi.encode(S_t, epsilonMicros, reputationMicros)) (§12). */
  accountingDigest: string;
}

export function roundRecordDigest(domain: TypedDataDomain, message: RoundRecordMessage): string {
  return TypedDataEncoder.hash(domain, ROUND_RECORD_TYPES, message);
}

export async function signRoundRecord(signer: Signer, domain: TypedDataDomain, message: RoundRecordMessage): Promise<string> {
  return signer.signTypedData(domain, ROUND_RECORD_TYPES, message);
}

export function recoverRoundRecordSigner(domain: TypedDataDomain, message: RoundRecordMessage, signature: string): string {
  return verifyTypedData(domain, ROUND_RECORD_TYPES, message, signature);
}

export const BATCHED_ROUND_RECORD_TYPES = {
  BatchedRoundRecord: [
    { name: "federationId", type: "uint256" },
    { name: "round", type: "uint64" },
    { name: "parentRound", type: "uint64" },
    { name: "commitment", type: "bytes32" },
    { name: "updatesCommitment", type: "bytes32" },
    { name: "entriesDigest", type: "bytes32" },
  ],
};

/** The canonical type string, as Solidity's BATCHED_ROUND_RECORD_TYPEHASH spells it. */
export const BATCHED_ROUND_RECORD_TYPE =
  "BatchedRoundRecord(uint256 federationId,uint64 round,uint64 parentRound,bytes32 commitment,bytes32 updatesCommitment,bytes32 entriesDigest)";

export interface BatchedRoundRecordMessage {
  federationId: bigint;
  round: bigint;
  parentRound: bigint;
  /** h_t (§5). */
  commitment: string;
  /** The Poseidon commitment to the entries the round's proof opens (docs/proof-of-training.md §4), as bytes32. */
  updatesCommitment: string;
  /** keccak256(abi.encode(BatchedEntry[])) of the entries as posted (§14). */
  entriesDigest: string;
}

export function batchedRoundRecordDigest(domain: TypedDataDomain, message: BatchedRoundRecordMessage): string {
  return TypedDataEncoder.hash(domain, BATCHED_ROUND_RECORD_TYPES, message);
}

export async function signBatchedRoundRecord(signer: Signer, domain: TypedDataDomain, message: BatchedRoundRecordMessage): Promise<string> {
  return signer.signTypedData(domain, BATCHED_ROUND_RECORD_TYPES, message);
}

export function recoverBatchedRoundRecordSigner(domain: TypedDataDomain, message: BatchedRoundRecordMessage, signature: string): string {
  return verifyTypedData(domain, BATCHED_ROUND_RECORD_TYPES, message, signature);
}

export const ROLLBACK_TYPES = {
  Rollback: [
    { name: "federationId", type: "uint256" },
    { name: "toRound", type: "uint64" },
    { name: "head", type: "uint64" },
    { name: "reasonHash", type: "bytes32" },
  ],
};

/** The canonical type string, as Solidity's ROLLBACK_TYPEHASH spells it. */
export const ROLLBACK_TYPE = "Rollback(uint256 federationId,uint64 toRound,uint64 head,bytes32 reasonHash)";

export interface RollbackMessage {
  federationId: bigint;
  /** The last finalized round, where the federation goes back to. */
  toRound: bigint;
  /** The head being abandoned: a signature is void once the head moves. */
  head: bigint;
  /** keccak256 of the UTF-8 reason (see {@link reasonHash}). */
  reasonHash: string;
}

export function reasonHash(reason: string): string {
  return keccak256(toUtf8Bytes(reason));
}

export function rollbackDigest(domain: TypedDataDomain, message: RollbackMessage): string {
  return TypedDataEncoder.hash(domain, ROLLBACK_TYPES, message);
}

export async function signRollback(signer: Signer, domain: TypedDataDomain, message: RollbackMessage): Promise<string> {
  return signer.signTypedData(domain, ROLLBACK_TYPES, message);
}

export function recoverRollbackSigner(domain: TypedDataDomain, message: RollbackMessage, signature: string): string {
  return verifyTypedData(domain, ROLLBACK_TYPES, message, signature);
}
