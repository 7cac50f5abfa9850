// The batched round proof (RoundAttested): K participants' EdDSA-Poseidon attestations verified in
// the circuit against the key registry, S sampled chunks aggregated exactly, and every tampering the
// issue lists rejected — each test says whether witness generation or the verifier refused it.
import { expect } from "chai";
import fs from "node:fs/promises";
import path from "node:path";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import { aggregateExact, integerWeights } from "../../aggregator/protocol/aggregation.js";
import { challengeSeed } from "../../aggregator/protocol/commitment.js";
import { FIELD_MODULUS } from "../../aggregator/protocol/constants.js";
import { getPoseidon } from "../../aggregator/protocol/poseidon.js";
import { vectorTree } from "../../aggregator/protocol/vector-root.js";
import {
  attestationMessage,
  attestationMeta,
  babyJubKeyFromSeed,
  entryHash,
  keyRegistry,
  registryPath,
  roundScope,
  signAttestation,
  signMessage,
  updatesCommitment,
  verifyMessage,
  type BabyJubKeyPair,
  type KeyRegistry,
} from "../../aggregator/protocol/eddsa.js";
import { challengeChunkCount, challengeIndices } from "../../aggregator/protocol/challenge.js";
import { ensureCircuitKeys, releaseZkWorkers, type CircuitKeys } from "../../aggregator/adapters/proof/keys.js";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import {
  buildRoundAttestedInput,
  calculateWitness,
  proveInstance,
  roundAttestedPublicSignals,
  verifyInstance,
  type InstanceProof,
  type RoundAttestedBuild,
  type RoundAttestedInput,
} from "../../aggregator/adapters/proof/sampled.js";
import { readVector } from "../helpers/vectors.js";
import { seededVector } from "../helpers/random.js";
import { packParticipantSlots } from "../../aggregator/protocol/batched.js";

const INSTANCE = "RoundAttested_2-1-0-2-2_test";
const PARAMS = 212;
const K = 2;
const S = 2;
const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const CHAIN_ID = 31337n;
const FEDERATION = 1n;
const ROUND = 5n;
const p = FIELD_MODULUS;
const mod = (x: bigint) => ((x % p) + p) % p;
/** Order of BabyJubJub's prime subgroup (circomlib's l). */
const SUBORDER = 2736030358979909402780800718157159386041805567869045236891281133213244931573n;

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

