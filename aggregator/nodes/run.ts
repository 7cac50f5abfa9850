// A daemon's life: open its state, unlock its keys, reach the chain and the federation, start its
// IPFS node on the network of its configured peers, serve metrics, report ready, watch the chain,
// and stop cleanly when asked (SIGTERM, SIGINT) or when a step fails in a way retrying cannot fix.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { DsainError, ErrorCode, ensureError } from "../errors.js";
import { LedgerClient } from "../adapters/chain/ledger.js";
import { connectChain } from "../adapters/chain/rpc.js";
import { openCheckpointStore } from "../adapters/storage/checkpoint-store.js";
import { loadNodeConfig, type ConfigOverrides, type NodeConfig, type NodeRole } from "./config.js";
import { loadBabyJubKey, loadWallet } from "./keys.js";
import { createLogger } from "./log.js";
import { NodeMetrics, serveMetrics, type MetricsServer } from "./metrics.js";
import { NodeState } from "./state.js";
import type { NodeContext } from "./context.js";
import { participantLoop } from "./participant.js";
import { aggregatorLoop } from "./aggregator.js";

/** What a daemon reports once it is ready: the first line tests and `dsain devnet` wait for. */
export interface ReadyReport {
  role: NodeRole;
  account: string;
  chainId: string;
  ledger: string;
  federationId: string;
  peerId: string;
  multiaddrs: string[];
  metricsPort?: number;
}

export interface NodeHandle {
  readonly ready: ReadyReport;
  /** Resolves with the exit code once the node has stopped: 0 when asked to stop, 1 after a fatal error. */
  readonly done: Promise<number>;
  stop(reason: string): Promise<void>;
}

/** Starts a daemon from its validated config; throws (nothing left running) if any part cannot start. */
export async function startNode<R extends NodeRole>(role: R, config: NodeConfig<R>): Promise<NodeHandle> {
  const log = createLogger({
    name: `dsain-${role}`,
    level: config.log.level,
    pretty: config.log.pretty,
    base: { role, federation: String(config.federationId) },
  });
  const opened: (() => Promise<void> | void)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of opened.reverse()) await Promise.resolve(close()).catch(() => undefined);
    opened.length = 0;
  };
  try {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const state = await NodeState.open(path.join(config.dataDir, "state.sqlite"));
    opened.push(() => state.close());
    const wallet = await loadWallet(config.key);
    const babyJub =
      role === "participant" && (config as NodeConfig<"participant">).babyJubKeyFile !== undefined
        ? await loadBabyJubKey((config as NodeConfig<"participant">).babyJubKeyFile!)
        : undefined;
    const { provider, chainId } = await connectChain(config.rpc, config.ledger, { pollingMs: config.pollMs });
    opened.push(() => provider.destroy());
    const signer = wallet.connect(provider);
    const ledger = LedgerClient.at(config.ledger, signer);
    const federation = await ledger.federationConfig(config.federationId);
    if (role === "aggregator" && !federation.committee.some((m) => m.toLowerCase() === wallet.address.toLowerCase())) {
      throw new DsainError(
        ErrorCode.CONFIG_INVALID,
        `the account ${wallet.address} of this aggregator is not on federation ${config.federationId}'s committee (${federation.committee.join(", ")})`,
      );
    }
    const store = await openCheckpointStore({
      directory: path.join(config.dataDir, "ipfs"),
      listen: config.listen,
      network: { peers: config.peers, onRefused: (reason) => log.warn({ reason }, "refused a peer's message") },
    });
    opened.push(() => store.stop());
    const metrics = new NodeMetrics({ role, federation: String(config.federationId) });
    metrics.countPeersWith(() => store.connectedPeerCount());
    let server: MetricsServer | undefined;
    let lastChainError: string | undefined;
    if (config.metrics !== undefined) {
      server = await serveMetrics(
        metrics,
        () => {
          const peers = store.peers();
          return {
            ok: lastChainError === undefined,
            chain: lastChainError ?? "ok",
            peers: store.connectedPeerCount(),
            configuredPeersConnected: peers.filter((p) => p.connected).length,
            configuredPeers: peers.length,
          };
        },
        config.metrics,
      );
      opened.push(() => server!.close());
    }

    const abort = new AbortController();
    const ctx: NodeContext<R> = {
      role,
      config,
      log,
      state,
      store,
      provider,
      ledger,
      chainId,
      federation,
      account: wallet.address,
      babyJub,
      metrics,
      signal: abort.signal,
    };
    const ready: ReadyReport = {
      role,
      account: wallet.address,
      chainId: String(chainId),
      ledger: config.ledger,
      federationId: String(config.federationId),
      peerId: store.peerId,
      multiaddrs: store.multiaddrs,
      ...(server === undefined ? {} : { metricsPort: server.port }),
    };
    log.info({ event: "ready", ...ready }, "ready");

    let exitCode = 0;
    const chainStatus = (error: string | undefined): void => void (lastChainError = error);
    const loop =
      role === "participant"
        ? participantLoop(ctx as NodeContext<"participant">, wallet, chainStatus)
        : aggregatorLoop(ctx as NodeContext<"aggregator">, wallet, chainStatus);
    const watch = loop.catch((error: unknown) => {
      if (abort.signal.aborted) return;
      exitCode = 1;
      log.error(
        { reason: ensureError(error).message, code: (error as DsainError).code },
        "stopping: a step failed and retrying cannot help",
      );
    });
    let stopping: Promise<void> | undefined;
    const stop = (reason: string): Promise<void> => {
      stopping ??= (async () => {
        log.info({ reason }, "stopping");
        abort.abort(new DsainError(ErrorCode.INPUT_INVALID, `stopped: ${reason}`));
        await watch;
        await closeAll();
        log.info({ exitCode }, "stopped");
        log.flush();
      })();
      return stopping;
    };
    const done = watch.then(async () => {
      await stop(exitCode === 0 ? "done" : "fatal error");
      return exitCode;
    });
    return { ready, done, stop };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** `dsain participant|aggregator`: load the config, start, stop on SIGTERM/SIGINT; resolves with the exit code. */
export async function runNodeCommand(role: NodeRole, file: string, overrides: ConfigOverrides): Promise<number> {
  const config = loadNodeConfig(role, file, overrides);
  // Handlers first: without one, a SIGTERM arriving while the node starts would kill it outright.
  let node: NodeHandle | undefined;
  let early: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (node === undefined) early ??= signal;
    else void node.stop(`received ${signal}`);
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    node = await startNode(role, config);
    if (early !== undefined) void node.stop(`received ${early}`);
    return await node.done;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}
