// The ABI the chain adapter speaks is committed (aggregator/adapters/chain/abi/), so that the
// auditor and the daemons run without Hardhat; it must be what the contracts compile to now.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { Interface } from "ethers";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import { LEDGER_ABI } from "../../aggregator/adapters/chain/abi.js";
import { COMMITTED_ABIS, abiText } from "../../scripts/gen-abi.js";

describe("committed ABIs (npm run generate:abi)", function () {
  for (const { name, artifacts, file } of COMMITTED_ABIS) {
    it(`should hold the compiled ABI of ${name} in ${path.relative(PROJECT_ROOT, file)}`, async function () {
      expect(await readFile(file, "utf8"), "stale: run `npm run generate:abi`").to.equal(await abiText(artifacts));
    });
  }

  it("should give the ledger's address every function of IProvenanceLedger, AccessControl and the ledger's constants, and no fallback", async function () {
    const iface = new Interface(LEDGER_ABI);
    const full = JSON.parse(
      await readFile(
        path.join(PROJECT_ROOT, "artifacts", "contracts", "interfaces", "IProvenanceLedger.sol", "IProvenanceLedger.json"),
        "utf8",
      ),
    ) as { abi: { type: string; name: string }[] };
    const functions = full.abi.filter((e) => e.type === "function").map((e) => e.name);
    expect(functions.length).to.be.at.least(30);
    for (const name of [
      ...functions,
      "grantRole",
      "hasRole",
      "PROTOCOL_VERSION",
      "CHUNK_SIZE",
      "AGGREGATOR_ROLE",
      "extension",
      "eip712Domain",
    ]) {
      expect(iface.getFunction(name), name).to.not.equal(null);
    }
    for (const e of full.abi.filter((e) => e.type === "event" || e.type === "error")) {
      expect(e.type === "event" ? iface.getEvent(e.name) : iface.getError(e.name), e.name).to.not.equal(null);
    }
    expect(iface.fallback).to.equal(null);
  });

  it("should give the ledger client every function and event the auditor reads", function () {
    const iface = new Interface(LEDGER_ABI);
    for (const name of [
      "postRound",
      "postBatchedRound",
      "attest",
      "proveRound",
      "finalizeRound",
      "roundRecord",
      "federation",
      "participant",
    ]) {
      expect(iface.getFunction(name), name).to.not.equal(null);
    }
    for (const name of ["FederationCreated", "RoundProposed", "UpdateAttested", "RoundFinalized", "BatchedRoundProposed"]) {
      expect(iface.getEvent(name), name).to.not.equal(null);
    }
  });
});
