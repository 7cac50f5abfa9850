// The sampled-chunk challenge and the EIP-712 path's RoundChunks circuit: the challenge indices the
// ledger must derive, real proofs over S chunks, and rejection of tampering in any sampled chunk.
import { expect } from "chai";
import fs from "node:fs/promises";
import path from "node:path";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import { aggregateExact, integerWeights } from "../../aggregator/protocol/aggregation.js";
import { challengeSeed } from "../../aggregator/protocol/commitment.js";
import { CHUNK_SIZE, FIELD_MODULUS } from "../../aggregator/protocol/constants.js";
import { getPoseidon } from "../../aggregator/protocol/poseidon.js";
import { treeLevels, vectorTree } from "../../aggregator/protocol/vector-root.js";
import { challengeChunkCount, challengeIndices } from "../../aggregator/protocol/challenge.js";
import { ensureCircuitKeys, releaseZkWorkers, type CircuitKeys } from "../../aggregator/adapters/proof/keys.js";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import {
  buildRoundChunksInput,
  calculateWitness,
  levelPath,
  proveInstance,
  roundChunksPublicSignals,
  verifyInstance,
  type InstanceProof,
  type RoundChunksBuild,
  type RoundChunksInput,
} from "../../aggregator/adapters/proof/sampled.js";
import { buildPotVectors, renderPotVectors } from "../../scripts/gen-pot-vectors.js";
import { readVector } from "../helpers/vectors.js";
import { circuitLeafElements } from "../helpers/circuit-leaf.js";
import { seededVector } from "../helpers/random.js";

const INSTANCE = "RoundChunks_4-1-0-2_test";
const PARAMS = 212; // the demo model: 2 chunks of 112, depth 1
const K = 4;
const S = 2;
const p = FIELD_MODULUS;
const mod = (x: bigint) => ((x % p) + p) % p;

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

async function expectWitnessRejected(input: RoundChunksInput, withLines = false): Promise<string> {
  try {
    await calculateWitness(INSTANCE, input);
  } catch (e) {
    expect(e).to.be.instanceOf(DsainError);
    expect((e as DsainError).code).to.equal(ErrorCode.ZK_WITNESS_FAILED);
    const frames = [...(e as Error).message.matchAll(/Error in template (\w+) line: (\d+)/g)].map((m) =>
      withLines ? `${m[1]}:${m[2]}` : m[1],
    );
    return `witness generation rejected it (${frames.slice(0, 3).join(" < ") || "assert failed"})`;
  }
  expect.fail("the witness generator accepted a tampered input");
}

describe("zk: challenge indices (docs/proof-of-training.md §3)", function () {
  const seed = challengeSeed("0x" + "ab".repeat(32), "0x" + "77".repeat(32));

  it("should draw distinct indices in range, deterministically", function () {
    const a = challengeIndices(seed, 12_451, 8);
    expect(a).to.deep.equal(challengeIndices(seed, 12_451, 8));
    expect(new Set(a).size).to.equal(8);
    for (const x of a) expect(x).to.be.within(0, 12_450);
  });

  it("should make the first draws of a longer sample the shorter sample (a prefix)", function () {
    expect(challengeIndices(seed, 14, 5).slice(0, 2)).to.deep.equal(challengeIndices(seed, 14, 2));
  });

  it("should cover every chunk when there are no more chunks than samples", function () {
    expect(challengeIndices(seed, 3, 5)).to.deep.equal([0, 1, 2, 0, 1]);
    expect(challengeIndices(seed, 2, 2)).to.deep.equal([0, 1]);
  });

  it("should skip repeated draws (rejection sampling), so a near-full sample still ends distinct", function () {
    const all = challengeIndices(seed, 14, 13);
    expect(new Set(all).size).to.equal(13);
  });

  it("should count chunks per level as ceil(ceil(D / 112) / 2^level)", function () {
    expect(challengeChunkCount(212)).to.equal(2);
    expect(challengeChunkCount(212, 1)).to.equal(1);
    expect(challengeChunkCount(1_600)).to.equal(15);
    expect(challengeChunkCount(1_600, 2)).to.equal(4);
    expect(challengeChunkCount(199_210)).to.equal(1_779);
    expect(challengeChunkCount(199_210, 2)).to.equal(445);
  });

  it("should refuse a malformed seed, chunk count or sample count", function () {
    for (const f of [() => challengeIndices("0x12", 14, 1), () => challengeIndices(seed, 0, 1), () => challengeIndices(seed, 14, 0)]) {
      expect(f).to.throw(DsainError);
    }
  });

  it("should match test/vectors/proof-of-training.json, which is what scripts/gen-pot-vectors.ts writes", async function () {
    const vectors = readVector("proof-of-training.json");
    for (const c of vectors.challenge) {
      expect(challengeChunkCount(c.modelLength, c.level)).to.equal(c.chunks);
      expect(challengeIndices(c.seed, c.chunks, c.samples)).to.deep.equal(c.indices);
    }
    const fresh = renderPotVectors(await buildPotVectors());
    const committed = await fs.readFile(path.join(PROJECT_ROOT, "test", "vectors", "proof-of-training.json"), "utf8");
    expect(committed, "test/vectors/proof-of-training.json is stale: run tsx scripts/gen-pot-vectors.ts").to.equal(fresh);
  });
});

