// The poster's steps: send a round's record, its proof and its finalization to the ledger, each
// idempotently. The chain is read first: what is already there (the same record, a proof already
// verified, a round already finalized) is success without a transaction, so a process that
// restarts, or two members that both try, never post a round twice; a different record for the
// same round is refused with a clear error. A send that fails is re-read once, since its
// transaction may have landed all the same.
import type { TransactionReceipt } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";
import { ROUND_STATUS_NAMES, RoundStatus, type BatchedEntry, type RoundColumns, type SolidityProof } from "../protocol/evidence.js";
import type { UpdateEntry } from "../protocol/record.js";
import type { LedgerClient } from "../adapters/chain/ledger.js";
import type { BuiltBatchedRecord, BuiltRecord } from "../adapters/chain/records.js";

/** What a step did: sent a transaction (its receipt), or found its effect already on-chain. */
export type Posted = { sent: true; receipt: TransactionReceipt } | { sent: false; status: string };

type Ledger = Pick<LedgerClient, "roundRecord" | "postRound" | "postBatchedRound" | "proveRound" | "proveBatchedRound" | "finalizeRound">;

function statusName(status: bigint): string {
  return ROUND_STATUS_NAMES[Number(status)] ?? `status ${status}`;
}

/** Runs `send` unless `done()` already holds; a failed send counts as done if the chain then says so. */
async function once(done: () => Promise<string | undefined>, send: () => Promise<TransactionReceipt>): Promise<Posted> {
  const before = await done();
  if (before !== undefined) return { sent: false, status: before };
  try {
    return { sent: true, receipt: await send() };
  } catch (e) {
    const after = await done().catch(() => undefined);
    if (after !== undefined) return { sent: false, status: after };
    throw e;
  }
}

/** Whether round `round` holds the record whose commitment is `commitment` (its status if so); throws if it holds another. */
async function holds(ledger: Ledger, federationId: bigint, round: bigint, commitment: string): Promise<string | undefined> {
  const r = await ledger.roundRecord(federationId, round);
  if (r.status === BigInt(RoundStatus.None)) return undefined;
  if (r.commitment.toLowerCase() !== commitment.toLowerCase()) {
    throw new DsainError(
      ErrorCode.CHAIN_FAILURE,
      `round ${round} already holds another record (commitment ${r.commitment}, ${statusName(r.status)}), not ${commitment}`,
    );
  }
  return statusName(r.status);
}

/** Posts a RoundRecord (direct and batched-ECDSA paths) unless the ledger already holds it. */
export function postRecord(
  ledger: Ledger,
  federationId: bigint,
  record: BuiltRecord,
  entries: readonly UpdateEntry[],
  quorum: readonly string[],
): Promise<Posted> {
  return once(
    () => holds(ledger, federationId, record.post.round, record.post.commitment),
    () => ledger.postRound(federationId, record.post, [...entries], [...quorum]),
  );
}

/** Posts a BatchedRoundRecord (in-circuit attestations) unless the ledger already holds it. */
export function postBatchedRecord(
  ledger: Ledger,
  federationId: bigint,
  record: BuiltBatchedRecord,
  entries: readonly BatchedEntry[],
  quorum: readonly string[],
): Promise<Posted> {
  return once(
    () => holds(ledger, federationId, record.post.round, record.post.commitment),
    () => ledger.postBatchedRound(federationId, record.post, [...entries], record.updatesCommitment, [...quorum]),
  );
}

/** The round's status when it is at least `at` (so the step is done), else undefined. */
async function reached(ledger: Ledger, federationId: bigint, round: bigint, at: number): Promise<string | undefined> {
  const { status } = await ledger.roundRecord(federationId, round);
  return Number(status) >= at && status !== BigInt(RoundStatus.Rejected) ? statusName(status) : undefined;
}

/** Submits the direct path's proof unless the round is already proven (or finalized). */
export function proveRecord(
  ledger: Ledger,
  federationId: bigint,
  round: bigint,
  columns: RoundColumns,
  proof: SolidityProof,
): Promise<Posted> {
  return once(
    () => reached(ledger, federationId, round, RoundStatus.Proven),
    () => ledger.proveRound(federationId, round, columns, proof),
  );
}

/** Submits a batched round's RoundAttested proof unless the round is already proven (or finalized). */
export function proveBatchedRecord(ledger: Ledger, federationId: bigint, round: bigint, proof: SolidityProof): Promise<Posted> {
  return once(
    () => reached(ledger, federationId, round, RoundStatus.Proven),
    () => ledger.proveBatchedRound(federationId, round, proof),
  );
}

/** Finalizes a proven round unless it is already final; then checks that it is. */
export async function finalizeRecord(ledger: Ledger, federationId: bigint, round: bigint): Promise<Posted> {
  const done = await once(
    () => reached(ledger, federationId, round, RoundStatus.Finalized),
    () => ledger.finalizeRound(federationId, round),
  );
  const { status } = await ledger.roundRecord(federationId, round);
  if (status !== BigInt(RoundStatus.Finalized)) {
    throw new DsainError(ErrorCode.CHAIN_FAILURE, `round ${round} is ${statusName(status)} after finalization, not Finalized`);
  }
  return done;
}
