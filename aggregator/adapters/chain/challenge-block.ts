// The block that fixes a round's proof challenge (docs/protocol.md §8, §14): the ledger derives the
// challenged chunks from h_t and the hash of the block after the one that completed the round's
// record, so the prover reads its challenge only once that block exists. These helpers wait for it
// (mining it on a development chain) and, for the demo's cheating aggregator, play a colluding
// producer of that block that re-mines it until the challenge misses a chosen chunk.
import { id, type Signer } from "ethers";
import { DsainError, ErrorCode } from "../../errors.js";
import { chainError, revertData } from "./chain-errors.js";

/** Selector of ProvenanceChallengeNotReady(uint256,uint64,uint64). */
const CHALLENGE_NOT_READY = id("ProvenanceChallengeNotReady(uint256,uint64,uint64)").slice(0, 10);

/** Whether `e` is the ledger's refusal to answer a challenge whose block does not exist yet (by its revert data). */
export function isChallengeNotReady(e: unknown): boolean {
  const err = e as { revert?: { name?: string } } | undefined;
  return err?.revert?.name === "ProvenanceChallengeNotReady" || revertData(e)?.startsWith(CHALLENGE_NOT_READY) === true;
}

/** The JSON-RPC methods these helpers use. */
export interface RpcProvider {
  send(method: string, params: unknown[]): Promise<any>;
}

export interface AwaitChallengeOptions<T> {
  /** Reads the challenge from the ledger (a view that reverts ProvenanceChallengeNotReady until its block exists). */
  read: () => Promise<T>;
  provider: RpcProvider;
  /**
   * Hardhat's in-process network: mine the block with hardhat_mine. Otherwise the block is waited
   * for, after asking the node once to mine it (evm_mine: a `hardhat node` or anvil does; a
   * production chain refuses the method, and its next block comes anyway).
   */
  mine: boolean;
  /** On an external chain that mines only on transactions, a zero-value transaction from it makes the block. */
  nudge?: Signer;
  /** Names the round in errors, e.g. "round 3". */
  what: string;
  log?: (line: string) => void;
  /** Gives up after this long on an external chain (default 5 minutes). */
  timeoutMs?: number;
}

/** Reads the challenge, mining or waiting for the block that fixes it first. */
export async function awaitChallenge<T>(o: AwaitChallengeOptions<T>): Promise<T> {
  const started = Date.now();
  const timeout = o.timeoutMs ?? 300_000;
  let nudged = false;
  let askedToMine = false;
  for (;;) {
    try {
      return await o.read();
    } catch (e) {
      if (!isChallengeNotReady(e)) {
        throw chainError(`${o.what}: reading the proof challenge`, e);
      }
    }
    if (o.mine) {
      await o.provider.send("hardhat_mine", ["0x1"]);
      continue;
    }
    if (!askedToMine) {
      askedToMine = true;
      const mined = await o.provider.send("evm_mine", []).then(
        () => true,
        () => false,
      );
      if (mined) continue;
    }
    const waited = Date.now() - started;
    if (waited > timeout) {
      throw new DsainError(
        ErrorCode.CHAIN_NOT_READY,
        `${o.what}: no block after the record's within ${Math.round(timeout / 1000)} s; the challenge cannot be read`,
      );
    }
    if (waited > 10_000 && !nudged && o.nudge !== undefined) {
      o.log?.("  no new block for 10 s: sending a zero-value transaction so that an automining chain mines the challenge block");
      await (await o.nudge.sendTransaction({ to: await o.nudge.getAddress(), value: 0n })).wait();
      nudged = true;
      continue;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

export interface GrindChallengeOptions<T> {
  read: () => Promise<T>;
  /** Development chain only: evm_snapshot, evm_setNextBlockTimestamp, evm_mine and evm_revert. */
  provider: RpcProvider;
  /** Whether a challenge is acceptable to the cheater (misses what it corrupted). */
  accept: (challenge: T) => boolean;
  what: string;
  maxTries?: number;
}

/**
 * The demo's colluding block producer: mines the block after the record, and while the challenge it
 * fixes is not acceptable, reverts it and mines it again with another timestamp. Only a chain whose
 * producer colludes with the aggregator allows this (docs/protocol.md §8); an aggregator alone cannot
 * choose its challenge. Returns the challenge and how many blocks were mined.
 */
export async function grindChallengeBlock<T>(o: GrindChallengeOptions<T>): Promise<{ challenge: T; tries: number }> {
  const max = o.maxTries ?? 64;
  const latest = await o.provider.send("eth_getBlockByNumber", ["latest", false]);
  const base = Number(BigInt(latest.timestamp));
  for (let tries = 1; tries <= max; tries++) {
    let snapshot: unknown;
    try {
      snapshot = await o.provider.send("evm_snapshot", []);
    } catch (e) {
      throw new DsainError(
        ErrorCode.ENVIRONMENT,
        `${o.what}: the cheat re-mines the challenge block, which needs a development chain (evm_snapshot failed)`,
        {
          cause: e,
        },
      );
    }
    await o.provider.send("evm_setNextBlockTimestamp", [base + tries]);
    await o.provider.send("evm_mine", []);
    let challenge: T;
    try {
      challenge = await o.read();
    } catch (e) {
      if (!isChallengeNotReady(e)) throw e;
      await o.provider.send("hardhat_mine", ["0x1"]);
      challenge = await o.read();
    }
    if (o.accept(challenge)) return { challenge, tries };
    await o.provider.send("evm_revert", [snapshot]);
  }
  throw new DsainError(ErrorCode.CHAIN_FAILURE, `${o.what}: ${max} challenge blocks all opened the corrupted chunk`);
}
