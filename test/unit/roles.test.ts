// The round library's chain-free steps: the exact weight rules, an update checked against its
// attestation, exact aggregation through the rule, record entries, and the round state as a value.
import { expect } from "chai";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { ErrorCode } from "../../aggregator/errors.js";
import { aggregateExact, attestationDomain, integerWeights, MICROS } from "../../aggregator/protocol/index.js";
import { AggregationRule, NO_DP } from "../../aggregator/protocol/evidence.js";
import { byzFedExactRound } from "../../aggregator/maths/robust/byzfed-exact.js";
import {
  byzFedExact,
  exactRuleOf,
  fedAvgExact,
  INITIAL_REPUTATION_MICROS,
  weightedMeanExact,
} from "../../aggregator/maths/robust/exact-rule.js";
import { MultiKrum } from "../../aggregator/maths/robust/krum.js";
import { CoordinateMedian } from "../../aggregator/maths/robust/median.js";
import { aggregateRound, checkReceivedUpdate, recordEntries } from "../../aggregator/roles/aggregator.js";
import { commitUpdate, signUpdate } from "../../aggregator/roles/participant.js";
import { advanceState, genesisState } from "../../aggregator/roles/round-state.js";
import { omittedAttestationsOf } from "../../aggregator/roles/committee.js";
import type { FederationEvidence } from "../../aggregator/protocol/evidence.js";
import { expectDsainError, expectDsainRejection } from "../helpers/errors.js";
import { seededVector } from "../helpers/random.js";

const wallets = [0, 1, 2].map((i) => new Wallet(keccak256(toUtf8Bytes(`dsain roles test ${i}`))));
const participants = wallets.map((w) => w.address);
const deltas = [seededVector(1, 40, 1 << 16), seededVector(2, 40, 1 << 16), seededVector(3, 40, 1 << 16).map((x) => -40 * x)];
const sampleCounts = [100n, 300n, 200n];
const BYZFED = { tauMicros: 3_000_000n, reputationDecayMicros: 900_000n };

