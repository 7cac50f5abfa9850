// ProvenanceLedger: sealFederation (migration to a new deployment). Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import { deployLedger } from "../../../aggregator/adapters/chain/deploy.js";
import { RoundStatus, type FederationConfig } from "../../../aggregator/protocol/evidence.js";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { buildRound, fakeRoot, post, wallet, type Fixture } from "../../helpers/federation.js";
import { ethers, setup, expectRefused, expectNoFederation, completeRound } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
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
});
