// A federation run by separate processes on 127.0.0.1: anvil with 1 s blocks, 3 committee members
// (`dsain aggregator`, f = 1) and the roster's 6 participants (`dsain participant`, K = 4), each with
// its own keystore, IPFS node and view of the chain. Round 1 comes from a one-round demo (it deploys
// and enrols); the daemons then run rounds 2 and 3 on their own: train, attest, announce, fetch,
// propose, re-execute and endorse, post with f + 1 signatures, prove, finalize. The history is then
// audited by `dsain audit` in its own process. Every process is stopped by PID.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Contract, JsonRpcProvider, Wallet, getAddress } from "ethers";
import { runDemo, DEMO_DEFAULTS, type DemoResult } from "../../aggregator/demo/demo.js";
import { committeeWallet, participantWallet } from "../../aggregator/demo/common.js";
import { LEDGER_ABI } from "../../aggregator/adapters/chain/abi.js";
import { LedgerClient } from "../../aggregator/adapters/chain/ledger.js";
import { openCheckpointStore, type CheckpointStore } from "../../aggregator/adapters/storage/checkpoint-store.js";
import { decodeCheckpoint } from "../../aggregator/protocol/checkpoint.js";
import { cidFromOnchain } from "../../aggregator/protocol/cid.js";
import { RoundStatus } from "../../aggregator/protocol/evidence.js";
import { proposerOf } from "../../aggregator/protocol/wire.js";
import { writeKeystore } from "../../aggregator/nodes/keys.js";
import type { ReadyReport } from "../../aggregator/nodes/run.js";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import { freePort, startChain, startReady, stopChain, stopProcess, type LocalChain, type ReadyProcess } from "../helpers/processes.js";

const run = promisify(execFile);
const DSAIN = path.join(PROJECT_ROOT, "bin", "dsain.js");
const PASSWORD = "federation test password";
/** anvil's first development account: the demo's deployer, admin and first committee member. */
const ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const SLOT_SECONDS = 12;

