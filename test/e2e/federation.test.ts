// A federation run by separate processes on 127.0.0.1 (the devnet of `dsain devnet`): anvil with
// 1 s blocks, 3 committee members (`dsain aggregator`, f = 1) and the roster's 6 participants
// (`dsain participant`, K = 4), each with its own keystore, IPFS node and view of the chain, run
// every round on their own: train, attest, announce, fetch, propose, re-execute and endorse, post
// with f + 1 signatures, prove, finalize. Then the faults: a proposer SIGKILLed, a member lying.
// The history is audited by `dsain audit` in its own process. Every process is stopped by PID.
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getAddress } from "ethers";
import { DEVNET_DEFAULTS, Devnet, type Daemon } from "../../aggregator/demo/devnet.js";
import { cidFromOnchain } from "../../aggregator/protocol/cid.js";
import { RoundStatus } from "../../aggregator/protocol/evidence.js";
import { proposerOf } from "../../aggregator/protocol/wire.js";

function logLines(p: Daemon): Record<string, unknown>[] {
  return p
    .stdout()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function said(p: Daemon, msg: string, round?: number): Record<string, unknown>[] {
  return logLines(p).filter((l) => l.msg === msg && (round === undefined || l.round === round));
}

describe("a federation of separate processes (dsain devnet: 3 aggregators, 6 participants, anvil with 1 s blocks)", function () {
  let dir: string;
  let devnet: Devnet | undefined;
  let victim = -1;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "dsain-federation-"));
    devnet = await Devnet.start({
      ...DEVNET_DEFAULTS,
      workDir: path.join(dir, "devnet"),
      slotSeconds: 12,
      collectSeconds: 6,
      log: () => undefined,
    });
  });

  after(async function () {
    await devnet?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function openRound(): Promise<bigint> {
    return (await devnet!.ledger().federationState(devnet!.setup.federationId)).lastRound + 1n;
  }

  async function committee(): Promise<string[]> {
    return (await devnet!.ledger().federationConfig(devnet!.setup.federationId)).committee.map((a) => getAddress(a));
  }

  it("should run rounds end to end: proposed in its slot, re-executed and endorsed by another member, posted with f+1 signatures, proven, finalized", async function () {
    const started = Date.now();
    await devnet!.waitFinalized(2n, 180_000, "the first two rounds");
    console.log(`      rounds 1 and 2 by the daemons in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const t of [1, 2]) {
      // Slots count from the round's opening: a round that waited long for its updates (the first,
      // opened before the daemons started) may see proposals in more than one slot.
      const proposers = devnet!.aggregators.filter((a) => said(a, "proposed a record", t).length > 0);
      expect(proposers.length, `round ${t}: proposers`).to.be.at.least(1);
      const endorsers = devnet!.aggregators.filter((a) => said(a, "re-executed the proposal: same record; endorsed", t).length > 0);
      expect(endorsers.length, `round ${t}: endorsers`).to.be.at.least(1);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${devnet!.aggregators[0].ready.metricsPort}/metrics`)).text();
    expect(metrics).to.match(/dsain_updates_fetched_total\{[^}]*\} [1-9]/);
    expect(metrics).to.match(/dsain_rounds_posted_total\{[^}]*\} [1-9]/);
  });

  it("should complete a round whose slot-0 proposer was SIGKILLed, through the next member's slot", async function () {
    const members = await committee();
    const round = (await openRound()) + 1n;
    victim = members.indexOf(proposerOf(round, members, 0));
    expect(await devnet!.kill(devnet!.aggregators[victim], "SIGKILL")).to.equal("SIGKILL");
    const others = devnet!.aggregators.filter((_, i) => i !== victim);
    await devnet!.waitFinalized(round, 150_000, "a round without its slot-0 proposer");
    const proposals = others.flatMap((a) => [
      ...said(a, "proposed a record", Number(round)),
      ...said(a, "proposed a record (the one it endorsed)", Number(round)),
    ]);
    expect(proposals.length, "proposals of the round").to.be.at.least(1);
    expect(
      proposals.every((p) => Number(p.slot) >= 1),
      "made in a later slot",
    ).to.equal(true);
  });

  it("should resume a proposer SIGKILLed right after proposing, from the chain and its state file: the round posted once, no second record signed", async function () {
    const members = await committee();
    let round = (await openRound()) + 1n;
    while (members.indexOf(proposerOf(round, members, 0)) === victim) round += 1n; // a live member's round
    const index = members.indexOf(proposerOf(round, members, 0));
    const first = devnet!.aggregators[index];
    for (const deadline = Date.now() + 120_000; said(first, "proposed a record", Number(round)).length === 0;) {
      if (Date.now() > deadline) expect.fail(`aggregator ${index} did not propose round ${round}:\n${first.stdout().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await devnet!.kill(first, "SIGKILL")).to.equal("SIGKILL");
    const again = await devnet!.spawn("aggregator", `aggregator-${index}-restarted`, devnet!.aggregatorConfigs[index]);
    devnet!.aggregators[index] = again;
    await devnet!.waitFinalized(round, 150_000, "a round whose proposer was killed and restarted");
    const digests = [first, again].flatMap((a) => said(a, "proposed a record", Number(round)).map((l) => l.digest));
    expect(new Set(digests).size, "the records it proposed for the round").to.equal(1);
    const postedBy = devnet!.aggregators
      .flatMap((a) => said(a, "posted the record", Number(round)))
      .concat(said(first, "posted the record", Number(round)));
    expect(postedBy.length, "transactions that posted the round").to.be.at.most(1);
  });

  it("should refuse a lying member's record (wrong aggregate) with the mismatch named, keep it off the chain, and complete the round", async function () {
    // The member killed above comes back on the same folder and address, lying this time.
    const liar = await devnet!.spawn("aggregator", `aggregator-${victim}-liar`, { ...devnet!.aggregatorConfigs[victim], misbehave: "lie" });
    devnet!.aggregators[victim] = liar;
    const members = await committee();
    let round = (await openRound()) + 1n;
    while (proposerOf(round, members, 0) !== members[victim]) round += 1n;
    await devnet!.waitFinalized(round, 200_000, "a round whose slot-0 proposer lies");
    const lie = said(liar, "proposed a record", Number(round));
    expect(lie.length, "the liar proposed").to.be.at.least(1);
    const refusals = devnet!.aggregators
      .filter((_, i) => i !== victim)
      .flatMap((a) => said(a, "refused a proposal", Number(round)))
      .map((l) => String(l.reason));
    expect(
      refusals.some((r) => /gives checkpoint .* \(the aggregate differs\)/.test(r)),
      refusals.join("\n"),
    ).to.equal(true);
    const evidence = await devnet!.ledger().readEvidence(devnet!.setup.federationId, devnet!.provider);
    const posted = evidence.rounds.find((r) => r.round === Number(round))!;
    expect(cidFromOnchain(posted.cidCodec, posted.cidDigest).toString()).to.not.equal(lie[0].checkpoint);
    expect((await devnet!.ledger().roundRecord(devnet!.setup.federationId, round)).status).to.equal(BigInt(RoundStatus.Finalized));
  });

  it("should leave a history that dsain audit, in its own process, passes in full", async function () {
    const last = await devnet!.finish();
    const evidence = await devnet!.ledger().readEvidence(devnet!.setup.federationId, devnet!.provider);
    for (const r of evidence.rounds) expect(r.quorumSignatures.length, `round ${r.round} quorum`).to.equal(2);
    const audit = await devnet!.audit();
    expect(audit.code, audit.stdout).to.equal(0);
    expect(audit.stdout).to.match(/verdict: PASS — /);
    expect(audit.stdout).to.include(`round ${last}: ok (selection, signatures, quorum`);
  });
});
