// `dsain devnet`: the federation as separate processes on 127.0.0.1. An anvil chain (automining for
// the set-up, then periodic blocks like a QBFT network), the demo's deployment and federation
// (Ignition; roster of 6, committee of 3, K = 4), keystores and configs in a work folder, then 3
// `dsain aggregator` and 6 `dsain participant` processes that run the rounds on their own, and
// `dsain audit` in its own process at the end. Every process it starts it stops by PID, also on
// Ctrl-C. The Devnet class is also what the multi-process tests drive, fault by fault.
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";
import { PROJECT_ROOT } from "../paths.js";
import { LEDGER_ABI } from "../adapters/chain/abi.js";
import { LedgerClient } from "../adapters/chain/ledger.js";
import { openCheckpointStore, type CheckpointStore } from "../adapters/storage/checkpoint-store.js";
import { decodeCheckpoint } from "../protocol/checkpoint.js";
import { cidFromOnchain } from "../protocol/cid.js";
import { writeKeystore, writePrivateFile } from "../nodes/keys.js";
import type { ReadyReport } from "../nodes/run.js";
import { runDemo } from "./demo.js";
import { DEMO_DEFAULTS, ROSTER_EXTRA, committeeWallet, participantWallet, type DemoResult } from "./common.js";
import { freePort, startChain, startReady, stopChain, stopProcess, type LocalChain, type ReadyProcess } from "./processes.js";

/** anvil's first development account (public): the devnet's deployer, admin and first committee member. */
export const ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const DSAIN = path.join(PROJECT_ROOT, "bin", "dsain.js");
const ANVIL = path.join(PROJECT_ROOT, "node_modules", ".bin", "anvil");
/** The devnet's keystores are encrypted with this password (given to the daemons by environment): development only. */
const DEVNET_PASSWORD = "dsain devnet password (development only)";

export interface DevnetOptions {
  /** Holds everything: keystores, configs, logs, each daemon's folder; cleared at start. */
  workDir: string;
  seed: number;
  /** Seconds between blocks once the daemons run. */
  blockTime: number;
  slotSeconds: number;
  collectSeconds: number;
  /** Local epochs per round. */
  epochs: number;
  /** The committee takes part in rounds up to this one (undefined: no end). */
  lastRound?: number;
  log: (line: string) => void;
}

export const DEVNET_DEFAULTS: Omit<DevnetOptions, "log"> = {
  workDir: path.join(PROJECT_ROOT, ".dsain", "devnet"),
  seed: DEMO_DEFAULTS.seed,
  blockTime: 1,
  slotSeconds: 20,
  collectSeconds: 10,
  epochs: 1,
};

export type Daemon = ReadyProcess<ReadyReport>;

export class Devnet {
  readonly aggregators: Daemon[] = [];
  readonly participants: Daemon[] = [];
  /** Every daemon process ever started (restarts included), so that stop() reaches them all. */
  private readonly started: Daemon[] = [];
  /** Daemons stopped on purpose (a fault test): waitFinalized does not count them as failures. */
  private readonly down = new Set<Daemon>();
  readonly aggregatorConfigs: Record<string, unknown>[] = [];

  private constructor(
    readonly options: DevnetOptions,
    readonly chain: LocalChain,
    readonly provider: JsonRpcProvider,
    readonly setup: DemoResult,
    /** The set-up's IPFS folder served on the network: the genesis checkpoint, and every round's content once collected. */
    public archive: CheckpointStore | undefined,
  ) {}

