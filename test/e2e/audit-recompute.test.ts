// The auditor recomputes every round from the published updates: a ByzFed federation with a
// Byzantine participant, run by the demo's aggregator on Hardhat's in-process network with real
// Helia and real proofs, in which the aggregator cheats twice — round 2 commits a model wrong in
// one coordinate the proof does not sample (the proof verifies on-chain), round 3 lists two
// participants' update files swapped — and ByzFed weights and reputations tampered with afterwards.
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { auditEvidence } from "../../aggregator/roles/auditor/run.js";
import { RoundStatus, type FederationEvidence } from "../../aggregator/protocol/evidence.js";
import { DEMO_DEFAULTS, DEMO_INSTANCE, runDemo, type DemoResult } from "../../aggregator/demo/demo.js";
import { CHUNK_SIZE, challengeChunk, chunkCount } from "../../aggregator/protocol/index.js";
import { ensureCircuitKeys, releaseZkWorkers } from "../../aggregator/adapters/proof/keys.js";

describe("audit: recomputation from the published updates (ByzFed, cheating aggregator)", function () {
  let dir: string;
  let result: DemoResult;
  let evidence: FederationEvidence;
  /**
   * Roster index 0 is Byzantine; seed 5 selects it in every round (selection follows the chain's
   * history, so the seed is chosen for that: seeds 1 to 3 leave it out of some round since the
   * ledger is deployed as two contracts and two libraries, issue 16).
   */
  let byzantine: string;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "dsain-recompute-"));
    result = await runDemo({
      ...DEMO_DEFAULTS,
      seed: 5,
      rounds: 3,
      epochs: 1,
      workDir: dir,
      rule: "byzfed",
      byzantine: 1,
      cheats: [
        { round: 2, kind: "model-outside-challenge" },
        { round: 3, kind: "swapped-updates" },
      ],
      keepOpen: true,
    });
    const { chain, ledgerClient } = result.session!;
    evidence = await ledgerClient.readEvidence(result.federationId, chain.ethers.provider);
    byzantine = evidence.participants[0];
  });

  after(async function () {
    await result?.session?.store.stop();
    await result?.session?.chain.close();
    await releaseZkWorkers();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function auditWith(tamper: (e: FederationEvidence) => void) {
    const copy = structuredClone(evidence);
    tamper(copy);
    const keys = await ensureCircuitKeys(DEMO_INSTANCE);
    return auditEvidence({ evidence: copy, store: result.session!.store, vkey: keys.vkey, vkeyHash: keys.vkeyHash });
  }

  const links = (out: { report: { findings: { round: number; link: string }[] } }) =>
    out.report.findings.map((f) => `${f.round}:${f.link}`);

  it("should have ByzFed drop the Byzantine participant each round: weight 0, reputation decayed by 0.9 per round", function () {
    const reputations = [900_000, 810_000, 729_000];
    for (const [t, r] of result.rounds.entries()) {
      const i = r.selected.indexOf(byzantine);
      expect(r.byzantine, `round ${t + 1}`).to.deep.equal([byzantine]);
      expect(r.weights[i], `round ${t + 1}`).to.equal(0);
      expect(r.reputations[i], `round ${t + 1}`).to.equal(reputations[t]);
      expect(r.weights.reduce((a, b) => a + b, 0)).to.equal(65536);
    }
  });

  it("should let the cheating rounds pass on-chain: posted, proven and finalized", async function () {
    for (const t of [2n, 3n]) {
      const record = await result.session!.ledgerClient.roundRecord(result.federationId, t);
      expect(record.status, `round ${t}`).to.equal(BigInt(RoundStatus.Finalized));
    }
    expect(result.audit?.report.proven).to.equal(3);
  });

  it("should catch the model wrong outside the challenged chunk as an aggregation finding, although the proof verifies", function () {
    const audit = result.audit!;
    expect(audit.ok).to.equal(false);
    expect(links(audit)).to.deep.equal(["2:aggregation", "3:updates", "3:updates"]);
    // The corrupted coordinate lies outside the chunk the ledger challenged and the proof opened.
    const round2 = evidence.rounds[1];
    const challenged = challengeChunk(round2.challengeSeed, chunkCount(evidence.config.modelLength));
    const coordinate = evidence.config.modelLength - 1;
    expect(Math.floor(coordinate / CHUNK_SIZE)).to.not.equal(challenged);
    expect(audit.lines.join("\n")).to.contain(`round 2: aggregation: coordinate ${coordinate} (dense_1/bias[3]) is `);
    expect(audit.lines.join("\n")).to.contain(`not the challenged chunk ${challenged}`);
  });

  it("should recompute round 1 exactly and confirm ByzFed's kept set, weights and reputations there", function () {
    expect(result.audit!.report.recomputed).to.equal(1);
    expect(result.audit!.lines.join("\n")).to.match(
      /round 1: ok \(.*4 published updates, ByzFed kept set, weights and reputations, aggregation recomputed exactly, proof; final\)/,
    );
  });

  it("should name the swapped update files of round 3: each is the other participant's update", function () {
    const [a, b] = result.rounds[2].selected;
    const text = result.audit!.lines.join("\n");
    expect(text).to.contain(
      `round 3: updates: the file listed as the update of ${a} (${result.rounds[2].updateCids[1]}) is the update of ${b}`,
    );
    expect(text).to.contain(
      `round 3: updates: the file listed as the update of ${b} (${result.rounds[2].updateCids[0]}) is the update of ${a}`,
    );
  });

  it("should fail, naming round 1 and the weights, when the Byzantine participant is given weight", async function () {
    const out = await auditWith((e) => {
      const u = e.rounds[0].updates;
      const dropped = u.findIndex((x) => x.participant === byzantine);
      const kept = u.findIndex((x) => x.weight > 0);
      u[dropped].weight += 100;
      u[kept].weight -= 100;
    });
    expect(links(out)).to.include("1:weights");
    expect(out.report.findings.find((f) => f.link === "weights")!.message).to.match(/differ from ByzFed's .*ByzFed keeps \[/);
  });

  it("should fail, naming round 1 and the reputation, when a reputation after the round is altered", async function () {
    const out = await auditWith((e) => {
      const u = e.rounds[0].updates.find((x) => x.participant === byzantine)!;
      u.reputationMicros = 1_000_000; // as if it had been kept
    });
    expect(links(out)).to.include("1:reputation");
    expect(links(out)).to.include("1:commitment"); // the accounting digest no longer matches
    // Round 2 re-runs ByzFed from the altered reputation: its record no longer follows either.
    expect(links(out)).to.include("2:reputation");
    expect(out.lines.join("\n")).to.contain(
      `round 1: reputation: ${byzantine}'s reputation after the round is 1000000 µ in the record; ByzFed gives 900000 µ`,
    );
  });
});
