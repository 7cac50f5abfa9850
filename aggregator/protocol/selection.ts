// Verifiable selection of a round's participants S_t (docs/protocol.md §10): a seed fixed when the
// round opens, a swap-or-not shuffle of the roster (Hoang, Morris and Rogaway 2012; the Ethereum
// consensus `compute_shuffled_index`, here with keccak256), and the first K shuffled positions.
// Solidity twin: ProtocolHashes.selectionSeed / shufflePivots / shuffledIndex.
import { AbiCoder, getAddress, keccak256 } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";
import { SELECTION_ROUNDS } from "./constants.js";
import { sortParticipants } from "./commitment.js";

const abi = AbiCoder.defaultAbiCoder();

/** keccak256(abi.encode(uint256 federationId, uint64 round, bytes32 parentCommitment, uint256 prevrandao)). */
export function selectionSeed(federationId: bigint, round: bigint | number, parentCommitment: string, prevrandao: bigint): string {
  return keccak256(abi.encode(["uint256", "uint64", "bytes32", "uint256"], [federationId, round, parentCommitment, prevrandao]));
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `roster size ${count} must be a positive integer`);
  }
}

/** pivot_r = uint256(keccak256(abi.encode(bytes32 seed, uint256 r))) mod count, for r < SELECTION_ROUNDS. */
export function shufflePivots(seed: string, count: number): bigint[] {
  checkCount(count);
  const n = BigInt(count);
  return Array.from({ length: SELECTION_ROUNDS }, (_, r) => BigInt(keccak256(abi.encode(["bytes32", "uint256"], [seed, r]))) % n);
}

/**
 * The position of roster index `index` after the shuffle: each round r flips index to
 * (pivot_r - index) mod count when bit (position mod 256) of
 * keccak256(abi.encode(seed, r, position >> 8)) is set, with position = max(index, flip).
 */
export function shuffledIndex(index: number, count: number, seed: string, pivots: readonly bigint[] = shufflePivots(seed, count)): number {
  checkCount(count);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `roster index ${index} is outside [0, ${count})`);
  }
  const n = BigInt(count);
  let i = BigInt(index);
  for (let r = 0; r < SELECTION_ROUNDS; r++) {
    const flip = (pivots[r] + n - i) % n;
    const position = i > flip ? i : flip;
    const source = BigInt(keccak256(abi.encode(["bytes32", "uint256", "uint256"], [seed, r, position >> 8n])));
    if ((source >> (position & 0xffn)) & 1n) i = flip;
  }
  return Number(i);
}

/**
 * Whether roster index `index` has a shuffled position below `bound` (and is below rosterSize): with
 * bound = selectionBound(…), S_t is the indices for which this holds and that are not revoked.
 */
export function isSelected(index: number, rosterSize: number, bound: number, seed: string, pivots?: readonly bigint[]): boolean {
  if (index < 0 || index >= rosterSize) return false;
  if (rosterSize <= bound) return true;
  return shuffledIndex(index, rosterSize, seed, pivots) < bound;
}

/**
 * The selection bound T of a round (docs/protocol.md §10): k plus the revoked indices whose shuffled
 * positions fall below it, taken in ascending position, at most `count`; S_t is then the first k
 * non-revoked participants in shuffle order. `revoked` are the roster indices revoked for the round.
 * Solidity twin: ProtocolHashes.selectionBound, computed when the round opens (FederationState.selectionBound).
 */
export function selectionBound(
  count: number,
  k: number,
  seed: string,
  revoked: Iterable<number>,
  pivots: readonly bigint[] = count > k ? shufflePivots(seed, count) : [],
): number {
  if (count <= k) return count;
  const positions = [...new Set(revoked)].map((i) => shuffledIndex(i, count, seed, pivots)).sort((a, b) => a - b);
  let bound = k;
  for (const p of positions) {
    if (p >= bound) break;
    bound++;
  }
  return Math.min(bound, count);
}

/**
 * S_t of a round: the first k members of the roster snapshot (its first `rosterSize` entries, in
 * enrolment order) in shuffle order that are not revoked for the round (`revoked`: roster indices),
 * returned as the protocol orders S_t, ascending by address (§4).
 */
export function selectParticipants(
  roster: readonly string[],
  rosterSize: number,
  k: number,
  seed: string,
  revoked: ReadonlySet<number> = new Set(),
): string[] {
  if (rosterSize > roster.length) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `roster snapshot of ${rosterSize} exceeds the ${roster.length} enrolled participants`);
  }
  if (rosterSize === 0) return [];
  const pivots = rosterSize > k ? shufflePivots(seed, rosterSize) : [];
  const bound = selectionBound(rosterSize, k, seed, revoked, pivots);
  const chosen = roster.slice(0, rosterSize).filter((_, i) => !revoked.has(i) && isSelected(i, rosterSize, bound, seed, pivots));
  return sortParticipants(chosen.map((a) => getAddress(a)));
}
