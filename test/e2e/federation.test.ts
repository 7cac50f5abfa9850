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
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { runDemo, DEMO_DEFAULTS, type DemoResult } from "../../aggregator/demo/demo.js";
import { committeeWallet, participantWallet } from "../../aggregator/demo/common.js";
import { LEDGER_ABI } from "../../aggregator/adapters/chain/abi.js";
import { LedgerClient } from "../../aggregator/adapters/chain/ledger.js";
import { openCheckpointStore, type CheckpointStore } from "../../aggregator/adapters/storage/checkpoint-store.js";
import { decodeCheckpoint } from "../../aggregator/protocol/checkpoint.js";
import { cidFromOnchain } from "../../aggregator/protocol/cid.js";
import { RoundStatus } from "../../aggregator/protocol/evidence.js";
import { writeKeystore } from "../../aggregator/nodes/keys.js";
import type { ReadyReport } from "../../aggregator/nodes/run.js";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import { freePort, startChain, startReady, stopChain, stopProcess, type LocalChain, type ReadyProcess } from "../helpers/processes.js";

const run = promisify(execFile);
const DSAIN = path.join(PROJECT_ROOT, "bin", "dsain.js");
const PASSWORD = "federation test password";
/** anvil's first development account: the demo's deployer, admin and first committee member. */
const ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ROUNDS_BY_DAEMONS = 2;

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
      const a = await spawnNode("aggregator", `aggregator-${i}`, {
        ...common,
        key: { keystore: `aggregator-${i}.json` },
        dataDir: `aggregator-${i}`,
        listen: `/ip4/127.0.0.1/tcp/${await freePort()}`,
        peers: [...peers],
        slotSeconds: 20,
        collectSeconds: 10,
        metrics: { port: 0 },
      });
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
    for (const p of [...participants, ...aggregators]) await stopProcess(p.process);
    await seed?.stop();
    provider?.destroy();
    await stopChain(chain);
    if (dir) await rm(dir, { recursive: true, force: true });
    if (demo?.deploymentId)
      await rm(path.join(PROJECT_ROOT, "ignition", "deployments", demo.deploymentId), { recursive: true, force: true });
  });

  it(`should run ${ROUNDS_BY_DAEMONS} rounds end to end (posted with f+1 re-executed signatures, proven, finalized) and pass dsain audit`, async function () {
    const ledger = LedgerClient.at(demo.ledger, provider!);
    const target = BigInt(demo.rounds.length + ROUNDS_BY_DAEMONS);
    const started = Date.now();
    for (;;) {
      const state = await ledger.federationState(demo.federationId);
      if (state.lastFinalized >= target) break;
      const dead = [...aggregators, ...participants].find((p) => p.process.exitCode !== null);
      if (dead !== undefined) expect.fail(`a daemon exited (${dead.process.exitCode}): ${dead.stderr()}\n${dead.stdout().slice(-3000)}`);
      if (Date.now() - started > 300_000) {
        expect.fail(
          `rounds not finalized within 300 s (last finalized ${state.lastFinalized}, last round ${state.lastRound}); aggregator 0's log:\n${aggregators[0].stdout().slice(-6000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    console.log(`      ${ROUNDS_BY_DAEMONS} rounds by the daemons in ${((Date.now() - started) / 1000).toFixed(1)} s`);

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
    expect(last).to.be.at.least(Number(target));

    // Each round: posted by its proposer, endorsed after re-execution by another member.
    const logs = aggregators.map(logLines);
    for (let t = demo.rounds.length + 1; t <= last; t++) {
      const record = await ledger.roundRecord(demo.federationId, BigInt(t));
      expect(record.status).to.equal(BigInt(RoundStatus.Finalized));
      const proposers = logs.filter((l) => l.some((x) => x.msg === "proposed a record" && x.round === t));
      const endorsers = logs.filter((l) => l.some((x) => x.msg === "re-executed the proposal: same record; endorsed" && x.round === t));
      expect(proposers.length, `round ${t} proposers`).to.equal(1);
      expect(endorsers.length, `round ${t} endorsers`).to.be.at.least(1);
      expect(evidence.rounds.find((r) => r.round === t)!.quorumSignatures.length).to.equal(2);
      // The seed peer fetches the round's checkpoint and every update it lists, for the audit below.
      const posted = evidence.rounds.find((r) => r.round === t)!;
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
    const stdout = audit.stdout;
    expect(stdout).to.match(/verdict: PASS — /);
    expect(stdout).to.include(`round ${last}: ok (selection, signatures, quorum`);
  });
});
