// ProvenanceLedger: proveRound. Every refusal reverts with its exact custom error and leaves state and
// events untouched (test/helpers/ledger-suite.ts).
import { expect } from "chai";
import { RoundStatus, type SolidityProof } from "../../../aggregator/protocol/evidence.js";
import { CHUNK_SIZE, FIELD_MODULUS, PROTOCOL_VERSION, challengeSeed } from "../../../aggregator/protocol/index.js";
import { challengeChunkCount } from "../../../aggregator/protocol/challenge.js";
import { releaseZkWorkers } from "../../../aggregator/adapters/proof/keys.js";
import { buildRoundChunkInput, proveRoundChunk, toSolidityProof } from "../../../aggregator/adapters/proof/prover.js";
import {
  attestFrom,
  buildRound,
  challengedInputs,
  PROOF_INSTANCE,
  post,
  proofOf,
  prove,
  proveChunk,
  selectedWallets,
  submitProof,
} from "../../helpers/federation.js";
import { ethers, networkHelpers, BN254_BASE_FIELD, setup, expectRefused, completeRound, status } from "../../helpers/ledger-suite.js";

describe("ProvenanceLedger", function () {
  after(async function () {
    await releaseZkWorkers();
  });

  describe("proveRound", function () {
    it("should verify a real proof against exactly the public inputs the contract builds, in the circuit's order", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      const rec = await f.ledger.roundRecord(1n, 1n);
      // The challenge is fixed by the hash of the block after the one that completed the record (§8).
      await expect(f.ledger.publicInputs(1n, 1n, r.columns))
        .to.be.revertedWithCustomError(f.ledger, "ProvenanceChallengeNotReady")
        .withArgs(1n, 1n, rec.attestedBlock + 2n);
      const inputs: bigint[] = await challengedInputs(f, r);
      const next = await ethers.provider.getBlock(Number(rec.attestedBlock) + 1);
      const seed = challengeSeed(r.post.commitment, next!.hash!);
      expect(rec.challengeSeed, "not stored before the proof").to.equal(ethers.ZeroHash);
      expect(inputs.length).to.equal(11);
      expect(inputs[0]).to.equal(BigInt(f.config.genesisModelRoot));
      expect(inputs[1]).to.equal(BigInt(r.post.modelRoot));
      expect(inputs[2]).to.equal(BigInt(seed) % 2n); // 212 parameters = 2 chunks of 112
      // The ledger's protocol constants are TypeScript's (docs/protocol.md, version 2).
      expect(await f.ledger.PROTOCOL_VERSION()).to.equal(BigInt(PROTOCOL_VERSION));
      expect(await f.ledger.CHUNK_SIZE()).to.equal(BigInt(CHUNK_SIZE));
      expect(BigInt(challengeChunkCount(f.config.modelLength))).to.equal(2n);
      expect(inputs.slice(3, 7)).to.deep.equal(r.columns.updateRoots.map(BigInt));
      expect(inputs.slice(7)).to.deep.equal(r.columns.weights.map(BigInt));
      const { proof, publicSignals } = await proofOf(f, r);
      expect(publicSignals, "snarkjs publicSignals vs the contract's publicInputs").to.deep.equal(inputs);
      // The proof binds every input: the verifier accepts it with the contract's inputs and with no other.
      expect(await f.verifier.verifyProof(proof.a, proof.b, proof.c, inputs)).to.equal(true);
      for (const i of inputs.keys()) {
        const other = inputs.map((x, j) => (j === i ? (x + 1n) % FIELD_MODULUS : x));
        expect(await f.verifier.verifyProof(proof.a, proof.b, proof.c, other), `input ${i} changed`).to.equal(false);
      }
      const tx = prove(f, r);
      await expect(tx).to.emit(f.ledger, "RoundChallenged").withArgs(1n, 1n, seed, inputs[2]);
      await expect(tx).to.emit(f.ledger, "RoundProven").withArgs(1n, 1n, proof.a, proof.b, proof.c);
      expect(await status(f, 1n)).to.equal(BigInt(RoundStatus.Proven));
      expect((await f.ledger.roundRecord(1n, 1n)).challengeSeed).to.equal(seed);
    });

    it("should refuse a caller without the aggregator role", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      const { proof } = await proofOf(f, r);
      const role = await f.ledger.AGGREGATOR_ROLE();
      await expectRefused(f, () => submitProof(f, r, proof, 1n, f.outsider), "AccessControlUnauthorizedAccount", [
        f.outsider.address,
        role,
      ]);
    });

    it("should refuse a real proof of the same round for another chunk than the challenged one", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      const challenged = Number((await challengedInputs(f, r))[2]);
      const other = await proveChunk(r, (challenged + 1) % 2); // 212 parameters: 2 chunks
      const { a, b, c } = other.proof;
      expect(await f.verifier.verifyProof(a, b, c, other.publicSignals), "valid for its own chunk").to.equal(true);
      await expectRefused(f, () => submitProof(f, r, other.proof), "ProvenanceProofRejected", [1n, 1n]);
    });

    it("should refuse a real proof of another round", async function () {
      const f = await setup();
      const r1 = await completeRound(f);
      const [accepted] = r1.proofs.values(); // round 1's proof, which the ledger accepted for round 1
      const r2 = await buildRound(f);
      await (await post(f, r2)).wait();
      await challengedInputs(f, r2); // the block that fixes round 2's challenge
      await expectRefused(f, () => submitProof(f, r2, accepted.proof), "ProvenanceProofRejected", [1n, 2n]);
    });

    it("should refuse columns that are not the recorded ones", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      const { proof } = await proofOf(f, r);
      const forged = { ...r.columns, weights: [...r.columns.weights].reverse() };
      await expectRefused(
        f,
        () => f.ledger.connect(f.aggregator).proveRound(1n, 1n, forged, proof.a, proof.b, proof.c),
        "ProvenanceColumnsMismatch",
        [1n, 1n],
      );
      await expect(f.ledger.publicInputs(1n, 1n, forged)).to.be.revertedWithCustomError(f.ledger, "ProvenanceColumnsMismatch");
    });

    it("should refuse a round that is not Attested (open, Proposed or already proven)", async function () {
      const f = await setup();
      const r = await buildRound(f, { direct: "all" });
      // A real proof of the round's aggregation (at chunk 0): no challenge exists yet to prove against.
      const early = await proveChunk(r, 0);
      await expectRefused(f, () => submitProof(f, r, early.proof), "ProvenanceRoundNotAttested", [1n, 1n]);
      await expect(f.ledger.publicInputs(1n, 1n, r.columns)).to.be.revertedWithCustomError(f.ledger, "ProvenanceRoundNotAttested");
      await (await post(f, r)).wait(); // Proposed: the challenge waits for the last attestation
      await expectRefused(f, () => submitProof(f, r, early.proof), "ProvenanceRoundNotAttested", [1n, 1n]);
      await expect(f.ledger.publicInputs(1n, 1n, r.columns)).to.be.revertedWithCustomError(f.ledger, "ProvenanceRoundNotAttested");
      for (const e of r.entries) await (await attestFrom(f, r, e.participant)).wait();
      const { proof } = await proofOf(f, r);
      await (await submitProof(f, r, proof)).wait();
      await expectRefused(f, () => submitProof(f, r, proof), "ProvenanceRoundNotAttested", [1n, 1n]);
    });

    it("should refuse a real proof with one element altered, which the verifier answers false to", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      const { proof, inputs } = await proofOf(f, r);
      const altered: [string, SolidityProof][] = [
        ["A negated (still on the curve)", { ...proof, a: [proof.a[0], BN254_BASE_FIELD - proof.a[1]] }],
        ["C off the curve", { ...proof, c: [proof.c[0] + 1n, proof.c[1]] }],
        [
          "B in snarkjs' coordinate order instead of EIP-197's",
          {
            ...proof,
            b: [
              [proof.b[0][1], proof.b[0][0]],
              [proof.b[1][1], proof.b[1][0]],
            ],
          },
        ],
      ];
      for (const [what, bad] of altered) {
        expect(await f.verifier.verifyProof(bad.a, bad.b, bad.c, inputs), what).to.equal(false);
        await expectRefused(f, () => submitProof(f, r, bad), "ProvenanceProofRejected", [1n, 1n]);
      }
      await (await submitProof(f, r, proof)).wait(); // the unaltered proof still passes
    });

    // (A verifier without code can no longer be named: createFederation asks it for its key hash.)
    for (const [what, verifier] of [
      ["a verifier of another arity (RoundChunksVerifier_1_0_0_1, 5 inputs)", "RoundChunksVerifier_1_0_0_1"],
    ] as const) {
      it(`should refuse when the verifier call fails: ${what}`, async function () {
        const f = await setup({ verifier });
        const r = await buildRound(f);
        await (await post(f, r)).wait();
        const { proof } = await proofOf(f, r); // valid under RoundChunk(4, 1)'s key
        await expectRefused(f, () => submitProof(f, r, proof), "ProvenanceVerifierCallFailed", [1n, 1n]);
      });
    }

    it("should prove a dropout round (3 of K=4 updates) through zero-weight padding slots", async function () {
      // RoundChunk(4, 1) proves exactly 4 slots; the ledger fills the missing one with the first
      // update's root at weight 0 (docs/protocol.md §8) and the prover opens that update again.
      const f = await setup();
      await completeRound(f);
      const r2 = await buildRound(f, { participants: (await selectedWallets(f)).slice(0, 3) });
      await (await post(f, r2)).wait();
      const inputs = await challengedInputs(f, r2);
      expect(inputs).to.have.length(3 + 2 * 4);
      const roots = r2.columns.updateRoots.map(BigInt);
      expect(roots).to.have.length(3);
      expect(inputs.slice(3, 7)).to.deep.equal([...roots, roots[0]]);
      expect(inputs.slice(7, 11)).to.deep.equal([...r2.columns.weights.map(BigInt), 0n]);
      // Without padding no 4-slot proof of a 3-update round can be built.
      const refusal = await proveChunk(r2, Number(inputs[2])).then(
        () => null,
        (e: Error) => e,
      );
      expect(refusal?.message).to.match(/exactly K=4 updates; the input has 3 \(build a dropout round's input with slots: 4\)/);
      const { proof, publicSignals } = await proofOf(f, r2);
      expect(publicSignals).to.deep.equal(inputs);
      await expect(submitProof(f, r2, proof)).to.emit(f.ledger, "RoundProven");
      expect(await status(f, r2.post.round)).to.equal(BigInt(RoundStatus.Proven));
    });

    it("should refuse a dropout round's proof whose padding slot is not the first update at weight 0", async function () {
      const f = await setup();
      await completeRound(f);
      const r2 = await buildRound(f, { participants: (await selectedWallets(f)).slice(0, 3) });
      await (await post(f, r2)).wait();
      const inputs = await challengedInputs(f, r2);
      // A genuine proof of the same aggregate, padded with the second update instead of the first:
      // valid for its own public signals, not for the ledger's.
      const { prev, next, deltas, deltaTrees, weights } = r2.vectors;
      const built = await buildRoundChunkInput({
        prev: prev.values,
        next: next.values,
        deltas: [...deltas, deltas[1]],
        weights: [...weights, 0],
        chunkIndex: Number(inputs[2]),
        trees: { prev: prev.tree, next: next.tree, deltas: [...deltaTrees, deltaTrees[1]] },
      });
      expect(built.publicSignals[6]).to.not.equal(inputs[6].toString());
      const { proof } = await proveRoundChunk(PROOF_INSTANCE, built.input, { keepWorkers: true });
      await expectRefused(f, () => submitProof(f, r2, toSolidityProof(proof)), "ProvenanceProofRejected", [1n, 2n]);
    });

    it("should refuse a proof after the round's deadline", async function () {
      const f = await setup();
      const r = await buildRound(f);
      await (await post(f, r)).wait();
      await networkHelpers.time.increase(f.config.roundDeadline + 1);
      await expectRefused(f, () => prove(f, r), "ProvenanceDeadlinePassed");
    });
  });
});
