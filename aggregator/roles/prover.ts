// The prover's steps: read the round's challenge once the block that fixes it exists (docs/protocol.md
// §8, §14), build the witness for exactly the public inputs the ledger computes (never the
// aggregator's own idea of them), and prove: in this process for the direct path's RoundChunk, or
// through the ProverQueue's child process for RoundAttested while the next round trains.
import type { Signer } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";
import type { LedgerClient } from "../adapters/chain/ledger.js";
import { awaitChallenge, grindChallengeBlock, type RpcProvider } from "../adapters/chain/challenge-block.js";
import { buildRoundChunkInput, proveRoundChunk, toSolidityProof } from "../adapters/proof/prover.js";
import { buildBatchedProofInput, checkBatchedPublicInputs, type BatchedProofArgs } from "../adapters/proof/batched-round.js";
import type { RoundAttestedBuild } from "../adapters/proof/sampled.js";
import type { SolidityProof } from "../protocol/evidence.js";

export interface ChallengeOptions<T> {
  provider: RpcProvider;
  /** Mine the block on a development chain instead of waiting for the next one. */
  mine: boolean;
  /** Sends a zero-value transaction if no block comes (an automining chain). */
  nudge?: Signer;
  what: string;
  log?: (m: string) => void;
  /**
   * A demonstration of a colluding block producer: re-mine the challenge block until `accept`
   * holds (a development chain only). Honest provers leave it undefined.
   */
  collude?: (challenge: T) => boolean;
}

/** Reads a challenge with `read` once its block exists; with `collude`, grinds that block. Returns it and the grind's tries (0 when honest). */
export async function readChallenge<T>(read: () => Promise<T>, o: ChallengeOptions<T>): Promise<{ challenge: T; tries: number }> {
  if (o.collude === undefined) {
    return {
      challenge: await awaitChallenge({ read, provider: o.provider, mine: o.mine, nudge: o.nudge, what: o.what, log: o.log }),
      tries: 0,
    };
  }
  return grindChallengeBlock({ read, provider: o.provider, accept: o.collude, what: o.what });
}

/** The direct path's proof of the challenged chunk, in Solidity form, and its timings. */
export interface ChunkProof {
  proof: SolidityProof;
  chunkIndex: number;
  witnessMs: number;
  proveMs: number;
}

/**
 * Proves round `round`'s challenged chunk with the RoundChunk instance `instance` (K = `slots`:
 * fewer updates are padded at weight 0, docs/protocol.md §8) against `publicInputs`, the ledger's.
 */
export async function proveChunk(o: {
  instance: string;
  round: bigint | number;
  base: Int32Array;
  next: Int32Array;
  deltas: readonly Int32Array[];
  weights: readonly number[];
  slots: number;
  publicInputs: readonly bigint[];
}): Promise<ChunkProof> {
  const chunkIndex = Number(o.publicInputs[2]);
  const { input, publicSignals } = await buildRoundChunkInput({
    prev: o.base,
    next: o.next,
    deltas: [...o.deltas],
    weights: [...o.weights],
    chunkIndex,
    slots: o.slots,
  });
  if (publicSignals.length !== o.publicInputs.length || publicSignals.some((s, i) => BigInt(s) !== o.publicInputs[i])) {
    throw new DsainError(ErrorCode.ZK_PROOF_INVALID, `round ${o.round}: the contract's public inputs differ from the aggregator's witness`);
  }
  const proved = await proveRoundChunk(o.instance, input);
  return { proof: toSolidityProof(proved.proof), chunkIndex, witnessMs: proved.witnessMs, proveMs: proved.proveMs };
}

/**
 * The RoundAttested witness of a batched round for the chunks the ledger challenged, checked
 * against the ledger's batchedPublicInputs before it is queued for proving.
 */
export async function batchedProofJob(
  ledger: Pick<LedgerClient, "batchedPublicInputs">,
  federationId: bigint,
  round: bigint,
  args: BatchedProofArgs,
): Promise<RoundAttestedBuild> {
  const build = await buildBatchedProofInput(args);
  checkBatchedPublicInputs(round, build.publicSignals, await ledger.batchedPublicInputs(federationId, round));
  return build;
}
