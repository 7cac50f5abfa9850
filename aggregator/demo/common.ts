// What both demo paths share: options, results, development keys, the audit at the end and the summary.
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { LedgerClient } from "../adapters/chain/ledger.js";
import { type ChainSession } from "../adapters/chain/hardhat.js";
import { DsainError, ErrorCode } from "../errors.js";
import { type CheckpointStore } from "../adapters/storage/checkpoint-store.js";
import { PROJECT_ROOT } from "../paths.js";
import { auditEvidence, type AuditEvidenceOptions, type AuditOutcome } from "../roles/auditor/run.js";
import { CHUNK_SIZE, SCALE } from "../protocol/constants.js";
import type { PublishedUpdate } from "../protocol/checkpoint.js";
import type { Posted } from "../roles/poster.js";

export const DEMO_INSTANCE = "RoundChunk_4-1_test";
export const DEMO_MODEL_ID = "dsain-demo-mlp-8-16-4";

/** How a round's attestations reach the chain: one transaction, one per participant, or both in turn. */
export type PostMode = "batched" | "direct" | "alternate";

/** The federation's aggregation rule (docs/protocol.md §3). */
export type DemoRule = "fedavg" | "byzfed";

/** ByzFed parameters of the demo federation: the authors' defaults, tau = 3 and alpha = 0.9, in millionths. */
export const DEMO_BYZFED = { tauMicros: 3_000_000n, reputationDecayMicros: 900_000n } as const;

/**
 * A dishonest aggregator, for demonstrations and tests of the auditor:
 * - "model-outside-challenge": the committed model differs from the exact aggregate in one
 *   coordinate, ground (docs/proof-of-training.md §6) so that the chain's challenge misses its
 *   chunk: the record's roots are those of the wrong model, so the proof verifies on-chain;
 * - "swapped-updates": the checkpoint lists the first two participants' update files swapped.
 */
export interface DemoCheat {
  round: number;
  kind: "model-outside-challenge" | "swapped-updates";
}

export interface DemoOptions {
  rounds: number;
  /** K: participants selected per round (the roster holds K + 2, so the selection is real). */
  participants: number;
  /** Local epochs per round. */
  epochs: number;
  seed: number;
  /** Working directory: IPFS blocks, summary. Cleared at start. */
  workDir: string;
  /** JSON-RPC URL of an external chain; in-process Hardhat network when undefined. */
  rpcUrl?: string;
  /** Batched, direct, or alternating (round 1 batched, round 2 direct, ...; the default). */
  postMode?: PostMode;
  /** FedAvg (default) or ByzFed with DEMO_BYZFED. */
  rule?: DemoRule;
  /**
   * Roster indices 0 … n-1 are Byzantine: whenever selected, they send DSAIN's boosted sign flip
   * (-5 times their honest update; Table 2 of the paper). Default 0.
   */
  byzantine?: number;
  /**
   * Dropouts: in every round the last n participants of S_t send no update, so rounds close with
   * K - n updates (the federation's minUpdates) and are proven with the circuit's zero-weight
   * padding slots (docs/protocol.md §8). Default 0; not with zkAttestations.
   */
  dropouts?: number;
  /** Rounds in which the posting aggregator cheats (the audit must then fail). */
  cheats?: DemoCheat[];
  /**
   * Batched rounds with in-circuit attestations (docs/protocol.md §14) on RoundAttested_2-1-0-2-2_test:
   * K = 2, participants sign with BabyJubJub keys, one proof checks their signatures and the
   * aggregation (aggregator/demo/zk-demo.ts). postMode and --rule byzfed do not apply.
   */
  zkAttestations?: boolean;
  /** Skip the audit at the end (tests run it themselves). */
  skipAudit?: boolean;
  /** Deploy, fund, enrol and create the federation, then stop before round 1 (`dsain devnet` hands the rounds to daemons). */
  setupOnly?: boolean;
  /** Keep the chain and IPFS node open and return them (tests tamper with them). */
  keepOpen?: boolean;
  log?: (line: string) => void;
}