  /** Starts the chain, deploys, creates the federation and starts the 3 aggregators and 6 participants. */
  static async start(options: DevnetOptions): Promise<Devnet> {
    const { log } = options;
    await rm(options.workDir, { recursive: true, force: true });
    await mkdir(path.join(options.workDir, "logs"), { recursive: true });
    log(`• anvil on 127.0.0.1 (automining for the set-up, then a block every ${options.blockTime} s)`);
    const chain = await startChain(ANVIL, (port) => ["--host", "127.0.0.1", "--port", String(port), "--silent"], PROJECT_ROOT);
    let devnet: Devnet | undefined;
    try {
      const setup = await runDemo({
        ...DEMO_DEFAULTS,
        seed: options.seed,
        epochs: options.epochs,
        workDir: path.join(options.workDir, "setup"),
        rpcUrl: chain.url,
        skipAudit: true,
        setupOnly: true,
        log: (l) => log(l),
      });
      const provider = new JsonRpcProvider(chain.url, undefined, { staticNetwork: true });
      devnet = new Devnet(options, chain, provider, setup, undefined);
      await devnet.openCommittee();
      await provider.send("evm_setIntervalMining", [options.blockTime]);
      devnet.archive = await openCheckpointStore({ directory: setup.ipfsDir, network: {} });
      await devnet.startDaemons();
      return devnet;
    } catch (error) {
      if (devnet !== undefined) await devnet.stop();
      else await stopChain(chain);
      throw error;
    }
  }

