// ProvenanceLedger: selection. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { isSelected } from "../../../aggregator/protocol/index.js";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { buildRound, post, selectedWallets, stateOf, wallet } from "../../helpers/federation.js";
import { setup } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
  });

  describe("selection", function () {
    it("should select exactly K of the roster, as the TypeScript twin computes it", async function () {
      const f = await setup({ rosterSize: 9, k: 4 });
      const s = await stateOf(f);
      const chosen = await selectedWallets(f);
      expect(chosen.length).to.equal(4);
      for (const [i, w] of f.rosterWallets.entries()) {
        expect(await f.ledger.isSelected(1n, w.address), `roster index ${i}`).to.equal(isSelected(i, s.rosterSize, 4, s.selectionSeed));
      }
      expect(await f.ledger.isSelected(1n, wallet("stranger").address)).to.equal(false);
    });

    it("should draw a new S_t for every round from the parent's commitment", async function () {
      const f = await setup({ rosterSize: 12 });
      const seen = new Set<string>();
      for (let t = 0; t < 4; t++) {
        const s = await stateOf(f);
        seen.add(s.selectionSeed);
        await (await post(f, await buildRound(f))).wait();
      }
      expect(seen.size).to.equal(4);
    });
  });
});
