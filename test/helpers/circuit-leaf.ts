// What the circuits' ChunkLeaf hashes, computed the circuit's way, for tests that forge witnesses.
import { FIELD_MODULUS, LEAF_ELEMENTS, PACK_COORDINATES, PACK_OFFSET } from "../../aggregator/protocol/constants.js";

const mod = (x: bigint) => ((x % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS;

/**
 * The 16 elements ChunkLeaf hashes, computed as the circuit does (in the field, for any values):
 * element m = sum_k (v[7m + k] + 2^31) * 2^(32k) mod p. For int32 values this is leafElements'
 * packing (docs/protocol.md §2); for an aliased value it is what a cheating prover would have to
 * commit to, which only the circuit's range checks can refuse.
 */
export function circuitLeafElements(values: bigint[]): bigint[] {
  return Array.from({ length: LEAF_ELEMENTS }, (_, m) =>
    values
      .slice(m * PACK_COORDINATES, (m + 1) * PACK_COORDINATES)
      .reduce((e, v, k) => mod(e + (v + BigInt(PACK_OFFSET)) * 2n ** BigInt(32 * k)), 0n),
  );
}
