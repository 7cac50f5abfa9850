// `dsain participant` and `dsain aggregator`: one party of a federation as a long-running process
// with its own keys, its own IPFS node and its own view of the chain (aggregator/nodes/).
import { InvalidArgumentError, type Command } from "commander";
import type { NodeRole } from "../../aggregator/nodes/config.js";

const COMMON_FIELDS = `
Config file (JSON; relative paths are taken from the file's folder; flags override its fields):
  rpc            JSON-RPC URL of the chain (anvil, hardhat node, Besu, GoQuorum)
  ledger         ProvenanceLedger address
  federationId   the federation this daemon serves
  key            {"keystore": FILE, "passwordEnv": NAME | "passwordFile": FILE}
                 (password default: env DSAIN_KEYSTORE_PASSWORD), or {"rawKeyFile": FILE} (mode 0600 only)
  dataDir        its own folder: IPFS node (ipfs/) and local state (state.sqlite)
  listen         libp2p listen multiaddr (default /ip4/127.0.0.1/tcp/0)
  peers          multiaddrs with /p2p/<peer id> to dial and keep connected
  metrics        {"host": "127.0.0.1", "port": N}: /metrics (Prometheus) and /healthz; port 0 picks one
  log            {"level": "info", "pretty": BOOL} (pretty by default on a terminal)
  pollMs         chain polling interval in ms (default 1000)`;

const ROLE_FIELDS: Record<NodeRole, string> = {
  participant: `
  data           {"kind": "mnist", "shard": I, "shards": N, "images"?: FILE, "labels"?: FILE}
                 or {"kind": "idx", "images": FILE, "labels": FILE}
  training       {"epochs": 1, "batchSize": 32, "learningRate": 0.05}
  babyJubKeyFile BabyJubJub key (32 bytes hex, mode 0600) for federations with in-circuit attestations`,
  aggregator: `
  slotSeconds    proposer slot length, the same for the whole committee (default 30)
  collectSeconds how long the proposer waits for every selected update (default 20)
  prove          whether this member proves the rounds it posts (default true)
  lastRound      take part in rounds up to this one, then only prove and finalize (default: no end)
  circuit        the RoundChunk instance whose key the federation pins (default RoundChunk_4-1_test)`,
};

const DESCRIPTIONS: Record<NodeRole, string> = {
  participant: "run a participant: train on local data for the rounds that select it, publish and attest its updates",
  aggregator: "run a committee member: re-execute each round from the published updates, propose or endorse, post and prove",
};

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError(`--metrics-port must be a port in [0, 65535], got "${value}"`);
  return n;
}

function nodeCommand(program: Command, role: NodeRole): void {
  program
    .command(role)
    .description(DESCRIPTIONS[role])
    .requiredOption("--config <file>", `the ${role}'s JSON config (fields below)`)
    .option("--rpc <url>", "overrides rpc")
    .option("--ledger <address>", "overrides ledger")
    .option("--federation <id>", "overrides federationId")
    .option("--data-dir <dir>", "overrides dataDir")
    .option("--listen <multiaddr>", "overrides listen")
    .option("--peer <multiaddr>", "overrides peers (repeatable)", (v: string, all: string[]) => [...all, v], [] as string[])
    .option("--metrics-port <port>", "overrides metrics.port (serves on 127.0.0.1 unless metrics.host says otherwise)", port)
    .option("--log-level <level>", "overrides log.level: fatal, error, warn, info, debug, trace")
    .addHelpText("after", COMMON_FIELDS + ROLE_FIELDS[role] + "\n\nStops cleanly on SIGTERM or SIGINT (exit 0).")
    .action(async (o) => {
      const { runNodeCommand } = await import("../../aggregator/nodes/run.js");
      process.exitCode = await runNodeCommand(role, o.config, {
        rpc: o.rpc,
        ledger: o.ledger,
        federationId: o.federation,
        dataDir: o.dataDir,
        listen: o.listen,
        peers: o.peer,
        metricsPort: o.metricsPort,
        logLevel: o.logLevel,
      });
    });
}

export function register(program: Command): void {
  nodeCommand(program, "participant");
  nodeCommand(program, "aggregator");
}
