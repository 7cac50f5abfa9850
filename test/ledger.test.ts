// ProvenanceLedger on Hardhat's network: a round with real EIP-712 attestations is recorded, and
// every refusal reverts with its exact custom error and leaves the state untouched.
import { expect } from "chai";
import { network } from "hardhat";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import {
  attestationDigest,
  attestationDomain,
  fieldToBytes32,
  integerWeights,
  participantsRoot,
  roundCommitment,
  signAttestation,
  sortParticipants,
  vectorRoot,
  type Attestation,
} from "../aggregator/protocol/index.js";

const { ethers } = await network.create();
const NO_DP = { epsilonMicros: 0n, deltaPicos: 0n, clipMicros: 0n, noiseMicros: 0n };
const root = async (seed: number) => fieldToBytes32(await vectorRoot(Int32Array.from({ length: 40 }, (_, i) => (i * 7919 + seed) % 1000)));

describe("ProvenanceLedger", function () {
  async function deployFixture() {
    const [admin, aggregator, outsider] = await ethers.getSigners();
    const ledger = await ethers.deployContract("ProvenanceLedger", [admin.address]);
    await ledger.grantRole(await ledger.AGGREGATOR_ROLE(), aggregator.address);
    const participants = [0, 1, 2, 3].map((i) => new Wallet(keccak256(toUtf8Bytes(`ledger test participant ${i}`))));
    const sorted = sortParticipants(participants.map((p) => p.address));
    const wallets = sorted.map((a) => participants.find((p) => p.address === a)!);
    const genesisRoot = await root(0);
    await ledger.createFederation({
      modelId: "test-model",
      modelLength: 40,
      participantsPerRound: 4,
      verifier: outsider.address, // postRound never calls it; proofs are covered by the end-to-end test
      verifyingKeyHash: keccak256(toUtf8Bytes("vk")),
      genesisModelRoot: genesisRoot,
      genesisCidCodec: 0x55,
      genesisCidDigest: keccak256(toUtf8Bytes("genesis")),
    });
    for (const a of sorted) await ledger.enrol(1n, a);
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const domain = attestationDomain(chainId, await ledger.getAddress());
    return { ledger, admin, aggregator, outsider, wallets, sorted, genesisRoot, domain, chainId };
  }

  type Fixture = Awaited<ReturnType<typeof deployFixture>>;

  async function roundFor(
    f: Fixture,
    round: bigint,
    overrides: { signers?: Wallet[]; domain?: any; signRound?: bigint; federation?: bigint } = {},
  ) {
    const signers = overrides.signers ?? f.wallets;
    const weights = integerWeights([100, 200, 300, 400]);
    const updates = [];
    for (const [i, w] of signers.entries()) {
      const message: Attestation = {
        federationId: overrides.federation ?? 1n,
        round: overrides.signRound ?? round,
        baseModelRoot: f.genesisRoot,
        updateRoot: await root(10 + i),
        sampleCount: BigInt(100 * (i + 1)),
        dpEpsilonMicros: 0n,
        dpDeltaPicos: 0n,
        dpClipMicros: 0n,
        dpNoiseMicros: 0n,
      };
      const signature = await signAttestation(w, overrides.domain ?? f.domain, message);
      updates.push({
        participant: f.sorted[i],
        sampleCount: message.sampleCount,
        weight: weights[i],
        updateRoot: message.updateRoot,
        dp: NO_DP,
        signature,
      });
    }
    const modelRoot = await root(99);
    const cidDigest = keccak256(toUtf8Bytes(`round ${round}`));
    const commitment = roundCommitment({ modelRoot, cidCodec: 0x70, cidDigest, participantsRoot: participantsRoot(f.sorted), round });
    return { post: { round, cidCodec: 0x70, modelRoot, cidDigest, commitment }, updates };
  }

  async function expectUnchanged(f: Fixture, promise: Promise<unknown>, error: string, args?: unknown[]) {
    const before = await f.ledger.federation(1n);
    const assertion = expect(promise).to.be.revertedWithCustomError(f.ledger, error);
    if (args) await assertion.withArgs(...args);
    else await assertion;
    const after = await f.ledger.federation(1n);
    expect(after.lastRound).to.equal(before.lastRound);
    expect((await f.ledger.roundRecord(1n, 1n)).status).to.equal(0n);
  }

  describe("postRound", function () {
    it("should record a round whose attestations and commitment check out, and emit its events", async function () {
      const f = await deployFixture();
      const { post, updates } = await roundFor(f, 1n);
      const tx = f.ledger.connect(f.aggregator).postRound(1n, post, updates);
      await expect(tx).to.emit(f.ledger, "RoundPosted");
      await expect(tx).to.emit(f.ledger, "UpdateAttested");
      const record = await f.ledger.roundRecord(1n, 1n);
      expect(record.status).to.equal(2n); // Attested
      expect(record.commitment).to.equal(post.commitment);
      expect(record.participantsRoot).to.equal(participantsRoot(f.sorted));
      expect((await f.ledger.federation(1n)).lastRound).to.equal(1n);
    });

    it("should compute the same attestation digest as TypeScript", async function () {
      const f = await deployFixture();
      const m = { federationId: 1n, round: 5n, baseModelRoot: f.genesisRoot, updateRoot: await root(3), sampleCount: 9n };
      const ts = attestationDigest(f.domain, { ...m, dpEpsilonMicros: 1n, dpDeltaPicos: 2n, dpClipMicros: 3n, dpNoiseMicros: 4n });
      const sol = await f.ledger.attestationDigest(1n, 5n, m.baseModelRoot, m.updateRoot, 9n, {
        epsilonMicros: 1n,
        deltaPicos: 2n,
        clipMicros: 3n,
        noiseMicros: 4n,
      });
      expect(sol).to.equal(ts);
    });

    it("should build public inputs in the circuit's order from its own storage", async function () {
      const f = await deployFixture();
      const { post, updates } = await roundFor(f, 1n);
      await f.ledger.connect(f.aggregator).postRound(1n, post, updates);
      const inputs = await f.ledger.publicInputs(1n, 1n);
      const record = await f.ledger.roundRecord(1n, 1n);
      expect(inputs.length).to.equal(11);
      expect(inputs[0]).to.equal(BigInt(f.genesisRoot));
      expect(inputs[1]).to.equal(BigInt(post.modelRoot));
      expect(inputs[2]).to.equal(BigInt(record.challengeSeed) % 3n); // 40 parameters = 3 chunks
      expect(inputs.slice(3, 7)).to.deep.equal(updates.map((u) => BigInt(u.updateRoot)));
      expect(inputs.slice(7)).to.deep.equal(updates.map((u) => BigInt(u.weight)));
    });

    it("should refuse a caller without the aggregator role", async function () {
      const f = await deployFixture();
      const { post, updates } = await roundFor(f, 1n);
      await expectUnchanged(f, f.ledger.connect(f.outsider).postRound(1n, post, updates), "AccessControlUnauthorizedAccount", [
        f.outsider.address,
        await f.ledger.AGGREGATOR_ROLE(),
      ]);
    });

    it("should refuse an unknown federation", async function () {
      const f = await deployFixture();
      const { post, updates } = await roundFor(f, 1n);
      await expect(f.ledger.connect(f.aggregator).postRound(2n, post, updates))
        .to.be.revertedWithCustomError(f.ledger, "ProvenanceUnknownFederation")
        .withArgs(2n);
    });

    it("should refuse a round out of order", async function () {
      const f = await deployFixture();
      const { post, updates } = await roundFor(f, 2n);
      await expectUnchanged(f, f.ledger.connect(f.aggregator).postRound(1n, post, updates), "ProvenanceRoundOutOfOrder", [1n, 1n, 2n]);
    });

    it("should refuse a signature by the wrong key", async function () {
      const f = await deployFixture();
      const impostor = new Wallet(keccak256(toUtf8Bytes("impostor")));
      const { post, updates } = await roundFor(f, 1n, { signers: [f.wallets[0], impostor, f.wallets[2], f.wallets[3]] });
      await expectUnchanged(f, f.ledger.connect(f.aggregator).postRound(1n, post, updates), "ProvenanceInvalidSignature", [
        1n,
        f.sorted[1],
        impostor.address,
      ]);
    });

    for (const [name, override] of [
      ["another round", { signRound: 2n }],
      ["another federation", { federation: 7n }],
    ] as const) {
      it(`should refuse a signature made for ${name}`, async function () {
        const f = await deployFixture();
        const { post, updates } = await roundFor(f, 1n, override);
        await expectUnchanged(f, f.ledger.connect(f.aggregator).postRound(1n, post, updates), "ProvenanceInvalidSignature");
      });
    }

    it("should refuse a signature made for another chain", async function () {
      const f = await deployFixture();
      const { post, updates } = await roundFor(f, 1n, { domain: attestationDomain(f.chainId + 1n, await f.ledger.getAddress()) });
      await expectUnchanged(f, f.ledger.connect(f.aggregator).postRound(1n, post, updates), "ProvenanceInvalidSignature");
    });

    it("should refuse a signature made for another contract", async function () {
      const f = await deployFixture();
      const { post, updates } = await roundFor(f, 1n, { domain: attestationDomain(f.chainId, f.outsider.address) });
      await expectUnchanged(f, f.ledger.connect(f.aggregator).postRound(1n, post, updates), "ProvenanceInvalidSignature");
    });

    it("should refuse participants that are not strictly ascending", async function () {
      const f = await deployFixture();
      const { post, updates } = await roundFor(f, 1n);
      [updates[1], updates[2]] = [updates[2], updates[1]];
      await expectUnchanged(f, f.ledger.connect(f.aggregator).postRound(1n, post, updates), "ProvenanceParticipantsNotAscending", [1n, 2n]);
    });

    it("should refuse an unenrolled participant", async function () {
      const f = await deployFixture();
      const stranger = new Wallet(keccak256(toUtf8Bytes("stranger")));
      const { post, updates } = await roundFor(f, 1n);
      updates[3] = { ...updates[3], participant: "0xffffffffffffffffffffffffffffffffffffffff" };
      await expectUnchanged(f, f.ledger.connect(f.aggregator).postRound(1n, post, updates), "ProvenanceNotEnrolled");
      expect(stranger.address).to.not.equal(updates[3].participant);
    });

    it("should refuse weights that do not sum to 65536", async function () {
      const f = await deployFixture();
      const { post, updates } = await roundFor(f, 1n);
      updates[0] = { ...updates[0], weight: updates[0].weight + 1 };
      await expectUnchanged(f, f.ledger.connect(f.aggregator).postRound(1n, post, updates), "ProvenanceWeightsDoNotSum", [1n, 65537n]);
    });

    it("should refuse a commitment that does not match the record", async function () {
      const f = await deployFixture();
      const { post, updates } = await roundFor(f, 1n);
      const wrong = { ...post, commitment: keccak256(toUtf8Bytes("wrong")) };
      await expectUnchanged(f, f.ledger.connect(f.aggregator).postRound(1n, wrong, updates), "ProvenanceCommitmentMismatch", [
        1n,
        1n,
        post.commitment,
        wrong.commitment,
      ]);
    });

    it("should refuse the wrong number of updates", async function () {
      const f = await deployFixture();
      const { post, updates } = await roundFor(f, 1n);
      await expectUnchanged(f, f.ledger.connect(f.aggregator).postRound(1n, post, updates.slice(0, 3)), "ProvenanceWrongUpdateCount", [
        1n,
        4n,
        3n,
      ]);
    });
  });

  describe("createFederation and enrol", function () {
    it("should refuse a zero verifier, empty parameters and a second enrolment", async function () {
      const f = await deployFixture();
      const good = (await f.ledger.federation(1n)).config;
      const base = {
        modelId: good.modelId,
        modelLength: good.modelLength,
        participantsPerRound: good.participantsPerRound,
        verifier: good.verifier,
        verifyingKeyHash: good.verifyingKeyHash,
        genesisModelRoot: good.genesisModelRoot,
        genesisCidCodec: good.genesisCidCodec,
        genesisCidDigest: good.genesisCidDigest,
      };
      await expect(f.ledger.createFederation({ ...base, verifier: ethers.ZeroAddress }))
        .to.be.revertedWithCustomError(f.ledger, "ProvenanceZeroAddress")
        .withArgs("verifier");
      await expect(f.ledger.createFederation({ ...base, modelId: "" }))
        .to.be.revertedWithCustomError(f.ledger, "ProvenanceInvalidConfig")
        .withArgs("modelId");
      await expect(f.ledger.createFederation({ ...base, modelLength: 0 }))
        .to.be.revertedWithCustomError(f.ledger, "ProvenanceInvalidConfig")
        .withArgs("modelLength");
      await expect(f.ledger.enrol(1n, f.sorted[0])).to.be.revertedWithCustomError(f.ledger, "ProvenanceAlreadyEnrolled");
      await expect(f.ledger.connect(f.outsider).enrol(1n, f.outsider.address)).to.be.revertedWithCustomError(
        f.ledger,
        "AccessControlUnauthorizedAccount",
      );
    });
  });
});