  /** Every committee member may post (AGGREGATOR_ROLE) and pay for it. */
  private async openCommittee(): Promise<void> {
    const admin = new Wallet(ANVIL_KEY_0, this.provider);
    const ledger = new Contract(this.setup.ledger, LEDGER_ABI, admin);
    const role: string = await ledger.AGGREGATOR_ROLE();
    let nonce = await this.provider.getTransactionCount(admin.address, "latest");
    for (const i of [1, 2]) {
      await (await ledger.grantRole(role, committeeWallet(i).address, { nonce: nonce++ })).wait();
      await (await admin.sendTransaction({ to: committeeWallet(i).address, value: 10n ** 18n, nonce: nonce++ })).wait();
    }
    this.options.log("  AGGREGATOR_ROLE granted to the 3 committee members");
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, DSAIN_KEYSTORE_PASSWORD: DEVNET_PASSWORD };
  }

  /** Starts one daemon from a config written to the work folder; its output goes to logs/<name>.log too. */
  async spawn(role: "aggregator" | "participant", name: string, config: Record<string, unknown>): Promise<Daemon> {
    const file = path.join(this.options.workDir, `${name}.json`);
    await writePrivateFile(file, JSON.stringify(config, null, 2));
    const daemon = await startReady<ReadyReport>(
      process.execPath,
      [DSAIN, role, "--config", file],
      { cwd: PROJECT_ROOT, env: this.env(), logFile: path.join(this.options.workDir, "logs", `${name}.log`) },
      120_000,
    );
    this.started.push(daemon);
    return daemon;
  }

  private async startDaemons(): Promise<void> {
    const { workDir, log } = this.options;
    const common = { rpc: this.chain.url, ledger: this.setup.ledger, federationId: String(this.setup.federationId), pollMs: 250 };
    const peers = [...this.archive!.multiaddrs];
    const members = [new Wallet(ANVIL_KEY_0), committeeWallet(1), committeeWallet(2)];
    log(`• 3 aggregators (f = 1), each its own process, keystore, IPFS node and metrics port`);
    for (const [i, w] of members.entries()) {
      await writeKeystore(path.join(workDir, `aggregator-${i}.keystore.json`), w, DEVNET_PASSWORD, { light: true });
      this.aggregatorConfigs.push({
        ...common,
        key: { keystore: `aggregator-${i}.keystore.json` },
        dataDir: `aggregator-${i}`,
        listen: `/ip4/127.0.0.1/tcp/${await freePort()}`,
        peers: [...peers],
        slotSeconds: this.options.slotSeconds,
        collectSeconds: this.options.collectSeconds,
        ...(this.options.lastRound === undefined ? {} : { lastRound: this.options.lastRound }),
        metrics: { port: 0 },
      });
      const a = await this.spawn("aggregator", `aggregator-${i}`, this.aggregatorConfigs[i]);
      this.aggregators.push(a);
      peers.push(...a.ready.multiaddrs);
      log(
        `  aggregator ${i}: ${a.ready.account}, pid ${a.process.pid}, ${a.ready.multiaddrs[0]}, metrics http://127.0.0.1:${a.ready.metricsPort}/metrics`,
      );
    }
    const roster = DEMO_DEFAULTS.participants + ROSTER_EXTRA;
    log(`• ${roster} participants, each its own process training on its own shard (K = ${DEMO_DEFAULTS.participants} selected per round)`);
    for (let i = 0; i < roster; i++) {
      await writeKeystore(path.join(workDir, `participant-${i}.keystore.json`), participantWallet(this.options.seed, i), DEVNET_PASSWORD, {
        light: true,
      });
      const p = await this.spawn("participant", `participant-${i}`, {
        ...common,
        key: { keystore: `participant-${i}.keystore.json` },
        dataDir: `participant-${i}`,
        peers,
        data: { kind: "synthetic", seed: this.options.seed, shard: i, shards: roster },
        training: { epochs: this.options.epochs },
      });
      this.participants.push(p);
      log(`  participant ${i}: ${p.ready.account}, pid ${p.process.pid}`);
    }
  }

  /** Stops one daemon with `signal`, on purpose: it stays in its list, no longer counted as a failure. */
  async kill(daemon: Daemon, signal: NodeJS.Signals): Promise<number | string | null> {
    this.down.add(daemon);
    return stopProcess(daemon.process, signal);
  }

  ledger(): LedgerClient {
    return LedgerClient.at(this.setup.ledger, this.provider);
  }

  /**
   * Waits until round `round` is finalized, calling `progress` when another round is; fails if a
   * running daemon exits, or after `timeoutMs`, naming what it waited for and the aggregators' last lines.
   */
  async waitFinalized(round: bigint, timeoutMs: number, what: string, progress?: (finalized: bigint) => void): Promise<void> {
    const ledger = this.ledger();
    const started = Date.now();
    let seen = -1n;
    for (;;) {
      const state = await ledger.federationState(this.setup.federationId);
      if (state.lastFinalized !== seen) {
        seen = state.lastFinalized;
        progress?.(seen);
      }
      if (state.lastFinalized >= round) return;
      const dead = [...this.aggregators, ...this.participants].find(
        (p) => !this.down.has(p) && (p.process.exitCode !== null || p.process.signalCode !== null),
      );
      if (dead !== undefined) {
        throw new DsainError(
          ErrorCode.INPUT_INVALID,
          `${what}: a daemon (pid ${dead.process.pid}) exited with ${dead.process.exitCode ?? dead.process.signalCode}: ${dead.stderr()}\n${dead.stdout().slice(-3000)}`,
        );
      }
      if (Date.now() - started > timeoutMs) {
        const tails = this.aggregators.map((a, i) => `aggregator ${i}:\n${a.stdout().slice(-2500)}`).join("\n");
        throw new DsainError(
          ErrorCode.INPUT_INVALID,
          `${what}: round ${round} not finalized within ${timeoutMs / 1000} s (last finalized ${state.lastFinalized}, open ${state.lastRound + 1n})\n${tails}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /**
   * Ends the run: participants stop (no update, no new round), the committee finalizes what it
   * posted, the archive fetches every round's checkpoint and listed updates from the aggregators,
   * and the aggregators stop. Returns the last round.
   */
  async finish(): Promise<number> {
    const ledger = this.ledger();
    await Promise.all(this.participants.map((p) => stopProcess(p.process)));
    // Settled when everything posted is final and the open round cannot be posted any more: past
    // the committee's lastRound, or with fewer on-chain attestations than minUpdates (the direct
    // path's updates are all attested; a round needing more is refused by the ledger).
    const { minUpdates } = await ledger.federationConfig(this.setup.federationId);
    for (const deadline = Date.now() + 90_000; ;) {
      const state = await ledger.federationState(this.setup.federationId);
      const final = state.lastFinalized === state.head;
      const closed =
        (this.options.lastRound !== undefined && state.lastRound >= BigInt(this.options.lastRound)) ||
        state.openAttestations < BigInt(minUpdates);
      if (final && closed) break;
      if (Date.now() > deadline) {
        if (final) break; // the open round stays open: an attested update was never announced
        throw new DsainError(ErrorCode.INPUT_INVALID, `round ${state.head} not finalized 90 s after the participants stopped`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const evidence = await ledger.readEvidence(this.setup.federationId, this.provider);
    for (const posted of evidence.rounds) {
      const bytes = await this.archive!.fetch(cidFromOnchain(posted.cidCodec, posted.cidDigest), { maxBytes: 1 << 24 });
      for (const u of decodeCheckpoint(bytes).updates ?? []) await this.archive!.fetch(u.cid, { maxBytes: 1 << 24 });
    }
    await Promise.all(this.aggregators.map((a) => stopProcess(a.process)));
    await this.archive?.stop();
    this.archive = undefined;
    return Math.max(0, ...evidence.rounds.map((r) => r.round));
  }

  /** `dsain audit` in its own process over the chain and the archive's folder; its exit code and output. */
  async audit(): Promise<{ code: number; stdout: string }> {
    const { execFile } = await import("node:child_process");
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [
          DSAIN,
          "audit",
          "--rpc",
          this.chain.url,
          "--ledger",
          this.setup.ledger,
          "--federation",
          String(this.setup.federationId),
          "--ipfs",
          this.setup.ipfsDir,
        ],
        { cwd: PROJECT_ROOT, timeout: 600_000 },
        (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout: stdout + stderr }),
      );
    });
  }

  /** Stops every process this devnet started, by PID, and the chain. */
  async stop(): Promise<void> {
    await Promise.all(this.started.map((d) => stopProcess(d.process)));
    await this.archive?.stop();
    this.archive = undefined;
    this.provider.destroy();
    await stopChain(this.chain);
    if (this.setup.deploymentId !== undefined) {
      await rm(path.join(PROJECT_ROOT, "ignition", "deployments", this.setup.deploymentId), { recursive: true, force: true });
    }
  }
}

export interface DevnetSummary {
  rounds: number;
  seconds: number;
  auditPassed: boolean;
  ledger: string;
  federationId: bigint;
  workDir: string;
}

/** `dsain devnet --rounds R`: start, let the daemons run R rounds, finish, audit, stop. Ctrl-C stops everything. */
export async function runDevnet(options: DevnetOptions & { rounds: number }): Promise<DevnetSummary> {
  const { log } = options;
  const devnet = await Devnet.start({ ...options, lastRound: options.rounds });
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`• ${signal}: stopping every process the devnet started`);
    void devnet.stop().then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const started = Date.now();
    log(`• the daemons run ${options.rounds} round(s) on their own`);
    await devnet.waitFinalized(BigInt(options.rounds), options.rounds * (3 * options.slotSeconds + 60) * 1000, "devnet", (f) => {
      if (f > 0n) log(`  round ${f} finalized (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    });
    const seconds = (Date.now() - started) / 1000;
    log("• stopping the participants; the committee finalizes what it posted; the archive fetches every round's content");
    const rounds = await devnet.finish();
    log(`• dsain audit in its own process (logs of every daemon: ${path.join(options.workDir, "logs")})`);
    const audit = await devnet.audit();
    for (const line of audit.stdout.trimEnd().split("\n")) log(`  ${line}`);
    return {
      rounds,
      seconds,
      auditPassed: audit.code === 0,
      ledger: devnet.setup.ledger,
      federationId: devnet.setup.federationId,
      workDir: options.workDir,
    };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await devnet.stop();
  }
}
