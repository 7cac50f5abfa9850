// A daemon's local state in one SQLite file (node:sqlite): the chain event cursor, the
// no-equivocation log (what this member signed, per federation and round) and the transactions it
// sent and has not seen mined. Everything else is rebuilt from the chain and the content store.
// Writes are synchronous and durable (WAL, synchronous=FULL) before the call returns, so the log is
// on disk before a signature leaves the process, and a SIGKILL loses nothing that was acknowledged.
import type { DatabaseSync } from "node:sqlite";
import { DsainError, ErrorCode, ensureError } from "../errors.js";
import type { EndorsementLog } from "../roles/committee.js";

/** A participant's own update for a round, kept so that a restart announces and attests the same one. */
export interface OwnUpdate {
  cid: string;
  updateRoot: string;
  sampleCount: bigint;
  /** The EIP-712 attestation (§6). */
  signature: string;
  /** The in-circuit attestation of a batched federation, decimal strings (§14). */
  eddsa?: { meta: string; R8x: string; R8y: string; S: string };
}

export interface PendingTransaction {
  hash: string;
  /** What it does: "attest", "postRound", "proveRound", … */
  method: string;
  federationId: bigint;
  round: bigint;
  nonce: number;
  sentAt: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, block INTEGER NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS endorsement (
    federation TEXT NOT NULL, round TEXT NOT NULL, commitment TEXT NOT NULL, signed_at INTEGER NOT NULL,
    PRIMARY KEY (federation, round)) STRICT;
  CREATE TABLE IF NOT EXISTS own_update (
    federation TEXT NOT NULL, round TEXT NOT NULL, cid TEXT NOT NULL, update_root TEXT NOT NULL,
    sample_count TEXT NOT NULL, signature TEXT NOT NULL, eddsa TEXT, PRIMARY KEY (federation, round)) STRICT;
  CREATE TABLE IF NOT EXISTS pending_tx (
    hash TEXT PRIMARY KEY, method TEXT NOT NULL, federation TEXT NOT NULL, round TEXT NOT NULL,
    nonce INTEGER NOT NULL, sent_at INTEGER NOT NULL) STRICT;
`;

// node:sqlite on Node 22 announces itself with an ExperimentalWarning on stderr, which would land
// in the middle of a daemon's JSON logs; it is silenced for this one import.
async function importSqlite(): Promise<typeof import("node:sqlite")> {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes("SQLite")) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return await import("node:sqlite");
  } finally {
    process.emitWarning = emit;
  }
}

export class NodeState {
  private constructor(
    private readonly db: DatabaseSync,
    readonly file: string,
  ) {}

  /** Opens (or creates) the state file; CONFIG_INVALID if it cannot be opened or is not a state file. */
  static async open(file: string): Promise<NodeState> {
    const { DatabaseSync: Database } = await importSqlite();
    let db: DatabaseSync | undefined;
    try {
      db = new Database(file);
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
      db.exec(SCHEMA);
    } catch (error) {
      db?.close();
      throw new DsainError(ErrorCode.CONFIG_INVALID, `cannot open the daemon's state file ${file}: ${ensureError(error).message}`);
    }
    return new NodeState(db, file);
  }

  /** The last block whose events were handled under `name`, or undefined on a fresh state. */
  cursor(name: string): bigint | undefined {
    const row = this.db.prepare("SELECT block FROM cursor WHERE name = ?").get(name) as { block: number } | undefined;
    return row === undefined ? undefined : BigInt(row.block);
  }

  setCursor(name: string, block: bigint): void {
    this.db
      .prepare("INSERT INTO cursor (name, block) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET block = excluded.block")
      .run(name, Number(block));
  }

  /** The commitment this member signed for a round of a federation, if any. */
  endorsed(federationId: bigint, round: bigint): string | undefined {
    const row = this.db
      .prepare("SELECT commitment FROM endorsement WHERE federation = ? AND round = ?")
      .get(String(federationId), String(round)) as { commitment: string } | undefined;
    return row?.commitment;
  }

  /**
   * Records that this member signs `commitment` for the round; the same commitment again is a no-op,
   * another one is refused (INPUT_INVALID): the log never holds two records for one round.
   */
  recordEndorsement(federationId: bigint, round: bigint, commitment: string): void {
    const normalized = commitment.toLowerCase();
    const earlier = this.endorsed(federationId, round);
    if (earlier !== undefined) {
      if (earlier === normalized) return;
      throw new DsainError(
        ErrorCode.INPUT_INVALID,
        `this member already signed record ${earlier} for round ${round} of federation ${federationId}; it signs one record per round`,
      );
    }
    this.db
      .prepare("INSERT INTO endorsement (federation, round, commitment, signed_at) VALUES (?, ?, ?, ?)")
      .run(String(federationId), String(round), normalized, Date.now());
  }

  /** The committee's EndorsementLog interface over this file, for one federation. */
  endorsementLog(federationId: bigint): EndorsementLog {
    return {
      signed: async (round) => this.endorsed(federationId, round),
      record: async (round, commitment) => this.recordEndorsement(federationId, round, commitment),
    };
  }

  ownUpdate(federationId: bigint, round: bigint): OwnUpdate | undefined {
    const row = this.db
      .prepare("SELECT cid, update_root, sample_count, signature, eddsa FROM own_update WHERE federation = ? AND round = ?")
      .get(String(federationId), String(round)) as
      { cid: string; update_root: string; sample_count: string; signature: string; eddsa: string | null } | undefined;
    if (row === undefined) return undefined;
    return {
      cid: row.cid,
      updateRoot: row.update_root,
      sampleCount: BigInt(row.sample_count),
      signature: row.signature,
      ...(row.eddsa === null ? {} : { eddsa: JSON.parse(row.eddsa) as OwnUpdate["eddsa"] }),
    };
  }

  /** Keeps the participant's update for the round; a second, different one is refused (INPUT_INVALID). */
  recordOwnUpdate(federationId: bigint, round: bigint, u: OwnUpdate): void {
    const earlier = this.ownUpdate(federationId, round);
    if (earlier !== undefined) {
      if (earlier.cid === u.cid) return;
      throw new DsainError(
        ErrorCode.INPUT_INVALID,
        `this participant already produced update ${earlier.cid} for round ${round}; it sends one per round`,
      );
    }
    this.db
      .prepare("INSERT INTO own_update (federation, round, cid, update_root, sample_count, signature, eddsa) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(
        String(federationId),
        String(round),
        u.cid,
        u.updateRoot,
        String(u.sampleCount),
        u.signature,
        u.eddsa === undefined ? null : JSON.stringify(u.eddsa),
      );
  }

  addPending(tx: PendingTransaction): void {
    this.db
      .prepare("INSERT OR REPLACE INTO pending_tx (hash, method, federation, round, nonce, sent_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(tx.hash, tx.method, String(tx.federationId), String(tx.round), tx.nonce, tx.sentAt);
  }

  resolvePending(hash: string): void {
    this.db.prepare("DELETE FROM pending_tx WHERE hash = ?").run(hash);
  }

  pending(): PendingTransaction[] {
    const rows = this.db.prepare("SELECT hash, method, federation, round, nonce, sent_at FROM pending_tx ORDER BY sent_at").all() as {
      hash: string;
      method: string;
      federation: string;
      round: string;
      nonce: number;
      sent_at: number;
    }[];
    return rows.map((r) => ({
      hash: r.hash,
      method: r.method,
      federationId: BigInt(r.federation),
      round: BigInt(r.round),
      nonce: r.nonce,
      sentAt: r.sent_at,
    }));
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
