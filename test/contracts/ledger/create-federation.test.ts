// ProvenanceLedger: createFederation. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { RoundStatus, pkhDid, type FederationConfig, type ParticipantInfo } from "../../../aggregator/protocol/evidence.js";
import { selectionSeed } from "../../../aggregator/protocol/index.js";
import { ensureCircuitKeys, releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { ethers, BASE8, setup, expectRefused } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
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

    // Hostile history (issue 16): the pin was any non-zero hash, whatever the verifier checks proofs against.
    it("should refuse a verifying-key hash other than the one its verifier was generated from", async function () {
      const f = await setup();
      const verifierKey = await f.verifier.VERIFYING_KEY_HASH();
      expect(verifierKey).to.equal(f.config.verifyingKeyHash);
      const other = (await ensureCircuitKeys("RoundChunks_4-1-0-2_test")).vkeyHash;
      expect(other).to.not.equal(verifierKey);
      await expectRefused(
        f,
        () => f.ledger.createFederation({ ...f.config, verifyingKeyHash: other }, f.infos),
        "ProvenanceVerifyingKeyMismatch",
        [f.config.verifier, other, verifierKey],
      );
      await expect(f.ledger.federation(2n)).to.be.revertedWithCustomError(f.ledger, "ProvenanceUnknownFederation").withArgs(2n);
    });

    it("should refuse a verifier that has no key hash to match the pin: no code, or a contract without VERIFYING_KEY_HASH()", async function () {
      const f = await setup();
      const dead = "0x000000000000000000000000000000000000dEaD";
      for (const verifier of [dead, await f.ledger.getAddress()]) {
        await expectRefused(f, () => f.ledger.createFederation({ ...f.config, verifier }, f.infos), "ProvenanceVerifyingKeyMismatch", [
          verifier,
          f.config.verifyingKeyHash,
          ethers.ZeroHash,
        ]);
      }
    });

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
});
