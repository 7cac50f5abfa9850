// One JSON config file per daemon (`dsain participant --config participant.json`, `dsain aggregator
// --config aggregator.json`), validated once at start: a field that is wrong is named with what it
// must be (CONFIG_INVALID, exit code 2). Command-line flags override the file's top-level fields;
// relative paths are taken from the config file's folder, as an operator writing one expects.
import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { DsainError, ErrorCode, ensureError } from "../errors.js";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an address: 0x and 20 bytes in hex");
const filePath = z.string().min(1, "a path");
const uint = z
  .union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().regex(/^(0|[1-9][0-9]*)$/, "a decimal integer")])
  .transform((v) => BigInt(v));
const port = z.number().int().min(0).max(65_535);

/** Where the daemon's Ethereum key comes from: an encrypted JSON keystore, or a raw key file only at mode 0600. */
const keySource = z.union([
  z.strictObject({
    /** An encrypted JSON keystore (Web3 Secret Storage, what `geth account new` and ethers write). */
    keystore: filePath,
    /** Environment variable holding the password. Default DSAIN_KEYSTORE_PASSWORD. */
    passwordEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name")
      .optional(),
    /** A file holding the password (its first line); refused unless only its owner can read it. */
    passwordFile: filePath.optional(),
  }),
  z.strictObject({
    /** A file holding the private key in hex; refused unless its mode is 0600 or stricter. */
    rawKeyFile: filePath,
  }),
]);

const common = {
  /** The chain's JSON-RPC endpoint: anvil, a `hardhat node`, Besu or GoQuorum. */
  rpc: z.url({ protocol: /^(https?|wss?)$/, error: "an http(s):// or ws(s):// URL" }),
  ledger: address,
  federationId: uint,
  key: keySource,
  /** The daemon's own folder: its IPFS node (ipfs/) and its local state (state.sqlite). */
  dataDir: filePath,
  /** libp2p listen address of its IPFS node. Default 127.0.0.1 on a free port. */
  listen: z.string().default("/ip4/127.0.0.1/tcp/0"),
  /** Peers to dial and keep connected: multiaddrs with /p2p/<peer id>. */
  peers: z.array(z.string()).default([]),
  /** Prometheus metrics and /healthz; port 0 picks a free one; no metrics without this section. */
  metrics: z.strictObject({ host: z.ipv4().default("127.0.0.1"), port }).optional(),
  log: z
    .strictObject({
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
      /** Human-readable lines; default: when standard output is a terminal. */
      pretty: z.boolean().optional(),
    })
    .default({ level: "info" }),
  /** How often the chain is polled for new blocks and events, in milliseconds. */
  pollMs: z.number().int().min(50).max(60_000).default(1000),
};

const dataSource = z.discriminatedUnion("kind", [
  z.strictObject({
    /** A shard of MNIST (IDX files; default the test set shipped in test/fixtures/mnist). */
    kind: z.literal("mnist"),
    shard: z.number().int().min(0),
    shards: z.number().int().min(1),
    /** Seed of the split into shards (the same for every participant of a federation). Default 1. */
    seed: z.number().int().min(0).max(0xffffffff).default(1),
    images: filePath.optional(),
    labels: filePath.optional(),
  }),
  z.strictObject({ kind: z.literal("idx"), images: filePath, labels: filePath }),
  z.strictObject({
    /** The demo's synthetic data (Gaussian blobs, 8 features, 4 classes), split as `dsain demo` splits it. */
    kind: z.literal("synthetic"),
    seed: z.number().int().min(0).max(0xffffffff),
    shard: z.number().int().min(0),
    shards: z.number().int().min(1),
  }),
]);

export const participantConfigSchema = z
  .strictObject({
    ...common,
    /** BabyJubJub key (32 bytes hex, mode 0600) for federations with in-circuit attestations. */
    babyJubKeyFile: filePath.optional(),
    data: dataSource,
    training: z
      .strictObject({
        epochs: z.number().int().min(1).max(1000).default(1),
        batchSize: z.number().int().min(1).max(65_536).default(32),
        learningRate: z.number().positive().max(10).default(0.05),
      })
      .default({ epochs: 1, batchSize: 32, learningRate: 0.05 }),
  })
  .refine((c) => c.data.kind === "idx" || c.data.shard < c.data.shards, { path: ["data", "shard"], message: "below data.shards" });