export interface RoundSummary {
  round: number;
  /** "zk": a batched round of docs/protocol.md §14 (postBatchedRound + proveBatchedRound). */
  mode: "batched" | "direct" | "zk";
  /** The participants whose updates the round carries, in S_t order (without --dropouts: all of S_t). */
  selected: string[];
  accuracy: number;
  loss: number;
  cid: string;
  /** CIDs of the published update files, in S_t order (as the checkpoint lists them, unless cheating). */
  updateCids: string[];
  /** Integer weights of the record, in S_t order. */
  weights: number[];
  /** ByzFed: reputations after the round in millionths, in S_t order (FedAvg records 10^6). */
  reputations: number[];
  /** Participants whose update was poisoned (Byzantine) this round. */
  byzantine: string[];
  /** Selected participants that sent no update this round (--dropouts). */
  dropped?: string[];
  /** What the aggregator did wrong this round, if it cheated. */
  cheat?: string;
  modelRoot: string;
  commitment: string;
  chunkIndex: number;
  /** zk rounds: every challenged chunk (chunkIndex is the first). */
  chunkIndices?: number[];
  /** Gas of the record transaction (with the attestations in batched mode). */
  postGas: bigint;
  /** Gas of the participants' own attestation transactions (direct mode; 0 in batched). */
  attestGas: bigint;
  proveGas: bigint;
  witnessMs: number;
  proveMs: number;
}

export interface DemoResult {
  chainId: bigint;
  ledger: string;
  verifier: string;
  federationId: bigint;
  rule: DemoRule;
  genesisCid: string;
  initialAccuracy: number;
  rounds: RoundSummary[];
  constraints: number;
  vkeyHash: string;
  /** The circuit instance the rounds were proven with (DEMO_INSTANCE when absent). */
  instance?: string;
  ipfsDir: string;
  /** Ignition deployment id on an external chain (its journal is ignition/deployments/<id>). */
  deploymentId?: string;
  audit?: AuditOutcome;
  /** Present with keepOpen: the caller must close both. */
  session?: { chain: ChainSession; store: CheckpointStore; ledgerClient: LedgerClient };
}

export const DEMO_DEFAULTS: Omit<DemoOptions, "log"> = {
  rounds: 2,
  participants: 4,
  epochs: 2,
  seed: 1,
  workDir: path.join(PROJECT_ROOT, ".dsain", "demo"),
};

export function participantWallet(seed: number, i: number): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(`dsain demo participant ${i} seed ${seed}`)));
}

/** Committee members besides the posting aggregator: deterministic development keys. */
export function committeeWallet(i: number): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(`dsain demo aggregator ${i}`)));
}

/** Extra roster members beyond K, so that each round's selection leaves some out. */
export const ROSTER_EXTRA = 2;

/**
 * The end of a demo run, either path: the audit from chain events, block headers and IPFS alone
 * (unless skipped), summary.json, and the session kept open when asked. Returns whether the session
 * stays open (the caller then leaves chain and store running).
 */