async function expectWitnessRejected(input: RoundAttestedInput): Promise<string> {
  try {
    await calculateWitness(INSTANCE, input);
  } catch (e) {
    expect(e).to.be.instanceOf(DsainError);
    expect((e as DsainError).code).to.equal(ErrorCode.ZK_WITNESS_FAILED);
    const frames = [...(e as Error).message.matchAll(/Error in template (\w+) line: (\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
    return `witness generation rejected it (${frames.slice(0, 3).join(" < ") || "assert failed"})`;
  }
  expect.fail("the witness generator accepted a tampered input");
}

describe("zk: batched attestations in TypeScript (docs/proof-of-training.md §4)", function () {
  it("should match test/vectors/proof-of-training.json: scopes, metas, messages, signatures, entries, registry, commitment", async function () {
    const v = readVector("proof-of-training.json");
    for (const c of v.roundScope) {
      expect(roundScope(BigInt(c.chainId), c.ledger, BigInt(c.federationId), BigInt(c.round)).toString()).to.equal(c.scope);
    }
    const b = v.batched;
    const keys = b.attestations.map((a: { publicKey: string[] }) => a.publicKey.map(BigInt) as [bigint, bigint]);
    const registry = await keyRegistry(keys, b.registry.depth);
    expect(registry.root.toString()).to.equal(b.registry.root);
    const entries = [];
    for (const a of b.attestations) {
      const pair = await babyJubKeyFromSeed(["alice", "bob", "carol"][a.keyIndex]);
      expect(Buffer.from(pair.privateKey).toString("hex")).to.equal(a.privateKeyHex);
      expect(pair.publicKey.map(String)).to.deep.equal(a.publicKey);
      const meta = await attestationMeta(
        Object.fromEntries(Object.entries(a.metaFields).map(([k, x]) => [k, BigInt(x as string)])) as never,
      );
      expect(meta.toString()).to.equal(a.meta);
      const message = await attestationMessage(BigInt(b.scope), BigInt(b.prevRoot), BigInt(a.updateRoot), meta);
      expect(message.toString()).to.equal(a.message);
      const sig = await signMessage(pair.privateKey, message);
      expect({ R8: sig.R8.map(String), S: sig.S.toString() }).to.deep.equal(a.signature);
      expect(registryPath(registry, a.keyIndex).map(String)).to.deep.equal(a.registryPath);
      const entry = { publicKey: pair.publicKey, updateRoot: BigInt(a.updateRoot), weight: a.weight, meta };
      expect((await entryHash(entry)).toString()).to.equal(a.entry);
      entries.push(entry);
    }
    expect((await updatesCommitment(entries)).toString()).to.equal(b.updatesCommitment);
    expect(
      packParticipantSlots(
        b.attestations.map((a: { keyIndex: number }) => a.keyIndex),
        b.registry.depth,
      ).toString(),
    ).to.equal(b.participantSlots);
    expect(packParticipantSlots(b.participantSlotsWide.slots, b.participantSlotsWide.depth).toString()).to.equal(
      b.participantSlotsWide.packed,
    );
  });

  it("should verify a signature off-chain and refuse it for another message or key", async function () {
    const [a, b] = await Promise.all([babyJubKeyFromSeed("a"), babyJubKeyFromSeed("b")]);
    const sig = await signMessage(a.privateKey, 42n);
    expect(await verifyMessage(a.publicKey, 42n, sig)).to.equal(true);
    expect(await verifyMessage(a.publicKey, 43n, sig)).to.equal(false);
    expect(await verifyMessage(b.publicKey, 42n, sig)).to.equal(false);
  });

  it("should give a different scope for another round, federation, chain or ledger", function () {
    const base = roundScope(CHAIN_ID, LEDGER, FEDERATION, ROUND);
    const others = [
      roundScope(CHAIN_ID, LEDGER, FEDERATION, ROUND + 1n),
      roundScope(CHAIN_ID, LEDGER, FEDERATION + 1n, ROUND),
      roundScope(CHAIN_ID + 1n, LEDGER, FEDERATION, ROUND),
      roundScope(CHAIN_ID, "0x0000000000000000000000000000000000000001", FEDERATION, ROUND),
    ];
    expect(new Set([base, ...others].map(String)).size).to.equal(5);
    for (const s of [base, ...others]) expect(s < p).to.equal(true);
  });

  it("should keep roster positions: a participant without a BabyJubJub key leaves a 0 leaf that no path opens", async function () {
    const [a, b] = await Promise.all([babyJubKeyFromSeed("a"), babyJubKeyFromSeed("b")]);
    const sparse = await keyRegistry([a.publicKey, null, b.publicKey], 2);
    const dense = await keyRegistry([a.publicKey, b.publicKey], 2);
    expect(sparse.levels[0][1]).to.equal(0n);
    expect(sparse.root).to.not.equal(dense.root);
    expect(registryPath(sparse, 2)[0]).to.equal(0n); // slot 3 is unused: its sibling leaf is 0
    expect(() => registryPath(sparse, 1)).to.throw(DsainError);
  });

  it("should refuse a registry with a key enrolled twice, and a slot that holds no key", async function () {
    const a = await babyJubKeyFromSeed("a");
    for (const f of [() => keyRegistry([a.publicKey, a.publicKey], 2), async () => registryPath(await keyRegistry([a.publicKey], 2), 1)]) {
      try {
        await f();
        expect.fail("accepted");
      } catch (e) {
        expect((e as DsainError).code).to.equal(ErrorCode.INPUT_INVALID);
      }
    }
  });
});

describe("zk: RoundAttested circuit (" + INSTANCE + ")", function () {
  let keys: CircuitKeys;
  let enrolled: BabyJubKeyPair[];
  let outsider: BabyJubKeyPair;
  let registry: KeyRegistry;
  let prev: Int32Array;
  let next: Int32Array;
  let deltas: Int32Array[];
  let weights: number[];
  let indices: number[];
  let scope: bigint;
  let metas: bigint[];
  /** Registry slots of the round's two participants (ascending); slots 0 and 2 are enrolled but not in the round. */
  const selected = [1, 3];
  let build: RoundAttestedBuild;
  let proved: InstanceProof;

  /** Inputs for the same vectors, signed by `signers` over `scopeOf` (defaults: the round's participants and scope). */
  async function buildWith(options: { scopeOf?: bigint; signers?: BabyJubKeyPair[]; updateRoots?: bigint[] } = {}) {
    const sc = options.scopeOf ?? scope;
    const prevRoot = (await vectorTree(prev)).root;
    const roots = options.updateRoots ?? (await Promise.all(deltas.map(async (d) => (await vectorTree(d)).root)));
    const signers = options.signers ?? selected.map((i) => enrolled[i]);
    const participants = await Promise.all(
      selected.map(async (keyIndex, i) => ({
        keyIndex,
        meta: metas[i],
        signature: await signAttestation(signers[i].privateKey, { scope: sc, prevRoot, updateRoot: roots[i], meta: metas[i] }),
      })),
    );
    return buildRoundAttestedInput({ prev, next, deltas, weights, chunkIndices: indices, scope: sc, registry, participants });
  }

  before(async function () {
    // Warm cache: under a second. Cold: compile ~10 s + setup ~1-1.5 min on 2 cores (2^15 domain).
    this.timeout(30 * 60_000);
    keys = await ensureCircuitKeys(INSTANCE, { log: (m) => console.log(`      ${m}`) });
    enrolled = await Promise.all(["p0", "p1", "p2", "p3"].map((l) => babyJubKeyFromSeed(l)));
    outsider = await babyJubKeyFromSeed("outsider");
    registry = await keyRegistry(
      enrolled.map((k) => k.publicKey),
      2,
    );
    prev = seededVector(21, PARAMS, 1 << 24);
    deltas = Array.from({ length: K }, (_, i) => seededVector(200 + i, PARAMS, 1 << 20));
    const counts = [700n, 1300n];
    weights = integerWeights(counts);
    next = aggregateExact(prev, deltas, weights);
    metas = await Promise.all(
      counts.map((n) => attestationMeta({ sampleCount: n, dpEpsilonMicros: 0n, dpDeltaPicos: 0n, dpClipMicros: 0n, dpNoiseMicros: 0n })),
    );
    scope = roundScope(CHAIN_ID, LEDGER, FEDERATION, ROUND);
    indices = challengeIndices(challengeSeed("0x" + "22".repeat(32), "0x" + "07".repeat(32)), challengeChunkCount(PARAMS), S);
    build = await buildWith();
  });

  after(async function () {
    await releaseZkWorkers();
  });

  it("should be RoundAttested(K=2, DEPTH=1, C=0, S=2, R=2) with 6 + S public inputs (none per participant)", function () {
    expect(keys.instance.params).to.deep.equal([K, 1, 0, S, 2]);
    expect(keys.publicInputs).to.equal(6 + S);
    console.log(`      ${keys.constraints} constraints; challenged chunks ${indices.join(", ")}`);
  });

  it("should prove and verify valid attestations; publicSignals are [scope, prevRoot, newRoot, keyRegistryRoot, participantSlots, updatesCommitment, ...chunkIndices]", async function () {
    proved = await proveInstance(INSTANCE, build.input, { keepWorkers: true });
    console.log(`      witness ${proved.witnessMs.toFixed(0)} ms, prove ${proved.proveMs.toFixed(0)} ms`);
    expect(await verifyInstance(INSTANCE, proved.publicSignals, proved.proof, { keepWorkers: true })).to.equal(true);
    const entries = await Promise.all(
      selected.map(async (slot, i) => ({
        publicKey: enrolled[slot].publicKey,
        updateRoot: (await vectorTree(deltas[i])).root,
        weight: weights[i],
        meta: metas[i],
      })),
    );
    const expected = roundAttestedPublicSignals({
      scope,
      prevRoot: (await vectorTree(prev)).root,
      newRoot: (await vectorTree(next)).root,
      keyRegistryRoot: registry.root,
      participantSlots: BigInt(selected[0]) + (BigInt(selected[1]) << 2n),
      updatesCommitment: await updatesCommitment(entries),
      chunkIndices: indices,
    });
    expect(proved.publicSignals).to.deep.equal(expected);
    expect(proved.publicSignals).to.deep.equal(build.publicSignals);
  });

  describe("rejects, in the sampled chunks", function () {
    for (const s of [0, 1]) {
      it(`one coordinate of one update, of w_t or of w_{t+1} altered in chunk ${s} — witness generation`, async function () {
        for (const [what, alter] of [
          ["update 1", (i: RoundAttestedInput) => (i.deltas[s][1][3] = mod(BigInt(i.deltas[s][1][3]) + 1n).toString())],
          ["w_t", (i: RoundAttestedInput) => (i.prev[s][0] = mod(BigInt(i.prev[s][0]) + 1n).toString())],
          ["w_{t+1}", (i: RoundAttestedInput) => (i.next[s][9] = mod(BigInt(i.next[s][9]) - 1n).toString())],
        ] as const) {
          const input = clone(build.input);
          alter(input);
          console.log(`      ${what}: ${await expectWitnessRejected(input)}`);
        }
      });
    }

    it("a chunk index other than the challenged one — the verifier rejects; a witness for another chunk — witness generation", async function () {
      const signals = [...proved.publicSignals];
      signals[6] = String((indices[0] + 1) % challengeChunkCount(PARAMS));
      expect(await verifyInstance(INSTANCE, signals, proved.proof, { keepWorkers: true })).to.equal(false);
      const input = clone(build.input);
      input.chunkIndices = [String((indices[0] + 1) % challengeChunkCount(PARAMS)), input.chunkIndices[1]];
      console.log(`      ${await expectWitnessRejected(input)}`);
    });
  });

  describe("rejects, in the weights", function () {
    it("a weight altered (committed entry unchanged) — witness generation", async function () {
      const input = clone(build.input);
      input.weights = [String(weights[0] + 1), String(weights[1] - 1)];
      console.log(`      ${await expectWitnessRejected(input)}`);
    });

    it("a weight altered with the commitment recomputed — the verifier rejects the proof against that commitment", async function () {
      const entries = build.entries.map((e, i) => ({ ...e, weight: weights[i] + (i === 0 ? 1 : -1) }));
      const signals = [...proved.publicSignals];
      signals[5] = (await updatesCommitment(entries)).toString();
      expect(await verifyInstance(INSTANCE, signals, proved.proof, { keepWorkers: true })).to.equal(false);
    });

    it("weights aliased around the field (a_1 = -1 mod p, a_2 + 1): the sum is still 65536 but Num2Bits(17) fails — witness generation", async function () {
      // The entries and their commitment are recomputed with the aliased weights, so only the range
      // check on each weight stands between this input and an accepted witness.
      const input = clone(build.input);
      const aliased = [p - 1n, 65537n];
      input.weights = aliased.map(String);
      const poseidon = await getPoseidon();
      const hashes = build.entries.map((e, i) => poseidon.hash([e.publicKey[0], e.publicKey[1], e.updateRoot, aliased[i], e.meta]));
      input.updatesCommitment = poseidon.hash(hashes).toString();
      const reason = await expectWitnessRejected(input);
      expect(reason).to.match(/Num2Bits|WeightsCheck/);
      console.log(`      ${reason}`);
    });
  });

  describe("rejects replay", function () {
    it("the proof of round t checked as round t+1 or in another federation, chain or ledger — the verifier rejects", async function () {
      for (const other of [
        roundScope(CHAIN_ID, LEDGER, FEDERATION, ROUND + 1n),
        roundScope(CHAIN_ID, LEDGER, FEDERATION + 1n, ROUND),
        roundScope(CHAIN_ID + 1n, LEDGER, FEDERATION, ROUND),
        roundScope(CHAIN_ID, "0x0000000000000000000000000000000000000001", FEDERATION, ROUND),
      ]) {
        const signals = [...proved.publicSignals];
        signals[0] = other.toString();
        expect(await verifyInstance(INSTANCE, signals, proved.proof, { keepWorkers: true })).to.equal(false);
      }
    });

    it("round t's signatures reused in a round t+1 witness — witness generation", async function () {
      const input = clone(build.input);
      input.scope = roundScope(CHAIN_ID, LEDGER, FEDERATION, ROUND + 1n).toString();
      console.log(`      ${await expectWitnessRejected(input)}`);
    });

    it("another federation's signatures (valid there) in this round — witness generation", async function () {
      const foreign = await buildWith({ scopeOf: roundScope(CHAIN_ID, LEDGER, FEDERATION + 1n, ROUND) });
      const input = clone(build.input);
      input.sigR8 = foreign.input.sigR8;
      input.sigS = foreign.input.sigS;
      console.log(`      ${await expectWitnessRejected(input)}`);
    });
  });

  describe("rejects signatures", function () {
    it("an enrolled but non-selected participant (slot 0 for slot 1), validly signed and committed, against the ledger's slots — witness generation", async function () {
      // Everything about slot 0's entry is genuine; only participantSlots, which the ledger packs
      // from the selected, recorded participants (slots 1 and 3), refuses it.
      const outsiderSlot = 0;
      const input = clone(build.input);
      const sig = await signAttestation(enrolled[outsiderSlot].privateKey, {
        scope,
        prevRoot: BigInt(input.prevRoot),
        updateRoot: BigInt(input.updateRoots[0]),
        meta: metas[0],
      });
      input.keyIndices[0] = String(outsiderSlot);
      input.keyPaths[0] = registryPath(registry, outsiderSlot).map(String);
      input.pubKeys[0] = enrolled[outsiderSlot].publicKey.map(String);
      input.sigR8[0] = sig.R8.map(String);
      input.sigS[0] = sig.S.toString();
      input.updatesCommitment = (
        await updatesCommitment(build.entries.map((e, i) => (i === 0 ? { ...e, publicKey: enrolled[outsiderSlot].publicKey } : e)))
      ).toString();
      const lines = (await fs.readFile(path.join(PROJECT_ROOT, "circuits", "round_attested.circom"), "utf8")).split("\n");
      const packedLine = lines.findIndex((l) => l.includes("packed === participantSlots")) + 1;
      const reason = await expectWitnessRejected(input);
      expect(reason).to.match(new RegExp(`RoundAttested_\\d+:${packedLine}\\b`)); // only the slot packing objects
      console.log(`      ${reason}`);
      // The same substitution with participantSlots also changed is another public input: the
      // valid proof does not verify against it.
      const signals = [...proved.publicSignals];
      signals[4] = (BigInt(outsiderSlot) + (BigInt(selected[1]) << 2n)).toString();
      expect(await verifyInstance(INSTANCE, signals, proved.proof, { keepWorkers: true })).to.equal(false);
    });

    it("a signature by an enrolled participant who is not the selected one (slot 2 signing for slot 3) — witness generation", async function () {
      const forged = await buildWith({ signers: [enrolled[1], enrolled[2]] });
      const reason = await expectWitnessRejected(forged.input);
      expect(reason).to.match(/EdDSAPoseidonVerifier|ForceEqualIfEnabled/);
      console.log(`      ${reason}`);
    });

    it("a key that is not enrolled, with its own valid signature and the commitment recomputed — witness generation", async function () {
      const input = clone(build.input);
      const prevRoot = BigInt(input.prevRoot);
      const sig = await signAttestation(outsider.privateKey, { scope, prevRoot, updateRoot: BigInt(input.updateRoots[1]), meta: metas[1] });
      input.pubKeys[1] = outsider.publicKey.map(String);
      input.sigR8[1] = sig.R8.map(String);
      input.sigS[1] = sig.S.toString();
      input.updatesCommitment = (
        await updatesCommitment(build.entries.map((e, i) => (i === 1 ? { ...e, publicKey: outsider.publicKey } : e)))
      ).toString();
      const reason = await expectWitnessRejected(input);
      expect(reason).to.match(/Attestation|MerkleRoot/);
      console.log(`      ${reason}`);
    });

    it("a signature over a wrong message (another update root) — witness generation", async function () {
      const wrong = await buildWith({ updateRoots: [(await vectorTree(deltas[0])).root, 12345n] });
      const input = clone(build.input);
      input.sigR8[1] = wrong.input.sigR8[1];
      input.sigS[1] = wrong.input.sigS[1];
      console.log(`      ${await expectWitnessRejected(input)}`);
    });

    it("the same participant twice (slot 3 validly signing both updates, commitment recomputed) — witness generation", async function () {
      const input = clone(build.input);
      const twice = enrolled[selected[1]];
      const sig = await signAttestation(twice.privateKey, {
        scope,
        prevRoot: BigInt(input.prevRoot),
        updateRoot: BigInt(input.updateRoots[0]),
        meta: metas[0],
      });
      input.keyIndices = [input.keyIndices[1], input.keyIndices[1]];
      input.keyPaths = [input.keyPaths[1], input.keyPaths[1]];
      input.pubKeys = [input.pubKeys[1], input.pubKeys[1]];
      input.sigR8[0] = sig.R8.map(String);
      input.sigS[0] = sig.S.toString();
      input.updatesCommitment = (
        await updatesCommitment(build.entries.map((e, i) => (i === 0 ? { ...e, publicKey: twice.publicKey } : e)))
      ).toString();
      const lines = (await fs.readFile(path.join(PROJECT_ROOT, "circuits", "round_attested.circom"), "utf8")).split("\n");
      const ascendingLine = lines.findIndex((l) => l.includes("ascending[i].out === 1")) + 1;
      const reason = await expectWitnessRejected(input);
      expect(reason).to.match(new RegExp(`RoundAttested_\\d+:${ascendingLine}\\b`)); // the strictly-ascending key index check
      console.log(`      ${reason}`);
    });

    it("a malleated signature S + l (same point S·B8, S out of range) — witness generation", async function () {
      const input = clone(build.input);
      input.sigS[0] = (BigInt(input.sigS[0]) + SUBORDER).toString();
      const reason = await expectWitnessRejected(input);
      expect(reason).to.match(/EdDSAPoseidonVerifier/);
      console.log(`      ${reason}`);
    });
  });

  describe("rejects field aliasing", function () {
    it("a public input above the field modulus (scope + p, participantSlots + p, updatesCommitment + p) — the verifier rejects", async function () {
      for (const at of [0, 4, 5]) {
        const signals = [...proved.publicSignals];
        signals[at] = (BigInt(signals[at]) + p).toString();
        expect(await verifyInstance(INSTANCE, signals, proved.proof, { keepWorkers: true })).to.equal(false);
      }
    });
  });

  it("should have the committed Solidity verifier equal to the one the development keys render", async function () {
    const committed = await fs.readFile(path.join(PROJECT_ROOT, "contracts", "verifiers", `${keys.instance.verifier}.sol`), "utf8");
    expect(committed, "contracts/verifiers is stale: run npm run generate:verifiers").to.equal(keys.verifierSource);
    expect(committed).to.include(`uint[${6 + S}] calldata _pubSignals`);
  });
});