export const aggregatorConfigSchema = z.strictObject({
  ...common,
  /** Length of a proposer slot (docs/protocol.md §15), the same for every member of the committee. */
  slotSeconds: z.number().int().min(1).max(86_400).default(30),
  /** How long the proposer waits for every selected update before it proposes with minUpdates. */
  collectSeconds: z.number().int().min(0).max(86_400).default(20),
  /** Take part in rounds up to this one and then only prove and finalize what is posted (Flower's num_rounds). Default: no end. */
  lastRound: z.number().int().min(1).optional(),
  /** Whether this member proves the rounds it posts (the prover queue). */
  prove: z.boolean().default(true),
  /**
   * Fault injection for tests and demonstrations of the committee's checks, never for production:
   * "lie" proposes records with a wrong aggregate and endorses any proposal without re-executing it.
   */
  misbehave: z.enum(["lie"]).optional(),
  /** The RoundChunk instance (circuits/circuits.json) whose key the federation's verifier pins. */
  circuit: z.string().min(1).default("RoundChunk_4-1_test"),
});

export type ParticipantConfig = z.output<typeof participantConfigSchema>;
export type AggregatorConfig = z.output<typeof aggregatorConfigSchema>;
export type NodeRole = "participant" | "aggregator";
export type NodeConfig<R extends NodeRole> = R extends "participant" ? ParticipantConfig : AggregatorConfig;

/** The top-level fields a flag may set (undefined: not given). */
export interface ConfigOverrides {
  rpc?: string;
  ledger?: string;
  federationId?: string;
  dataDir?: string;
  listen?: string;
  peers?: string[];
  metricsPort?: number;
  logLevel?: string;
}

function describeIssue(source: string, issue: z.core.$ZodIssue): string {
  const where = issue.path.length === 0 ? "the config" : `field ${issue.path.join(".")}`;
  return `${source}: ${where}: ${issue.message}`;
}

/** Makes every path field absolute, relative to the config file's folder. */
function resolvePaths<T>(value: T, base: string): T {
  const abs = (p: string): string => path.resolve(base, p);
  const c = structuredClone(value) as Record<string, unknown>;
  if (typeof c.dataDir === "string") c.dataDir = abs(c.dataDir);
  if (typeof c.babyJubKeyFile === "string") c.babyJubKeyFile = abs(c.babyJubKeyFile);
  const key = c.key as Record<string, unknown> | undefined;
  for (const k of ["keystore", "passwordFile", "rawKeyFile"])
    if (key !== undefined && typeof key[k] === "string") key[k] = abs(key[k] as string);
  const data = c.data as Record<string, unknown> | undefined;
  for (const k of ["images", "labels"]) if (data !== undefined && typeof data[k] === "string") data[k] = abs(data[k] as string);
  return c as T;
}

/** Reads, merges flags into and validates a daemon's config; CONFIG_INVALID naming the file and field otherwise. */
export function loadNodeConfig<R extends NodeRole>(role: R, file: string, overrides: ConfigOverrides = {}): NodeConfig<R> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DsainError(
      ErrorCode.CONFIG_INVALID,
      `cannot read the ${role} config ${file}${code === "ENOENT" ? ": no such file" : `: ${ensureError(error).message}`}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DsainError(ErrorCode.CONFIG_INVALID, `the ${role} config ${file} is not JSON: ${ensureError(error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new DsainError(ErrorCode.CONFIG_INVALID, `the ${role} config ${file} must be a JSON object`);
  }
  const merged: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (overrides.rpc !== undefined) merged.rpc = overrides.rpc;
  if (overrides.ledger !== undefined) merged.ledger = overrides.ledger;
  if (overrides.federationId !== undefined) merged.federationId = overrides.federationId;
  if (overrides.dataDir !== undefined) merged.dataDir = path.resolve(overrides.dataDir);
  if (overrides.listen !== undefined) merged.listen = overrides.listen;
  if (overrides.peers !== undefined && overrides.peers.length > 0) merged.peers = overrides.peers;
  if (overrides.metricsPort !== undefined) merged.metrics = { ...(merged.metrics as object | undefined), port: overrides.metricsPort };
  if (overrides.logLevel !== undefined) merged.log = { ...(merged.log as object | undefined), level: overrides.logLevel };
  const schema = role === "participant" ? participantConfigSchema : aggregatorConfigSchema;
  const parsed = schema.safeParse(merged);
  if (!parsed.success) throw new DsainError(ErrorCode.CONFIG_INVALID, describeIssue(file, parsed.error.issues[0]));
  return resolvePaths(parsed.data, path.dirname(path.resolve(file))) as NodeConfig<R>;
}
