// ProvenanceLedger: revoke. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { buildRound, post, selectedWallets, wallet } from "../../helpers/federation.js";
import { setup, expectRefused } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
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
});
