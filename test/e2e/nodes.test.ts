// `dsain aggregator` and `dsain participant` as their own processes against a real anvil chain on
// 127.0.0.1 holding a federation (deployed by a one-round demo): ready report, /healthz and
// /metrics, the open round in the logs, two daemons connected over libp2p, SIGTERM → exit 0; and
// every start-up refusal (bad field, wrong password, readable key file, RPC down, not on the
// committee, no such federation) as exit 2 with a message naming it. Each process is stopped by PID.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { runDemo, DEMO_DEFAULTS, type DemoResult } from "../../aggregator/demo/demo.js";
import { committeeWallet, participantWallet } from "../../aggregator/demo/common.js";
import { writeKeystore, writePrivateFile } from "../../aggregator/nodes/keys.js";
import { JsonRpcProvider, getAddress } from "ethers";
import { LedgerClient } from "../../aggregator/adapters/chain/ledger.js";
import { openCheckpointStore, type CheckpointStore } from "../../aggregator/adapters/storage/checkpoint-store.js";
import { readSelection } from "../../aggregator/roles/aggregator.js";
import { decodeUpdateFile } from "../../aggregator/protocol/checkpoint.js";
import { fieldToBytes32, vectorRoot } from "../../aggregator/protocol/vector-root.js";
import { decodeWireMessage, topicName, type UpdateAnnouncement } from "../../aggregator/protocol/wire.js";
import type { ReadyReport } from "../../aggregator/nodes/run.js";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import { freePort, startChain, startReady, stopChain, stopProcess, type LocalChain, type ReadyProcess } from "../helpers/processes.js";

