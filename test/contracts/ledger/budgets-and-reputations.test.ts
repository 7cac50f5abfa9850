// ProvenanceLedger: budgets and reputations. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { buildRound, post, selectedWallets } from "../../helpers/federation.js";
import { setup, expectRefused } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
  });

  describe("budgets and reputations", function () {
    it("should accumulate epsilon debits up to the budget exactly and store each round's reputation", async function () {
      const f = await setup({ rosterSize: 4, epsilonBudgetMicros: 300_000n });
      const who = (await selectedWallets(f))[0].address;
      for (const [t, rep] of [
        [1n, 900_000],
        [2n, 700_000],
        [3n, 650_000],
      ] as const) {
        await (await post(f, await buildRound(f, { reputationMicros: () => rep }))).wait();
        const [p] = await f.ledger.participant(1n, who);
        expect([p.epsilonSpentMicros, p.reputationMicros], `after round ${t}`).to.deep.equal([100_000n * t, BigInt(rep)]);
      }
      const r4 = await buildRound(f);
      await expectRefused(f, () => post(f, r4), "ProvenanceBudgetExceeded", [1n, r4.entries[0].participant, 300_000n, 100_000n, 300_000n]);
    });
  });
});
