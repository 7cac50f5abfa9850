// ProvenanceLedger: rollback. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { isAddress } from "ethers";
import { RoundStatus } from "../../../aggregator/protocol/evidence.js";
import { reasonHash, signRollback } from "../../../aggregator/protocol/index.js";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { buildRound, post, prove, stateOf, type Fixture } from "../../helpers/federation.js";
import { networkHelpers, setup, expectRefused, completeRound, status, signRollbackSync } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
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
      await expectRefused(f, () => f.ledger.rollbackByQuorum(1n, 1n, "r", sigs), "ProvenanceInvalidQuorumSignature", [
        1n,
        0n,
        (a: string) => isAddress(a),
      ]);
    });
  });
});
