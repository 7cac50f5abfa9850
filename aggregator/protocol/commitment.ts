// Round commitment h_t = keccak256(abi.encode(w_t, S_t, t)) and its parts (docs/protocol.md §4-5), and
// the digest of a batched record's entries (§14).
// Solidity twin: contracts/libraries/ProtocolHashes.sol (same function names).
import { AbiCoder, concat, getAddress, keccak256, zeroPadValue } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";

const abi = AbiCoder.defaultAbiCoder();

/** Participant set S_t: checksummed addresses, strictly ascending as 160-bit integers. */
export function sortParticipants(addresses: readonly string[]): string[] {
  const sorted = addresses.map((a) => getAddress(a)).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new DsainError(ErrorCode.BAD_PARTICIPANT_SET, `participant ${sorted[i]} appears twice`);
  }
  return sorted;
}

export function checkSortedParticipants(addresses: readonly string[]): void {
  for (let i = 1; i < addresses.length; i++) {
    if (BigInt(addresses[i]) <= BigInt(addresses[i - 1])) {
      throw new DsainError(
        ErrorCode.BAD_PARTICIPANT_SET,
        `participants must be strictly ascending: ${addresses[i]} (position ${i}) does not follow ${addresses[i - 1]}`,
      );
    }
  }
}

/** keccak256 of the ascending addresses, each left-padded to 32 bytes (= abi.encodePacked(address[])). */
export function participantsRoot(sortedAddresses: readonly string[]): string {
  checkSortedParticipants(sortedAddresses);
  return keccak256(concat(sortedAddresses.map((a) => zeroPadValue(getAddress(a), 32))));
}

/** keccak256(abi.encode(address[] participants, bytes32[] updateRoots, uint32[] weights)). */
export function updatesDigest(sortedAddresses: readonly string[], updateRoots: readonly string[], weights: readonly number[]): string {
  return keccak256(abi.encode(["address[]", "bytes32[]", "uint32[]"], [sortedAddresses, updateRoots, weights]));
}

/**
 * keccak256(abi.encode(address[] participants, uint64[] epsilonMicros, uint32[] reputationMicros)):
 * the round's privacy-budget debits and reputations after the round, in S_t order (§12).
 */
export function accountingDigest(
  sortedAddresses: readonly string[],
  epsilonMicros: readonly (number | bigint)[],
  reputationMicros: readonly (number | bigint)[],
): string {
  return keccak256(abi.encode(["address[]", "uint64[]", "uint32[]"], [sortedAddresses, epsilonMicros, reputationMicros]));
}

export interface CommitmentInput {
  modelRoot: string;
  cidCodec: number | bigint;
  cidDigest: string;
  participantsRoot: string;
  round: number | bigint;
}

/** h_t = keccak256(abi.encode(bytes32 modelRoot, uint64 cidCodec, bytes32 cidDigest, bytes32 participantsRoot, uint64 round)). */
export function roundCommitment(c: CommitmentInput): string {
  return keccak256(
    abi.encode(["bytes32", "uint64", "bytes32", "bytes32", "uint64"], [c.modelRoot, c.cidCodec, c.cidDigest, c.participantsRoot, c.round]),
  );
}

/**
 * Seed of a round's proof challenge (docs/protocol.md §8, §14): keccak256(abi.encode(h_t, blockhash(b + 1)))
 * with b the block that completed the record (attested; posted for a batched round), a hash nobody knew
 * when the round was committed. Solidity twin: ProtocolHashes.challengeSeed.
 */
export function challengeSeed(commitment: string, nextBlockHash: string): string {
  return keccak256(abi.encode(["bytes32", "bytes32"], [commitment, nextBlockHash]));
}

/** The chunk the round's proof must open: uint256(seed) mod chunkCount. */
export function challengeChunk(seed: string, chunks: number): number {
  return Number(BigInt(seed) % BigInt(chunks));
}

/** One entry of a batched round record (docs/protocol.md §14), as IProvenanceLedger.BatchedEntry. */
export interface BatchedEntryFields {
  participant: string;
  updateRoot: string;
  sampleCount: bigint;
  weight: number;
  epsilonMicros: bigint;
  reputationMicros: number;
}

/** The ABI type of IProvenanceLedger.BatchedEntry[]. */
export const BATCHED_ENTRIES_ABI =
  "tuple(address participant, bytes32 updateRoot, uint64 sampleCount, uint32 weight, uint64 epsilonMicros, uint32 reputationMicros)[]";

/**
 * entriesDigest = keccak256(abi.encode(BatchedEntry[] entries)), the entries in the order posted
 * (ascending roster index): what the committee's BatchedRoundRecord signature covers besides the
 * Poseidon updatesCommitment (§14).
 */
export function batchedEntriesDigest(entries: readonly BatchedEntryFields[]): string {
  return keccak256(
    abi.encode(
      [BATCHED_ENTRIES_ABI],
      [entries.map((e) => [e.participant, e.updateRoot, e.sampleCount, e.weight, e.epsilonMicros, e.reputationMicros])],
    ),
  );
}

/**
 * The K circuit slots of a round with n <= K updates (docs/protocol.md §8): the n recorded
 * (root, weight) pairs, then the first update's root at weight 0 for each missing one. A weight-0
 * slot adds nothing to the aggregate, and its opening is the first update's, which the prover has.
 */
export function padSlots<T>(items: readonly T[], weights: readonly number[], slots: number): { items: T[]; weights: number[] } {
  if (!Number.isInteger(slots) || slots < 1)
    throw new DsainError(ErrorCode.INPUT_INVALID, `the circuit's K is ${slots}; it must be a positive integer`);
  if (items.length === 0) throw new DsainError(ErrorCode.INPUT_INVALID, "a round without updates has nothing to prove");
  if (items.length > slots) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `the round has ${items.length} updates; the circuit proves at most K=${slots}`);
  }
  if (weights.length !== items.length) throw new DsainError(ErrorCode.BAD_WEIGHTS, `${weights.length} weights for ${items.length} updates`);
  const missing = slots - items.length;
  return { items: [...items, ...Array<T>(missing).fill(items[0])], weights: [...weights, ...Array<number>(missing).fill(0)] };
}
