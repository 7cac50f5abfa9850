// Chain failures as DsainErrors a daemon can act on: the ledger's custom error decoded from the
// revert data (never from message text), and transport faults marked retryable. Classified by
// ethers' error codes and Node's system error codes only.
import { isError, type Interface } from "ethers";
import { DsainError, ErrorCode, ensureError, type DecodedRevert } from "../../errors.js";

/** ethers' codes for faults of the transport or of the node's mempool, where trying again can help. */
const TRANSIENT_ETHERS_CODES = ["TIMEOUT", "NETWORK_ERROR", "SERVER_ERROR", "NONCE_EXPIRED", "REPLACEMENT_UNDERPRICED"] as const;

/** Node's system error codes of a connection that failed or was cut (found along the cause chain). */
const TRANSIENT_SYSTEM_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
]);

/** The objects an error wraps: `cause`, and ethers' `error` / `info.error` (the JSON-RPC answer). */
function* errorChain(e: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [e];
  while (queue.length > 0) {
    const x = queue.shift();
    if (x === null || typeof x !== "object" || seen.has(x)) continue;
    seen.add(x);
    const o = x as Record<string, unknown>;
    yield o;
    queue.push(o.cause, o.error, (o.info as Record<string, unknown> | undefined)?.error, o.data);
  }
}

/** The revert data (0x-hex) a failed call or transaction carries, wherever the provider put it. */
export function revertData(e: unknown): string | undefined {
  for (const o of errorChain(e)) {
    if (typeof o.data === "string" && /^0x[0-9a-fA-F]{8}/.test(o.data)) return o.data;
  }
  return undefined;
}

/** The custom error `e` reverted with, decoded by `iface`; undefined when there is none it knows. */
export function decodeRevert(e: unknown, iface: Interface): DecodedRevert | undefined {
  const data = revertData(e);
  if (data === undefined) return undefined;
  try {
    const parsed = iface.parseError(data);
    return parsed === null ? undefined : { name: parsed.name, args: [...parsed.args] };
  } catch {
    return undefined;
  }
}

/** Whether `e` is a fault of the connection or of the node's transaction pool, not an answer of the chain. */
export function isTransientChainError(e: unknown): boolean {
  if (TRANSIENT_ETHERS_CODES.some((code) => isError(e, code))) return true;
  for (const o of errorChain(e)) if (typeof o.code === "string" && TRANSIENT_SYSTEM_CODES.has(o.code)) return true;
  return false;
}

/** `ProvenanceRoundExists(1, 2)`. */
export function formatRevert(r: DecodedRevert): string {
  return `${r.name}(${r.args.map(String).join(", ")})`;
}

/**
 * A DsainError for a failed chain operation `what`: CHAIN_FAILURE with the decoded custom error
 * when the ledger reverted (not retryable), CHAIN_UNAVAILABLE when the node could not be reached
 * or the transport failed (retryable), CHAIN_FAILURE otherwise.
 */
export function chainError(what: string, e: unknown, iface?: Interface): DsainError {
  if (e instanceof DsainError) return e;
  const revert = iface === undefined ? undefined : decodeRevert(e, iface);
  if (revert !== undefined) {
    return new DsainError(ErrorCode.CHAIN_FAILURE, `${what} was refused by the ledger: ${formatRevert(revert)}`, { cause: e, revert });
  }
  if (isTransientChainError(e)) {
    return new DsainError(
      ErrorCode.CHAIN_UNAVAILABLE,
      `${what} failed: the chain did not answer (${ensureError(e).message.split("\n")[0]})`,
      {
        cause: e,
      },
    );
  }
  return new DsainError(ErrorCode.CHAIN_FAILURE, `${what} was refused by the ledger: ${ensureError(e).message.split("\n")[0]}`, {
    cause: e,
  });
}
