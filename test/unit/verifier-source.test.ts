// The verifying-key hash written into every generated verifier (docs/protocol.md §9): the ledger asks
// a federation's verifier for it and refuses a pin that differs.
import { expect } from "chai";
import { ErrorCode } from "../../aggregator/errors.js";
import { withVerifyingKeyHash } from "../../aggregator/adapters/proof/keys.js";
import { expectDsainError } from "../helpers/errors.js";

const HASH = "0x" + "5a".repeat(32);
const SOURCE = "// header\npragma solidity >=0.7.0 <0.9.0;\n\ncontract V_1 {\n    uint256 constant r = 1;\n}\n";

describe("verifier source: VERIFYING_KEY_HASH()", function () {
  it("should declare the hash once, first in the contract", function () {
    const out = withVerifyingKeyHash(SOURCE, "V_1", HASH);
    expect(out.split("VERIFYING_KEY_HASH").length).to.equal(2);
    expect(out).to.contain(`contract V_1 {\n    /// @dev sha256 of the verifying key`);
    expect(out).to.contain(`    bytes32 public constant VERIFYING_KEY_HASH = ${HASH};\n`);
    expect(out.replace(/\n {4}\/\/\/ @dev sha256[^\n]*\n[^\n]*VERIFYING_KEY_HASH[^\n]*\n/, "")).to.equal(SOURCE);
  });

  it("should refuse a hash that is not 32 bytes of lowercase hex, and a source without the contract or with it twice", function () {
    for (const bad of ["0x1234", HASH.toUpperCase().replace("0X", "0x"), HASH.slice(2)]) {
      expectDsainError(() => withVerifyingKeyHash(SOURCE, "V_1", bad), ErrorCode.ZK_SETUP_FAILED, /is not 32 bytes of lowercase hex/);
    }
    expectDsainError(
      () => withVerifyingKeyHash(SOURCE, "V_2", HASH),
      ErrorCode.ZK_SETUP_FAILED,
      /does not declare `contract V_2 \{` exactly once/,
    );
    expectDsainError(() => withVerifyingKeyHash(SOURCE + SOURCE, "V_1", HASH), ErrorCode.ZK_SETUP_FAILED, /exactly once/);
  });
});
