// A daemon's Prometheus metrics (prom-client) and its health, served on 127.0.0.1 (or the host of
// its config) at /metrics and /healthz: rounds seen, proposed, endorsed and refused, updates
// fetched and their bytes, step durations, gas used, proof times, peers connected, the chain head.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { DsainError, ErrorCode, ensureError } from "../errors.js";

const STEP_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class NodeMetrics {
  readonly registry = new Registry();
  readonly roundsSeen = this.counter("dsain_rounds_seen_total", "Rounds this daemon saw open on the chain");
  readonly roundsProposed = this.counter("dsain_rounds_proposed_total", "Records this member proposed");
  readonly roundsEndorsed = this.counter("dsain_rounds_endorsed_total", "Records this member re-executed and signed");
  readonly roundsRefused = this.counter("dsain_rounds_refused_total", "Records or messages this daemon refused", ["reason"]);
  readonly roundsPosted = this.counter("dsain_rounds_posted_total", "Records this member posted");
  readonly updatesPublished = this.counter("dsain_updates_published_total", "Updates this participant trained, stored and announced");
  readonly updatesFetched = this.counter("dsain_updates_fetched_total", "Update files fetched from peers and checked");
  readonly bytesFetched = this.counter("dsain_fetched_bytes_total", "Bytes of update and checkpoint files fetched");
  readonly gasUsed = this.counter("dsain_gas_used_total", "Gas used by this daemon's transactions", ["method"]);
  readonly stepSeconds = new Histogram({
    name: "dsain_step_seconds",
    help: "Duration of one round step",
    labelNames: ["step"],
    buckets: STEP_BUCKETS,
    registers: [this.registry],
  });
  readonly proofSeconds = new Histogram({
    name: "dsain_proof_seconds",
    help: "Time to prove one round",
    buckets: STEP_BUCKETS,
    registers: [this.registry],
  });
  private peerCount: () => number = () => 0;
  readonly peersConnected: Gauge = new Gauge({
    name: "dsain_peers_connected",
    help: "Peers connected now (libp2p)",
    registers: [this.registry],
    // Read at scrape time, so it is current even while a round step is busy.
    collect: () => this.peersConnected.set(this.peerCount()),
  });
  readonly chainHead = new Gauge({ name: "dsain_chain_head_block", help: "Latest block number seen", registers: [this.registry] });
  readonly currentRound = new Gauge({ name: "dsain_open_round", help: "The federation's open round", registers: [this.registry] });

  constructor(labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where dsain_peers_connected is read from at each scrape. */
  countPeersWith(count: () => number): void {
    this.peerCount = count;
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}

export interface Health {
  ok: boolean;
  [key: string]: unknown;
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves /metrics (Prometheus text) and /healthz (JSON; 503 when not ok) until closed. */
export async function serveMetrics(
  metrics: NodeMetrics,
  health: () => Health,
  where: { host: string; port: number },
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    if (req.method === "GET" && url === "/metrics") {
      metrics.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(text);
        })
        .catch((error: unknown) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(ensureError(error).message);
        });
      return;
    }
    if (req.method === "GET" && url === "/healthz") {
      const report = health();
      res.writeHead(report.ok ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify(report));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found: try /metrics or /healthz\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new DsainError(
          ErrorCode.CONFIG_INVALID,
          error.code === "EADDRINUSE"
            ? `the metrics port ${where.host}:${where.port} is already in use; pick another metrics.port (0 picks a free one)`
            : `cannot serve metrics on ${where.host}:${where.port}: ${error.message}`,
        ),
      ),
    );
    server.listen(where.port, where.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
