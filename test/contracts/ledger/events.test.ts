// ProvenanceLedger: events. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { participantsRoot, decodeRecordEntries } from "../../../aggregator/protocol/index.js";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { buildRound, post } from "../../helpers/federation.js";
import { setup, completeRound } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
  });

  describe("events", function () {
    it("should let an auditor page a federation's history by round", async function () {
      const f = await setup();
      await completeRound(f);
      const r2 = await buildRound(f);
      await (await post(f, r2)).wait();
      const proposed = (await f.ledger.queryFilter(f.ledger.filters.RoundProposed(1n, 2n))) as any[];
      expect(proposed.length).to.equal(1);
      const entries = decodeRecordEntries(proposed[0].args.updates);
      expect(entries.map((e) => e.participant)).to.deep.equal(r2.columns.participants);
      expect(entries.map((e) => e.signature)).to.deep.equal(r2.entries.map((e) => e.signature));
      expect(proposed[0].args.participantsRoot).to.equal(participantsRoot(r2.columns.participants));
      expect(entries.map((e) => e.updateRoot)).to.deep.equal(r2.columns.updateRoots);
      expect([...proposed[0].args.quorumSignatures]).to.deep.equal(r2.quorumSignatures);
      expect((await f.ledger.queryFilter(f.ledger.filters.RoundFinalized(1n, 1n))).length).to.equal(1);
      expect((await f.ledger.queryFilter(f.ledger.filters.RoundFinalized(1n, 2n))).length).to.equal(0);
    });
  });
});
