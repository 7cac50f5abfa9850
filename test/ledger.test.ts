// ProvenanceLedger on Hardhat's network: federations, roster, verifiable selection, batched and
// direct rounds with quorum signatures, budgets, reputations, real Groth16 proofs checked by the
// snarkjs verifier of RoundChunk(4, 4), the lifecycle and migration. Every refusal reverts with its
// exact custom error and leaves state and events untouched.
import { expect } from "chai";
import { network } from "hardhat";
import { Signature, Wallet, ZeroAddress, concat, dataSlice, getBytes, keccak256, toBeHex, toUtf8Bytes } from "ethers";
import { deployLedger } from "../aggregator/chain/deploy.js";
import { RoundStatus, pkhDid, type FederationConfig, type ParticipantInfo, type SolidityProof } from "../aggregator/chain/ledger.js";
import {
  FIELD_MODULUS,
  attestationDigest,
  challengeSeed,
  attestationDomain,
  isSelected,
  participantsRoot,
  reasonHash,
  rollbackDigest,
  roundRecordDigest,
  selectionSeed,
  signRollback,
  RECORD_ENTRY_SIZE,
  decodeRecordEntries,
  encodeRecordEntries,
} from "../aggregator/protocol/index.js";
import { releaseZkWorkers } from "../aggregator/zk/keys.js";
import { buildRoundChunkInput, proveRoundChunk, toSolidityProof } from "../aggregator/zk/prover.js";
import {
  attestFrom,
  buildRound,
  challengedInputs,
  fakeRoot,
  federationFixture,
  PROOF_INSTANCE,
  post,
  proofOf,
  prove,
  proveChunk,
  selectedWallets,
  snapshot,
  stateOf,
  submitProof,
  wallet,
  type BuiltRound,
  type Fixture,
  type FixtureOptions,
} from "./helpers/federation.js";

const { ethers, networkHelpers } = await network.create();

/** BabyJubJub's Base8 generator: a valid point in the prime-order subgroup. */
const BASE8: [bigint, bigint] = [
  5299619240641551281634865583518297030282874472190772894086521144482721001553n,
  16950150798460657717958625567821834550301663161624707787222815936182638968203n,
];

/** The order of BN254's base field, in which proof coordinates live (the scalar field is FIELD_MODULUS). */
const BN254_BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

const setup = (o: FixtureOptions = {}) => federationFixture(ethers, o);

/** Sends `call`, expects exactly `error` (with `args` when given) and an unchanged ledger. */
async function expectRefused(f: Fixture, call: () => Promise<unknown>, error: string, args?: unknown[]) {
  const before = await snapshot(f);
  const assertion = expect(call()).to.be.revertedWithCustomError(f.ledger, error);
  if (args) await assertion.withArgs(...args);
  else await assertion;
  expect(await snapshot(f), `state or events changed after a refused call (${error})`).to.equal(before);
}

/** A refused creation leaves a fresh ledger without federations and without events. */
async function expectNoFederation(ledger: any) {
  await expect(ledger.federation(1n)).to.be.revertedWithCustomError(ledger, "ProvenanceUnknownFederation").withArgs(1n);
  expect((await ledger.queryFilter("*")).filter((e: any) => e.eventName !== "RoleGranted")).to.deep.equal([]);
}

const unselected = async (f: Fixture) => {
  const chosen = new Set((await selectedWallets(f)).map((w) => w.address));
  return f.rosterWallets.filter((w) => !chosen.has(w.address));
};

/** Posts, proves and finalizes the open round (after the finality delay). */
async function completeRound(f: Fixture, o: Parameters<typeof buildRound>[1] = {}): Promise<BuiltRound> {
  const r = await buildRound(f, o);
  await (await post(f, r)).wait();
  await (await prove(f, r)).wait();
  await networkHelpers.time.increase(f.config.finalityDelay);
  await (await f.ledger.finalizeRound(1n, r.post.round)).wait();
  return r;
}