describe("zk: RoundChunks circuit (" + INSTANCE + ")", function () {
  let keys: CircuitKeys;
  let prev: Int32Array;
  let next: Int32Array;
  let deltas: Int32Array[];
  let weights: number[];
  let indices: number[];
  let build: RoundChunksBuild;
  let proved: InstanceProof;

  before(async function () {
    // Warm cache: under a second. Cold: compile ~10 s + setup ~1 min on 2 cores (2^15 domain).
    this.timeout(30 * 60_000);
    keys = await ensureCircuitKeys(INSTANCE, { log: (m) => console.log(`      ${m}`) });
    prev = seededVector(11, PARAMS, 1 << 24);
    deltas = Array.from({ length: K }, (_, i) => seededVector(100 + i, PARAMS, 1 << 20));
    weights = integerWeights([500, 1500, 250, 3000]);
    next = aggregateExact(prev, deltas, weights);
    indices = challengeIndices(challengeSeed("0x" + "11".repeat(32), "0x" + "09".repeat(32)), challengeChunkCount(PARAMS), S);
    build = await buildRoundChunksInput({ prev, next, deltas, weights, chunkIndices: indices });
  });

  after(async function () {
    await releaseZkWorkers();
  });

  it("should be RoundChunks(K=4, DEPTH=1, C=0, S=2) with 2 + S + 2K public inputs", function () {
    expect(keys.instance.params).to.deep.equal([K, 1, 0, S]);
    expect(keys.publicInputs).to.equal(2 + S + 2 * K);
    expect(indices[0]).to.not.equal(indices[1]);
    console.log(`      ${keys.constraints} constraints; challenged chunks ${indices.join(", ")}`);
  });

  it("should prove and verify S chunks; publicSignals are [prevRoot, newRoot, ...chunkIndices, ...updateRoots, ...weights]", async function () {
    proved = await proveInstance(INSTANCE, build.input, { keepWorkers: true });
    console.log(`      witness ${proved.witnessMs.toFixed(0)} ms, prove ${proved.proveMs.toFixed(0)} ms`);
    expect(await verifyInstance(INSTANCE, proved.publicSignals, proved.proof, { keepWorkers: true })).to.equal(true);
    const expected = roundChunksPublicSignals({
      prevRoot: (await vectorTree(prev)).root,
      newRoot: (await vectorTree(next)).root,
      chunkIndices: indices,
      updateRoots: await Promise.all(deltas.map(async (d) => (await vectorTree(d)).root)),
      weights,
    });
    expect(proved.publicSignals).to.deep.equal(expected);
    expect(proved.publicSignals[2]).to.equal(String(indices[0]));
    expect(proved.publicSignals[3]).to.equal(String(indices[1]));
  });

  it("should reject the proof for chunk indices other than the challenged ones — the verifier rejects", async function () {
    for (const swap of [
      [indices[1], indices[0]],
      [indices[0], (indices[1] + 1) % challengeChunkCount(PARAMS)],
      [(indices[0] + 1) % challengeChunkCount(PARAMS), indices[1]],
    ]) {
      const signals = [...proved.publicSignals];
      signals[2] = String(swap[0]);
      signals[3] = String(swap[1]);
      expect(await verifyInstance(INSTANCE, signals, proved.proof, { keepWorkers: true }), `indices ${swap}`).to.equal(false);
    }
  });

  it("should reject a witness that opens a chunk other than the challenged one — witness generation rejects", async function () {
    const other = (indices[1] + 1) % challengeChunkCount(PARAMS);
    const otherBuild = await buildRoundChunksInput({ prev, next, deltas, weights, chunkIndices: [indices[0], other] });
    const input = clone(otherBuild.input);
    input.chunkIndices = build.input.chunkIndices; // the challenged indices, the other chunk's data
    console.log(`      ${await expectWitnessRejected(input)}`);
  });

  for (const s of [0, 1]) {
    it(`should reject one altered coordinate of an update, of w_t or of w_{t+1} in sampled chunk ${s} — witness generation rejects`, async function () {
      for (const [what, alter] of [
        ["update 2", (i: RoundChunksInput) => (i.deltas[s][2][5] = mod(BigInt(i.deltas[s][2][5]) + 1n).toString())],
        ["w_t", (i: RoundChunksInput) => (i.prev[s][7] = mod(BigInt(i.prev[s][7]) - 1n).toString())],
        ["w_{t+1}", (i: RoundChunksInput) => (i.next[s][15] = mod(BigInt(i.next[s][15]) + 1n).toString())],
      ] as const) {
        const input = clone(build.input);
        alter(input);
        console.log(`      ${what}: ${await expectWitnessRejected(input)}`);
      }
    });
  }

  it("should reject alterations that keep the aggregation equation true, at the Merkle opening — witness generation rejects", async function () {
    const lines = (await fs.readFile(path.join(PROJECT_ROOT, "circuits", "round_sampled.circom"), "utf8")).split("\n");
    const lineOf = (text: string) => lines.findIndex((l) => l.includes(text)) + 1;
    // delta_2[k] + 1 adds a_2 to the weighted sum; r absorbs it (and next when r overflows).
    const input = clone(build.input);
    const [s, i, k] = [1, 2, 6];
    input.deltas[s][i][k] = mod(BigInt(input.deltas[s][i][k]) + 1n).toString();
    let r = BigInt(input.remainders[s][k]) + BigInt(weights[i]);
    if (r >= 65536n) {
      r -= 65536n;
      input.next[s][k] = mod(BigInt(input.next[s][k]) + 1n).toString();
    }
    input.remainders[s][k] = r.toString();
    const reason = await expectWitnessRejected(input, true);
    expect(reason).to.match(
      new RegExp(`ChunkAggregation_\\d+:(${lineOf("deltaOpen[i].root === updateRoots[i]")}|${lineOf("nextOpen.root === newRoot")})\\b`),
    );
    console.log(`      update: ${reason}`);
    // prev and next both + 1: the equation still holds, the roots do not.
    const shifted = clone(build.input);
    shifted.prev[0][4] = mod(BigInt(shifted.prev[0][4]) + 1n).toString();
    shifted.next[0][4] = mod(BigInt(shifted.next[0][4]) + 1n).toString();
    const reason2 = await expectWitnessRejected(shifted, true);
    expect(reason2).to.match(new RegExp(`ChunkAggregation_\\d+:${lineOf("prevOpen.root === prevRoot")}\\b`));
    console.log(`      w_t and w_{t+1}: ${reason2}`);
  });

  it("should reject a w_{t+1} coordinate aliased outside int32 with everything else consistent — only Int32Range stops it", async function () {
    // next' = next + 65536^-1 (mod p), r' = r - 1 keeps next' * 65536 + r' = next * 65536 + r in
    // the field; newRoot and both samples' next paths are recomputed over the aliased leaf.
    const input = clone(build.input);
    const s = 0;
    const k = input.remainders[s].findIndex((r) => BigInt(r) > 0n);
    expect(k).to.be.greaterThanOrEqual(0);
    const inv = (() => {
      let [r0, r1, s0, s1] = [65536n, p, 1n, 0n];
      while (r1 !== 0n) {
        const q = r0 / r1;
        [r0, r1] = [r1, r0 - q * r1];
        [s0, s1] = [s1, s0 - q * s1];
      }
      return mod(s0);
    })();
    input.next[s][k] = mod(BigInt(input.next[s][k]) + inv).toString();
    input.remainders[s][k] = (BigInt(input.remainders[s][k]) - 1n).toString();
    const poseidon = await getPoseidon();
    const tree = await vectorTree(next);
    const leaves = tree.leaves.slice();
    leaves[indices[s]] = poseidon.hash(circuitLeafElements(input.next[s].map(BigInt)));
    const levels = treeLevels(leaves, tree.depth, poseidon);
    const aliasedTree = { root: levels[tree.depth][0], depth: tree.depth, leaves, levels };
    input.newRoot = aliasedTree.root.toString();
    input.nextPath = indices.map((u) => levelPath(aliasedTree, 0, u).map(String));
    // The field equation still holds at k (so only the range check can object):
    const lhs = mod(BigInt(input.next[s][k]) * 65536n + BigInt(input.remainders[s][k]));
    const rhs = mod(BigInt(input.prev[s][k]) * 65536n + input.deltas[s].reduce((acc, d, i) => acc + BigInt(weights[i]) * BigInt(d[k]), 0n));
    expect(lhs).to.equal(rhs);
    const reason = await expectWitnessRejected(input);
    expect(reason).to.match(/^witness generation rejected it \(Num2Bits_\d+ < Int32Range_\d+ < ChunkAggregation_\d+/);
    console.log(`      ${reason}`);
  });

  it("should reject a weight altered (public signals, still summing to 65536) — the verifier rejects", async function () {
    const signals = [...proved.publicSignals];
    signals[2 + S + K] = String(Number(signals[2 + S + K]) + 1);
    signals[2 + S + K + 1] = String(Number(signals[2 + S + K + 1]) - 1);
    expect(await verifyInstance(INSTANCE, signals, proved.proof, { keepWorkers: true })).to.equal(false);
  });

  it("should build paths at a chunk level above the leaves from the tree levels (level-C sibling path)", async function () {
    const tree = await vectorTree(seededVector(12, 1_600, 1 << 24)); // 15 leaves, depth 4
    const poseidon = await getPoseidon();
    for (const [level, index] of [
      [1, 3],
      [1, 6],
      [2, 2],
      [0, 13],
    ]) {
      const siblings = levelPath(tree, level, index);
      expect(siblings).to.have.length(tree.depth - level);
      let node = tree.levels[level][index];
      siblings.forEach((sibling, d) => {
        node = (index >> d) & 1 ? poseidon.hash([sibling, node]) : poseidon.hash([node, sibling]);
      });
      expect(node, `level ${level} node ${index}`).to.equal(tree.root);
    }
  });

  it("should refuse a level-C build whose leaf count is not a multiple of 2^C (padding leaves are 0, not hashed)", async function () {
    try {
      await buildRoundChunksInput({ prev, next, deltas, weights, chunkIndices: [0], level: 2 }); // 2 leaves
      expect.fail("accepted");
    } catch (e) {
      expect((e as DsainError).code).to.equal(ErrorCode.INPUT_INVALID);
    }
  });

  it("should refuse to build an input for a next vector that is not the exact aggregate on a sampled chunk", async function () {
    const bad = next.slice();
    bad[indices[1] * CHUNK_SIZE + 3] += 1;
    try {
      await buildRoundChunksInput({ prev, next: bad, deltas, weights, chunkIndices: indices });
      expect.fail("accepted");
    } catch (e) {
      expect((e as DsainError).code).to.equal(ErrorCode.INPUT_INVALID);
    }
  });

  it("should have the committed Solidity verifiers (this instance and the tiny one) equal to what the development keys render", async function () {
    this.timeout(30 * 60_000); // the tiny instance's cold setup: about 30 s
    const committed = await fs.readFile(path.join(PROJECT_ROOT, "contracts", "verifiers", `${keys.instance.verifier}.sol`), "utf8");
    expect(committed, "contracts/verifiers is stale: run npm run generate:verifiers").to.equal(keys.verifierSource);
    expect(committed).to.include(`uint[${2 + S + 2 * K}] calldata _pubSignals`);
    const tiny = await ensureCircuitKeys("RoundChunks_1-0-0-1_tiny", { log: (m) => console.log(`      ${m}`) });
    const tinyCommitted = await fs.readFile(path.join(PROJECT_ROOT, "contracts", "verifiers", `${tiny.instance.verifier}.sol`), "utf8");
    expect(tinyCommitted, "contracts/verifiers is stale: run npm run generate:verifiers").to.equal(tiny.verifierSource);
  });
});