function logLines(p: ReadyProcess<unknown>): Record<string, unknown>[] {
  return p
    .stdout()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("a federation of separate processes (3 aggregators, 6 participants, anvil with 1 s blocks)", function () {
  let chain: LocalChain | undefined;
  let dir: string;
  let demo: DemoResult;
  let seed: CheckpointStore | undefined;
  let provider: JsonRpcProvider | undefined;
  const aggregators: ReadyProcess<ReadyReport>[] = [];
  const aggregatorConfigs: Record<string, unknown>[] = [];
  const stopped: ReadyProcess<ReadyReport>[] = [];
  const participants: ReadyProcess<ReadyReport>[] = [];
  const env = { ...process.env, DSAIN_KEYSTORE_PASSWORD: PASSWORD };

  async function spawnNode(
    role: "aggregator" | "participant",
    name: string,
    config: Record<string, unknown>,
  ): Promise<ReadyProcess<ReadyReport>> {
    const file = path.join(dir, `${name}.config.json`);
    await writeFile(file, JSON.stringify(config, null, 2));
    return startReady<ReadyReport>(process.execPath, [DSAIN, role, "--config", file], { cwd: PROJECT_ROOT, env }, 120_000);
  }

  before(async function () {
    chain = await startChain(
      path.join(PROJECT_ROOT, "node_modules", ".bin", "anvil"),
      (port) => ["--host", "127.0.0.1", "--port", String(port), "--silent"],
      PROJECT_ROOT,
    );
    dir = await mkdtemp(path.join(os.tmpdir(), "dsain-federation-"));
    // Set-up on an automining chain (deploy, enrol, round 1), then 1 s blocks like a QBFT network.
    demo = await runDemo({
      ...DEMO_DEFAULTS,
      rounds: 1,
      epochs: 1,
      postMode: "direct",
      workDir: path.join(dir, "demo"),
      rpcUrl: chain.url,
      skipAudit: true,
    });
    provider = new JsonRpcProvider(chain.url, undefined, { staticNetwork: true });
    const admin = new Wallet(ANVIL_KEY_0, provider);
    const ledger = new Contract(demo.ledger, LEDGER_ABI, admin);
    const role = await ledger.AGGREGATOR_ROLE();
    let nonce = await provider.getTransactionCount(admin.address, "latest");
    for (const i of [1, 2]) {
      await (await ledger.grantRole(role, committeeWallet(i).address, { nonce: nonce++ })).wait();
      await (await admin.sendTransaction({ to: committeeWallet(i).address, value: 10n ** 18n, nonce: nonce++ })).wait();
    }
    await provider.send("evm_setIntervalMining", [1]);

    // The demo's IPFS folder, served on the network: round 1's checkpoint and updates come from it.
    seed = await openCheckpointStore({ directory: demo.ipfsDir, network: {} });
    const members = [new Wallet(ANVIL_KEY_0), committeeWallet(1), committeeWallet(2)];
    const common = { rpc: chain.url, ledger: demo.ledger, federationId: String(demo.federationId), pollMs: 250 };
    const peers = [...seed.multiaddrs];
    for (const [i, w] of members.entries()) {
      await writeKeystore(path.join(dir, `aggregator-${i}.json`), w, PASSWORD, { light: true });
      aggregatorConfigs.push({
        ...common,
        key: { keystore: `aggregator-${i}.json` },
        dataDir: `aggregator-${i}`,
        listen: `/ip4/127.0.0.1/tcp/${await freePort()}`,
        peers: [...peers],
        slotSeconds: SLOT_SECONDS,
        collectSeconds: 6,
        metrics: { port: 0 },
      });
      const a = await spawnNode("aggregator", `aggregator-${i}`, aggregatorConfigs[i]);
      aggregators.push(a);
      peers.push(...a.ready.multiaddrs);
    }
    const roster = demo.rounds.length > 0 ? 4 + 2 : 0; // K + ROSTER_EXTRA, as the demo enrols
    for (let i = 0; i < roster; i++) {
      await writeKeystore(path.join(dir, `participant-${i}.json`), participantWallet(DEMO_DEFAULTS.seed, i), PASSWORD, { light: true });
      participants.push(
        await spawnNode("participant", `participant-${i}`, {
          ...common,
          key: { keystore: `participant-${i}.json` },
          dataDir: `participant-${i}`,
          peers,
          data: { kind: "synthetic", seed: DEMO_DEFAULTS.seed, shard: i, shards: roster },
          training: { epochs: 1 },
        }),
      );
    }
  });

  after(async function () {
    for (const p of [...participants, ...aggregators, ...stopped]) await stopProcess(p.process);
    await seed?.stop();
    provider?.destroy();
    await stopChain(chain);
    if (dir) await rm(dir, { recursive: true, force: true });
    if (demo?.deploymentId)
      await rm(path.join(PROJECT_ROOT, "ignition", "deployments", demo.deploymentId), { recursive: true, force: true });
  });

  /** Waits until round `round` is finalized; fails if a running daemon exits, naming it with its last log lines. */
  async function finalized(round: bigint, timeoutMs: number, what: string): Promise<void> {
    const ledger = LedgerClient.at(demo.ledger, provider!);
    const started = Date.now();
    for (;;) {
      const state = await ledger.federationState(demo.federationId);
      if (state.lastFinalized >= round) return;
      const dead = [...aggregators, ...participants].find((p) => p.process.exitCode !== null || p.process.signalCode !== null);
      if (dead !== undefined)
        expect.fail(
          `a daemon exited (${dead.process.exitCode ?? dead.process.signalCode}): ${dead.stderr()}\n${dead.stdout().slice(-3000)}`,
        );
      if (Date.now() - started > timeoutMs) {
        const tails = aggregators.map((a, i) => `aggregator ${i}:\n${a.stdout().slice(-2500)}`).join("\n");
        expect.fail(
          `${what}: round ${round} not finalized within ${timeoutMs / 1000} s (last finalized ${state.lastFinalized}, open ${state.lastRound + 1n})\n${tails}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  function said(p: ReadyProcess<ReadyReport>, msg: string, round?: number): Record<string, unknown>[] {
    return logLines(p).filter((l) => l.msg === msg && (round === undefined || l.round === round));
  }

  async function openRound(): Promise<bigint> {
    return (await LedgerClient.at(demo.ledger, provider!).federationState(demo.federationId)).lastRound + 1n;
  }

  it("should run rounds end to end: proposed in its slot, re-executed and endorsed by another member, posted with f+1 signatures, proven, finalized", async function () {
    const started = Date.now();
    await finalized(3n, 180_000, "two rounds by the daemons");
    console.log(`      rounds 2 and 3 by the daemons in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const t of [2, 3]) {
      expect(aggregators.filter((a) => said(a, "proposed a record", t).length > 0).length, `round ${t}: one proposer`).to.equal(1);
      expect(
        aggregators.filter((a) => said(a, "re-executed the proposal: same record; endorsed", t).length > 0).length,
        `round ${t}: endorsers`,
      ).to.be.at.least(1);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${aggregators[0].ready.metricsPort}/metrics`)).text();
    expect(metrics).to.match(/dsain_updates_fetched_total\{[^}]*\} [1-9]/);
  });

  it("should complete a round whose slot-0 proposer was SIGKILLed, through the next member's slot", async function () {
    const committee = demo.rounds.length > 0 ? await committeeOf() : [];
    const victimRound = (await openRound()) + 1n;
    const victim = committee.indexOf(proposerOf(victimRound, committee, 0));
    stopped.push(aggregators[victim]);
    expect(await stopProcess(aggregators[victim].process, "SIGKILL")).to.equal("SIGKILL");
    const others = aggregators.filter((_, i) => i !== victim);
    aggregators.splice(victim, 1, ...[]); // watched no more while down
    try {
      await finalized(victimRound, 150_000, "a round without its slot-0 proposer");
    } finally {
      aggregators.splice(victim, 0, stopped.at(-1)!);
    }
    const proposals = others.flatMap((a) =>
      said(a, "proposed a record", Number(victimRound)).concat(said(a, "proposed a record (the one it endorsed)", Number(victimRound))),
    );
    expect(proposals.length, "proposals of the victim's round").to.be.at.least(1);
    expect(
      proposals.every((p) => Number(p.slot) >= 1),
      "made in a later slot",
    ).to.equal(true);
    victimIndex = victim;
  });

  let victimIndex = -1;

  it("should refuse a lying member's record (wrong aggregate) with the mismatch named, keep it off the chain, and complete the round", async function () {
    // The member killed above comes back on the same folder and address, lying this time.
    const liar = await spawnNode("aggregator", `aggregator-${victimIndex}-liar`, { ...aggregatorConfigs[victimIndex], misbehave: "lie" });
    aggregators[victimIndex] = liar;
    const committee = await committeeOf();
    let lieRound = (await openRound()) + 1n;
    while (proposerOf(lieRound, committee, 0) !== committee[victimIndex]) lieRound += 1n;
    await finalized(lieRound, 200_000, "a round whose slot-0 proposer lies");
    expect(said(liar, "proposed a record", Number(lieRound)).length, "the liar proposed").to.be.at.least(1);
    const refusals = aggregators
      .filter((_, i) => i !== victimIndex)
      .flatMap((a) => said(a, "refused a proposal", Number(lieRound)))
      .map((l) => String(l.reason));
    expect(refusals.length, "honest refusals").to.be.at.least(1);
    expect(
      refusals.some((r) => /gives checkpoint .* \(the aggregate differs\)/.test(r)),
      refusals.join("\n"),
    ).to.equal(true);
    const ledger = LedgerClient.at(demo.ledger, provider!);
    const posted = await ledger.roundRecord(demo.federationId, lieRound);
    const lie = said(liar, "proposed a record", Number(lieRound))[0];
    const evidence = await ledger.readEvidence(demo.federationId, provider!);
    expect(
      cidFromOnchain(
        evidence.rounds.find((r) => r.round === Number(lieRound))!.cidCodec,
        evidence.rounds.find((r) => r.round === Number(lieRound))!.cidDigest,
      ).toString(),
    ).to.not.equal(lie.checkpoint);
    expect(posted.status).to.equal(BigInt(RoundStatus.Finalized));
  });

  it("should leave a history that dsain audit, in its own process, passes in full", async function () {
    const ledger = LedgerClient.at(demo.ledger, provider!);
    // No participant, no new round: stop them, and let the committee finish what it posted.
    for (const p of participants) expect(await stopProcess(p.process)).to.equal(0);
    for (let waited = 0; ; waited += 1000) {
      const state = await ledger.federationState(demo.federationId);
      if (state.lastFinalized === state.head) break;
      if (waited > 60_000) expect.fail(`round ${state.head} not finalized 60 s after the participants stopped`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const evidence = await ledger.readEvidence(demo.federationId, provider!);
    const last = Math.max(...evidence.rounds.map((r) => r.round));
    for (let t = demo.rounds.length + 1; t <= last; t++) {
      const posted = evidence.rounds.find((r) => r.round === t)!;
      expect(posted.quorumSignatures.length, `round ${t} quorum`).to.equal(2);
      // The seed peer fetches the round's checkpoint and every update it lists, for the audit below.
      const bytes = await seed!.fetch(cidFromOnchain(posted.cidCodec, posted.cidDigest), { maxBytes: 1 << 20 });
      for (const u of decodeCheckpoint(bytes).updates ?? []) await seed!.fetch(u.cid, { maxBytes: 1 << 20 });
    }
    for (const p of aggregators) expect(await stopProcess(p.process)).to.equal(0);
    await seed!.stop();
    seed = undefined;
    const audit = await run(
      process.execPath,
      [DSAIN, "audit", "--rpc", chain!.url, "--ledger", demo.ledger, "--federation", String(demo.federationId), "--ipfs", demo.ipfsDir],
      { cwd: PROJECT_ROOT, timeout: 300_000 },
    ).catch((e: { code?: number; stdout?: string; stderr?: string }) =>
      expect.fail(`dsain audit exited ${e.code}:\n${e.stdout}\n${e.stderr}`),
    );
    expect(audit.stdout).to.match(/verdict: PASS — /);
    expect(audit.stdout).to.include(`round ${last}: ok (selection, signatures, quorum`);
  });

  async function committeeOf(): Promise<string[]> {
    return (await LedgerClient.at(demo.ledger, provider!).federationConfig(demo.federationId)).committee.map((a) => getAddress(a));
  }
});
