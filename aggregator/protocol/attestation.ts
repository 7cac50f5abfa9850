// EIP-712 attestation a participant signs over its update (docs/protocol.md §6).
// The domain binds chain id and contract; the message binds federation and round: no replay.
import { TypedDataEncoder, verifyTypedData, type TypedDataDomain, type Signer } from "ethers";
import { EIP712_NAME, EIP712_VERSION } from "./constants.js";

export const ATTESTATION_TYPES = {
  Attestation: [
    { name: "federationId", type: "uint256" },
    { name: "round", type: "uint64" },
    { name: "baseModelRoot", type: "bytes32" },
    { name: "updateRoot", type: "bytes32" },
    { name: "sampleCount", type: "uint64" },
    { name: "dpEpsilonMicros", type: "uint64" },
    { name: "dpDeltaPicos", type: "uint64" },
    { name: "dpClipMicros", type: "uint64" },
    { name: "dpNoiseMicros", type: "uint64" },
  ],
};

/** The canonical type string, as Solidity's ATTESTATION_TYPEHASH spells it. */
export const ATTESTATION_TYPE =
  "Attestation(uint256 federationId,uint64 round,bytes32 baseModelRoot,bytes32 updateRoot,uint64 sampleCount,uint64 dpEpsilonMicros,uint64 dpDeltaPicos,uint64 dpClipMicros,uint64 dpNoiseMicros)";

export interface Attestation {
  federationId: bigint;
  round: bigint;
  baseModelRoot: string;
  updateRoot: string;
  sampleCount: bigint;
  dpEpsilonMicros: bigint;
  dpDeltaPicos: bigint;
  dpClipMicros: bigint;
  dpNoiseMicros: bigint;
}

export function attestationDomain(chainId: bigint, verifyingContract: string): TypedDataDomain {
  return { name: EIP712_NAME, version: EIP712_VERSION, chainId, verifyingContract };
}

export function attestationDigest(domain: TypedDataDomain, message: Attestation): string {
  return TypedDataEncoder.hash(domain, ATTESTATION_TYPES, message);
}

export async function signAttestation(signer: Signer, domain: TypedDataDomain, message: Attestation): Promise<string> {
  return signer.signTypedData(domain, ATTESTATION_TYPES, message);
}

export function recoverAttester(domain: TypedDataDomain, message: Attestation, signature: string): string {
  return verifyTypedData(domain, ATTESTATION_TYPES, message, signature);
}