const run = promisify(execFile);
const DSAIN = path.join(PROJECT_ROOT, "bin", "dsain.js");
const PASSWORD = "correct horse battery staple";

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** `dsain …` to completion (for commands that must refuse to start). */
async function dsain(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [DSAIN, ...args], { cwd: PROJECT_ROOT, env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

function logLines(p: ReadyProcess<unknown>): Record<string, unknown>[] {
  return p
    .stdout()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) expect.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("daemons as processes (dsain aggregator / participant on anvil)", function () {
  let chain: LocalChain | undefined;
  let dir: string;
  let demo: DemoResult;
  const running: ReadyProcess<ReadyReport>[] = [];
  const env = { ...process.env, DSAIN_KEYSTORE_PASSWORD: PASSWORD };
  let aggregatorConfig: Record<string, unknown>;
  let participantConfig: Record<string, unknown>;

  async function writeConfig(name: string, config: Record<string, unknown>): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, JSON.stringify(config, null, 2));
    return file;
  }

  async function start(role: "aggregator" | "participant", file: string, extra: string[] = []): Promise<ReadyProcess<ReadyReport>> {
    const p = await startReady<{ msg: string } & ReadyReport>(process.execPath, [DSAIN, role, "--config", file, ...extra], {
      cwd: PROJECT_ROOT,
      env,
    });
    running.push(p);
    expect(p.ready.msg).to.equal("ready");
    return p;
  }

  before(async function () {
    chain = await startChain(
      path.join(PROJECT_ROOT, "node_modules", ".bin", "anvil"),
      (port) => ["--host", "127.0.0.1", "--port", String(port), "--silent"],
      PROJECT_ROOT,
    );
    dir = await mkdtemp(path.join(os.tmpdir(), "dsain-nodes-e2e-"));
    demo = await runDemo({ ...DEMO_DEFAULTS, rounds: 1, epochs: 1, workDir: path.join(dir, "demo"), rpcUrl: chain.url, skipAudit: true });
    await writeKeystore(path.join(dir, "aggregator-1.json"), committeeWallet(1), PASSWORD, { light: true });
    await writeKeystore(path.join(dir, "participant-0.json"), participantWallet(DEMO_DEFAULTS.seed, 0), PASSWORD, { light: true });
    aggregatorConfig = {
      rpc: chain.url,
      ledger: demo.ledger,
      federationId: String(demo.federationId),
      key: { keystore: "aggregator-1.json" },
      dataDir: "aggregator-1",
      listen: `/ip4/127.0.0.1/tcp/${await freePort()}`,
      metrics: { port: 0 },
      pollMs: 200,
    };
    participantConfig = {
      rpc: chain.url,
      ledger: demo.ledger,
      federationId: String(demo.federationId),
      key: { keystore: "participant-0.json" },
      dataDir: "participant-0",
      data: { kind: "mnist", shard: 0, shards: 4 },
      pollMs: 200,
    };
  });

  after(async function () {
    for (const p of running) await stopProcess(p.process);
    await stopChain(chain);
    if (dir) await rm(dir, { recursive: true, force: true });
    if (demo?.deploymentId)
      await rm(path.join(PROJECT_ROOT, "ignition", "deployments", demo.deploymentId), { recursive: true, force: true });
  });

  it("should start an aggregator that reports ready, serves /healthz and /metrics, follows the open round and stops on SIGTERM with 0", async function () {
    const aggregator = await start("aggregator", await writeConfig("aggregator.json", aggregatorConfig));
    const ready = aggregator.ready;
    expect(ready.role).to.equal("aggregator");
    expect(ready.account).to.equal(committeeWallet(1).address);
    expect(ready.federationId).to.equal(String(demo.federationId));
    expect(ready.multiaddrs).to.deep.equal([`${aggregatorConfig.listen}/p2p/${ready.peerId}`]);
    const base = `http://127.0.0.1:${ready.metricsPort}`;
    await until(() => logLines(aggregator).some((l) => l.msg === "round open"), 20_000, "the round-open log line");
    const open = logLines(aggregator).find((l) => l.msg === "round open")!;
    expect(open.round).to.equal(demo.rounds.length + 1);
    expect(open.federation).to.equal(String(demo.federationId));

    const health = await fetch(`${base}/healthz`);
    expect(health.status).to.equal(200);
    expect(await health.json()).to.deep.include({ ok: true, chain: "ok" });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).to.match(new RegExp(`dsain_open_round\\{[^}]*\\} ${demo.rounds.length + 1}`));
    expect(metrics).to.match(/dsain_rounds_seen_total\{[^}]*\} 1/);
    expect(metrics).to.include("process_cpu_seconds_total");
    expect((await fetch(`${base}/nothing`)).status).to.equal(404);

    // A participant that dials the aggregator: both ends see the connection.
    const participant = await start(
      "participant",
      await writeConfig("participant.json", { ...participantConfig, peers: ready.multiaddrs }),
    );
    expect(participant.ready.account).to.equal(participantWallet(DEMO_DEFAULTS.seed, 0).address);
    await until(
      async () => /dsain_peers_connected\{[^}]*\} 1/.test(await (await fetch(`${base}/metrics`)).text()),
      10_000,
      "the participant's connection in the aggregator's metrics",
    );
    expect(await (await fetch(`${base}/healthz`)).json()).to.deep.include({ peers: 1, configuredPeers: 0 });

    expect(await stopProcess(participant.process, "SIGTERM")).to.equal(0);
    expect(await stopProcess(aggregator.process, "SIGINT")).to.equal(0);
    const last = logLines(aggregator).at(-1)!;
    expect(last).to.include({ msg: "stopped", exitCode: 0 });
    expect(logLines(aggregator).some((l) => l.msg === "stopping" && l.reason === "received SIGINT")).to.equal(true);
    expect(aggregator.stderr()).to.equal(""); // no warnings in the middle of the logs (node:sqlite's is silenced)
  });

  it("should restart on the same data folder with the same peer id", async function () {
    const file = await writeConfig("aggregator-again.json", aggregatorConfig);
    const first = await start("aggregator", file);
    expect(await stopProcess(first.process, "SIGKILL")).to.equal("SIGKILL");
    const second = await start("aggregator", file);
    expect(second.ready.peerId).to.equal(first.ready.peerId);
    expect(await stopProcess(second.process)).to.equal(0);
  });

  it("should, as a selected participant, train from the chain's model, store, attest on-chain and announce its update; after SIGKILL, announce the same one", async function () {
    const provider = new JsonRpcProvider(chain!.url, undefined, { staticNetwork: true });
    let peerStore: CheckpointStore | undefined;
    try {
      const ledger = LedgerClient.at(demo.ledger, provider);
      const evidence = await ledger.readEvidence(demo.federationId, provider);
      const selection = await readSelection(ledger, demo.federationId, evidence.participants, evidence.config.participantsPerRound);
      expect(selection.round).to.equal(2n);
      const slot = evidence.participants.findIndex((p) => getAddress(p) === getAddress(selection.addresses[0]));
      const wallet = participantWallet(DEMO_DEFAULTS.seed, slot);
      expect(wallet.address).to.equal(getAddress(selection.addresses[0]));
      await writeKeystore(path.join(dir, `participant-${slot}.json`), wallet, PASSWORD, { light: true });
      // The demo's IPFS folder, now served on the network: it holds the checkpoints the participant needs.
      peerStore = await openCheckpointStore({ directory: demo.ipfsDir, network: {} });
      const announcements: UpdateAnnouncement[] = [];
      peerStore.topics!.subscribe(topicName(demo.chainId, demo.ledger, demo.federationId, "updates"), (m) => {
        const message = decodeWireMessage(m.data);
        if (message.kind === "update") announcements.push(message);
      });
      const file = await writeConfig("selected.json", {
        ...participantConfig,
        key: { keystore: `participant-${slot}.json` },
        dataDir: `participant-${slot}`,
        peers: peerStore.multiaddrs,
        data: { kind: "synthetic", seed: DEMO_DEFAULTS.seed, shard: slot, shards: evidence.participants.length },
      });
      let participant = await start("participant", file);
      await until(() => announcements.length > 0, 120_000, "the participant's announcement");
      const announced = announcements[0];
      expect(announced).to.include({ round: 2n, participant: wallet.address, signature: "0x" });
      const attested = await ledger.attestationOf(demo.federationId, 2n, wallet.address);
      expect(attested).to.equal(announced.updateRoot);
      const bytes = await peerStore.fetch(announced.cid, { maxBytes: 1 << 20 });
      const update = decodeUpdateFile(bytes);
      expect(update).to.include({ round: 2, participant: wallet.address, modelId: evidence.config.modelId });
      expect(fieldToBytes32(await vectorRoot(update.values))).to.equal(announced.updateRoot);
      const steps = logLines(participant).map((l) => l.msg);
      expect(steps).to.include.members([
        "local data loaded",
        "round open, selected",
        "base model rebuilt from the chain",
        "trained",
        "update stored on this node",
        "attested on-chain",
      ]);

      expect(await stopProcess(participant.process, "SIGKILL")).to.equal("SIGKILL");
      const before = announcements.length;
      participant = await start("participant", file);
      await until(() => announcements.length > before, 60_000, "the announcement after the restart");
      expect(announcements.at(-1)!.cid).to.equal(announced.cid);
      await until(
        () => logLines(participant).some((l) => l.msg === "already attested on-chain"),
        30_000,
        "the restart's attestation check",
      );
      expect(logLines(participant).map((l) => l.msg)).to.not.include("trained");
      expect(await stopProcess(participant.process)).to.equal(0);
    } finally {
      await peerStore?.stop();
      provider.destroy();
    }
  });

  it("should refuse to start, with exit code 2 and a message naming the problem", async function () {
    const refusals: [string, Record<string, unknown>, string, NodeJS.ProcessEnv?][] = [
      ["bad field", { ...aggregatorConfig, ledger: "0x12" }, "field ledger: an address"],
      ["wrong password", aggregatorConfig, "wrong password for the keystore", { ...process.env, DSAIN_KEYSTORE_PASSWORD: "nope" }],
      ["RPC down", { ...aggregatorConfig, rpc: `http://127.0.0.1:${await freePort()}` }, "does not answer (ECONNREFUSED)"],
      ["not on the committee", { ...aggregatorConfig, key: { keystore: "participant-0.json" } }, "is not on federation"],
      ["no such federation", { ...aggregatorConfig, federationId: 999 }, "has no federation 999"],
      ["no ledger there", { ...aggregatorConfig, ledger: committeeWallet(1).address }, "there is no contract at ledger"],
      ["peer without id", { ...aggregatorConfig, peers: ["/ip4/127.0.0.1/tcp/1"] }, "has no /p2p/<peer id>"],
    ];
    for (const [what, config, message, customEnv] of refusals) {
      const file = await writeConfig(`refused-${what.replace(/ /g, "-")}.json`, config);
      const out = await dsain(["aggregator", "--config", file], customEnv ?? env);
      expect(out.code, `${what}: ${out.stderr}`).to.equal(2);
      expect(out.stderr, what).to.include(message);
      expect(out.stderr, what).to.not.match(/at .*\.ts:\d+|node_modules/); // a sentence, not a stack
    }
    const rawKey = path.join(dir, "raw.key");
    await writeFile(rawKey, committeeWallet(1).privateKey, { mode: 0o644 });
    const out = await dsain(
      ["aggregator", "--config", await writeConfig("raw.json", { ...aggregatorConfig, key: { rawKeyFile: "raw.key" } })],
      env,
    );
    expect(out.code).to.equal(2);
    expect(out.stderr).to.include("can be read by others (mode 0644); run chmod 600");
    await writePrivateFile(rawKey, committeeWallet(1).privateKey);
    const ok = await start("aggregator", await writeConfig("raw-ok.json", { ...aggregatorConfig, key: { rawKeyFile: "raw.key" } }));
    expect(ok.ready.account).to.equal(committeeWallet(1).address);
    expect(await stopProcess(ok.process)).to.equal(0);
  });
});
