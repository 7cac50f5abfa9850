// ProvenanceLedger: finalizeRound. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { buildRound, post, prove, stateOf } from "../../helpers/federation.js";
import { networkHelpers, setup, expectRefused } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
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
});
