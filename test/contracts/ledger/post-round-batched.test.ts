// ProvenanceLedger: postRound (batched). Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { Signature, ZeroAddress, concat, dataSlice, getBytes, keccak256, toBeHex, toUtf8Bytes } from "ethers";
import { RoundStatus } from "../../../aggregator/protocol/evidence.js";
import {
  attestationDigest,
  attestationDomain,
  reasonHash,
  rollbackDigest,
  roundRecordDigest,
  RECORD_ENTRY_SIZE,
  decodeRecordEntries,
  encodeRecordEntries,
} from "../../../aggregator/protocol/index.js";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { FIXTURE_DP, attestFrom, buildRound, fakeRoot, post, selectedWallets, stateOf, wallet } from "../../helpers/federation.js";
import { networkHelpers, setup, expectRefused, unselected, completeRound } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
  });

  describe("postRound (batched)", function () {
    it("should record a round whose attestations, commitment and quorum check out, and emit its events", async function () {
      const f = await setup();
      const r = await buildRound(f);
      const tx = post(f, r);
      await expect(tx).to.emit(f.ledger, "RoundProposed");
      await expect(tx).to.emit(f.ledger, "RoundAttested").withArgs(1n, 1n);
      // Each attestation is published once, in RoundProposed.
      await expect(tx).to.not.emit(f.ledger, "UpdateAttested");
      await expect(tx).to.emit(f.ledger, "RoundOpened");
      const [proposed] = (await f.ledger.queryFilter(f.ledger.filters.RoundProposed(1n, 1n))) as any[];
      // The event publishes the entries exactly as posted, attestations included.
      expect(proposed.args.updates).to.equal(encodeRecordEntries(r.entries));
      expect(decodeRecordEntries(proposed.args.updates)).to.deep.equal(r.entries);
      const record = await f.ledger.roundRecord(1n, 1n);
      expect(record.status).to.equal(BigInt(RoundStatus.Attested));
      expect(record.commitment).to.equal(r.post.commitment);
      expect(record.updateCount).to.equal(4n);
      expect(record.parentRound).to.equal(0n);
      const s = await stateOf(f);
      expect([s.lastRound, s.head, s.lastFinalized]).to.deep.equal([1n, 1n, 0n]);
      const [p] = await f.ledger.participant(1n, r.entries[0].participant);
      expect(p.epsilonSpentMicros).to.equal(100_000n);
      expect(p.reputationMicros).to.equal(1_000_000n);
      expect(p.lastAttestedRound).to.equal(1n);
    });

    it("should accept fewer updates than K down to the minimum", async function () {
      const f = await setup();
      const three = (await selectedWallets(f)).slice(0, 3);
      await (await post(f, await buildRound(f, { participants: three }))).wait();
      expect((await f.ledger.roundRecord(1n, 1n)).updateCount).to.equal(3n);
    });

    it("should compute the same EIP-712 digests as TypeScript", async function () {
      const f = await setup();
      const m = { federationId: 1n, round: 5n, baseModelRoot: fakeRoot("b"), updateRoot: fakeRoot("u"), sampleCount: 9n };
      const dp = { epsilonMicros: 1n, deltaPicos: 2n, clipMicros: 3n, noiseMicros: 4n };
      expect(await f.ledger.attestationDigest(1n, 5n, m.baseModelRoot, m.updateRoot, 9n, dp)).to.equal(
        attestationDigest(f.domain, { ...m, dpEpsilonMicros: 1n, dpDeltaPicos: 2n, dpClipMicros: 3n, dpNoiseMicros: 4n }),
      );
      const r = await buildRound(f);
      const q = r.message;
      expect(await f.ledger.roundRecordDigest(1n, q.round, q.parentRound, q.commitment, q.updatesDigest, q.accountingDigest)).to.equal(
        roundRecordDigest(f.domain, q),
      );
      const rb = { federationId: 1n, toRound: 0n, head: 3n, reasonHash: reasonHash("bad round") };
      expect(await f.ledger.rollbackDigest(1n, 0n, 3n, rb.reasonHash)).to.equal(rollbackDigest(f.domain, rb));
    });

    it("should refuse a caller without the aggregator role", async function () {
      const f = await setup();
      const r = await buildRound(f);
      const role = await f.ledger.AGGREGATOR_ROLE();
      await expectRefused(
        f,
        () => f.ledger.connect(f.outsider).postRound(1n, r.post, encodeRecordEntries(r.entries), r.quorumSignatures),
        "AccessControlUnauthorizedAccount",
        [f.outsider.address, role],
      );
    });

    it("should refuse an unknown federation", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await expectRefused(f, () => post(f, r, 2n), "ProvenanceUnknownFederation", [2n]);
    });

    it("should refuse a round out of order", async function () {
      const f = await setup();
      const r = await buildRound(f, { round: 2n });
      await expectRefused(f, () => post(f, r), "ProvenanceRoundOutOfOrder", [1n, 1n, 2n]);
    });

    it("should refuse a round already final", async function () {
      const f = await setup();
      const r = await completeRound(f);
      await expectRefused(f, () => post(f, r), "ProvenanceRoundOutOfOrder", [1n, 2n, 1n]);
    });

    it("should refuse a record built on another parent than the head", async function () {
      const f = await setup();
      await (await post(f, await buildRound(f))).wait();
      const r = await buildRound(f, { parentRound: 0n });
      await expectRefused(f, () => post(f, r), "ProvenanceWrongParent", [1n, 1n, 0n]);
    });

    it("should refuse to build on a Proposed round", async function () {
      const f = await setup();
      await (await post(f, await buildRound(f, { direct: "all" }))).wait(); // record first: Proposed
      const r = await buildRound(f);
      await expectRefused(f, () => post(f, r), "ProvenanceRoundNotAttested", [1n, 1n]);
    });

    it("should refuse a record after the round's deadline", async function () {
      const f = await setup();
      const r = await buildRound(f);
      const s = await stateOf(f);
      await networkHelpers.time.increase(f.config.roundDeadline + 1);
      await expectRefused(f, () => post(f, r), "ProvenanceDeadlinePassed", [1n, 1n, s.openedAt + BigInt(f.config.roundDeadline)]);
    });

    it("should refuse fewer updates than the minimum", async function () {
      const f = await setup();
      const r = await buildRound(f, { participants: (await selectedWallets(f)).slice(0, 2) });
      await expectRefused(f, () => post(f, r), "ProvenanceWrongUpdateCount", [1n, 3n, 4n, 2n]);
    });

    it("should refuse more updates than K", async function () {
      const f = await setup();
      const r = await buildRound(f, { participants: f.rosterWallets.slice(0, 5) });
      await expectRefused(f, () => post(f, r), "ProvenanceWrongUpdateCount", [1n, 3n, 4n, 5n]);
    });

    it("should refuse participants that are not strictly ascending", async function () {
      const f = await setup();
      const r = await buildRound(f);
      [r.entries[1], r.entries[2]] = [r.entries[2], r.entries[1]];
      await expectRefused(f, () => post(f, r), "ProvenanceParticipantsNotAscending", [1n, 2n]);
    });

    it("should refuse the same participant twice", async function () {
      const f = await setup();
      const r = await buildRound(f);
      r.entries[1] = r.entries[0];
      await expectRefused(f, () => post(f, r), "ProvenanceParticipantsNotAscending", [1n, 1n]);
    });

    it("should refuse an unknown participant", async function () {
      const f = await setup();
      const stranger = wallet("stranger");
      const r = await buildRound(f, { participants: [...(await selectedWallets(f)).slice(0, 3), stranger] });
      await expectRefused(f, () => post(f, r), "ProvenanceNotEnrolled", [1n, stranger.address]);
    });

    it("should refuse a participant outside S_t", async function () {
      const f = await setup();
      const [outside] = await unselected(f);
      const r = await buildRound(f, { participants: [...(await selectedWallets(f)).slice(0, 3), outside] });
      await expectRefused(f, () => post(f, r), "ProvenanceNotSelected", [1n, 1n, outside.address]);
    });

    it("should check a record of 12 or more entries against S_t made whole, and refuse a participant outside it", async function () {
      // K = 12 from a roster of 24: the ledger checks the entries against the selection mask (docs/protocol.md §10).
      const f = await setup({ k: 12, rosterSize: 24, minUpdates: 12 });
      const selected = await selectedWallets(f);
      expect(selected.length).to.equal(12);
      const [outside] = await unselected(f);
      const r = await buildRound(f, { participants: [...selected.slice(0, 11), outside] });
      await expectRefused(f, () => post(f, r), "ProvenanceNotSelected", [1n, 1n, outside.address]);
      await (await post(f, await buildRound(f))).wait();
      expect((await f.ledger.roundRecord(1n, 1n)).updateCount).to.equal(12n);
    });

    it("should refuse a signature by the wrong key", async function () {
      const f = await setup();
      const impostor = wallet("impostor");
      const chosen = await selectedWallets(f);
      const r = await buildRound(f, { signers: new Map([[chosen[1].address, impostor]]) });
      const victim = r.entries.find((e) => e.participant === chosen[1].address)!.participant;
      await expectRefused(f, () => post(f, r), "ProvenanceInvalidSignature", [1n, victim, impostor.address]);
    });

    // secp256k1's group order: (r, n - s, v ^ 1) is the malleable twin of (r, s, v), which ecrecover accepts.
    const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const malformed: [string, (signature: string) => string][] = [
      ["compact (EIP-2098, 64 bytes)", (sig) => Signature.from(sig).compactSerialized],
      ["66 bytes", (sig) => sig + "00"],
      [
        "high s (the malleable twin)",
        (sig) => {
          const t = Signature.from(sig);
          return concat([t.r, toBeHex(SECP256K1_N - BigInt(t.s), 32), t.v === 27 ? "0x1c" : "0x1b"]);
        },
      ],
      ["v = 29", (sig) => sig.slice(0, 130) + "1d"],
      // Not all zero, so not a direct-mode entry: an invalid signature.
      ["v = 0", (sig) => sig.slice(0, 130) + "00"],
    ];
    for (const [name, mangle] of malformed) {
      it(`should refuse a participant signature that is ${name}`, async function () {
        const f = await setup();
        const r = await buildRound(f);
        const entry = r.entries[1];
        const signature = mangle(entry.signature);
        if (getBytes(signature).length === 65) {
          r.entries[1] = { ...entry, signature };
          await expectRefused(f, () => post(f, r), "ProvenanceInvalidSignature", [1n, entry.participant, ZeroAddress]);
          return;
        }
        // The packed entry has room for 65 bytes only: the encoder refuses, and spliced in by hand the
        // record is no whole number of entries.
        expect(() => encodeRecordEntries([{ ...entry, signature }])).to.throw("record entry 0: signature must be 65 bytes of hex");
        const packed = r.entries.map((e) => encodeRecordEntries([e]));
        packed[1] = concat([dataSlice(packed[1], 0, RECORD_ENTRY_SIZE - 65), signature]);
        const bytes = concat(packed);
        await expectRefused(
          f,
          () => f.ledger.connect(f.aggregator).postRound(1n, r.post, bytes, r.quorumSignatures),
          "ProvenanceMalformedEntries",
          [1n, getBytes(bytes).length],
        );
      });

      it(`should refuse a quorum signature that is ${name}`, async function () {
        const f = await setup();
        const r = await buildRound(f);
        r.quorumSignatures[0] = mangle(r.quorumSignatures[0]);
        await expectRefused(f, () => post(f, r), "ProvenanceInvalidQuorumSignature", [1n, 0n, ZeroAddress]);
      });
    }

    for (const [name, override] of [
      ["another round", { signRound: 2n }],
      ["another federation", { signFederation: 7n }],
      ["another base model", { baseModelRoot: fakeRoot("not the parent") }],
    ] as const) {
      it(`should refuse a signature made for ${name}`, async function () {
        const f = await setup();
        const r = await buildRound(f, override);
        await expectRefused(f, () => post(f, r), "ProvenanceInvalidSignature");
      });
    }

    it("should refuse a signature made for another chain", async function () {
      const f = await setup();
      const r = await buildRound(f, { domain: attestationDomain(f.chainId + 1n, f.ledgerAddress) });
      await expectRefused(f, () => post(f, r), "ProvenanceInvalidSignature");
    });

    it("should refuse a signature made for another contract", async function () {
      const f = await setup();
      const r = await buildRound(f, { domain: attestationDomain(f.chainId, f.outsider.address) });
      await expectRefused(f, () => post(f, r), "ProvenanceInvalidSignature");
    });

    it("should refuse a duplicate attestation (direct, then again inline)", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await attestFrom(f, r, r.entries[0].participant)).wait();
      await expectRefused(f, () => post(f, r), "ProvenanceDuplicateAttestation", [1n, 1n, r.entries[0].participant]);
    });

    it("should refuse weights that do not sum to 65536", async function () {
      const f = await setup();
      const r = await buildRound(f);
      r.entries[0] = { ...r.entries[0], weight: r.entries[0].weight + 1 };
      await expectRefused(f, () => post(f, r), "ProvenanceWeightsDoNotSum", [1n, 65537n]);
    });

    it("should refuse a commitment that does not match the record", async function () {
      const f = await setup();
      const r = await buildRound(f);
      const wrong = { ...r.post, commitment: keccak256(toUtf8Bytes("wrong")) };
      await expectRefused(
        f,
        () => f.ledger.connect(f.aggregator).postRound(1n, wrong, encodeRecordEntries(r.entries), r.quorumSignatures),
        "ProvenanceCommitmentMismatch",
        [1n, 1n, r.post.commitment, wrong.commitment],
      );
    });

    it("should refuse a debit that would exceed a participant's privacy budget", async function () {
      const f = await setup({ epsilonBudgetMicros: 1_000_000n, dp: { ...FIXTURE_DP, epsilonMicros: 600_000n } });
      await (await post(f, await buildRound(f))).wait();
      const r = await buildRound(f);
      // Entries are checked in ascending order: the first that took part in round 1 goes over.
      const spent = await Promise.all(r.entries.map(async (e) => (await f.ledger.participant(1n, e.participant))[0].epsilonSpentMicros));
      const over = spent.findIndex((x) => x > 0n);
      expect(over, "round 2 draws a participant of round 1 (K = 4 of 6)").to.be.at.least(0);
      await expectRefused(f, () => post(f, r), "ProvenanceBudgetExceeded", [
        1n,
        r.entries[over].participant,
        600_000n,
        600_000n,
        1_000_000n,
      ]);
    });

    // Hostile history (issue 16): the debit was whatever the committee wrote. A committee debiting 0
    // let a participant exceed its budget; one debiting the whole budget shut it out for good.
    for (const [what, wrong] of [
      ["nothing", 0n],
      ["the whole budget", 10_000_000n],
    ] as const) {
      it(`should refuse a debit of ${what} for an update attested at 0.1 epsilon`, async function () {
        const f = await setup();
        expect(f.config.dp.epsilonMicros).to.equal(100_000n);
        expect(f.config.epsilonBudgetMicros).to.equal(10_000_000n);
        const target = (await selectedWallets(f))[1].address;
        const r = await buildRound(f, { epsilonMicros: (a) => (a === target ? wrong : 100_000n) });
        await expectRefused(f, () => post(f, r), "ProvenanceWrongDebit", [1n, target, wrong, 100_000n]);
      });
    }

    it("should refuse a quorum short by one", async function () {
      const f = await setup({ committeeSize: 5 }); // f = 2, quorum 3
      const r = await buildRound(f, { committeeSigners: f.committee.slice(0, 2) });
      await expectRefused(f, () => post(f, r), "ProvenanceQuorumNotReached", [1n, 2n, 3n]);
    });

    it("should refuse a signature from a non-committee aggregator counted towards quorum", async function () {
      const f = await setup();
      const rogue = wallet("rogue aggregator");
      const r = await buildRound(f, { committeeSigners: [f.committee[0], rogue] });
      await expectRefused(f, () => post(f, r), "ProvenanceInvalidQuorumSignature", [1n, 1n, rogue.address]);
    });

    it("should refuse the same committee member signing twice", async function () {
      const f = await setup();
      const r = await buildRound(f, { committeeSigners: [f.committee[1], f.committee[1]] });
      await expectRefused(f, () => post(f, r), "ProvenanceDuplicateQuorumSigner", [1n, f.committee[1].address]);
    });

    // Hostile history (issue 16): a member's signature over another record was refused as coming from
    // a non-member at a random address; the refusal now says the signature is not over this record.
    it("should refuse quorum signatures over another record, naming the first and what it recovers over this one", async function () {
      const f = await setup();
      const r = await buildRound(f);
      r.entries[0] = { ...r.entries[0], reputationMicros: 999 }; // the committee signed other accounting
      const members = new Set(f.committee.map((w) => w.address));
      await expectRefused(f, () => post(f, r), "ProvenanceInvalidQuorumSignature", [
        1n,
        0n,
        (a: string) => !members.has(a) && a !== ZeroAddress,
      ]);
    });
  });
});
