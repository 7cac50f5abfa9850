// DsainError as a daemon reads it: a code, whether the step may be tried again, and the ledger's
// decoded custom error; the chain adapter classifies real ethers errors by their codes and revert
// data, never by their message text.
import { createServer, type Server } from "node:net";
import { expect } from "chai";
import { Contract, Interface, JsonRpcProvider, Network, Wallet, makeError } from "ethers";
import { DsainError, ErrorCode, USAGE_ERROR_CODES, isRetryable } from "../../aggregator/errors.js";
import { isChallengeNotReady } from "../../aggregator/adapters/chain/challenge-block.js";
import { chainError, decodeRevert, isTransientChainError, revertData } from "../../aggregator/adapters/chain/chain-errors.js";

const LEDGER_ERRORS = new Interface([
  "error ProvenanceRoundExists(uint256 federationId, uint64 round)",
  "error ProvenanceChallengeNotReady(uint256 federationId, uint64 round, uint64 block)",
]);

/** A CALL_EXCEPTION as ethers raises it for a reverted call, carrying the revert data where providers put it. */
function revertedCall(data: string, nested: boolean): Error {
  const err = makeError("execution reverted", "CALL_EXCEPTION", {
    action: "call",
    data: nested ? null : data,
    reason: null,
    transaction: { to: null, data: "0x" },
    invocation: null,
    revert: null,
  });
  if (nested) Object.assign(err, { info: { error: { code: 3, message: "execution reverted", data } } });
  return err;
}

