// ProvenanceLedger: revoke. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { shuffledIndex } from "../../../aggregator/protocol/index.js";
import { buildRound, post, selectedWallets, stateOf, wallet } from "../../helpers/federation.js";
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
      // Round 2 no longer draws it (§10); a record naming it anyway is refused.
      expect((await selectedWallets(f)).map((w) => w.address)).to.not.include(victim.address);
      const r2 = await buildRound(f, { participants: [...(await selectedWallets(f)), victim] });
      await expectRefused(f, () => post(f, r2), "ProvenanceParticipantRevoked", [1n, victim.address, 2n]);
      const [p] = await f.ledger.participant(1n, victim.address);
      expect(p.lastAttestedRound).to.equal(1n); // history keeps its round-1 record
    });

    // Hostile history (issue 16): selection drew revoked participants, whose updates were then refused,
    // so with minUpdates = K a round drawing one could not close. S_t is now the first K participants
    // in shuffle order that are not revoked for the round.
    it("should never draw a revoked participant: each round selects the first K others in shuffle order, and a full record posts", async function () {
      const f = await setup({ rosterSize: 8, minUpdates: 4 }); // K = 4
      const k = f.config.participantsPerRound;
      const revoked = [f.rosterWallets[1], f.rosterWallets[4]];
      for (const w of revoked) await (await f.ledger.revoke(1n, w.address)).wait();
      await (await post(f, await buildRound(f))).wait(); // round 1 keeps its draw
      const roster: string[] = await f.ledger.roster(1n);
      const out = new Set(revoked.map((w) => f.rosterWallets.indexOf(w)));
      let displaced = 0;
      for (let t = 2; t <= 7; t++) {
        const s = await stateOf(f);
        const position = roster.map((_, i) => shuffledIndex(i, s.rosterSize, s.selectionSeed));
        const byPosition = roster.map((_, i) => i).sort((a, b) => position[a] - position[b]);
        // The old draw (the first K positions) would have held a revoked participant.
        if (byPosition.slice(0, k).some((i) => out.has(i))) displaced++;
        const expected = byPosition.filter((i) => !out.has(i)).slice(0, k);
        expect(s.selectionBound, `round ${t}: the bound passes the revoked positions before the K-th other`).to.equal(
          position[expected[k - 1]] + 1,
        );
        const chosen = await selectedWallets(f);
        expect(chosen.map((w) => roster.indexOf(w.address)).sort()).to.deep.equal([...expected].sort());
        for (const w of revoked) expect(await f.ledger.isSelected(1n, w.address), `round ${t}`).to.equal(false);
        for (const w of chosen) expect(await f.ledger.isSelected(1n, w.address), `round ${t}`).to.equal(true);
        await (await post(f, await buildRound(f))).wait(); // K entries: the round closes
      }
      expect(displaced, "rounds whose first K positions held a revoked participant").to.be.at.least(1);
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
