// Reaching a chain over JSON-RPC the way a daemon must: ask the node once, with a deadline, and say
// in one sentence which endpoint did not answer (never ethers' endless "failed to detect network"
// retries); then an ethers provider pinned to that chain id, and a check that the ledger is there.
import { JsonRpcProvider, Network } from "ethers";
import { DsainError, ErrorCode, ensureError } from "../../errors.js";

async function rpcCall(url: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const e = ensureError(error);
    const cause =
      (e.cause as NodeJS.ErrnoException | undefined)?.code ?? (e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : e.message);
    throw new DsainError(ErrorCode.CHAIN_UNAVAILABLE, `the chain's JSON-RPC endpoint ${url} does not answer (${cause})`, { cause: error });
  }
  let body: { result?: unknown; error?: { message?: string } };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new DsainError(ErrorCode.CHAIN_UNAVAILABLE, `${url} answered HTTP ${res.status} without JSON-RPC: is it a chain node?`);
  }
  if (body.error !== undefined || body.result === undefined) {
    throw new DsainError(ErrorCode.CHAIN_FAILURE, `${url} refused ${method}: ${body.error?.message ?? "no result"}`);
  }
  return body.result;
}

export interface ChainConnection {
  provider: JsonRpcProvider;
  chainId: bigint;
}

/** Connects to `url` (CHAIN_UNAVAILABLE, retryable, if it does not answer) and checks there is code at `ledger`. */
export async function connectChain(
  url: string,
  ledger: string,
  options: { timeoutMs?: number; pollingMs?: number } = {},
): Promise<ChainConnection> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const chainId = BigInt(String(await rpcCall(url, "eth_chainId", [], timeoutMs)));
  const code = String(await rpcCall(url, "eth_getCode", [ledger, "latest"], timeoutMs));
  if (code === "0x") {
    throw new DsainError(
      ErrorCode.CONFIG_INVALID,
      `there is no contract at ledger ${ledger} on chain ${chainId} (${url}): check the ledger address`,
    );
  }
  const provider = new JsonRpcProvider(url, Network.from(chainId), { staticNetwork: true, pollingInterval: options.pollingMs ?? 1000 });
  return { provider, chainId };
}