describe("errors", function () {
  describe("DsainError", function () {
    it("should be retryable by default only for an unreachable chain, a block not mined yet or an unavailable peer", function () {
      for (const code of Object.values(ErrorCode)) {
        const expected = code === ErrorCode.CHAIN_UNAVAILABLE || code === ErrorCode.CHAIN_NOT_READY || code === ErrorCode.PEER_UNAVAILABLE;
        expect(new DsainError(code, "x").retryable, code).to.equal(expected);
        expect(isRetryable(new DsainError(code, "x")), code).to.equal(expected);
      }
    });

    it("should take an explicit retryable flag, a decoded revert and a cause", function () {
      const cause = new Error("underlying");
      const e = new DsainError(ErrorCode.CHAIN_FAILURE, "refused", { retryable: true, revert: { name: "X", args: [1n] }, cause });
      expect(e.retryable).to.equal(true);
      expect(e.revert).to.deep.equal({ name: "X", args: [1n] });
      expect(e.cause).to.equal(cause);
      expect(isRetryable(new Error("plain"))).to.equal(false);
    });

    it("should keep usage codes apart from bad input and failed jobs", function () {
      expect([...USAGE_ERROR_CODES].sort()).to.deep.equal(
        [ErrorCode.BAD_ARGUMENT, ErrorCode.CHAIN_UNAVAILABLE, ErrorCode.CONFIG_INVALID, ErrorCode.ENVIRONMENT].sort(),
      );
      expect(USAGE_ERROR_CODES.has(ErrorCode.INPUT_INVALID)).to.equal(false);
      expect(USAGE_ERROR_CODES.has(ErrorCode.CHAIN_FAILURE)).to.equal(false);
    });
  });

  describe("chain errors", function () {
    const data = LEDGER_ERRORS.encodeErrorResult("ProvenanceRoundExists", [7n, 3n]);

    for (const nested of [false, true]) {
      it(`should decode the ledger's custom error from revert data ${nested ? "nested in the JSON-RPC answer" : "on the error"}`, function () {
        const err = revertedCall(data, nested);
        expect(revertData(err)).to.equal(data);
        expect(decodeRevert(err, LEDGER_ERRORS)).to.deep.equal({ name: "ProvenanceRoundExists", args: [7n, 3n] });
        const d = chainError("posting round 3", err, LEDGER_ERRORS);
        expect(d.code).to.equal(ErrorCode.CHAIN_FAILURE);
        expect(d.retryable).to.equal(false);
        expect(d.revert).to.deep.equal({ name: "ProvenanceRoundExists", args: [7n, 3n] });
        expect(d.message).to.equal("posting round 3 was refused by the ledger: ProvenanceRoundExists(7, 3)");
      });
    }

    it("should not decode an error the ABI does not know, nor a message that merely names one", function () {
      const unknown = revertedCall(new Interface(["error Other(uint256)"]).encodeErrorResult("Other", [1n]), false);
      expect(decodeRevert(unknown, LEDGER_ERRORS)).to.equal(undefined);
      const wordy = new Error("execution reverted: ProvenanceRoundExists(7, 3)");
      expect(decodeRevert(wordy, LEDGER_ERRORS)).to.equal(undefined);
      const d = chainError("posting", wordy, LEDGER_ERRORS);
      expect(d.revert).to.equal(undefined);
      expect(d.retryable).to.equal(false);
    });

    it("should mark ethers' transport and nonce faults retryable, and a revert or a funding error not", function () {
      for (const code of ["TIMEOUT", "NETWORK_ERROR", "SERVER_ERROR", "NONCE_EXPIRED", "REPLACEMENT_UNDERPRICED"] as const) {
        const err = makeError("fault", code as "TIMEOUT");
        expect(isTransientChainError(err), code).to.equal(true);
        const d = chainError("sending", err);
        expect(d.code, code).to.equal(ErrorCode.CHAIN_UNAVAILABLE);
        expect(d.retryable, code).to.equal(true);
      }
      expect(isTransientChainError(makeError("no funds", "INSUFFICIENT_FUNDS"))).to.equal(false);
      expect(isTransientChainError(revertedCall(data, false))).to.equal(false);
    });

    it("should recognise the ledger's challenge-not-ready refusal by its revert data alone", function () {
      const notReady = LEDGER_ERRORS.encodeErrorResult("ProvenanceChallengeNotReady", [1n, 2n, 30n]);
      expect(isChallengeNotReady(revertedCall(notReady, true))).to.equal(true);
      expect(isChallengeNotReady(revertedCall(data, true))).to.equal(false);
      expect(isChallengeNotReady(new Error("ProvenanceChallengeNotReady"))).to.equal(false);
    });

    it("should pass a DsainError through unchanged", function () {
      const own = new DsainError(ErrorCode.CHAIN_NOT_READY, "not yet");
      expect(chainError("reading", own)).to.equal(own);
    });

    describe("against a real socket on 127.0.0.1", function () {
      let server: Server;
      let port: number;
      before(async function () {
        // A port that was just bound and released: nothing listens there (ECONNREFUSED).
        server = createServer();
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        port = (server.address() as { port: number }).port;
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });

      it("should call an unreachable node CHAIN_UNAVAILABLE and retryable, for a call and for a transaction", async function () {
        const provider = new JsonRpcProvider(`http://127.0.0.1:${port}`, Network.from(31337), { staticNetwork: true });
        try {
          const view = new Contract(Wallet.createRandom().address, ["function f() view returns (uint256)"], provider);
          const call = await view.f().then(
            () => expect.fail("a call to a closed port answered"),
            (e: unknown) => chainError("reading f", e),
          );
          expect(call.code).to.equal(ErrorCode.CHAIN_UNAVAILABLE);
          expect(call.retryable).to.equal(true);
          const wallet = Wallet.createRandom().connect(provider);
          const tx = await wallet.sendTransaction({ to: wallet.address, value: 0n }).then(
            () => expect.fail("a transaction to a closed port was sent"),
            (e: unknown) => chainError("sending", e),
          );
          expect(tx.code).to.equal(ErrorCode.CHAIN_UNAVAILABLE);
          expect(tx.message).to.match(/^sending failed: the chain did not answer/);
        } finally {
          provider.destroy();
        }
      });
    });
  });
});
