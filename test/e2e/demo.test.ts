// The main job end to end on Hardhat's in-process network (round 1 batched, round 2 direct), then the
// auditor against tampering: each altered link (checkpoint byte, published update, commitment,
// signature, quorum, selection, budget, deadline, lifecycle, proof) fails with round and link named.
import { expect } from "chai";
import { withBlock } from "../helpers/blocks.js";
import { startDemoRun, stopDemoRun } from "../helpers/demo-run.js";
import { readFile, rm, writeFile } from "node:fs/promises";
import { type DemoResult } from "../../aggregator/demo/demo.js";
import { auditEvidence } from "../../aggregator/roles/auditor/run.js";
import { RoundStatus, type FederationEvidence } from "../../aggregator/protocol/evidence.js";
import { blockFilePath } from "../../aggregator/adapters/storage/checkpoint-store.js";
import { decodeCheckpoint, encodeCheckpoint, PROTOCOL_VERSION, roundCommitment } from "../../aggregator/protocol/index.js";
import { cidToOnchain } from "../../aggregator/protocol/cid.js";
import { ensureCircuitKeys } from "../../aggregator/adapters/proof/keys.js";
import { DEMO_INSTANCE } from "../../aggregator/demo/demo.js";

describe("end to end: demo then audit", function () {
  let dir: string;
  let result: DemoResult;
  let evidence: FederationEvidence;

  before(async function () {
    ({ dir, result, evidence } = await startDemoRun("dsain-e2e-", { epochs: 1 }));
  });

  after(async function () {
    await stopDemoRun(dir, result);
  });

  /** Audits a tampered deep copy of the chain's evidence. */
  async function auditWith(tamper: (e: FederationEvidence) => void, allowMissingUpdates = false) {
    const copy = structuredClone(evidence);
    tamper(copy);
    const keys = await ensureCircuitKeys(DEMO_INSTANCE);
    return auditEvidence({ evidence: copy, store: result.session!.store, vkey: keys.vkey, vkeyHash: keys.vkeyHash, allowMissingUpdates });
  }

  it("should record two rounds, one batched and one direct, each proven on-chain and finalized", async function () {
    expect(result.rounds.map((r) => `${r.round}:${r.mode}`)).to.deep.equal(["1:batched", "2:direct"]);
    for (const r of result.rounds) {
      const record = await result.session!.ledgerClient.roundRecord(result.federationId, BigInt(r.round));
      expect(record.status, `round ${r.round} status`).to.equal(BigInt(RoundStatus.Finalized));
      expect(record.commitment).to.equal(r.commitment);
      expect(r.proveGas > 0n && r.postGas > 0n).to.equal(true);
      expect(r.selected.length).to.equal(4);
    }
    expect(result.rounds[0].attestGas).to.equal(0n);
    expect(result.rounds[1].attestGas > 0n).to.equal(true);
    expect(evidence.participants.length).to.equal(6); // K + 2: the selection leaves two out each round
  });

  it("should train a model well above chance (4 classes)", function () {
    expect(result.rounds[1].accuracy).to.be.greaterThan(0.6);
  });

  it("should pass the audit of the untouched history", function () {
    expect(result.audit?.ok, result.audit?.lines.join("\n")).to.equal(true);
    expect(result.audit?.report.proven).to.equal(2);
    expect(result.audit?.report.finalized).to.equal(2);
  });

  it("should publish every update and list their CIDs in the round's checkpoint, and recompute both rounds from them", async function () {
    for (const r of result.rounds) {
      const ck = decodeCheckpoint(await result.session!.store.getVerified(r.cid));
      expect(ck.updates?.map((u) => u.participant)).to.deep.equal(r.selected);
      expect(ck.updates?.map((u) => u.cid)).to.deep.equal(r.updateCids);
    }
    expect(result.audit?.report.recomputed).to.equal(2);
    expect(result.audit?.lines.join("\n")).to.match(
      /round 2: ok \(.*deadlines.*4 published updates, aggregation recomputed exactly, proof; final\)/,
    );
  });

  it("should fail, naming round 1, the updates link and the participant, when one coordinate of a published update is changed on disk", async function () {
    const who = result.rounds[0].selected[2];
    const out = await withBlock(
      result.session!.store,
      result.rounds[0].updateCids[2],
      async (file, bytes) => {
        const payload = 12 + bytes.readUInt32LE(8); // magic, header length, header (§7)
        bytes.writeInt32LE(bytes.readInt32LE(payload + 4 * 100) + 1, payload + 4 * 100);
        await writeFile(file, bytes);
      },
      () => auditWith(() => undefined),
    );
    expect(out.ok).to.equal(false);
    expect(out.report.findings.map((f) => `${f.round}:${f.link}`)).to.deep.equal(["1:updates"]);
    expect(out.lines.join("\n")).to.contain(`round 1: updates: update of ${who} (${result.rounds[0].updateCids[2]})`);
  });

  it("should fail when a published update is missing, and pass with a warning when missing updates are allowed", async function () {
    const cid = result.rounds[1].updateCids[0];
    const [strict, lenient] = await withBlock(
      result.session!.store,
      cid,
      (file) => rm(file),
      async () => [await auditWith(() => undefined), await auditWith(() => undefined, true)],
    );
    expect(strict.ok).to.equal(false);
    expect(strict.report.findings.map((f) => `${f.round}:${f.link}`)).to.deep.equal(["2:updates"]);
    expect(strict.report.findings[0].message).to.contain("is not available");
    expect(lenient.ok, lenient.lines.join("\n")).to.equal(true);
    expect(lenient.report.warnings.map((f) => `${f.round}:${f.link}`)).to.deep.equal(["2:updates"]);
    expect(lenient.report.recomputed).to.equal(1);
    expect(lenient.lines.join("\n")).to.match(/⚠ round 2: updates: .*allowed by --allow-missing-updates/);
    expect(lenient.lines.join("\n")).to.contain("verdict: PASS with 1 warning(s)");
  });

  it("should not pass a round whose checkpoint lists no published updates (version 1), unless missing updates are allowed", async function () {
    const store = result.session!.store;
    const { updates: _listed, ...model } = decodeCheckpoint(await store.getVerified(result.rounds[1].cid));
    const v1 = cidToOnchain(await store.put(encodeCheckpoint(model)));
    const asVersion1 = (e: FederationEvidence) => {
      const r = e.rounds[1];
      Object.assign(r, { cidCodec: v1.codec, cidDigest: v1.digest });
      r.commitment = roundCommitment({ ...r, round: r.round });
    };
    const strict = await auditWith(asVersion1);
    const missing = strict.report.findings.filter((f) => f.link === "updates");
    expect(missing.map((f) => f.round)).to.deep.equal([2]);
    expect(missing[0].message).to.contain("lists no published updates, so the aggregation cannot be recomputed");
    const lenient = await auditWith(asVersion1, true);
    expect(lenient.report.findings.map((f) => f.link)).to.not.include("updates");
    expect(lenient.report.warnings.map((f) => `${f.round}:${f.link}`)).to.deep.equal(["2:updates"]);
  });

  it("should fail, naming round 2 and the deadline, when an attestation was posted after the round's deadline", async function () {
    const out = await auditWith((e) => {
      const opened = e.events.find((x) => x.kind === "opened" && x.round === 2)!;
      const attestation = e.events.find((x) => x.kind === "attestation" && x.round === 2)!;
      attestation.timestamp = opened.timestamp + e.config.roundDeadline + 1;
    });
    expect(out.ok).to.equal(false);
    expect(out.report.findings.map((f) => `${f.round}:${f.link}`)).to.deep.equal(["2:deadline"]);
    expect(out.lines.join("\n")).to.match(
      /round 2: deadline: the attestation of 0x[0-9a-fA-F]{40} is in block \d+ at time \d+, after the deadline/,
    );
  });

  it("should fail, naming round 1 and the deadline, when the proof was posted one second after the deadline", async function () {
    const out = await auditWith((e) => {
      const opened = e.events.find((x) => x.kind === "opened" && x.round === 1)!;
      const proven = e.events.find((x) => x.kind === "proven" && x.round === 1)!;
      const finalized = e.events.find((x) => x.kind === "finalized" && x.round === 1)!;
      proven.timestamp = opened.timestamp + e.config.roundDeadline + 1;
      finalized.timestamp = proven.timestamp; // finalityDelay 0: finalization may follow at once
    });
    expect(out.report.findings.map((f) => `${f.round}:${f.link}`)).to.deep.equal(["1:deadline"]);
  });

  it("should fail, naming round 1 and the quorum, when a committee signature is altered", async function () {
    const out = await auditWith((e) => {
      const sig = e.rounds[0].quorumSignatures[1];
      e.rounds[0].quorumSignatures[1] = sig.slice(0, 10) + (sig[10] === "0" ? "1" : "0") + sig.slice(11);
    });
    expect(out.ok).to.equal(false);
    expect(out.report.findings.map((f) => `${f.round}:${f.link}`)).to.include("1:quorum");
  });

  it("should fail, naming round 2 and the selection, when its selection seed is altered", async function () {
    const out = await auditWith((e) => {
      const opened = e.events.find((x) => x.kind === "opened" && x.round === 2) as { selectionSeed: string };
      opened.selectionSeed = "0x" + "cd".repeat(32);
    });
    expect(out.ok).to.equal(false);
    expect(out.report.findings.map((f) => `${f.round}:${f.link}`)).to.include("2:selection");
  });

  it("should fail, naming the budget, when a debit exceeds the participant's budget", async function () {
    const out = await auditWith((e) => {
      e.rounds[1].updates[0].epsilonMicros = 1n;
    });
    expect(out.ok).to.equal(false);
    const links = out.report.findings.map((f) => `${f.round}:${f.link}`);
    expect(links).to.include("2:budget");
    expect(links).to.include("2:commitment"); // the accounting digest no longer matches either
    // The debit is not what the participant attested (the demo has no DP: epsilon 0), issue 16.
    expect(out.lines.join("\n")).to.contain("is debited 1 µε for an update attested under ε = 0 µε");
  });

  it("should fail, naming the lifecycle, when a round is finalized before its parent", async function () {
    const out = await auditWith((e) => {
      const i = e.events.findIndex((x) => x.kind === "finalized" && x.round === 1);
      const [fin] = e.events.splice(i, 1);
      e.events.push(fin); // round 1's finalization now comes after round 2's
    });
    expect(out.ok).to.equal(false);
    expect(out.report.findings.map((f) => f.link)).to.include("lifecycle");
  });

  it("should read the ledger's protocol version 2, and fail the federation on a ledger of another version", async function () {
    expect(evidence.protocolVersion).to.equal(2);
    expect(await result.session!.ledgerClient.protocolVersion()).to.equal(PROTOCOL_VERSION);
    const out = await auditWith((e) => {
      e.protocolVersion = 1;
    });
    expect(out.ok).to.equal(false);
    expect(out.report.findings.map((f) => `${f.round}:${f.link}`)).to.include("0:federation");
    expect(out.lines.join("\n")).to.match(/the ledger speaks DSAIN protocol version 1; this auditor checks version 2/);
  });

  it("should read the key hash the verifier was generated from, and fail the federation when the pin is another (issue 16)", async function () {
    expect(evidence.verifierKeyHashes.direct).to.equal(evidence.config.verifyingKeyHash.toLowerCase());
    for (const declared of ["0x" + "ab".repeat(32), null]) {
      const out = await auditWith((e) => {
        e.verifierKeyHashes = { direct: declared };
      });
      expect(out.ok).to.equal(false);
      expect(out.report.findings.map((f) => `${f.round}:${f.link}`)).to.deep.equal(["0:federation"]);
      expect(out.lines.join("\n")).to.contain(
        `the federation pins verifying key ${evidence.config.verifyingKeyHash}, but its verifier ${evidence.config.verifier} ` +
          (declared === null ? "declares no verifying-key hash" : `was generated from ${declared}`),
      );
    }
  });

  it("should report an attestation sent on-chain for a round and left out of its record (issue 16)", async function () {
    const out = await auditWith((e) => {
      const i = e.events.findIndex((x) => x.kind === "proposed" && x.round === 2);
      const named = new Set(e.rounds[1].updates.map((u) => u.participant.toLowerCase()));
      const outsider = e.participants.find((a) => !named.has(a.toLowerCase()))!;
      const at = e.events[i];
      e.events.splice(i, 0, {
        ...at,
        kind: "attestation",
        round: 2,
        participant: outsider,
        updateRoot: "0x" + "12".repeat(32),
        sampleCount: 1n,
        signature: "0x" + "00".repeat(65),
      } as (typeof e.events)[number]);
    });
    expect(out.ok).to.equal(false);
    expect(out.report.findings.map((f) => `${f.round}:${f.link}`)).to.include("2:participants");
    expect(out.lines.join("\n")).to.match(/attested on-chain for round 2, but its record leaves the attestation out/);
  });

  it("should fail, naming round 1 and the commitment, when a commitment is altered", async function () {
    const out = await auditWith((e) => {
      e.rounds[0].commitment = "0x" + "ab".repeat(32);
    });
    expect(out.ok).to.equal(false);
    expect(out.report.findings.map((f) => `${f.round}:${f.link}`)).to.include("1:commitment");
    expect(out.lines.join("\n")).to.match(/round 1: commitment: h_t 0xabab/);
  });

  it("should fail, naming round 2 and the signature, when a signature byte is altered", async function () {
    const out = await auditWith((e) => {
      const sig = e.rounds[1].updates[2].signature;
      e.rounds[1].updates[2].signature = sig.slice(0, 10) + (sig[10] === "0" ? "1" : "0") + sig.slice(11);
    });
    expect(out.ok).to.equal(false);
    expect(out.report.findings.map((f) => `${f.round}:${f.link}`)).to.deep.equal(["2:signature"]);
    expect(out.lines.join("\n")).to.contain(`round 2: signature: attestation of ${evidence.rounds[1].updates[2].participant}`);
  });

  it("should fail, naming round 1 and the proof, when a proof is altered", async function () {
    const out = await auditWith((e) => {
      const p = e.rounds[0].proof!;
      p.a = [p.a[0], p.a[1] + 1n];
    });
    expect(out.ok).to.equal(false);
    expect(out.report.findings.map((f) => `${f.round}:${f.link}`)).to.deep.equal(["1:proof"]);
  });

  it("should fail, naming round 2 and the weights, when a weight is moved between participants", async function () {
    const out = await auditWith((e) => {
      e.rounds[1].updates[0].weight += 1;
      e.rounds[1].updates[1].weight -= 1;
    });
    expect(out.ok).to.equal(false);
    const links = out.report.findings.map((f) => `${f.round}:${f.link}`);
    expect(links).to.include("2:weights");
    expect(links).to.include("2:proof");
  });

  it("should fail, naming round 2 and the checkpoint, when one byte of its checkpoint is altered on disk", async function () {
    const file = blockFilePath(result.session!.store, result.rounds[1].cid);
    const bytes = await readFile(file);
    bytes[bytes.length - 5] ^= 0x01;
    await writeFile(file, bytes);
    const out = await auditWith(() => undefined);
    expect(out.ok).to.equal(false);
    expect(out.report.findings.map((f) => `${f.round}:${f.link}`)).to.deep.equal(["2:checkpoint"]);
    expect(out.lines.join("\n")).to.contain(`round 2: checkpoint: ${result.rounds[1].cid}`);
  });
});

