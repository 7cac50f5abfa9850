// The main job end to end on Hardhat's in-process network, then the auditor against tampering:
// each altered link (checkpoint byte, commitment, signature, proof) fails with round and link named.
import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runDemo, DEMO_DEFAULTS, type DemoResult } from "../aggregator/demo/demo.js";
import { auditEvidence } from "../aggregator/audit/run.js";
import type { FederationEvidence } from "../aggregator/chain/ledger.js";
import { blockFilePath } from "../aggregator/ipfs/checkpoint-store.js";
import { ensureCircuitKeys, releaseZkWorkers } from "../aggregator/zk/keys.js";
import { DEMO_INSTANCE } from "../aggregator/demo/demo.js";

describe("end to end: demo then audit", function () {
  let dir: string;
  let result: DemoResult;
  let evidence: FederationEvidence;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "dsain-e2e-"));
    result = await runDemo({ ...DEMO_DEFAULTS, epochs: 1, workDir: dir, keepOpen: true });
    const { chain, ledgerClient } = result.session!;
    evidence = await ledgerClient.readEvidence(result.federationId, chain.ethers.provider);
  });

  after(async function () {
    await result?.session?.store.stop();
    await result?.session?.chain.close();
    await releaseZkWorkers();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Audits a tampered deep copy of the chain's evidence. */
  async function auditWith(tamper: (e: FederationEvidence) => void) {
    const copy = structuredClone(evidence);
    tamper(copy);
    const keys = await ensureCircuitKeys(DEMO_INSTANCE);
    return auditEvidence({ evidence: copy, store: result.session!.store, vkey: keys.vkey, vkeyHash: keys.vkeyHash });
  }

  it("should record two rounds, each proven on-chain", async function () {
    expect(result.rounds.map((r) => r.round)).to.deep.equal([1, 2]);
    for (const r of result.rounds) {
      const record = await result.session!.ledgerClient.roundRecord(result.federationId, BigInt(r.round));
      expect(record.status, `round ${r.round} status`).to.equal(3n); // Proven
      expect(record.commitment).to.equal(r.commitment);
      expect(r.proveGas > 0n && r.postGas > 0n).to.equal(true);
    }
  });

  it("should train a model well above chance (4 classes)", function () {
    expect(result.rounds[1].accuracy).to.be.greaterThan(0.6);
  });

  it("should pass the audit of the untouched history", function () {
    expect(result.audit?.ok, result.audit?.lines.join("\n")).to.equal(true);
    expect(result.audit?.report.proven).to.equal(2);
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
