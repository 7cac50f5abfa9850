// The RoundChunk circuit against the TypeScript protocol: Poseidon roots agree, a real Groth16
// proof verifies, tampered witnesses and public signals are rejected, and the committed Solidity
// verifier is exactly what the deterministic development keys render.
import { expect } from "chai";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import { aggregateExact, integerWeights } from "../../aggregator/protocol/aggregation.js";
import { CHUNK_SIZE, FIELD_MODULUS, INT_MAX, INT_MIN, WEIGHT_TOTAL } from "../../aggregator/protocol/constants.js";
import { getPoseidon } from "../../aggregator/protocol/poseidon.js";
import { chunkCount, treeDepth, vectorTree } from "../../aggregator/protocol/vector-root.js";
import {
  decorateVerifier,
  withVerifyingKeyHash,
  ensureCircuitKeys,
  loadSnarkjs,
  releaseZkWorkers,
  resolvePtau,
  snarkjsDir,
  snarkjsVersion,
  ZK_CACHE_DIR,
  type CircuitKeys,
} from "../../aggregator/adapters/proof/keys.js";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import {
  buildRoundChunkInput,
  calculateRoundChunkWitness,
  fromSolidityProof,
  proveRoundChunk,
  toSolidityProof,
  verifyRoundChunk,
  type RoundChunkBuild,
  type RoundChunkInput,
  type RoundChunkProof,
} from "../../aggregator/adapters/proof/prover.js";
import { circuitLeafElements } from "../helpers/circuit-leaf.js";
import { seededVector } from "../helpers/random.js";

const INSTANCE = "RoundChunk_4-1_test";
const PARAMS = 212; // the demo model: 2 chunks of 112, depth 1
const K = 4;
const CHALLENGED = 0;

interface Round {
  prev: Int32Array;
  next: Int32Array;
  deltas: Int32Array[];
  weights: number[];
}

/** A K=4 round whose challenged chunk holds the int32 extremes in the updates (edge of Int32Range). */
function makeRound(seed: number): Round {
  const prev = seededVector(seed, PARAMS, 1 << 24);
  const deltas = Array.from({ length: K }, (_, i) => seededVector(seed * 31 + i + 1, PARAMS, 1 << 20));
  const base = CHALLENGED * CHUNK_SIZE;
  deltas[0][base] = INT_MIN;
  deltas[1][base + 1] = INT_MAX;
  deltas[2][base + 2] = INT_MIN;
  deltas[3][base + 2] = INT_MAX;
  prev[base + 3] = INT_MAX; // prev and next at the extreme too (deltas there are set to 0)
  for (const d of deltas) d[base + 3] = 0;
  const weights = integerWeights([1200, 800, 3100, 450]);
  return { prev, next: aggregateExact(prev, deltas, weights), deltas, weights };
}

/** circuits/round_chunk.circom by line, to quote the constraint that rejected a witness. */
let circuitLines: string[] = [];

function clone(input: RoundChunkInput): RoundChunkInput {
  return JSON.parse(JSON.stringify(input)) as RoundChunkInput;
}

/** Asserts the witness generator refuses `input`, and returns circom's reason for the log. */
async function expectWitnessRejected(input: RoundChunkInput): Promise<string> {
  try {
    await calculateRoundChunkWitness(INSTANCE, input);
  } catch (e) {
    expect(e).to.be.instanceOf(DsainError);
    expect((e as DsainError).code).to.equal(ErrorCode.ZK_WITNESS_FAILED);
    // circom reports the failing constraint innermost first; name it, and quote the line of
    // round_chunk.circom it sits under.
    const frames = [...(e as Error).message.matchAll(/Error in template (\w+) line: (\d+)/g)];
    if (frames.length === 0) return "witness generation rejected it";
    const outer = frames[frames.length - 1];
    const quoted = (circuitLines[Number(outer[2]) - 1] ?? "").trim();
    const inner = frames.length > 1 ? `${frames[0][1]} inside ` : "";
    return `witness generation rejected it: ${inner}round_chunk.circom:${outer[2]} \`${quoted}\``;
  }
  expect.fail("the witness generator accepted a tampered input");
}