describe("end to end: dropout rounds (3 of K = 4 updates), proven through padding slots", function () {
  let dir: string;
  let result: DemoResult;
  let evidence: FederationEvidence;

  before(async function () {
    ({ dir, result, evidence } = await startDemoRun("dsain-dropouts-", { epochs: 1, dropouts: 1 }));
  });

  after(async function () {
    await stopDemoRun(dir, result);
  });

  it("should close both rounds (batched and direct) with 3 updates, prove and finalize them on-chain", async function () {
    expect(evidence.config.participantsPerRound).to.equal(4);
    expect(evidence.config.minUpdates).to.equal(3);
    for (const [i, r] of result.rounds.entries()) {
      expect(r.selected, `round ${i + 1}`).to.have.length(3);
      expect(r.dropped, `round ${i + 1}`).to.have.length(1);
      expect(r.selected).to.not.include(r.dropped![0]);
      const record = await result.session!.ledgerClient.roundRecord(result.federationId, BigInt(i + 1));
      expect(record.status, `round ${i + 1}`).to.equal(BigInt(RoundStatus.Finalized));
      expect(evidence.rounds[i].updates).to.have.length(3);
    }
    expect(result.rounds.map((r) => r.mode)).to.deep.equal(["batched", "direct"]);
  });

  it("should pass the audit, which verifies each proof against the padded public inputs", function () {
    expect(result.audit?.ok, result.audit?.lines.join("\n")).to.equal(true);
    expect(result.audit?.report.proven).to.equal(2);
  });

  it("should fail the proof link when the auditor builds the inputs without padding (a federation of K = 3)", async function () {
    const copy = structuredClone(evidence);
    copy.config.participantsPerRound = 3;
    const keys = await ensureCircuitKeys(DEMO_INSTANCE);
    const out = await auditEvidence({ evidence: copy, store: result.session!.store, vkey: keys.vkey, vkeyHash: keys.vkeyHash });
    const links = out.report.findings.map((f) => `${f.round}:${f.link}`);
    expect(links).to.include("1:proof");
    expect(links).to.include("2:proof");
  });
});
