// The sampled-chunk challenge of a round proof (docs/proof-of-training.md §3): which S chunks the
// proof must open, derived from the round's on-chain challenge seed exactly as the ledger derives
// them, so the contract can build the proof's public inputs from its own storage.
import { AbiCoder, keccak256 } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";
import { chunkCount } from "./vector-root.js";

const abi = AbiCoder.defaultAbiCoder();

/**
 * Number of challengeable chunks at level `level` of a model of `modelLength` parameters: the
 * 112-coordinate leaves grouped in aligned runs of 2^level, ceil(ceil(D / 112) / 2^level).
 */
export function challengeChunkCount(modelLength: number, level = 0): number {
  if (!Number.isInteger(level) || level < 0 || level > 32) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `chunk level ${level} is not an integer in [0, 32]`);
  }
  return Math.ceil(chunkCount(modelLength) / 2 ** level);
}

/**
 * The `samples` chunk indices a round proof opens, in draw order:
 *
 * - if chunks <= samples: index j = j mod chunks (every chunk is covered; repeats are harmless);
 * - otherwise draw x = uint256(keccak256(abi.encode(bytes32 seed, uint256 counter))) mod chunks for
 *   counter = 0, 1, 2, ... and keep x unless an earlier draw kept it, until `samples` are kept.
 *
 * Solidity twin (the ledger): the same loop over `keccak256(abi.encode(seed, counter))`.
 */
export function challengeIndices(seed: string, chunks: number, samples: number): number[] {
  if (!/^0x[0-9a-fA-F]{64}$/.test(seed))
    throw new DsainError(ErrorCode.INPUT_INVALID, `challenge seed ${seed} is not a bytes32 hex string`);
  if (!Number.isSafeInteger(chunks) || chunks < 1) throw new DsainError(ErrorCode.INPUT_INVALID, `chunk count ${chunks} must be positive`);
  if (!Number.isSafeInteger(samples) || samples < 1) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `sample count ${samples} must be positive`);
  }
  if (chunks <= samples) return Array.from({ length: samples }, (_, j) => j % chunks);
  const n = BigInt(chunks);
  const kept: number[] = [];
  for (let counter = 0n; kept.length < samples; counter++) {
    const x = Number(BigInt(keccak256(abi.encode(["bytes32", "uint256"], [seed, counter]))) % n);
    if (!kept.includes(x)) kept.push(x);
  }
  return kept;
}