async function status(f: Fixture, round: bigint): Promise<bigint> {
  return (await f.ledger.roundRecord(1n, round)).status;
}

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
  });

  describe("constructor", function () {
    it("should refuse a zero admin", async function () {
      const logic = await ethers.deployContract("FederationLogic");
      const factory = await ethers.getContractFactory("ProvenanceLedger", { libraries: { FederationLogic: await logic.getAddress() } });
      await expect(factory.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(factory, "ProvenanceZeroAddress").withArgs("admin");
    });
  });

  describe("createFederation", function () {
    it("should store the parameters, enrol the roster, record genesis and open round 1", async function () {
      const f = await setup();
      const [config, state] = await f.ledger.federation(1n);
      expect(config.committee).to.deep.equal(f.config.committee);
      expect(config.quorum).to.equal(2n);
      expect(config.minUpdates).to.equal(3n);
      expect(state.lastRound).to.equal(0n);
      expect(state.rosterSize).to.equal(6n);
      expect(await f.ledger.roster(1n)).to.deep.equal(f.rosterWallets.map((w) => w.address));
      const genesis = await f.ledger.roundRecord(1n, 0n);
      expect(genesis.status).to.equal(BigInt(RoundStatus.Genesis));
      const [p, did] = await f.ledger.participant(1n, f.rosterWallets[2].address);
      expect(p.id).to.equal(3n);
      expect(did).to.equal(pkhDid(f.chainId, f.rosterWallets[2].address));
      const opened = (await f.ledger.queryFilter(f.ledger.filters.RoundOpened(1n, 1n)))[0] as any;
      expect(opened.args.selectionSeed).to.equal(selectionSeed(1n, 1n, genesis.commitment, opened.args.prevrandao));
      expect(await f.ledger.predecessorOf(1n)).to.deep.equal([ethers.ZeroAddress, 0n, 0n, "0x" + "00".repeat(32)]);
    });

    it("should refuse a caller without the admin role", async function () {
      const f = await setup();
      await expectRefused(f, () => f.ledger.connect(f.outsider).createFederation(f.config, []), "AccessControlUnauthorizedAccount", [
        f.outsider.address,
        ethers.ZeroHash,
      ]);
    });

    const bad: [string, (c: FederationConfig) => FederationConfig, string, unknown[]][] = [
      ["a zero verifier", (c) => ({ ...c, verifier: ethers.ZeroAddress }), "ProvenanceZeroAddress", ["verifier"]],
      ["an empty model id", (c) => ({ ...c, modelId: "" }), "ProvenanceInvalidConfig", ["modelId"]],
      ["a zero model length", (c) => ({ ...c, modelLength: 0 }), "ProvenanceInvalidConfig", ["modelLength"]],
      ["zero participants per round", (c) => ({ ...c, participantsPerRound: 0 }), "ProvenanceInvalidConfig", ["participantsPerRound"]],
      ["zero minimum updates", (c) => ({ ...c, minUpdates: 0 }), "ProvenanceInvalidConfig", ["minUpdates"]],
      ["more minimum updates than K", (c) => ({ ...c, minUpdates: 5 }), "ProvenanceInvalidConfig", ["minUpdates"]],
      ["a zero round deadline", (c) => ({ ...c, roundDeadline: 0 }), "ProvenanceInvalidConfig", ["roundDeadline"]],
      ["an empty committee", (c) => ({ ...c, committee: [], quorum: 1 }), "ProvenanceInvalidConfig", ["committee"]],
      ["an even committee", (c) => ({ ...c, committee: c.committee.slice(0, 2) }), "ProvenanceInvalidConfig", ["committee"]],
      ["a quorum other than f+1", (c) => ({ ...c, quorum: 3 }), "ProvenanceInvalidConfig", ["quorum"]],
      [
        "a zero committee member",
        (c) => ({ ...c, committee: [c.committee[0], ethers.ZeroAddress, c.committee[2]] }),
        "ProvenanceZeroAddress",
        ["committee"],
      ],
      [
        "a repeated committee member",
        (c) => ({ ...c, committee: [c.committee[0], c.committee[1], c.committee[0]] }),
        "ProvenanceInvalidConfig",
        ["committee"],
      ],
      ["a zero verifying-key hash", (c) => ({ ...c, verifyingKeyHash: ethers.ZeroHash }), "ProvenanceInvalidConfig", ["verifyingKeyHash"]],
      ["a zero genesis model root", (c) => ({ ...c, genesisModelRoot: ethers.ZeroHash }), "ProvenanceInvalidConfig", ["genesisModelRoot"]],
      ["a zero genesis CID digest", (c) => ({ ...c, genesisCidDigest: ethers.ZeroHash }), "ProvenanceInvalidConfig", ["genesisCidDigest"]],
    ];
    for (const [what, mutate, error, args] of bad) {
      it(`should refuse ${what}`, async function () {
        const f = await setup();
        await expectRefused(f, () => f.ledger.createFederation(mutate(f.config), f.infos), error, args);
        await expect(f.ledger.federation(2n)).to.be.revertedWithCustomError(f.ledger, "ProvenanceUnknownFederation").withArgs(2n);
      });
    }

    const badParticipants: [string, (i: ParticipantInfo) => ParticipantInfo, string, (i: ParticipantInfo) => unknown[]][] = [
      ["a zero participant address", (i) => ({ ...i, signer: ethers.ZeroAddress }), "ProvenanceZeroAddress", () => ["participant"]],
      [
        "a DID without the did: scheme",
        (i) => ({ ...i, did: "pkh:eip155:1:0x0" }),
        "ProvenanceInvalidParticipant",
        (i) => [2n, i.signer, "did"],
      ],
      ["an empty DID", (i) => ({ ...i, did: "" }), "ProvenanceInvalidParticipant", (i) => [2n, i.signer, "did"]],
      [
        "a BabyJubJub key off the curve",
        (i) => ({ ...i, babyJubJubKey: [1n, 1n] }),
        "ProvenanceInvalidParticipant",
        (i) => [2n, i.signer, "babyJubJubKey"],
      ],
      [
        "the BabyJubJub identity as a key",
        (i) => ({ ...i, babyJubJubKey: [0n, 1n] }),
        "ProvenanceInvalidParticipant",
        (i) => [2n, i.signer, "babyJubJubKey"],
      ],
      [
        "a BabyJubJub coordinate outside the field",
        (i) => ({
          ...i,
          babyJubJubKey: [BASE8[0] + 21888242871839275222246405745257275088548364400416034343698204186575808495617n, BASE8[1]],
        }),
        "ProvenanceInvalidParticipant",
        (i) => [2n, i.signer, "babyJubJubKey"],
      ],
    ];
    for (const [what, mutate, error, args] of badParticipants) {
      it(`should refuse an initial participant with ${what}`, async function () {
        const f = await setup();
        const info = mutate(f.infos[0]);
        await expectRefused(f, () => f.ledger.createFederation(f.config, [info]), error, args(info));
      });
    }

    it("should refuse the same participant twice in the initial roster", async function () {
      const f = await setup();
      await expectRefused(f, () => f.ledger.createFederation(f.config, [f.infos[0], f.infos[0]]), "ProvenanceAlreadyEnrolled", [
        2n,
        f.infos[0].signer,
      ]);
    });
  });

  describe("enrol", function () {
    it("should enrol with a DID and a BabyJubJub key, selectable only from the next round opened", async function () {
      const f = await setup({ rosterSize: 4 });
      const late = wallet("late");
      await expect(f.ledger.enrol(1n, { signer: late.address, did: "did:example:late", babyJubJubKey: BASE8 }))
        .to.emit(f.ledger, "ParticipantEnrolled")
        .withArgs(1n, late.address, 4n, "did:example:late", BASE8);
      const [p, did, key] = await f.ledger.participant(1n, late.address);
      expect([p.id, did, key[0], key[1]]).to.deep.equal([5n, "did:example:late", BASE8[0], BASE8[1]]);
      expect(await f.ledger.isSelected(1n, late.address)).to.equal(false); // round 1's snapshot has 4
      expect((await stateOf(f)).rosterSize).to.equal(4);
      await (await post(f, await buildRound(f))).wait();
      expect((await stateOf(f)).rosterSize).to.equal(5);
    });

    it("should refuse a caller without the admin role", async function () {
      const f = await setup();
      const info = { signer: wallet("x").address, did: "did:example:x", babyJubJubKey: [0n, 0n] };
      await expectRefused(f, () => f.ledger.connect(f.outsider).enrol(1n, info), "AccessControlUnauthorizedAccount");
    });

    it("should refuse an unknown federation", async function () {
      const f = await setup();
      const info = { signer: wallet("x").address, did: "did:example:x", babyJubJubKey: [0n, 0n] };
      await expectRefused(f, () => f.ledger.enrol(9n, info), "ProvenanceUnknownFederation", [9n]);
    });

    it("should refuse a participant already enrolled", async function () {
      const f = await setup();
      await expectRefused(f, () => f.ledger.enrol(1n, f.infos[1]), "ProvenanceAlreadyEnrolled", [1n, f.infos[1].signer]);
    });

    it("should refuse a zero address", async function () {
      const f = await setup();
      await expectRefused(f, () => f.ledger.enrol(1n, { ...f.infos[0], signer: ethers.ZeroAddress }), "ProvenanceZeroAddress", [
        "participant",
      ]);
    });
  });

  describe("revoke", function () {
    it("should let a revoked participant finish the open round and refuse it from the next one", async function () {
      const f = await setup({ rosterSize: 4 });
      const [victim] = await selectedWallets(f);
      await expect(f.ledger.revoke(1n, victim.address)).to.emit(f.ledger, "ParticipantRevoked").withArgs(1n, victim.address, 2n);
      await (await post(f, await buildRound(f))).wait(); // round 1 still includes it
      const r2 = await buildRound(f);
      await expectRefused(f, () => post(f, r2), "ProvenanceParticipantRevoked", [1n, victim.address, 2n]);
      const [p] = await f.ledger.participant(1n, victim.address);
      expect(p.lastAttestedRound).to.equal(1n); // history keeps its round-1 record
    });

    it("should refuse a caller without the admin role", async function () {
      const f = await setup();
      await expectRefused(f, () => f.ledger.connect(f.outsider).revoke(1n, f.infos[0].signer), "AccessControlUnauthorizedAccount");
    });

    it("should refuse a participant that is not enrolled", async function () {
      const f = await setup();
      const stranger = wallet("stranger").address;
      await expectRefused(f, () => f.ledger.revoke(1n, stranger), "ProvenanceNotEnrolled", [1n, stranger]);
    });

    it("should refuse a participant already revoked", async function () {
      const f = await setup();
      await (await f.ledger.revoke(1n, f.infos[0].signer)).wait();
      await expectRefused(f, () => f.ledger.revoke(1n, f.infos[0].signer), "ProvenanceAlreadyRevoked", [1n, f.infos[0].signer]);
    });
  });

  describe("selection", function () {
    it("should select exactly K of the roster, as the TypeScript twin computes it", async function () {
      const f = await setup({ rosterSize: 9, k: 4 });
      const s = await stateOf(f);
      const chosen = await selectedWallets(f);
      expect(chosen.length).to.equal(4);
      for (const [i, w] of f.rosterWallets.entries()) {
        expect(await f.ledger.isSelected(1n, w.address), `roster index ${i}`).to.equal(isSelected(i, s.rosterSize, 4, s.selectionSeed));
      }
      expect(await f.ledger.isSelected(1n, wallet("stranger").address)).to.equal(false);
    });

    it("should draw a new S_t for every round from the parent's commitment", async function () {
      const f = await setup({ rosterSize: 12 });
      const seen = new Set<string>();
      for (let t = 0; t < 4; t++) {
        const s = await stateOf(f);
        seen.add(s.selectionSeed);
        await (await post(f, await buildRound(f))).wait();
      }
      expect(seen.size).to.equal(4);
    });
  });

  describe("postRound (batched)", function () {
    it("should record a round whose attestations, commitment and quorum check out, and emit its events", async function () {
      const f = await setup();
      const r = await buildRound(f);
      const tx = post(f, r);
      await expect(tx).to.emit(f.ledger, "RoundProposed");
      await expect(tx).to.emit(f.ledger, "RoundAttested").withArgs(1n, 1n);
      // Each attestation is published once, in RoundProposed.
      await expect(tx).to.not.emit(f.ledger, "UpdateAttested");
      await expect(tx).to.emit(f.ledger, "RoundOpened");
      const [proposed] = (await f.ledger.queryFilter(f.ledger.filters.RoundProposed(1n, 1n))) as any[];
      // The event publishes the entries exactly as posted, attestations included.
      expect(proposed.args.updates).to.equal(encodeRecordEntries(r.entries));
      expect(decodeRecordEntries(proposed.args.updates)).to.deep.equal(r.entries);
      const record = await f.ledger.roundRecord(1n, 1n);
      expect(record.status).to.equal(BigInt(RoundStatus.Attested));
      expect(record.commitment).to.equal(r.post.commitment);
      expect(record.updateCount).to.equal(4n);
      expect(record.parentRound).to.equal(0n);
      const s = await stateOf(f);
      expect([s.lastRound, s.head, s.lastFinalized]).to.deep.equal([1n, 1n, 0n]);
      const [p] = await f.ledger.participant(1n, r.entries[0].participant);
      expect(p.epsilonSpentMicros).to.equal(100_000n);
      expect(p.reputationMicros).to.equal(1_000_000n);
      expect(p.lastAttestedRound).to.equal(1n);
    });

    it("should accept fewer updates than K down to the minimum", async function () {
      const f = await setup();
      const three = (await selectedWallets(f)).slice(0, 3);
      await (await post(f, await buildRound(f, { participants: three }))).wait();
      expect((await f.ledger.roundRecord(1n, 1n)).updateCount).to.equal(3n);
    });

    it("should compute the same EIP-712 digests as TypeScript", async function () {
      const f = await setup();
      const m = { federationId: 1n, round: 5n, baseModelRoot: fakeRoot("b"), updateRoot: fakeRoot("u"), sampleCount: 9n };
      const dp = { epsilonMicros: 1n, deltaPicos: 2n, clipMicros: 3n, noiseMicros: 4n };
      expect(await f.ledger.attestationDigest(1n, 5n, m.baseModelRoot, m.updateRoot, 9n, dp)).to.equal(
        attestationDigest(f.domain, { ...m, dpEpsilonMicros: 1n, dpDeltaPicos: 2n, dpClipMicros: 3n, dpNoiseMicros: 4n }),
      );
      const r = await buildRound(f);
      const q = r.message;
      expect(await f.ledger.roundRecordDigest(1n, q.round, q.parentRound, q.commitment, q.updatesDigest, q.accountingDigest)).to.equal(
        roundRecordDigest(f.domain, q),
      );
      const rb = { federationId: 1n, toRound: 0n, head: 3n, reasonHash: reasonHash("bad round") };
      expect(await f.ledger.rollbackDigest(1n, 0n, 3n, rb.reasonHash)).to.equal(rollbackDigest(f.domain, rb));
    });

    it("should refuse a caller without the aggregator role", async function () {
      const f = await setup();
      const r = await buildRound(f);
      const role = await f.ledger.AGGREGATOR_ROLE();
      await expectRefused(
        f,
        () => f.ledger.connect(f.outsider).postRound(1n, r.post, encodeRecordEntries(r.entries), r.quorumSignatures),
        "AccessControlUnauthorizedAccount",
        [f.outsider.address, role],
      );
    });

    it("should refuse an unknown federation", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await expectRefused(f, () => post(f, r, 2n), "ProvenanceUnknownFederation", [2n]);
    });

    it("should refuse a round out of order", async function () {
      const f = await setup();
      const r = await buildRound(f, { round: 2n });
      await expectRefused(f, () => post(f, r), "ProvenanceRoundOutOfOrder", [1n, 1n, 2n]);
    });

    it("should refuse a round already final", async function () {
      const f = await setup();
      const r = await completeRound(f);
      await expectRefused(f, () => post(f, r), "ProvenanceRoundOutOfOrder", [1n, 2n, 1n]);
    });

    it("should refuse a record built on another parent than the head", async function () {
      const f = await setup();
      await (await post(f, await buildRound(f))).wait();
      const r = await buildRound(f, { parentRound: 0n });
      await expectRefused(f, () => post(f, r), "ProvenanceWrongParent", [1n, 1n, 0n]);
    });

    it("should refuse to build on a Proposed round", async function () {
      const f = await setup();
      await (await post(f, await buildRound(f, { direct: "all" }))).wait(); // record first: Proposed
      const r = await buildRound(f);
      await expectRefused(f, () => post(f, r), "ProvenanceRoundNotAttested", [1n, 1n]);
    });

    it("should refuse a record after the round's deadline", async function () {
      const f = await setup();
      const r = await buildRound(f);
      const s = await stateOf(f);
      await networkHelpers.time.increase(f.config.roundDeadline + 1);
      await expectRefused(f, () => post(f, r), "ProvenanceDeadlinePassed", [1n, 1n, s.openedAt + BigInt(f.config.roundDeadline)]);
    });

    it("should refuse fewer updates than the minimum", async function () {
      const f = await setup();
      const r = await buildRound(f, { participants: (await selectedWallets(f)).slice(0, 2) });
      await expectRefused(f, () => post(f, r), "ProvenanceWrongUpdateCount", [1n, 3n, 4n, 2n]);
    });

    it("should refuse more updates than K", async function () {
      const f = await setup();
      const r = await buildRound(f, { participants: f.rosterWallets.slice(0, 5) });
      await expectRefused(f, () => post(f, r), "ProvenanceWrongUpdateCount", [1n, 3n, 4n, 5n]);
    });

    it("should refuse participants that are not strictly ascending", async function () {
      const f = await setup();
      const r = await buildRound(f);
      [r.entries[1], r.entries[2]] = [r.entries[2], r.entries[1]];
      await expectRefused(f, () => post(f, r), "ProvenanceParticipantsNotAscending", [1n, 2n]);
    });

    it("should refuse the same participant twice", async function () {
      const f = await setup();
      const r = await buildRound(f);
      r.entries[1] = r.entries[0];
      await expectRefused(f, () => post(f, r), "ProvenanceParticipantsNotAscending", [1n, 1n]);
    });

    it("should refuse an unknown participant", async function () {
      const f = await setup();
      const stranger = wallet("stranger");
      const r = await buildRound(f, { participants: [...(await selectedWallets(f)).slice(0, 3), stranger] });
      await expectRefused(f, () => post(f, r), "ProvenanceNotEnrolled", [1n, stranger.address]);
    });

    it("should refuse a participant outside S_t", async function () {
      const f = await setup();
      const [outside] = await unselected(f);
      const r = await buildRound(f, { participants: [...(await selectedWallets(f)).slice(0, 3), outside] });
      await expectRefused(f, () => post(f, r), "ProvenanceNotSelected", [1n, 1n, outside.address]);
    });

    it("should check a record of 12 or more entries against S_t made whole, and refuse a participant outside it", async function () {
      // K = 12 from a roster of 24: the ledger checks the entries against the selection mask (docs/protocol.md §10).
      const f = await setup({ k: 12, rosterSize: 24, minUpdates: 12 });
      const selected = await selectedWallets(f);
      expect(selected.length).to.equal(12);
      const [outside] = await unselected(f);
      const r = await buildRound(f, { participants: [...selected.slice(0, 11), outside] });
      await expectRefused(f, () => post(f, r), "ProvenanceNotSelected", [1n, 1n, outside.address]);
      await (await post(f, await buildRound(f))).wait();
      expect((await f.ledger.roundRecord(1n, 1n)).updateCount).to.equal(12n);
    });

    it("should refuse a signature by the wrong key", async function () {
      const f = await setup();
      const impostor = wallet("impostor");
      const chosen = await selectedWallets(f);
      const r = await buildRound(f, { signers: new Map([[chosen[1].address, impostor]]) });
      const victim = r.entries.find((e) => e.participant === chosen[1].address)!.participant;
      await expectRefused(f, () => post(f, r), "ProvenanceInvalidSignature", [1n, victim, impostor.address]);
    });

    // secp256k1's group order: (r, n - s, v ^ 1) is the malleable twin of (r, s, v), which ecrecover accepts.
    const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const malformed: [string, (signature: string) => string][] = [
      ["compact (EIP-2098, 64 bytes)", (sig) => Signature.from(sig).compactSerialized],
      ["66 bytes", (sig) => sig + "00"],
      [
        "high s (the malleable twin)",
        (sig) => {
          const t = Signature.from(sig);
          return concat([t.r, toBeHex(SECP256K1_N - BigInt(t.s), 32), t.v === 27 ? "0x1c" : "0x1b"]);
        },
      ],
      ["v = 29", (sig) => sig.slice(0, 130) + "1d"],
      // Not all zero, so not a direct-mode entry: an invalid signature.
      ["v = 0", (sig) => sig.slice(0, 130) + "00"],
    ];
    for (const [name, mangle] of malformed) {
      it(`should refuse a participant signature that is ${name}`, async function () {
        const f = await setup();
        const r = await buildRound(f);
        const entry = r.entries[1];
        const signature = mangle(entry.signature);
        if (getBytes(signature).length === 65) {
          r.entries[1] = { ...entry, signature };
          await expectRefused(f, () => post(f, r), "ProvenanceInvalidSignature", [1n, entry.participant, ZeroAddress]);
          return;
        }
        // The packed entry has room for 65 bytes only: the encoder refuses, and spliced in by hand the
        // record is no whole number of entries.
        expect(() => encodeRecordEntries([{ ...entry, signature }])).to.throw("record entry 0: signature must be 65 bytes of hex");
        const packed = r.entries.map((e) => encodeRecordEntries([e]));
        packed[1] = concat([dataSlice(packed[1], 0, RECORD_ENTRY_SIZE - 65), signature]);
        const bytes = concat(packed);
        await expectRefused(
          f,
          () => f.ledger.connect(f.aggregator).postRound(1n, r.post, bytes, r.quorumSignatures),
          "ProvenanceMalformedEntries",
          [1n, getBytes(bytes).length],
        );
      });

      it(`should refuse a quorum signature that is ${name}`, async function () {
        const f = await setup();
        const r = await buildRound(f);
        r.quorumSignatures[0] = mangle(r.quorumSignatures[0]);
        await expectRefused(f, () => post(f, r), "ProvenanceNotCommitteeMember", [1n, ZeroAddress]);
      });
    }

    for (const [name, override] of [
      ["another round", { signRound: 2n }],
      ["another federation", { signFederation: 7n }],
      ["another base model", { baseModelRoot: fakeRoot("not the parent") }],
    ] as const) {
      it(`should refuse a signature made for ${name}`, async function () {
        const f = await setup();
        const r = await buildRound(f, override);
        await expectRefused(f, () => post(f, r), "ProvenanceInvalidSignature");
      });
    }

    it("should refuse a signature made for another chain", async function () {
      const f = await setup();
      const r = await buildRound(f, { domain: attestationDomain(f.chainId + 1n, f.ledgerAddress) });
      await expectRefused(f, () => post(f, r), "ProvenanceInvalidSignature");
    });

    it("should refuse a signature made for another contract", async function () {
      const f = await setup();
      const r = await buildRound(f, { domain: attestationDomain(f.chainId, f.outsider.address) });
      await expectRefused(f, () => post(f, r), "ProvenanceInvalidSignature");
    });

    it("should refuse a duplicate attestation (direct, then again inline)", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await attestFrom(f, r, r.entries[0].participant)).wait();
      await expectRefused(f, () => post(f, r), "ProvenanceDuplicateAttestation", [1n, 1n, r.entries[0].participant]);
    });

    it("should refuse weights that do not sum to 65536", async function () {
      const f = await setup();
      const r = await buildRound(f);
      r.entries[0] = { ...r.entries[0], weight: r.entries[0].weight + 1 };
      await expectRefused(f, () => post(f, r), "ProvenanceWeightsDoNotSum", [1n, 65537n]);
    });

    it("should refuse a commitment that does not match the record", async function () {
      const f = await setup();
      const r = await buildRound(f);
      const wrong = { ...r.post, commitment: keccak256(toUtf8Bytes("wrong")) };
      await expectRefused(
        f,
        () => f.ledger.connect(f.aggregator).postRound(1n, wrong, encodeRecordEntries(r.entries), r.quorumSignatures),
        "ProvenanceCommitmentMismatch",
        [1n, 1n, r.post.commitment, wrong.commitment],
      );
    });

    it("should refuse a debit that would exceed a participant's privacy budget", async function () {
      const f = await setup({ epsilonBudgetMicros: 1_000_000n });
      const chosen = await selectedWallets(f);
      const heavy = chosen[2].address;
      const r = await buildRound(f, { epsilonMicros: (a) => (a === heavy ? 1_000_001n : 1n) });
      await expectRefused(f, () => post(f, r), "ProvenanceBudgetExceeded", [1n, heavy, 0n, 1_000_001n, 1_000_000n]);
    });

    it("should refuse a quorum short by one", async function () {
      const f = await setup({ committeeSize: 5 }); // f = 2, quorum 3
      const r = await buildRound(f, { committeeSigners: f.committee.slice(0, 2) });
      await expectRefused(f, () => post(f, r), "ProvenanceQuorumNotReached", [1n, 2n, 3n]);
    });

    it("should refuse a signature from a non-committee aggregator counted towards quorum", async function () {
      const f = await setup();
      const rogue = wallet("rogue aggregator");
      const r = await buildRound(f, { committeeSigners: [f.committee[0], rogue] });
      await expectRefused(f, () => post(f, r), "ProvenanceNotCommitteeMember", [1n, rogue.address]);
    });

    it("should refuse the same committee member signing twice", async function () {
      const f = await setup();
      const r = await buildRound(f, { committeeSigners: [f.committee[1], f.committee[1]] });
      await expectRefused(f, () => post(f, r), "ProvenanceDuplicateQuorumSigner", [1n, f.committee[1].address]);
    });

    it("should refuse quorum signatures over another record", async function () {
      const f = await setup();
      const r = await buildRound(f);
      r.entries[0] = { ...r.entries[0], reputationMicros: 999 }; // the committee signed other accounting
      await expectRefused(f, () => post(f, r), "ProvenanceNotCommitteeMember");
    });
  });

  describe("attest and postRound (direct)", function () {
    it("should take each participant's own transaction, then a record without signatures", async function () {
      const f = await setup();
      const r = await buildRound(f, { direct: "all" });
      for (const e of r.entries) {
        await expect(attestFrom(f, r, e.participant))
          .to.emit(f.ledger, "UpdateAttested")
          .withArgs(1n, 1n, e.participant, e.updateRoot, e.sampleCount, r.attestations.get(e.participant));
      }
      const tx = post(f, r);
      await expect(tx).to.emit(f.ledger, "RoundAttested").withArgs(1n, 1n);
      await expect(tx).to.not.emit(f.ledger, "UpdateAttested");
      expect(await status(f, 1n)).to.equal(BigInt(RoundStatus.Attested));
      // A record that carries no attestation publishes zero signature bytes for each entry.
      const [proposed] = (await f.ledger.queryFilter(f.ledger.filters.RoundProposed(1n, 1n))) as any[];
      expect(decodeRecordEntries(proposed.args.updates)).to.deep.equal(r.entries);
      expect(r.entries.every((e) => e.signature === "0x")).to.equal(true);
    });

    it("should hold a record posted first as Proposed until every participant named in it attests", async function () {
      const f = await setup();
      const r = await buildRound(f, { direct: "all" });
      await (await post(f, r)).wait();
      const rec = await f.ledger.roundRecord(1n, 1n);
      expect([rec.status, rec.pendingAttestations]).to.deep.equal([BigInt(RoundStatus.Proposed), 4n]);
      for (const [i, e] of r.entries.entries()) {
        const tx = attestFrom(f, r, e.participant);
        if (i < 3) await expect(tx).to.not.emit(f.ledger, "RoundAttested");
        else await expect(tx).to.emit(f.ledger, "RoundAttested").withArgs(1n, 1n);
      }
      expect(await status(f, 1n)).to.equal(BigInt(RoundStatus.Attested));
    });

    it("should mix inline and direct attestations in one record", async function () {
      const f = await setup();
      const chosen = await selectedWallets(f);
      const r = await buildRound(f, { direct: new Set([chosen[0].address]) });
      await (await attestFrom(f, r, chosen[0].address)).wait();
      await (await post(f, r)).wait();
      expect(await status(f, 1n)).to.equal(BigInt(RoundStatus.Attested));
      // The record publishes the inline attestations; the direct one's 65 bytes are zero (its UpdateAttested has it).
      const [proposed] = (await f.ledger.queryFilter(f.ledger.filters.RoundProposed(1n, 1n))) as any[];
      expect(decodeRecordEntries(proposed.args.updates)).to.deep.equal(r.entries);
      expect(r.entries.filter((e) => e.signature === "0x").map((e) => e.participant)).to.deep.equal([chosen[0].address]);
      const direct = (await f.ledger.queryFilter(f.ledger.filters.UpdateAttested(1n, 1n))) as any[];
      expect(direct.map((e) => e.args.participant)).to.deep.equal([chosen[0].address]);
    });

    it("should refuse a record entry that differs from the participant's direct attestation", async function () {
      const f = await setup();
      const r = await buildRound(f, { direct: "all" });
      for (const e of r.entries) await (await attestFrom(f, r, e.participant)).wait();
      const attested = keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint64"], [r.entries[0].updateRoot, r.entries[0].sampleCount]),
      );
      const lie = await buildRound(f, { direct: "all", tag: "other" });
      const claimed = keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint64"], [lie.entries[0].updateRoot, lie.entries[0].sampleCount]),
      );
      await expectRefused(f, () => post(f, lie), "ProvenanceAttestationMismatch", [1n, 1n, r.entries[0].participant, claimed, attested]);
    });

    it("should refuse a late attestation that differs from the record", async function () {
      const f = await setup();
      const r = await buildRound(f, { direct: "all" });
      await (await post(f, r)).wait();
      const other = await buildRound(f, {
        round: 1n,
        parentRound: 0n,
        direct: "all",
        tag: "other",
        participants: (await selectedWalletsOf(f, r)).slice(0, 4),
      });
      await expectRefused(f, () => attestFrom(f, other, other.entries[0].participant), "ProvenanceAttestationMismatch");
    });

    it("should refuse a caller-relayed attestation signed by the wrong key", async function () {
      const f = await setup();
      const chosen = await selectedWallets(f);
      const r = await buildRound(f, { direct: "all", signers: new Map([[chosen[0].address, wallet("impostor")]]) });
      await expectRefused(f, () => attestFrom(f, r, chosen[0].address), "ProvenanceInvalidSignature");
    });

    it("should refuse an attestation from a participant outside S_t", async function () {
      const f = await setup();
      const [outside] = await unselected(f);
      const r = await buildRound(f, { participants: [outside], direct: "all" });
      await expectRefused(f, () => attestFrom(f, r, outside.address), "ProvenanceNotSelected", [1n, 1n, outside.address]);
    });

    it("should refuse an attestation from an unknown participant", async function () {
      const f = await setup();
      const stranger = wallet("stranger");
      const r = await buildRound(f, { participants: [stranger], direct: "all" });
      await expectRefused(f, () => attestFrom(f, r, stranger.address), "ProvenanceNotEnrolled", [1n, stranger.address]);
    });

    it("should refuse an attestation from a revoked participant", async function () {
      const f = await setup({ rosterSize: 4 });
      const [victim] = await selectedWallets(f);
      await (await f.ledger.revoke(1n, victim.address)).wait();
      await (await post(f, await buildRound(f))).wait();
      const r = await buildRound(f, { participants: [victim], direct: "all" });
      await expectRefused(f, () => attestFrom(f, r, victim.address), "ProvenanceParticipantRevoked", [1n, victim.address, 2n]);
    });

    it("should refuse a duplicate attestation", async function () {
      const f = await setup();
      const r = await buildRound(f, { direct: "all" });
      await (await attestFrom(f, r, r.entries[0].participant)).wait();
      await expectRefused(f, () => attestFrom(f, r, r.entries[0].participant), "ProvenanceDuplicateAttestation", [
        1n,
        1n,
        r.entries[0].participant,
      ]);
    });

    it("should refuse an attestation for a round that is not open", async function () {
      const f = await setup();
      const r = await buildRound(f, { round: 2n, direct: "all" });
      await expectRefused(f, () => attestFrom(f, r, r.entries[0].participant), "ProvenanceRoundOutOfOrder", [1n, 1n, 2n]);
    });

    it("should refuse an attestation for the next round while the head still awaits attestations", async function () {
      const f = await setup();
      await (await post(f, await buildRound(f, { direct: "all" }))).wait(); // round 1 Proposed
      const next = await buildRound(f, { direct: "all" });
      await expectRefused(f, () => attestFrom(f, next, next.entries[0].participant), "ProvenanceRoundNotAttested", [1n, 1n]);
    });

    it("should refuse an attestation after the deadline", async function () {
      const f = await setup();
      const r = await buildRound(f, { direct: "all" });
      await networkHelpers.time.increase(f.config.roundDeadline + 1);
      await expectRefused(f, () => attestFrom(f, r, r.entries[0].participant), "ProvenanceDeadlinePassed");
    });
  });

  describe("proveRound", function () {
    it("should verify a real proof against exactly the public inputs the contract builds, in the circuit's order", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      const rec = await f.ledger.roundRecord(1n, 1n);
      // The challenge is fixed by the hash of the block after the one that completed the record (§8).
      await expect(f.ledger.publicInputs(1n, 1n, r.columns))
        .to.be.revertedWithCustomError(f.ledger, "ProvenanceChallengeNotReady")
        .withArgs(1n, 1n, rec.attestedBlock + 2n);
      const inputs: bigint[] = await challengedInputs(f, r);
      const next = await ethers.provider.getBlock(Number(rec.attestedBlock) + 1);
      const seed = challengeSeed(r.post.commitment, next!.hash!);
      expect(rec.challengeSeed, "not stored before the proof").to.equal(ethers.ZeroHash);
      expect(inputs.length).to.equal(11);
      expect(inputs[0]).to.equal(BigInt(f.config.genesisModelRoot));
      expect(inputs[1]).to.equal(BigInt(r.post.modelRoot));
      expect(inputs[2]).to.equal(BigInt(seed) % 14n); // 212 parameters = 14 chunks
      expect(inputs.slice(3, 7)).to.deep.equal(r.columns.updateRoots.map(BigInt));
      expect(inputs.slice(7)).to.deep.equal(r.columns.weights.map(BigInt));
      const { proof, publicSignals } = await proofOf(f, r);
      expect(publicSignals, "snarkjs publicSignals vs the contract's publicInputs").to.deep.equal(inputs);
      // The proof binds every input: the verifier accepts it with the contract's inputs and with no other.
      expect(await f.verifier.verifyProof(proof.a, proof.b, proof.c, inputs)).to.equal(true);
      for (const i of inputs.keys()) {
        const other = inputs.map((x, j) => (j === i ? (x + 1n) % FIELD_MODULUS : x));
        expect(await f.verifier.verifyProof(proof.a, proof.b, proof.c, other), `input ${i} changed`).to.equal(false);
      }
      const tx = prove(f, r);
      await expect(tx).to.emit(f.ledger, "RoundChallenged").withArgs(1n, 1n, seed, inputs[2]);
      await expect(tx).to.emit(f.ledger, "RoundProven").withArgs(1n, 1n, proof.a, proof.b, proof.c);
      expect(await status(f, 1n)).to.equal(BigInt(RoundStatus.Proven));
      expect((await f.ledger.roundRecord(1n, 1n)).challengeSeed).to.equal(seed);
    });

    it("should refuse a caller without the aggregator role", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      const { proof } = await proofOf(f, r);
      const role = await f.ledger.AGGREGATOR_ROLE();
      await expectRefused(f, () => submitProof(f, r, proof, 1n, f.outsider), "AccessControlUnauthorizedAccount", [
        f.outsider.address,
        role,
      ]);
    });

    it("should refuse a real proof of the same round for another chunk than the challenged one", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      const challenged = Number((await challengedInputs(f, r))[2]);
      const other = await proveChunk(r, (challenged + 1) % 14);
      const { a, b, c } = other.proof;
      expect(await f.verifier.verifyProof(a, b, c, other.publicSignals), "valid for its own chunk").to.equal(true);
      await expectRefused(f, () => submitProof(f, r, other.proof), "ProvenanceProofRejected", [1n, 1n]);
    });

    it("should refuse a real proof of another round", async function () {
      const f = await setup();
      const r1 = await completeRound(f);
      const [accepted] = r1.proofs.values(); // round 1's proof, which the ledger accepted for round 1
      const r2 = await buildRound(f);
      await (await post(f, r2)).wait();
      await challengedInputs(f, r2); // the block that fixes round 2's challenge
      await expectRefused(f, () => submitProof(f, r2, accepted.proof), "ProvenanceProofRejected", [1n, 2n]);
    });

    it("should refuse columns that are not the recorded ones", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      const { proof } = await proofOf(f, r);
      const forged = { ...r.columns, weights: [...r.columns.weights].reverse() };
      await expectRefused(
        f,
        () => f.ledger.connect(f.aggregator).proveRound(1n, 1n, forged, proof.a, proof.b, proof.c),
        "ProvenanceColumnsMismatch",
        [1n, 1n],
      );
      await expect(f.ledger.publicInputs(1n, 1n, forged)).to.be.revertedWithCustomError(f.ledger, "ProvenanceColumnsMismatch");
    });

    it("should refuse a round that is not Attested (open, Proposed or already proven)", async function () {
      const f = await setup();
      const r = await buildRound(f, { direct: "all" });
      // A real proof of the round's aggregation (at chunk 0): no challenge exists yet to prove against.
      const early = await proveChunk(r, 0);
      await expectRefused(f, () => submitProof(f, r, early.proof), "ProvenanceRoundNotAttested", [1n, 1n]);
      await expect(f.ledger.publicInputs(1n, 1n, r.columns)).to.be.revertedWithCustomError(f.ledger, "ProvenanceRoundNotAttested");
      await (await post(f, r)).wait(); // Proposed: the challenge waits for the last attestation
      await expectRefused(f, () => submitProof(f, r, early.proof), "ProvenanceRoundNotAttested", [1n, 1n]);
      await expect(f.ledger.publicInputs(1n, 1n, r.columns)).to.be.revertedWithCustomError(f.ledger, "ProvenanceRoundNotAttested");
      for (const e of r.entries) await (await attestFrom(f, r, e.participant)).wait();
      const { proof } = await proofOf(f, r);
      await (await submitProof(f, r, proof)).wait();
      await expectRefused(f, () => submitProof(f, r, proof), "ProvenanceRoundNotAttested", [1n, 1n]);
    });

    it("should refuse a real proof with one element altered, which the verifier answers false to", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      const { proof, inputs } = await proofOf(f, r);
      const altered: [string, SolidityProof][] = [
        ["A negated (still on the curve)", { ...proof, a: [proof.a[0], BN254_BASE_FIELD - proof.a[1]] }],
        ["C off the curve", { ...proof, c: [proof.c[0] + 1n, proof.c[1]] }],
        [
          "B in snarkjs' coordinate order instead of EIP-197's",
          {
            ...proof,
            b: [
              [proof.b[0][1], proof.b[0][0]],
              [proof.b[1][1], proof.b[1][0]],
            ],
          },
        ],
      ];
      for (const [what, bad] of altered) {
        expect(await f.verifier.verifyProof(bad.a, bad.b, bad.c, inputs), what).to.equal(false);
        await expectRefused(f, () => submitProof(f, r, bad), "ProvenanceProofRejected", [1n, 1n]);
      }
      await (await submitProof(f, r, proof)).wait(); // the unaltered proof still passes
    });

    for (const [what, verifier] of [
      ["a verifier of another arity (RoundChunksVerifier_1_0_0_1, 5 inputs)", "RoundChunksVerifier_1_0_0_1"],
      ["an address without code", "0x000000000000000000000000000000000000dEaD"],
    ] as const) {
      it(`should refuse when the verifier call fails: ${what}`, async function () {
        const f = await setup({ verifier });
        const r = await buildRound(f);
        await (await post(f, r)).wait();
        const { proof } = await proofOf(f, r); // valid under RoundChunk(4, 4)'s key
        await expectRefused(f, () => submitProof(f, r, proof), "ProvenanceVerifierCallFailed", [1n, 1n]);
      });
    }

    it("should prove a dropout round (3 of K=4 updates) through zero-weight padding slots", async function () {
      // RoundChunk(4, 4) proves exactly 4 slots; the ledger fills the missing one with the first
      // update's root at weight 0 (docs/protocol.md §8) and the prover opens that update again.
      const f = await setup();
      await completeRound(f);
      const r2 = await buildRound(f, { participants: (await selectedWallets(f)).slice(0, 3) });
      await (await post(f, r2)).wait();
      const inputs = await challengedInputs(f, r2);
      expect(inputs).to.have.length(3 + 2 * 4);
      const roots = r2.columns.updateRoots.map(BigInt);
      expect(roots).to.have.length(3);
      expect(inputs.slice(3, 7)).to.deep.equal([...roots, roots[0]]);
      expect(inputs.slice(7, 11)).to.deep.equal([...r2.columns.weights.map(BigInt), 0n]);
      // Without padding no 4-slot proof of a 3-update round can be built.
      const refusal = await proveChunk(r2, Number(inputs[2])).then(
        () => null,
        (e: Error) => e,
      );
      expect(refusal?.message).to.match(/exactly K=4 updates; the input has 3 \(build a dropout round's input with slots: 4\)/);
      const { proof, publicSignals } = await proofOf(f, r2);
      expect(publicSignals).to.deep.equal(inputs);
      await expect(submitProof(f, r2, proof)).to.emit(f.ledger, "RoundProven");
      expect(await status(f, r2.post.round)).to.equal(BigInt(RoundStatus.Proven));
    });

    it("should refuse a dropout round's proof whose padding slot is not the first update at weight 0", async function () {
      const f = await setup();
      await completeRound(f);
      const r2 = await buildRound(f, { participants: (await selectedWallets(f)).slice(0, 3) });
      await (await post(f, r2)).wait();
      const inputs = await challengedInputs(f, r2);
      // A genuine proof of the same aggregate, padded with the second update instead of the first:
      // valid for its own public signals, not for the ledger's.
      const { prev, next, deltas, deltaTrees, weights } = r2.vectors;
      const built = await buildRoundChunkInput({
        prev: prev.values,
        next: next.values,
        deltas: [...deltas, deltas[1]],
        weights: [...weights, 0],
        chunkIndex: Number(inputs[2]),
        trees: { prev: prev.tree, next: next.tree, deltas: [...deltaTrees, deltaTrees[1]] },
      });
      expect(built.publicSignals[6]).to.not.equal(inputs[6].toString());
      const { proof } = await proveRoundChunk(PROOF_INSTANCE, built.input, { keepWorkers: true });
      await expectRefused(f, () => submitProof(f, r2, toSolidityProof(proof)), "ProvenanceProofRejected", [1n, 2n]);
    });

    it("should refuse a proof after the round's deadline", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      await networkHelpers.time.increase(f.config.roundDeadline + 1);
      await expectRefused(f, () => prove(f, r), "ProvenanceDeadlinePassed");
    });
  });

  describe("finalizeRound", function () {
    it("should finalize a proven round after the finality delay, in order", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      await (await prove(f, r)).wait();
      await networkHelpers.time.increase(f.config.finalityDelay);
      await expect(f.ledger.finalizeRound(1n, 1n)).to.emit(f.ledger, "RoundFinalized").withArgs(1n, 1n);
      expect((await stateOf(f)).lastFinalized).to.equal(1n);
    });

    it("should refuse a round that is not proven", async function () {
      const f = await setup();
      await (await post(f, await buildRound(f))).wait();
      await expectRefused(f, () => f.ledger.finalizeRound(1n, 1n), "ProvenanceRoundNotProven", [1n, 1n]);
    });

    it("should refuse a round whose parent is not finalized", async function () {
      const f = await setup();
      const r1 = await buildRound(f);
      await (await post(f, r1)).wait();
      const r2 = await buildRound(f);
      await (await post(f, r2)).wait();
      await (await prove(f, r2)).wait();
      await networkHelpers.time.increase(f.config.finalityDelay);
      await expectRefused(f, () => f.ledger.finalizeRound(1n, 2n), "ProvenanceParentNotFinalized", [1n, 2n, 1n]);
    });

    it("should refuse before the finality delay", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      await (await prove(f, r)).wait();
      const at = (await f.ledger.roundRecord(1n, 1n)).provenAt + BigInt(f.config.finalityDelay);
      await expectRefused(f, () => f.ledger.finalizeRound(1n, 1n), "ProvenanceFinalityDelayPending", [1n, 1n, at]);
    });
  });

  describe("rejectRound", function () {
    it("should reject a posted round and every round after it, keep their records and continue on its parent", async function () {
      const f = await setup();
      await completeRound(f);
      const r2 = await buildRound(f);
      await (await post(f, r2)).wait();
      await (await post(f, await buildRound(f))).wait(); // round 3 on round 2
      const tx = f.ledger.rejectRound(1n, 2n, "audit: round 2 aggregation is wrong");
      await expect(tx).to.emit(f.ledger, "RoundRejected").withArgs(1n, 2n, "audit: round 2 aggregation is wrong");
      await expect(tx).to.emit(f.ledger, "RoundRejected").withArgs(1n, 3n, "audit: round 2 aggregation is wrong");
      await expect(tx).to.emit(f.ledger, "RoundRejected").withArgs(1n, 4n, "audit: round 2 aggregation is wrong"); // the open round
      const s = await stateOf(f);
      expect([s.head, s.lastRound]).to.deep.equal([1n, 4n]);
      expect(await status(f, 2n)).to.equal(BigInt(RoundStatus.Rejected));
      expect((await f.ledger.roundRecord(1n, 2n)).commitment).to.equal(r2.post.commitment); // history stays
      const r5 = await buildRound(f);
      expect(r5.post.parentRound).to.equal(1n);
      await (await post(f, r5)).wait();
      expect((await f.ledger.roundRecord(1n, 5n)).parentRound).to.equal(1n);
    });

    it("should skip the open round", async function () {
      const f = await setup();
      await expect(f.ledger.rejectRound(1n, 1n, "skip"))
        .to.emit(f.ledger, "RoundRejected")
        .withArgs(1n, 1n, "skip");
      const s = await stateOf(f);
      expect([s.head, s.lastRound]).to.deep.equal([0n, 1n]);
      await (await post(f, await buildRound(f))).wait();
      expect((await f.ledger.roundRecord(1n, 2n)).parentRound).to.equal(0n);
    });

    it("should refuse a caller without the admin role", async function () {
      const f = await setup();
      await expectRefused(f, () => f.ledger.connect(f.outsider).rejectRound(1n, 1n, "x"), "AccessControlUnauthorizedAccount");
    });

    it("should refuse a finalized round", async function () {
      const f = await setup();
      await completeRound(f);
      await expectRefused(f, () => f.ledger.rejectRound(1n, 1n, "too late"), "ProvenanceRoundNotPending", [1n, 1n]);
    });

    it("should refuse the genesis, a rejected round and a round beyond the open one", async function () {
      const f = await setup();
      await expectRefused(f, () => f.ledger.rejectRound(1n, 0n, "x"), "ProvenanceRoundNotPending", [1n, 0n]);
      await expectRefused(f, () => f.ledger.rejectRound(1n, 5n, "x"), "ProvenanceRoundNotPending", [1n, 5n]);
      await (await f.ledger.rejectRound(1n, 1n, "skip")).wait();
      await expectRefused(f, () => f.ledger.rejectRound(1n, 1n, "again"), "ProvenanceRoundNotPending", [1n, 1n]);
    });
  });

  describe("expireRound", function () {
    it("should let anyone expire an open round after its deadline", async function () {
      const f = await setup();
      await networkHelpers.time.increase(f.config.roundDeadline + 1);
      await expect(f.ledger.connect(f.outsider).expireRound(1n, 1n)).to.emit(f.ledger, "RoundRejected").withArgs(1n, 1n, "deadline");
      expect((await stateOf(f)).lastRound).to.equal(1n);
    });

    it("should expire an attested round that was not proven in time", async function () {
      const f = await setup();
      await (await post(f, await buildRound(f))).wait();
      await networkHelpers.time.increase(f.config.roundDeadline + 1);
      await (await f.ledger.connect(f.outsider).expireRound(1n, 1n)).wait();
      expect(await status(f, 1n)).to.equal(BigInt(RoundStatus.Rejected));
      expect((await stateOf(f)).head).to.equal(0n);
    });

    it("should refuse a proof once the challenge block's hash is out of reach, and expire the round at once", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      const { proof } = await proofOf(f, r); // made while the challenge could be read
      const attested = (await f.ledger.roundRecord(1n, 1n)).attestedBlock;
      // blockhash(attested + 1) is readable up to block attested + 257; the proof comes later.
      const now = BigInt(await ethers.provider.getBlockNumber());
      await networkHelpers.mine(Number(attested + 257n - now));
      await expectRefused(f, () => submitProof(f, r, proof), "ProvenanceChallengeExpired", [1n, 1n, attested + 257n]);
      // Long before the round's deadline, anyone may expire it: it can never be proven.
      await expect(f.ledger.connect(f.outsider).expireRound(1n, 1n))
        .to.emit(f.ledger, "RoundRejected")
        .withArgs(1n, 1n, "challenge window");
      expect(await status(f, 1n)).to.equal(BigInt(RoundStatus.Rejected));
    });

    it("should refuse before the deadline", async function () {
      const f = await setup();
      const s = await stateOf(f);
      await expectRefused(f, () => f.ledger.expireRound(1n, 1n), "ProvenanceDeadlineNotReached", [
        1n,
        1n,
        s.openedAt + BigInt(f.config.roundDeadline),
      ]);
      await (await post(f, await buildRound(f))).wait();
      await expectRefused(f, () => f.ledger.expireRound(1n, 1n), "ProvenanceDeadlineNotReached");
    });

    it("should refuse a proven round, which only waits for finality", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      await (await prove(f, r)).wait();
      await networkHelpers.time.increase(f.config.roundDeadline + 1);
      await expectRefused(f, () => f.ledger.expireRound(1n, 1n), "ProvenanceRoundNotPending", [1n, 1n]);
    });
  });

  describe("rollback", function () {
    /** Round 1 finalized, round 2 attested, round 3 proven on it. Built once (two real proofs), then restored from a chain snapshot. */
    async function twoPendingOnce(): Promise<Fixture> {
      const f = await setup();
      await completeRound(f);
      await (await post(f, await buildRound(f))).wait();
      const r3 = await buildRound(f);
      await (await post(f, r3)).wait();
      await (await prove(f, r3)).wait();
      return f;
    }
    const twoPending = () => networkHelpers.loadFixture(twoPendingOnce);

    it("should roll back to the last finalized round, reject what followed and record why", async function () {
      const f = await twoPending();
      const tx = f.ledger.rollback(1n, 1n, "poisoned model detected");
      await expect(tx).to.emit(f.ledger, "FederationRolledBack").withArgs(1n, 3n, 1n, f.admin.address, "poisoned model detected", []);
      await expect(tx).to.emit(f.ledger, "RoundRejected").withArgs(1n, 3n, "poisoned model detected");
      const s = await stateOf(f);
      expect([s.head, s.lastFinalized, s.lastRound]).to.deep.equal([1n, 1n, 4n]);
      for (const t of [2n, 3n, 4n]) expect(await status(f, t)).to.equal(BigInt(RoundStatus.Rejected));
      expect(await status(f, 1n)).to.equal(BigInt(RoundStatus.Finalized));
    });

    it("should roll back on the committee's quorum signatures", async function () {
      const f = await twoPending();
      const m = { federationId: 1n, toRound: 1n, head: 3n, reasonHash: reasonHash("quorum says so") };
      const sigs = [await signRollback(f.committee[2], f.domain, m), await signRollback(f.committee[0], f.domain, m)];
      await expect(f.ledger.connect(f.outsider).rollbackByQuorum(1n, 1n, "quorum says so", sigs))
        .to.emit(f.ledger, "FederationRolledBack")
        .withArgs(1n, 3n, 1n, f.outsider.address, "quorum says so", sigs);
    });

    it("should refuse a caller without the admin role", async function () {
      const f = await twoPending();
      await expectRefused(f, () => f.ledger.connect(f.outsider).rollback(1n, 1n, "x"), "AccessControlUnauthorizedAccount");
    });

    it("should refuse a target other than the last finalized round", async function () {
      const f = await twoPending();
      await expectRefused(f, () => f.ledger.rollback(1n, 0n, "too far"), "ProvenanceInvalidRollbackTarget", [1n, 0n, 1n]);
      await expectRefused(f, () => f.ledger.rollback(1n, 2n, "not final"), "ProvenanceInvalidRollbackTarget", [1n, 2n, 1n]);
    });

    it("should refuse a rollback past genesis", async function () {
      const f = await setup();
      await expectRefused(f, () => f.ledger.rollback(1n, 0n, "nothing yet"), "ProvenanceNothingToRollBack", [1n, 0n]);
    });

    it("should refuse a quorum rollback short by one", async function () {
      const f = await twoPending();
      const m = { federationId: 1n, toRound: 1n, head: 3n, reasonHash: reasonHash("r") };
      await expectRefused(f, () => f.ledger.rollbackByQuorum(1n, 1n, "r", [signRollbackSync(f, 0, m)]), "ProvenanceQuorumNotReached", [
        1n,
        1n,
        2n,
      ]);
    });

    it("should refuse quorum signatures made for another head", async function () {
      const f = await twoPending();
      const m = { federationId: 1n, toRound: 1n, head: 2n, reasonHash: reasonHash("r") };
      const sigs = [signRollbackSync(f, 0, m), signRollbackSync(f, 1, m)];
      await expectRefused(f, () => f.ledger.rollbackByQuorum(1n, 1n, "r", sigs), "ProvenanceNotCommitteeMember");
    });
  });

  describe("sealFederation (migration to a new deployment)", function () {
    async function successor(f: Fixture, pred: { round: bigint; commitment?: string; modelRoot?: string }) {
      const v2 = await deployLedger(ethers, f.admin.address, [f.aggregator.address]);
      const rec = await f.ledger.roundRecord(1n, pred.round);
      const config: FederationConfig = {
        ...f.config,
        genesisModelRoot: pred.modelRoot ?? rec.modelRoot,
        predecessor: { ledger: f.ledgerAddress, federationId: 1n, round: pred.round, commitment: pred.commitment ?? rec.commitment },
      };
      return { v2, config };
    }

    it("should continue a federation on a new ledger from its last finalized round and seal the old one", async function () {
      const f = await setup();
      const r1 = await completeRound(f, { reputationMicros: () => 777_000 });
      const { v2, config } = await successor(f, { round: 1n });
      const veteran = r1.entries[0].participant;
      await expect(v2.createFederation(config, f.infos)).to.emit(v2, "ParticipantCarriedOver").withArgs(1n, veteran, 100_000n, 777_000n);
      expect((await v2.roundRecord(1n, 0n)).modelRoot).to.equal(r1.post.modelRoot);
      const [carried] = await v2.participant(1n, veteran);
      expect([carried.epsilonSpentMicros, carried.reputationMicros]).to.deep.equal([100_000n, 777_000n]); // budgets survive migration
      await expect(f.ledger.sealFederation(1n, await v2.getAddress(), 1n))
        .to.emit(f.ledger, "FederationSealed")
        .withArgs(1n, await v2.getAddress(), 1n, 1n);
      const next = await buildRound(f);
      await expectRefused(f, () => post(f, next), "ProvenanceFederationSealed", [1n]);
      await expectRefused(
        f,
        () => f.ledger.enrol(1n, { signer: wallet("x").address, did: "did:x:y", babyJubJubKey: [0n, 0n] }),
        "ProvenanceFederationSealed",
        [1n],
      );
      expect((await f.ledger.roundRecord(1n, 1n)).status).to.equal(BigInt(RoundStatus.Finalized)); // history readable
    });

    it("should refuse a predecessor round that is not finalized", async function () {
      const f = await setup();
      await (await post(f, await buildRound(f))).wait();
      const { v2, config } = await successor(f, { round: 1n });
      await expect(v2.createFederation(config, []))
        .to.be.revertedWithCustomError(v2, "ProvenanceInvalidPredecessor")
        .withArgs(f.ledgerAddress, 1n, 1n);
      await expectNoFederation(v2);
    });

    it("should refuse a predecessor with another commitment or model", async function () {
      const f = await setup();
      await completeRound(f);
      const a = await successor(f, { round: 1n, commitment: keccak256(toUtf8Bytes("x")) });
      await expect(a.v2.createFederation(a.config, [])).to.be.revertedWithCustomError(a.v2, "ProvenanceInvalidPredecessor");
      await expectNoFederation(a.v2);
      const b = await successor(f, { round: 1n, modelRoot: fakeRoot("other model") });
      await expect(b.v2.createFederation(b.config, [])).to.be.revertedWithCustomError(b.v2, "ProvenanceInvalidPredecessor");
      await expectNoFederation(b.v2);
    });

    it("should refuse a predecessor that is not a ledger", async function () {
      const f = await setup();
      const { v2, config } = await successor(f, { round: 0n });
      const bad = { ...config, predecessor: { ...config.predecessor, ledger: await f.verifier.getAddress() } };
      await expect(v2.createFederation(bad, [])).to.be.revertedWithCustomError(v2, "ProvenanceInvalidPredecessor");
      await expectNoFederation(v2);
    });

    it("should refuse to seal while rounds are pending", async function () {
      const f = await setup();
      await (await post(f, await buildRound(f))).wait();
      await expectRefused(f, () => f.ledger.sealFederation(1n, f.outsider.address, 1n), "ProvenanceRoundsPending", [1n, 1n, 0n]);
    });

    it("should refuse a successor that does not name this federation's last finalized round", async function () {
      const f = await setup();
      await completeRound(f);
      const { v2, config } = await successor(f, { round: 0n }); // names genesis, not round 1
      await (await v2.createFederation(config, [])).wait();
      const v2Address = await v2.getAddress();
      await expectRefused(f, () => f.ledger.sealFederation(1n, v2Address, 1n), "ProvenanceInvalidSuccessor", [v2Address, 1n]);
    });

    it("should refuse a successor that is not a ledger, and a zero address", async function () {
      const f = await setup();
      await expectRefused(f, () => f.ledger.sealFederation(1n, f.outsider.address, 1n), "ProvenanceInvalidSuccessor", [
        f.outsider.address,
        1n,
      ]);
      await expectRefused(f, () => f.ledger.sealFederation(1n, ethers.ZeroAddress, 1n), "ProvenanceZeroAddress", ["successorLedger"]);
    });

    it("should refuse a caller without the admin role", async function () {
      const f = await setup();
      await expectRefused(
        f,
        () => f.ledger.connect(f.outsider).sealFederation(1n, f.outsider.address, 1n),
        "AccessControlUnauthorizedAccount",
      );
    });
  });

  describe("budgets and reputations", function () {
    it("should accumulate epsilon debits up to the budget exactly and store each round's reputation", async function () {
      const f = await setup({ rosterSize: 4, epsilonBudgetMicros: 300_000n });
      const who = (await selectedWallets(f))[0].address;
      for (const [t, rep] of [
        [1n, 900_000],
        [2n, 700_000],
        [3n, 650_000],
      ] as const) {
        await (await post(f, await buildRound(f, { reputationMicros: () => rep }))).wait();
        const [p] = await f.ledger.participant(1n, who);
        expect([p.epsilonSpentMicros, p.reputationMicros], `after round ${t}`).to.deep.equal([100_000n * t, BigInt(rep)]);
      }
      const r4 = await buildRound(f);
      await expectRefused(f, () => post(f, r4), "ProvenanceBudgetExceeded", [1n, r4.entries[0].participant, 300_000n, 100_000n, 300_000n]);
    });
  });

  describe("events", function () {
    it("should let an auditor page a federation's history by round", async function () {
      const f = await setup();
      await completeRound(f);
      const r2 = await buildRound(f);
      await (await post(f, r2)).wait();
      const proposed = (await f.ledger.queryFilter(f.ledger.filters.RoundProposed(1n, 2n))) as any[];
      expect(proposed.length).to.equal(1);
      const entries = decodeRecordEntries(proposed[0].args.updates);
      expect(entries.map((e) => e.participant)).to.deep.equal(r2.columns.participants);
      expect(entries.map((e) => e.signature)).to.deep.equal(r2.entries.map((e) => e.signature));
      expect(proposed[0].args.participantsRoot).to.equal(participantsRoot(r2.columns.participants));
      expect(entries.map((e) => e.updateRoot)).to.deep.equal(r2.columns.updateRoots);
      expect([...proposed[0].args.quorumSignatures]).to.deep.equal(r2.quorumSignatures);
      expect((await f.ledger.queryFilter(f.ledger.filters.RoundFinalized(1n, 1n))).length).to.equal(1);
      expect((await f.ledger.queryFilter(f.ledger.filters.RoundFinalized(1n, 2n))).length).to.equal(0);
    });
  });
});

/** Signs a rollback synchronously enough for a refusal thunk: ethers Wallet signing is deterministic. */
function signRollbackSync(f: Fixture, member: number, m: Parameters<typeof signRollback>[2]): string {
  return (f.committee[member] as Wallet).signingKey.sign(rollbackDigest(f.domain, m)).serialized;
}

async function selectedWalletsOf(f: Fixture, r: BuiltRound): Promise<Wallet[]> {
  return r.entries.map((e) => f.byAddress.get(e.participant)!);
}
