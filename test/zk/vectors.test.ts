// The circuit against the shared vectors: the Poseidon root in test/vectors/vector-roots.json (the
// one TypeScript and, through the roots, Solidity use) is the root the circuit opens, at every chunk.
import { expect } from "chai";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import { chunkCount } from "../../aggregator/protocol/vector-root.js";
import { releaseZkWorkers } from "../../aggregator/adapters/proof/keys.js";
import { buildRoundChunkInput, calculateRoundChunkWitness } from "../../aggregator/adapters/proof/prover.js";
import { readVector, toInt32 } from "../helpers/vectors.js";

const INSTANCE = "RoundChunk_4-1_test";

describe("RoundChunk circuit against test/vectors", function () {
  const vector = readVector("vector-roots.json").cases.find((c: { length: number }) => c.length === 212);
  const other = readVector("vector-roots.json").cases.find((c: { length: number }) => c.length === 40);

  after(releaseZkWorkers);

  /** A round that leaves the vector model unchanged: zero updates, so prevRoot = newRoot = the vector's root. */
  async function inputFor(chunkIndex: number) {
    const model = toInt32(vector.values);
    const zeros = new Int32Array(model.length);
    const { input } = await buildRoundChunkInput({
      prev: model,
      next: model,
      deltas: [zeros, zeros, zeros, zeros],
      weights: [16384, 16384, 16384, 16384],
      chunkIndex,
    });
    return input;
  }

  it("should accept the vector's root as prevRoot and newRoot at the first and the last (zero-padded) chunk", async function () {
    for (const chunk of [0, chunkCount(212) - 1]) {
      const input = await inputFor(chunk);
      input.prevRoot = BigInt(vector.root).toString();
      input.newRoot = BigInt(vector.root).toString();
      const witness = await calculateRoundChunkWitness(INSTANCE, input);
      expect(witness.length, `chunk ${chunk}`).to.be.greaterThan(0);
    }
  });

  it("should reject another vector's root in place of it", async function () {
    const input = await inputFor(1);
    input.prevRoot = BigInt(other.root).toString();
    try {
      await calculateRoundChunkWitness(INSTANCE, input);
      expect.fail("a root from another vector was accepted");
    } catch (e) {
      expect(e).to.be.instanceOf(DsainError);
      expect((e as DsainError).code).to.equal(ErrorCode.ZK_WITNESS_FAILED);
    }
  });
});
