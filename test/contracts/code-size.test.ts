// Every contract a deployment puts on chain keeps 4 KB of EIP-170's 24,576 bytes free (docs/deploy.md):
// the default build's runtime code against the budget and against docs/deploy.md's table (the london
// column is checked by test/contracts/deploy.test.ts, which builds that profile).
import { expect } from "chai";
import { network } from "hardhat";
import { CODE_SIZE_BUDGET, DEPLOYED_CONTRACTS, HASHER, artifactSizes, hasherSize, readSizeTable } from "../../scripts/gen-code-sizes.js";

describe("code sizes (docs/deploy.md)", function () {
  it("should list every deployed contract once, the Poseidon(2) hasher last", async function () {
    const table = await readSizeTable();
    expect(table.map((r) => r.contract)).to.deep.equal([...DEPLOYED_CONTRACTS, HASHER]);
  });

  it(`should keep every contract of the default build within ${CODE_SIZE_BUDGET.toLocaleString("en-US")} bytes, as the table says`, async function () {
    const { ethers } = (await network.create()) as any;
    const table = new Map((await readSizeTable()).map((r) => [r.contract, r]));
    const readArtifact = async (name: string) => {
      const { artifacts } = await import("hardhat");
      return artifacts.readArtifact(name);
    };
    const sizes = await artifactSizes(readArtifact);
    sizes.set(HASHER, await hasherSize(ethers));
    for (const [contract, size] of sizes) {
      expect(size, `${contract}: over the budget`).to.be.at.most(CODE_SIZE_BUDGET);
      expect(size, `${contract}: docs/deploy.md is stale (npm run generate:code-sizes)`).to.equal(table.get(contract)?.cancun);
      expect(table.get(contract)!.london, `${contract}: london over the budget`).to.be.at.most(CODE_SIZE_BUDGET);
    }
  });
});
