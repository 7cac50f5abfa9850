// ProvenanceLedger with the real snarkjs verifier of RoundChunk(4, 1): the public inputs the
// contract builds from its record are the circuit's, a real Groth16 proof of the round's
// aggregation verifies on-chain, and the same proof is refused for the next round.
import { expect } from "chai";
import { network } from "hardhat";
import { keccak256, toUtf8Bytes } from "ethers";
import { deployLedger } from "../../aggregator/adapters/chain/deploy.js";
import { encodeRecordEntries } from "../../aggregator/adapters/chain/ledger.js";
import { AggregationRule, NO_DP, NO_PREDECESSOR, pkhDid, RoundStatus } from "../../aggregator/protocol/evidence.js";
import { awaitChallenge } from "../../aggregator/adapters/chain/challenge-block.js";
import { signRecord } from "../../aggregator/adapters/chain/records.js";
import { DEMO_INSTANCE } from "../../aggregator/demo/demo.js";
import { attestationDomain, fieldToBytes32, vectorRoot } from "../../aggregator/protocol/index.js";
import { ensureCircuitKeys, releaseZkWorkers } from "../../aggregator/adapters/proof/keys.js";
import { buildRoundChunkInput, proveRoundChunk, toSolidityProof } from "../../aggregator/adapters/proof/prover.js";
import { wallet } from "../helpers/federation.js";
import { fedAvgExact } from "../../aggregator/maths/robust/exact-rule.js";
import { aggregateRound, proposeRecord, recordEntries } from "../../aggregator/roles/aggregator.js";
import { commitUpdate, signUpdate } from "../../aggregator/roles/participant.js";

const { ethers } = await network.create();
const D = 212; // the demo model's length: 2 chunks, RoundChunk(4, 1)'s depth

/** A deterministic int32 vector with small entries. */
const ints = (seed: number, span: number) => Int32Array.from({ length: D }, (_, i) => ((i * 7919 + seed * 104729) % (2 * span + 1)) - span);

describe("ProvenanceLedger with the real RoundChunk(4, 1) verifier", function () {
  after(async function () {
    await releaseZkWorkers();
  });

  it("should verify a real proof against the inputs it builds, and refuse it for the next round", async function () {
    const keys = await ensureCircuitKeys(DEMO_INSTANCE);
    const [admin, aggregator] = await ethers.getSigners();
    const ledger = await deployLedger(ethers, admin.address, [aggregator.address]);
    const verifier = await ethers.deployContract("RoundChunkVerifier_4_1");
    const chainId: bigint = (await ethers.provider.getNetwork()).chainId;
    const domain = attestationDomain(chainId, await ledger.getAddress());
    const roster = [0, 1, 2, 3]
      .map((i) => wallet(`proof participant ${i}`))
      .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
    const committee = [0, 1, 2].map((i) => wallet(`proof aggregator ${i}`));
    let model: Int32Array = ints(1, 50_000);
    await (
      await ledger.createFederation(
        {
          modelId: "proof-test",
          modelLength: D,
          participantsPerRound: 4,
          minUpdates: 4,
          quorum: 2,
          roundDeadline: 3600,
          finalityDelay: 0,
          genesisCidCodec: 0x55,
          verifier: await verifier.getAddress(),
          epsilonBudgetMicros: 0n,
          aggregation: { rule: AggregationRule.FedAvg, tauMicros: 0n, reputationDecayMicros: 0n },
          dp: NO_DP,
          committee: committee.map((w) => w.address),
          verifyingKeyHash: keys.vkeyHash,
          genesisModelRoot: fieldToBytes32(await vectorRoot(model)),
          genesisCidDigest: keccak256(toUtf8Bytes("genesis")),
          predecessor: NO_PREDECESSOR,
        },
        roster.map((w) => ({ signer: w.address, did: pkhDid(chainId, w.address), babyJubJubKey: [0n, 0n] })),
      )
    ).wait();

    const proofs = [];
    for (const t of [1n, 2n]) {
      const base = model;
      const baseRoot = fieldToBytes32(await vectorRoot(base));
      const deltas = roster.map((_, i) => ints(10 * Number(t) + i, 3_000));
      const counts = [100n, 250n, 75n, 575n];
      // The round library's steps: commit and sign each update, FedAvg on the exact path, entries, record.
      const ctx = { federationId: 1n, round: t, baseModelRoot: baseRoot };
      const updates = [];
      for (const [i, w] of roster.entries()) {
        const u = {
          participant: w.address,
          delta: deltas[i],
          sampleCount: counts[i],
          updateRoot: await commitUpdate(deltas[i]),
          epsilonMicros: 0n,
        };
        updates.push({ ...u, signature: await signUpdate(w, domain, ctx, u) });
      }
      const { decision, next } = aggregateRound(fedAvgExact, { model: base, reputations: new Map() }, updates);
      const weights = decision.weights;
      const entries = recordEntries(updates, decision, new Map(), NO_DP);
      const record = proposeRecord(
        1n,
        { round: t, parentRound: t - 1n },
        { modelRoot: fieldToBytes32(await vectorRoot(next)), cidCodec: 0x55, cidDigest: keccak256(toUtf8Bytes(`round ${t}`)) },
        entries,
      );
      await (
        await ledger
          .connect(aggregator)
          .postRound(1n, record.post, encodeRecordEntries(entries), await signRecord(committee.slice(0, 2), domain, record.message))
      ).wait();

      // The block after the record's fixes the challenge (docs/protocol.md §8): mined before reading it.
      const inputs: bigint[] = await awaitChallenge({
        read: async () => [...(await ledger.publicInputs(1n, t, record.columns))] as bigint[],
        provider: ethers.provider,
        mine: true,
        what: `round ${t}`,
      });
      const { input, publicSignals } = await buildRoundChunkInput({ prev: base, next, deltas, weights, chunkIndex: Number(inputs[2]) });
      expect(publicSignals.map(BigInt), `round ${t}: contract inputs vs circuit signals`).to.deep.equal(inputs);
      const proof = toSolidityProof((await proveRoundChunk(DEMO_INSTANCE, input)).proof);
      proofs.push({ t, record, proof });
      model = next;
    }

    const [first, second] = proofs;
    // Round 1's proof does not prove round 2: its roots and weights are other public inputs.
    await expect(ledger.connect(aggregator).proveRound(1n, 2n, second.record.columns, first.proof.a, first.proof.b, first.proof.c))
      .to.be.revertedWithCustomError(ledger, "ProvenanceProofRejected")
      .withArgs(1n, 2n);
    for (const { t, record, proof } of proofs) {
      await expect(ledger.connect(aggregator).proveRound(1n, t, record.columns, proof.a, proof.b, proof.c)).to.emit(ledger, "RoundProven");
      expect((await ledger.roundRecord(1n, t)).status).to.equal(BigInt(RoundStatus.Proven));
    }
  });
});
