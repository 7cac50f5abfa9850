// ProvenanceLedger: constructor, and the ledger as one address with two pieces of code (the ledger
// runs every function it does not carry itself in its extension by DELEGATECALL). Every refusal
// reverts with its exact custom error and leaves state and events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { deployLedgerLibraries } from "../../../aggregator/adapters/chain/deploy.js";
import { ethers, setup } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
  });

  describe("constructor", function () {
    it("should refuse a zero admin", async function () {
      const libraries = await deployLedgerLibraries(ethers);
      const extension = await ethers.deployContract("ProvenanceLedgerExtension", [], { libraries });
      const factory = await ethers.getContractFactory("ProvenanceLedger", { libraries });
      await expect(factory.deploy(ethers.ZeroAddress, await extension.getAddress()))
        .to.be.revertedWithCustomError(factory, "ProvenanceZeroAddress")
        .withArgs("admin");
    });

    it("should refuse an extension that is not a contract", async function () {
      const [admin, other] = await ethers.getSigners();
      const libraries = await deployLedgerLibraries(ethers);
      const factory = await ethers.getContractFactory("ProvenanceLedger", { libraries });
      for (const extension of [ethers.ZeroAddress, other.address]) {
        await expect(factory.deploy(admin.address, extension))
          .to.be.revertedWithCustomError(factory, "ProvenanceZeroAddress")
          .withArgs("extension");
      }
    });
  });

  describe("extension", function () {
    it("should run the extension's functions at the ledger's address, on the ledger's storage", async function () {
      const f = await setup();
      const extension = await ethers.getContractAt("ProvenanceLedgerExtension", await f.ledger.extension());
      expect(await ethers.provider.getCode(await extension.getAddress())).to.not.equal("0x");
      // federation() is the extension's: through the ledger it reads the ledger's federation,
      // called directly it reads the extension's own storage, where there is none.
      const [config] = await f.ledger.federation(1n);
      expect(config.participantsPerRound).to.equal(BigInt(f.config.participantsPerRound));
      await expect(extension.federation(1n)).to.be.revertedWithCustomError(extension, "ProvenanceUnknownFederation").withArgs(1n);
    });

    it("should leave the extension's own storage empty forever: no role, so no federation, can be made in it", async function () {
      const f = await setup();
      const [admin] = await ethers.getSigners();
      const extension = await ethers.getContractAt("ProvenanceLedgerExtension", await f.ledger.extension());
      const role = await extension.DEFAULT_ADMIN_ROLE();
      expect(await extension.hasRole(role, admin.address)).to.equal(false);
      await expect(extension.createFederation(f.config, []))
        .to.be.revertedWithCustomError(extension, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, role);
      await expect(extension.grantRole(role, admin.address))
        .to.be.revertedWithCustomError(extension, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, role);
    });

    it("should refuse a call with value and a call no function takes", async function () {
      const f = await setup();
      const [admin] = await ethers.getSigners();
      const to = await f.ledger.getAddress();
      const data = f.ledger.interface.encodeFunctionData("federation", [1n]);
      await expect(admin.sendTransaction({ to, data, value: 1n })).to.be.revertedWithoutReason(ethers);
      await expect(admin.sendTransaction({ to, data: "0x12345678" })).to.be.revertedWithoutReason(ethers);
      expect(await ethers.provider.getBalance(to)).to.equal(0n);
    });
  });
});
