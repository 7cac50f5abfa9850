// ProvenanceLedger: attest and postRound (direct). Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { keccak256 } from "ethers";
import { RoundStatus } from "../../../aggregator/protocol/evidence.js";
import { decodeRecordEntries } from "../../../aggregator/protocol/index.js";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { attestFrom, buildRound, post, selectedWallets, stateOf, wallet } from "../../helpers/federation.js";
import { ethers, networkHelpers, setup, expectRefused, unselected, status, selectedWalletsOf } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
  });

  describe("attest and postRound (direct)", function () {
    // Hostile history (issue 16): with minUpdates below K the committee posted a record without an
    // attestation sent on-chain for the round, and the round was proven with it in plain view.
    it("should refuse a record that leaves out an attestation made on-chain for its round, and take one naming it", async function () {
      const f = await setup(); // K = 4, minUpdates = 3
      const chosen = await selectedWallets(f);
      const silenced = chosen[0];
      const full = await buildRound(f, { direct: new Set([silenced.address]) });
      await (await attestFrom(f, full, silenced.address)).wait();
      expect((await stateOf(f)).openAttestations).to.equal(1);
      const without = await buildRound(f, { participants: chosen.slice(1) });
      await expectRefused(f, () => post(f, without), "ProvenanceAttestationOmitted", [1n, 1n, 1n, 0n]);
      await (await post(f, full)).wait();
      expect((await f.ledger.roundRecord(1n, 1n)).status).to.equal(BigInt(RoundStatus.Attested));
      expect((await stateOf(f)).openAttestations, "round 2 starts its own count").to.equal(0);
    });

    it("should refuse an attestation its participant's budget cannot pay: no record could name it or leave it out", async function () {
      const f = await setup({ epsilonBudgetMicros: 50_000n });
      const [w] = await selectedWallets(f);
      const r = await buildRound(f, { direct: "all" });
      await expectRefused(f, () => attestFrom(f, r, w.address), "ProvenanceBudgetExceeded", [1n, w.address, 0n, 100_000n, 50_000n]);
    });

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
});
