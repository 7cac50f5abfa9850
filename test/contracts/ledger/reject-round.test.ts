// ProvenanceLedger: rejectRound. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { RoundStatus } from "../../../aggregator/protocol/evidence.js";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { buildRound, post, stateOf } from "../../helpers/federation.js";
import { setup, expectRefused, completeRound, status } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
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
});
