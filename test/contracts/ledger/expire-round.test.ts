// ProvenanceLedger: expireRound. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { RoundStatus } from "../../../aggregator/protocol/evidence.js";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { buildRound, post, proofOf, prove, stateOf, submitProof } from "../../helpers/federation.js";
import { ethers, networkHelpers, setup, expectRefused, status } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
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
});
