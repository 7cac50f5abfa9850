// ProvenanceLedger: constructor. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { ethers } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
  });

  describe("constructor", function () {
    it("should refuse a zero admin", async function () {
      const logic = await ethers.deployContract("FederationLogic");
      const factory = await ethers.getContractFactory("ProvenanceLedger", { libraries: { FederationLogic: await logic.getAddress() } });
      await expect(factory.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(factory, "ProvenanceZeroAddress").withArgs("admin");
    });
  });
});
