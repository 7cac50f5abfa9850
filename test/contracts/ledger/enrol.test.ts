// ProvenanceLedger: enrol. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { buildRound, post, stateOf, wallet } from "../../helpers/federation.js";
import { ethers, BASE8, setup, expectRefused } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
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
});