export async function concludeDemo(
  result: DemoResult,
  options: DemoOptions,
  session: { chain: ChainSession; store: CheckpointStore; ledger: LedgerClient },
  keys: Pick<AuditEvidenceOptions, "vkey" | "vkeyHash" | "batchedVkey" | "batchedVkeyHash">,
): Promise<boolean> {
  const log = options.log ?? (() => undefined);
  if (options.skipAudit !== true) {
    log("• audit: rebuilding the history from chain events, block headers and IPFS alone");
    result.audit = await auditEvidence({
      evidence: await session.ledger.readEvidence(result.federationId, session.chain.ethers.provider),
      store: session.store,
      ...keys,
      log,
    });
  }
  await writeFile(
    path.join(options.workDir, "summary.json"),
    JSON.stringify(result, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n",
  );
  if (options.keepOpen !== true) return false;
  result.session = { chain: session.chain, store: session.store, ledgerClient: session.ledger };
  return true;
}

const WORK_DIR_MARKER = ".dsain-demo";

/** Empties the demo's working directory, refusing any non-empty folder the demo did not create. */
export async function resetWorkDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length > 0 && !entries.includes(WORK_DIR_MARKER)) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `--work-dir ${dir} is not empty and was not made by dsain demo; refusing to clear it (choose an empty or new folder)`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, WORK_DIR_MARKER), "created by dsain demo; the folder is cleared on the next run\n");
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** The closing summary the demo prints. */
export function formatSummary(r: DemoResult): string {
  const lines = [
    "",
    "Summary",
    `  chain ${r.chainId}, ledger ${r.ledger}, federation ${r.federationId}`,
    `  genesis ${r.genesisCid}, accuracy ${pct(r.initialAccuracy)}; aggregation ${r.rule === "byzfed" ? "ByzFed" : "FedAvg"}, updates published to IPFS`,
    "  round  mode     accuracy  attest gas  post gas  prove gas  witness+prove  checkpoint CID",
  ];
  for (const x of r.rounds) {
    lines.push(
      `  ${String(x.round).padStart(5)}  ${x.mode.padEnd(7)}  ${pct(x.accuracy).padStart(8)}  ${String(x.attestGas).padStart(10)}  ${String(x.postGas).padStart(8)}  ${String(x.proveGas).padStart(9)}  ${`${x.witnessMs + x.proveMs} ms`.padStart(13)}  ${x.cid}`,
    );
  }
  lines.push(
    `  circuit ${r.instance ?? DEMO_INSTANCE}: ${r.constraints} constraints (development key ${r.vkeyHash.slice(0, 18)}…, not for production)`,
  );
  if (r.audit)
    lines.push(
      `  audit: ${r.audit.ok ? "PASS" : "FAIL"} (${r.audit.report.rounds} rounds, ${r.audit.report.recomputed} aggregations recomputed from the published updates, ${r.audit.report.proven} proofs verified, ${r.audit.report.finalized} finalized)`,
    );
  return lines.join("\n");
}

/** DSAIN's boosted sign flip (paper Table 2, lambda = 5): a Byzantine participant sends -5 × its update, signed like any honest one. */
export function poisonUpdate<T extends { delta: Int32Array }>(update: T): T {
  return { ...update, delta: update.delta.map((x) => -5 * x) };
}

/** The gas a poster's step used (0 when its effect was already on-chain). */
export function gasOf(posted: Posted): bigint {
  return posted.sent ? posted.receipt.gasUsed : 0n;
}

/** What a cheating aggregator commits instead of the honest round, for the demonstration of `--cheat-round`. */
export interface Cheat {
  /** The update list the checkpoint carries. */
  listed: PublishedUpdate[];
  /** The model committed as w_{t+1}. */
  next: Int32Array;
  /** For the log and the summary; undefined for an honest round. */
  note?: string;
  /** The chunk the corrupted coordinate lies in: the challenge must miss it, so the block producer colludes. */
  chunk?: number;
}

/**
 * The demo's two cheats: `swapped-updates` lists the first two update files swapped in the
 * checkpoint; `model-outside-challenge` commits the last coordinate +1.0 (the challenge is fixed
 * only after the record, so the cheater needs the producer of the next block to collude).
 */
export function applyCheat(kind: DemoCheat["kind"] | undefined, exact: Int32Array, published: readonly PublishedUpdate[]): Cheat {
  if (kind === "swapped-updates") {
    const listed = published.slice();
    listed[0] = { participant: published[0].participant, cid: published[1].cid };
    listed[1] = { participant: published[1].participant, cid: published[0].cid };
    return {
      listed,
      next: exact,
      note: `the checkpoint lists the update files of ${published[0].participant} and ${published[1].participant} swapped`,
    };
  }
  if (kind === "model-outside-challenge") {
    const coordinate = exact.length - 1;
    const next = exact.slice();
    next[coordinate] += SCALE;
    const chunk = Math.floor(coordinate / CHUNK_SIZE);
    return {
      listed: published.slice(),
      next,
      chunk,
      note: `coordinate ${coordinate} committed as ${next[coordinate]} instead of ${exact[coordinate]} (chunk ${chunk})`,
    };
  }
  return { listed: published.slice(), next: exact };
}