const p = FIELD_MODULUS;
const mod = (x: bigint) => ((x % p) + p) % p;
function modInverse(a: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a), p, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0);
}

describe("zk: RoundChunk circuit (" + INSTANCE + ")", function () {
  let keys: CircuitKeys;
  let round: Round;
  let build: RoundChunkBuild;
  let proved: RoundChunkProof;

  before(async function () {
    // Warm cache: well under a second. Cold: about a minute (compile ~8 s, setup ~30-50 s);
    // without ../shared/zk/dev-pot17.ptau also ~15 min to generate a local powers of tau.
    this.timeout(30 * 60_000);
    keys = await ensureCircuitKeys(INSTANCE, { log: (m) => console.log(`      ${m}`) });
    circuitLines = (await fs.readFile(path.join(PROJECT_ROOT, "circuits", keys.instance.file), "utf8")).split("\n");
    round = makeRound(7);
    build = await buildRoundChunkInput({ ...round, chunkIndex: CHALLENGED });
  });

  after(async function () {
    await releaseZkWorkers();
  });

  it("matches the demo model's shape: 212 parameters are 2 chunks in a depth-1 tree, K=4", function () {
    expect(chunkCount(PARAMS)).to.equal(2);
    expect(treeDepth(PARAMS)).to.equal(keys.instance.params[1]);
    expect(keys.instance.params[0]).to.equal(K);
    expect(build.depth).to.equal(1);
    console.log(`      ${keys.constraints} constraints, ${keys.publicInputs} public inputs, vkey ${keys.vkeyHash}`);
  });

  it("computes the same Poseidon roots as TypeScript (valid witnesses for vectorTree roots)", async function () {
    // The witness generator checks every === in the circuit, including leaf hash + Merkle root
    // against the public roots, so an accepted witness means circom's packing, Poseidon(16) and
    // Poseidon(2) tree of each vector equal vectorTree's. Chunk 0, the challenged chunk with int32
    // extremes, and the last, zero-padded chunk 1 (212 = 112 + 100).
    for (const chunkIndex of [CHALLENGED, 1]) {
      const b = chunkIndex === CHALLENGED ? build : await buildRoundChunkInput({ ...round, chunkIndex });
      const w = await calculateRoundChunkWitness(INSTANCE, b.input);
      expect(w.length).to.be.greaterThan(0);
    }
    // Also the roots themselves against circomlibjs directly for one leaf pair.
    const poseidon = await getPoseidon();
    const tree = await vectorTree(round.prev);
    expect(tree.levels[1][0]).to.equal(poseidon.hash([tree.leaves[0], tree.leaves[1]]));
  });

  it("proves and verifies a valid round chunk; publicSignals are [prevRoot, newRoot, chunkIndex, ...updateRoots, ...weights]", async function () {
    proved = await proveRoundChunk(INSTANCE, build.input, { keepWorkers: true });
    const t0 = performance.now();
    const ok = await verifyRoundChunk(INSTANCE, proved.publicSignals, proved.proof, { keepWorkers: true });
    const verifyMs = performance.now() - t0;
    console.log(`      witness ${proved.witnessMs.toFixed(0)} ms, prove ${proved.proveMs.toFixed(0)} ms, verify ${verifyMs.toFixed(0)} ms`);
    expect(ok).to.equal(true);

    const expected = [
      (await vectorTree(round.prev)).root,
      (await vectorTree(round.next)).root,
      BigInt(CHALLENGED),
      ...(await Promise.all(round.deltas.map(async (d) => (await vectorTree(d)).root))),
      ...round.weights.map(BigInt),
    ].map(String);
    expect(proved.publicSignals).to.deep.equal(expected);
    expect(proved.publicSignals).to.deep.equal(build.publicSignals);
    expect(proved.publicSignals).to.have.length(3 + 2 * K);
    expect(round.weights.reduce((a, b) => a + b, 0)).to.equal(WEIGHT_TOTAL);
  });

  it("formats the proof for Solidity like snarkjs' exportSolidityCallData (b coordinates reversed)", async function () {
    const snarkjs = (await loadSnarkjs()) as unknown as {
      groth16: { exportSolidityCallData(proof: unknown, pub: unknown): Promise<string> };
    };
    const calldata = JSON.parse(`[${await snarkjs.groth16.exportSolidityCallData(proved.proof, proved.publicSignals)}]`) as unknown[];
    const sol = toSolidityProof(proved.proof);
    const big = (x: unknown): unknown => (Array.isArray(x) ? x.map(big) : BigInt(x as string));
    expect(big(calldata[0])).to.deep.equal(sol.a);
    expect(big(calldata[1])).to.deep.equal(sol.b);
    expect(big(calldata[2])).to.deep.equal(sol.c);
    expect(sol.b[0][0]).to.equal(BigInt(proved.proof.pi_b[0][1]));
    // And back: the round trip verifies (what an auditor does with proofs read from the chain).
    expect(fromSolidityProof(sol)).to.deep.equal(proved.proof);
    expect(await verifyRoundChunk(INSTANCE, proved.publicSignals, fromSolidityProof(sol), { keepWorkers: true })).to.equal(true);
  });

  describe("rejects", function () {
    it("a delta coordinate changed consistently with next and the remainder (only the updateRoot opening fails)", async function () {
      // delta_1[k] + 1 adds a_1 to the weighted sum; absorbing it into r (and next if r overflows)
      // keeps the aggregation equation true, so only the Merkle opening can catch it.
      const input = clone(build.input);
      const k = 5;
      const a1 = round.weights[1];
      input.deltas[1][k] = (BigInt(input.deltas[1][k]) + 1n).toString();
      let r = BigInt(input.remainders[k]) + BigInt(a1);
      if (r >= BigInt(WEIGHT_TOTAL)) {
        r -= BigInt(WEIGHT_TOTAL);
        input.next[k] = mod(BigInt(input.next[k]) + 1n).toString();
      }
      input.remainders[k] = r.toString();
      console.log(`      ${await expectWitnessRejected(input)}`);
    });

    it("one delta coordinate altered", async function () {
      const input = clone(build.input);
      input.deltas[2][7] = mod(BigInt(input.deltas[2][7]) - 1n).toString();
      console.log(`      ${await expectWitnessRejected(input)}`);
    });

    it("one prev coordinate altered", async function () {
      const input = clone(build.input);
      input.prev[4] = mod(BigInt(input.prev[4]) + 1n).toString();
      console.log(`      ${await expectWitnessRejected(input)}`);
    });

    it("prev and next both shifted by one (aggregation still holds; the roots do not)", async function () {
      const input = clone(build.input);
      input.prev[9] = mod(BigInt(input.prev[9]) + 1n).toString();
      input.next[9] = mod(BigInt(input.next[9]) + 1n).toString();
      console.log(`      ${await expectWitnessRejected(input)}`);
    });

    it("one next coordinate altered", async function () {
      const input = clone(build.input);
      input.next[11] = mod(BigInt(input.next[11]) + 1n).toString();
      console.log(`      ${await expectWitnessRejected(input)}`);
    });

    it("weights that no longer sum to 65536", async function () {
      const input = clone(build.input);
      input.weights[0] = String(Number(input.weights[0]) + 1);
      console.log(`      ${await expectWitnessRejected(input)}`);
    });

    it("weights that sum to 65536 but are not the ones aggregated with", async function () {
      const input = clone(build.input);
      input.weights[0] = String(Number(input.weights[0]) + 1);
      input.weights[1] = String(Number(input.weights[1]) - 1);
      console.log(`      ${await expectWitnessRejected(input)}`);
    });

    it("a chunkIndex other than the one the paths open", async function () {
      const input = clone(build.input);
      input.chunkIndex = String(CHALLENGED + 1);
      console.log(`      ${await expectWitnessRejected(input)}`);
    });

    it("a chunkIndex of 2^DEPTH or more (same low bits as the opened chunk)", async function () {
      const input = clone(build.input);
      input.chunkIndex = String(CHALLENGED + 2 ** build.depth);
      console.log(`      ${await expectWitnessRejected(input)}`);
    });

    it("a next coordinate aliased outside int32 (next + 1/65536 mod p, r - 1, newRoot recomputed)", async function () {
      // The attack the int32 range checks exist for: in the field, next' = next + 65536^-1 and
      // r' = r - 1 satisfy next'*65536 + r' = next*65536 + r, and a cheating aggregator could
      // commit a newRoot over next'. Everything else is made consistent, so only Int32Range
      // (Num2Bits(32) of next' + 2^31) can reject it.
      const input = clone(build.input);
      const k = input.remainders.findIndex((r) => BigInt(r) > 0n);
      expect(k).to.be.greaterThanOrEqual(0);
      input.next[k] = mod(BigInt(input.next[k]) + modInverse(65536n)).toString();
      input.remainders[k] = (BigInt(input.remainders[k]) - 1n).toString();
      const poseidon = await getPoseidon();
      let node = poseidon.hash(circuitLeafElements(input.next.map(BigInt)));
      for (let d = 0; d < input.nextPath.length; d++) {
        const sibling = BigInt(input.nextPath[d]);
        node = (CHALLENGED >> d) & 1 ? poseidon.hash([sibling, node]) : poseidon.hash([node, sibling]);
      }
      input.newRoot = node.toString();
      const reason = await expectWitnessRejected(input);
      expect(reason).to.match(/Num2Bits/);
      console.log(`      ${reason}`);
    });

    it("next + p is not a distinct witness: the generator reduces inputs mod p, so it is the same proof", async function () {
      // Recorded so nobody mistakes it for an accepted alias: the value is the same field element.
      const input = clone(build.input);
      input.next[0] = (BigInt(input.next[0]) + p).toString();
      const aliased = await calculateRoundChunkWitness(INSTANCE, input);
      const honest = await calculateRoundChunkWitness(INSTANCE, build.input);
      expect(Buffer.from(aliased).equals(Buffer.from(honest))).to.equal(true);
    });

    it("a public signal aliased above p (prevRoot + p) — the verifier rejects", async function () {
      const signals = [...proved.publicSignals];
      signals[0] = (BigInt(signals[0]) + p).toString();
      expect(await verifyRoundChunk(INSTANCE, signals, proved.proof, { keepWorkers: true })).to.equal(false);
    });

    it("a valid proof checked against another round's public signals — the verifier rejects", async function () {
      const other = makeRound(8);
      other.prev = round.prev;
      other.next = aggregateExact(other.prev, other.deltas, other.weights);
      const otherBuild = await buildRoundChunkInput({ ...other, chunkIndex: CHALLENGED });
      expect(otherBuild.publicSignals[1]).to.not.equal(proved.publicSignals[1]);
      // Only newRoot swapped:
      const swapped = [...proved.publicSignals];
      swapped[1] = otherBuild.publicSignals[1];
      expect(await verifyRoundChunk(INSTANCE, swapped, proved.proof, { keepWorkers: true })).to.equal(false);
      // The whole other round:
      expect(await verifyRoundChunk(INSTANCE, otherBuild.publicSignals, proved.proof, { keepWorkers: true })).to.equal(false);
      // Another chunk index of the same round:
      const otherChunk = [...proved.publicSignals];
      otherChunk[2] = String(CHALLENGED + 1);
      expect(await verifyRoundChunk(INSTANCE, otherChunk, proved.proof, { keepWorkers: true })).to.equal(false);
      // Weights of the public signals changed (still summing to 65536):
      const otherWeights = [...proved.publicSignals];
      otherWeights[3 + K] = String(Number(otherWeights[3 + K]) + 1);
      otherWeights[4 + K] = String(Number(otherWeights[4 + K]) - 1);
      expect(await verifyRoundChunk(INSTANCE, otherWeights, proved.proof, { keepWorkers: true })).to.equal(false);
      console.log("      the verifier rejected all four (newRoot, whole round, chunkIndex, weights)");
    });

    it("a next vector that is not the exact aggregate — buildRoundChunkInput refuses before proving", async function () {
      const next = round.next.slice();
      next[CHALLENGED * CHUNK_SIZE + 6] += 1;
      try {
        await buildRoundChunkInput({ ...round, next, chunkIndex: CHALLENGED });
        expect.fail("accepted");
      } catch (e) {
        expect((e as DsainError).code).to.equal(ErrorCode.INPUT_INVALID);
      }
    });
  });

  describe("keys", function () {
    it("refuses a powers of tau whose sha256 is not the pinned one (DSAIN_ZK_PTAU_MISMATCH)", async function () {
      const fake = path.join(ZK_CACHE_DIR, `fake-${process.pid}.ptau`);
      await fs.mkdir(ZK_CACHE_DIR, { recursive: true });
      await fs.writeFile(fake, "not a powers of tau");
      const saved = process.env.DSAIN_PTAU;
      process.env.DSAIN_PTAU = fake;
      try {
        await resolvePtau(14, () => {});
        expect.fail("accepted a mismatching ptau");
      } catch (e) {
        expect((e as DsainError).code).to.equal(ErrorCode.ZK_PTAU_MISMATCH);
      } finally {
        if (saved === undefined) delete process.env.DSAIN_PTAU;
        else process.env.DSAIN_PTAU = saved;
        await fs.rm(fake, { force: true });
      }
    });

    it("the committed verifier equals a fresh rendering from the zkey (regenerate and diff)", async function () {
      const committed = await fs.readFile(path.join(PROJECT_ROOT, "contracts", "verifiers", `${keys.instance.verifier}.sol`), "utf8");
      // Fresh: export again from the cached zkey with snarkjs' template, not the cached .sol.
      const snarkjs = await loadSnarkjs();
      const templates = { groth16: await fs.readFile(path.join(snarkjsDir(), "templates", "verifier_groth16.sol.ejs"), "utf8") };
      const fresh = withVerifyingKeyHash(
        decorateVerifier(await snarkjs.zKey.exportSolidityVerifier(keys.zkeyPath, templates), keys.instance, await snarkjsVersion()),
        keys.instance.verifier,
        keys.vkeyHash,
      );
      expect(fresh).to.equal(keys.verifierSource);
      expect(committed, "contracts/verifiers is stale: run npm run generate:verifiers").to.equal(fresh);
      expect(committed).to.include(`contract ${keys.instance.verifier} {`);
      expect(committed).to.include(`uint[${3 + 2 * K}] calldata _pubSignals`);
      expect(committed).to.include(`bytes32 public constant VERIFYING_KEY_HASH = ${keys.vkeyHash};`);
      // And the vkey hash is the sha256 of vkey.json's bytes.
      const vkeyBytes = await fs.readFile(keys.vkeyPath);
      expect("0x" + createHash("sha256").update(vkeyBytes).digest("hex")).to.equal(keys.vkeyHash);
    });

    // The "regenerate from the circuits and diff": compile and set up again from nothing
    // (about a minute on 2 cores) and compare with the keys in use and the committed verifier.
    it("a second compile + setup in a fresh cache gives the same zkey and the committed verifier", async function () {
      this.timeout(30 * 60_000);
      const cacheDir = path.join(ZK_CACHE_DIR, "determinism-check");
      await fs.rm(cacheDir, { recursive: true, force: true });
      try {
        const again = await ensureCircuitKeys(INSTANCE, { cacheDir, log: (m) => console.log(`      ${m}`) });
        expect(again.manifest.zkeySha256).to.equal(keys.manifest.zkeySha256);
        expect(again.vkeyHash).to.equal(keys.vkeyHash);
        expect(again.verifierSource).to.equal(keys.verifierSource);
        const committed = await fs.readFile(path.join(PROJECT_ROOT, "contracts", "verifiers", `${keys.instance.verifier}.sol`), "utf8");
        expect(committed, "contracts/verifiers is stale: run npm run generate:verifiers").to.equal(again.verifierSource);
      } finally {
        await fs.rm(cacheDir, { recursive: true, force: true });
      }
    });
  });
});