describe("roles: the round library's chain-free steps", function () {
  describe("exact rules", function () {
    it("should give FedAvg's integer weights from the counts alone and leave reputations", function () {
      const d = fedAvgExact.decide({ participants, sampleCounts, reputationsBefore: [1, 2, 3] });
      expect(d.weights).to.deep.equal(integerWeights(sampleCounts));
      expect(d.reputationsAfter).to.equal(null);
      expect(d.kept).to.deep.equal([0, 1, 2]);
      expect(fedAvgExact.needsUpdates).to.equal(false);
    });

    it("should give ByzFed's exact round, and refuse to decide without the updates", function () {
      const rule = byzFedExact(BYZFED);
      const before = [MICROS, 800_000, MICROS];
      const d = rule.decide({ participants, sampleCounts, reputationsBefore: before, deltas });
      const reference = byzFedExactRound(deltas, participants, before, BYZFED);
      expect(d.weights).to.deep.equal(reference.weights);
      expect(d.reputationsAfter).to.deep.equal(reference.reputationsAfter);
      expect(d.kept).to.deep.equal(reference.kept);
      expect(d.kept).to.not.include(2); // the boosted update is filtered
      expectDsainError(
        () => rule.decide({ participants, sampleCounts, reputationsBefore: before }),
        ErrorCode.INPUT_INVALID,
        /from the updates themselves/,
      );
    });

    it("should give a weighted-mean baseline (Multi-Krum) an exact path, and refuse a coordinate-wise one (median)", function () {
      const five = [...deltas, seededVector(4, 40, 1 << 16), seededVector(5, 40, 1 << 16)];
      const who = [...participants, wallets[0].address.replace(/.$/, "0"), wallets[1].address.replace(/.$/, "0")];
      const counts = [...sampleCounts, 50n, 50n];
      const rule = weightedMeanExact(new MultiKrum(1, { keep: 3 }));
      const d = rule.decide({ participants: who, sampleCounts: counts, reputationsBefore: who.map(() => MICROS), deltas: five });
      expect(d.weights.reduce((a, b) => a + b, 0)).to.equal(65536);
      expect(d.kept).to.have.length(3);
      expect(d.kept).to.not.include(2); // the boosted update is never among Multi-Krum's closest
      for (const i of d.kept) expect(d.weights[i]).to.be.within(21845, 21846); // 65536 / 3 by Hamilton's method
      expect(d.reputationsAfter).to.equal(null);
      const median = weightedMeanExact(new CoordinateMedian());
      expectDsainError(
        () => median.decide({ participants: who, sampleCounts: counts, reputationsBefore: who.map(() => MICROS), deltas: five }),
        ErrorCode.INPUT_INVALID,
        /median is not a weighted mean of whole updates, so it has no exact path/,
      );
    });

    it("should pick the rule a federation's parameters name, and refuse an unknown one", function () {
      expect(exactRuleOf({ rule: AggregationRule.FedAvg, tauMicros: 0n, reputationDecayMicros: 0n })).to.equal(fedAvgExact);
      expect(exactRuleOf({ rule: AggregationRule.ByzFed, ...BYZFED }).name).to.equal("byzfed");
      expectDsainError(
        () => exactRuleOf({ rule: 7, tauMicros: 0n, reputationDecayMicros: 0n }),
        ErrorCode.INPUT_INVALID,
        /aggregation rule 7/,
      );
    });
  });

  describe("aggregator", function () {
    const domain = attestationDomain(31337n, "0x" + "11".repeat(20));
    const ctx = { federationId: 1n, round: 4n, baseModelRoot: "0x" + "22".repeat(32) };

    async function received(i: number) {
      const updateRoot = await commitUpdate(deltas[i]);
      const signature = await signUpdate(wallets[i], domain, ctx, { updateRoot, sampleCount: sampleCounts[i] });
      return { participant: participants[i], delta: deltas[i], updateRoot, sampleCount: sampleCounts[i], signature };
    }

    it("should take an update that hashes to its attested root under its sender's signature", async function () {
      await checkReceivedUpdate(await received(0), { domain, ...ctx });
      // Direct path: the attestation is on-chain already, only the root is checked.
      await checkReceivedUpdate({ ...(await received(1)), signature: "0x" }, { domain, ...ctx });
    });

    it("should refuse an update whose bytes are not the attested ones, naming its sender", async function () {
      const u = await received(0);
      const altered = u.delta.slice();
      altered[7] += 1;
      await expectDsainRejection(
        checkReceivedUpdate({ ...u, delta: altered }, { domain, ...ctx }),
        ErrorCode.INPUT_INVALID,
        new RegExp(`${u.participant}'s update hashes to 0x[0-9a-f]+, not to the attested root`),
      );
    });

    it("should refuse an attestation signed by another key, for another round or on another base model", async function () {
      const u = await received(0);
      const other = await received(1);
      await expectDsainRejection(
        checkReceivedUpdate({ ...u, signature: other.signature }, { domain, ...ctx }),
        ErrorCode.INPUT_INVALID,
        /attestation recovers 0x[0-9a-fA-F]+, not its sender/,
      );
      await expectDsainRejection(checkReceivedUpdate(u, { domain, ...ctx, round: 5n }), ErrorCode.INPUT_INVALID, /not its sender/);
      await expectDsainRejection(
        checkReceivedUpdate(u, { domain, ...ctx, baseModelRoot: "0x" + "33".repeat(32) }),
        ErrorCode.INPUT_INVALID,
        /not its sender/,
      );
      await expectDsainRejection(
        checkReceivedUpdate({ ...u, signature: "0x1234" }, { domain, ...ctx }),
        ErrorCode.INPUT_INVALID,
        /is not a signature/,
      );
    });

    it("should aggregate exactly with the rule's weights and carry its reputations into the entries", async function () {
      const base = seededVector(9, 40, 1 << 20);
      const reputations = new Map([[participants[1], 800_000]]);
      const updates = await Promise.all([0, 1, 2].map(received));
      const { decision, next } = aggregateRound(byzFedExact(BYZFED), { model: base, reputations }, updates);
      expect(next).to.deep.equal(aggregateExact(base, deltas, decision.weights));
      const entries = recordEntries(updates, decision, reputations, NO_DP);
      expect(entries.map((e) => e.reputationMicros)).to.deep.equal(decision.reputationsAfter);
      expect(entries.map((e) => e.weight)).to.deep.equal(decision.weights);
      // FedAvg leaves each reputation as the ledger holds it (1.0 when none is on record).
      const fedAvg = aggregateRound(fedAvgExact, { model: base, reputations }, updates);
      expect(recordEntries(updates, fedAvg.decision, reputations, NO_DP).map((e) => e.reputationMicros)).to.deep.equal([
        INITIAL_REPUTATION_MICROS,
        800_000,
        INITIAL_REPUTATION_MICROS,
      ]);
    });
  });

  describe("round state", function () {
    it("should advance by one round on the recorded model, keeping reputations of participants not in the record", function () {
      const s0 = genesisState(new Int32Array([1, 2]), "0xaa");
      expect(s0).to.deep.include({ round: 1n, parentRound: 0n, modelRoot: "0xaa" });
      const s1 = advanceState(s0, {
        model: new Int32Array([3, 4]),
        modelRoot: "0xbb",
        entries: [{ participant: participants[0], reputationMicros: 900_000 }],
      });
      const s2 = advanceState(s1, {
        model: new Int32Array([5, 6]),
        modelRoot: "0xcc",
        entries: [{ participant: participants[1], reputationMicros: 810_000 }],
      });
      expect(s2).to.deep.include({ round: 3n, parentRound: 2n, modelRoot: "0xcc" });
      expect([...s2.reputations]).to.deep.equal([
        [participants[0], 900_000],
        [participants[1], 810_000],
      ]);
      expect(s0.reputations.size).to.equal(0); // a value: earlier states are untouched
    });
  });
});

describe("committee review: attestations sent on-chain for the round (issue 16)", function () {
  const [a, b, c] = ["a", "b", "c"].map((x) => new Wallet(keccak256(toUtf8Bytes(`omitted ${x}`))).address);
  const attestation = (round: number, participant: string) => ({ kind: "attestation", round, participant });
  const evidence = { events: [attestation(3, a), attestation(3, b.toLowerCase()), attestation(2, c)] } as unknown as FederationEvidence;

  it("should name each attester of the round a record leaves out, none it names and none of another round", function () {
    expect(omittedAttestationsOf(evidence, 3, [a]).map((f) => `${f.round}:${f.link}:${f.message}`)).to.deep.equal([
      `3:participants:${b} attested on-chain for round 3, but its record leaves the attestation out`,
    ]);
    expect(omittedAttestationsOf(evidence, 3, [a.toLowerCase(), b])).to.deep.equal([]);
  });

  it("should name every attester of the round for a batched record, which names none", function () {
    expect(omittedAttestationsOf(evidence, 3, []).map((f) => f.message.split(" ")[0])).to.deep.equal([a, b]);
    expect(omittedAttestationsOf(evidence, 4, [])).to.deep.equal([]);
  });
});
