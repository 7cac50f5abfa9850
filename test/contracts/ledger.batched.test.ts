// ProvenanceLedger's batched path (docs/protocol.md §14) on Hardhat's network with the real
// RoundAttested(2, 4, 0, 2, 2) verifier and real Groth16 proofs: the on-chain key registry equals the
// TypeScript one, a round posted with no per-participant signature check is proven with the
// participants' real EdDSA-Poseidon signatures against inputs the contract builds itself (equal to
// snarkjs' public signals), the challenge comes from a block the poster could not know, and every
// refusal names its custom error and leaves the state as it was.
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { network } from "hardhat";
import { isAddress, keccak256, toUtf8Bytes } from "ethers";
import { POSEIDON2_HASHER_FILE } from "../../aggregator/adapters/chain/deploy.js";
import { LedgerClient } from "../../aggregator/adapters/chain/ledger.js";
import { ErrorCode, DsainError } from "../../aggregator/errors.js";
import {
  BATCHED_ROUND_RECORD_TYPE,
  batchedEntriesDigest,
  batchedRoundRecordDigest,
  fieldToBytes32,
  vectorRoot,
} from "../../aggregator/protocol/index.js";
import { getPoseidon } from "../../aggregator/protocol/poseidon.js";
import { keyRegistry, registryZeroHashes, roundScope, type KeyRegistry } from "../../aggregator/protocol/eddsa.js";
import { challengeChunkCount, challengeIndices } from "../../aggregator/protocol/challenge.js";
import { challengeSeed } from "../../aggregator/protocol/commitment.js";
import { releaseZkWorkers } from "../../aggregator/adapters/proof/keys.js";
import { calculateWitness } from "../../aggregator/adapters/proof/sampled.js";
import { renderPoseidon2HasherArtifact } from "../../scripts/gen-poseidon-hasher.js";
import {
  BATCHED_INSTANCE,
  batchedConfigs,
  batchedProofInput,
  buildBatchedRound,
  createBatchedFederation,
  deployStack,
  enrolMember,
  member,
  MODEL_LENGTH,
  participantInfo,
  postBatchedRound,
  proveBatched,
  registryOf,
  revokeMember,
  selectedSlots,
  waitForChallenge,
  type BatchedProof,
  type BatchedRound,
  type Federation,
  type Member,
  type Stack,
} from "../helpers/batched.js";
import { readVector } from "../helpers/vectors.js";
import { signUpdate } from "../../aggregator/roles/participant.js";
import { packParticipantSlots } from "../../aggregator/protocol/batched.js";

const connection = await network.create();
const { ethers } = connection;

const RoundStatus = { Proposed: 2n, Attested: 3n, Proven: 4n, Finalized: 5n, Rejected: 6n };

/** A well-formed proof of nothing, for refusals that come before the verifier is called. */
const NO_PROOF = {
  proof: {
    a: [1n, 2n],
    b: [
      [1n, 2n],
      [3n, 4n],
    ],
    c: [1n, 2n],
  },
} as unknown as BatchedProof;

/** Everything a refused call could have changed: pointers, records, batched records, participants, registry. */
async function chainState(f: Federation) {
  const { ledger } = f.stack;
  const [, s] = await ledger.federation(f.id);
  const rounds = [];
  for (let r = 0n; r <= (s.lastRound as bigint) + 1n; r++) {
    rounds.push([...(await ledger.roundRecord(f.id, r))].map(String), [...(await ledger.batchedRound(f.id, r))].map(String));
  }
  const participants = [];
  for (const m of f.roster) participants.push([...(await ledger.participant(f.id, m.wallet.address))[0]].map(String));
  const [, root, openRoot] = await ledger.batchedFederation(f.id);
  return { state: [...s].map(String), rounds, participants, root, openRoot, block: await ethers.provider.getBlockNumber() };
}

/** Runs `call`, which must revert with `error(args)`, and checks that nothing changed. */
async function expectRefused(f: Federation, call: () => Promise<unknown>, error: string, args?: unknown[]) {
  const before = await chainState(f);
  const assertion = expect(call()).to.be.revertedWithCustomError(f.stack.ledger, error);
  await (args === undefined ? assertion : assertion.withArgs(...args));
  const after = await chainState(f);
  expect({ ...after, block: 0 }, `state after a refused ${error}`).to.deep.equal({ ...before, block: 0 });
}

async function expectWitnessRejected(promise: Promise<unknown>): Promise<void> {
  try {
    await promise;
  } catch (e) {
    expect(e).to.be.instanceOf(DsainError);
    expect((e as DsainError).code).to.equal(ErrorCode.ZK_WITNESS_FAILED);
    return;
  }
  expect.fail("the witness generator accepted an input no honest prover could have");
}

function prove(f: Federation, round: bigint, p: BatchedProof) {
  return f.stack.ledger.connect(f.stack.aggregator).proveBatchedRound(f.id, round, p.proof.a, p.proof.b, p.proof.c);
}

function post(r: BatchedRound, over: { entries?: BatchedRound["entries"]; signatures?: string[]; commitment?: string } = {}) {
  const f = r.federation;
  return f.stack.ledger
    .connect(f.stack.aggregator)
    .postBatchedRound(
      f.id,
      r.record.post,
      over.entries ?? r.entries,
      over.commitment ?? r.record.updatesCommitment,
      over.signatures ?? r.quorumSignatures,
    );
}

/** Which of round 2's two participants the snapshot test revokes (one round 5 does not draw). */
const REVOKED_OF_ROUND_2 = 1;

describe("ProvenanceLedger: batched rounds with in-circuit attestations (" + BATCHED_INSTANCE + ")", function () {
  let stack: Stack;
  let members: Member[];

  before(async function () {
    // Warm key cache: under a second; cold: compile and setup, a minute or two on 2 cores.
    this.timeout(30 * 60_000);
    stack = await deployStack(ethers);
    members = await Promise.all(["p0", "p1", "p2", "p3", "p4", "p5"].map((l) => member(l)));
  });

  after(async function () {
    await releaseZkWorkers();
  });

  /** The ledger through the TypeScript adapter, as the aggregator account. */
  function client(): LedgerClient {
    return new LedgerClient(stack.ledgerAddress, stack.ledger.interface.fragments, stack.aggregator);
  }

  describe("Poseidon(2) hasher", function () {
    it("should be circomlibjs' generated contract, byte for byte (regenerate and diff)", async function () {
      const committed = await readFile(POSEIDON2_HASHER_FILE, "utf8");
      expect(committed, "contracts/hashers/Poseidon2Hasher.json is stale: run tsx scripts/gen-poseidon-hasher.ts").to.equal(
        await renderPoseidon2HasherArtifact(),
      );
    });

    it("should hash as circomlibjs and the circuits do, deployed from its bytecode by ethers and by Ignition", async function () {
      const poseidon = await getPoseidon();
      const { default: Poseidon2HasherModule } = await import("../../ignition/modules/Poseidon2Hasher.js");
      const { hasher } = await connection.ignition.deploy(Poseidon2HasherModule);
      for (const h of [stack.hasher, hasher]) {
        expect(await h["poseidon(uint256[2])"]([1n, 2n])).to.equal(poseidon.hash([1n, 2n]));
        expect(await h["poseidon(uint256[2])"]([0n, 0n])).to.equal((await registryZeroHashes(1))[1]);
      }
    });
  });

  describe("createBatchedFederation", function () {
    it("should store and emit the batched config, and build the key registry of the roster (root = TypeScript keyRegistry)", async function () {
      const roster = members.slice(0, 4);
      const { config, batched } = await batchedConfigs(stack);
      const infos = roster.map((m) => participantInfo(stack.chainId, m));
      const expected = await keyRegistry(
        roster.map((m) => m.key!.publicKey),
        2,
      );
      const tx = stack.ledger.createBatchedFederation(config, infos, batched);
      await expect(tx).to.emit(stack.ledger, "FederationCreated");
      const receipt = await (await tx).wait();
      const created = receipt.logs
        .map((l: any) => stack.ledger.interface.parseLog(l))
        .find((e: any) => e?.name === "BatchedFederationCreated");
      const id = created.args.federationId as bigint;
      expect(created.args.keyRegistryRoot).to.equal(fieldToBytes32(expected.root));
      const [b, root, openRoot] = await stack.ledger.batchedFederation(id);
      expect([b.verifier, b.verifyingKeyHash, b.poseidon2, Number(b.samples), Number(b.chunkLevel), Number(b.registryDepth)]).to.deep.equal(
        [batched.verifier, batched.verifyingKeyHash, batched.poseidon2, 2, 0, 2],
      );
      expect(root).to.equal(fieldToBytes32(expected.root));
      expect(openRoot).to.equal(root);
      console.log(`      createBatchedFederation, roster of 4 keys, R = 2: ${receipt.gasUsed} gas`);
    });

    it("should leave a participant without a BabyJubJub key a 0 slot, and an empty registry the zero hash Z_R", async function () {
      const keyless = await member("keyless", false);
      const roster = [members[0], keyless, members[1]];
      const f = await createBatchedFederation(stack, roster, { registryDepth: 3 });
      const [, root] = await stack.ledger.batchedFederation(f.id);
      expect(root).to.equal(fieldToBytes32((await registryOf(f)).root));
      const { config, batched } = await batchedConfigs(stack, { registryDepth: 5 });
      const admin = new LedgerClient(stack.ledgerAddress, stack.ledger.interface.fragments, stack.admin);
      const { federationId } = await admin.createBatchedFederation(config, [participantInfo(stack.chainId, keyless)], batched);
      expect((await admin.batchedFederation(federationId)).keyRegistryRoot).to.equal(fieldToBytes32((await registryZeroHashes(5))[5]));
    });

    it("should refuse inconsistent batched parameters, naming the field, and create nothing", async function () {
      const roster = members.slice(0, 4).map((m) => participantInfo(stack.chainId, m));
      const before = await lastFederation();
      const cases: [string, (c: any, b: any) => void, string, unknown[]][] = [
        ["zero verifier", (_c, b) => (b.verifier = ethers.ZeroAddress), "ProvenanceZeroAddress", ["batched.verifier"]],
        ["zero hasher", (_c, b) => (b.poseidon2 = ethers.ZeroAddress), "ProvenanceZeroAddress", ["batched.poseidon2"]],
        [
          "a hasher that is not Poseidon(2)",
          (_c, b) => (b.poseidon2 = stack.verifierAddress),
          "ProvenanceInvalidConfig",
          ["batched.poseidon2"],
        ],
        [
          "an account without code as hasher",
          (_c, b) => (b.poseidon2 = stack.outsider.address),
          "ProvenanceInvalidConfig",
          ["batched.poseidon2"],
        ],
        [
          "no verifying-key hash",
          (_c, b) => (b.verifyingKeyHash = ethers.ZeroHash),
          "ProvenanceInvalidConfig",
          ["batched.verifyingKeyHash"],
        ],
        [
          "a verifying-key hash other than its verifier's (issue 16's hostile history)",
          (_c, b) => (b.verifyingKeyHash = stack.chunkKeyHash),
          "ProvenanceVerifyingKeyMismatch",
          [stack.verifierAddress, stack.chunkKeyHash, stack.keys.vkeyHash],
        ],
        [
          "a direct-path verifying-key hash other than its verifier's",
          (c) => (c.verifyingKeyHash = stack.keys.vkeyHash),
          "ProvenanceVerifyingKeyMismatch",
          [stack.chunkVerifierAddress, stack.keys.vkeyHash, stack.chunkKeyHash],
        ],
        ["S = 0", (_c, b) => (b.samples = 0), "ProvenanceInvalidConfig", ["batched.samples"]],
        ["K = 17", (c) => ((c.participantsPerRound = 17), (c.minUpdates = 17)), "ProvenanceInvalidConfig", ["participantsPerRound"]],
        ["minUpdates < K (dropouts)", (c) => (c.minUpdates = 1), "ProvenanceInvalidConfig", ["minUpdates"]],
        ["R = 0", (_c, b) => (b.registryDepth = 0), "ProvenanceInvalidConfig", ["batched.registryDepth"]],
        ["R = 33", (_c, b) => (b.registryDepth = 33), "ProvenanceInvalidConfig", ["batched.registryDepth"]],
        [
          "K * R = 16 * 13 > 192",
          (c, b) => ((c.participantsPerRound = 16), (c.minUpdates = 16), (b.registryDepth = 13)),
          "ProvenanceInvalidConfig",
          ["batched.registryDepth"],
        ],
        [
          "C = 2 on 2 leaves (a chunk would hold padding leaves)",
          (_c, b) => (b.chunkLevel = 2),
          "ProvenanceInvalidConfig",
          ["batched.chunkLevel"],
        ],
        ["a roster larger than 2^R", (_c, b) => (b.registryDepth = 1), "ProvenanceRegistryFull", [before + 1n, 2n]],
      ];
      for (const [what, mutate, error, args] of cases) {
        const { config, batched } = await batchedConfigs(stack);
        mutate(config, batched);
        await expect(stack.ledger.createBatchedFederation(config, roster, batched), what)
          .to.be.revertedWithCustomError(stack.ledger, error)
          .withArgs(...args);
      }
      const { config, batched } = await batchedConfigs(stack);
      const twice = [roster[0], { ...roster[1], babyJubJubKey: roster[0].babyJubJubKey }];
      await expect(stack.ledger.createBatchedFederation(config, twice, batched))
        .to.be.revertedWithCustomError(stack.ledger, "ProvenanceKeyAlreadyEnrolled")
        .withArgs(before + 1n, roster[1].signer);
      await expect(stack.ledger.connect(stack.aggregator).createBatchedFederation(config, roster, batched)).to.be.revertedWithCustomError(
        stack.ledger,
        "AccessControlUnauthorizedAccount",
      );
      expect(await lastFederation()).to.equal(before);
    });

    it("should refuse batched calls on a federation created without a batched path", async function () {
      const { config } = await batchedConfigs(stack);
      await (await stack.ledger.createFederation(config, [participantInfo(stack.chainId, members[0])])).wait();
      const id = await lastFederation();
      const r = {
        record: {
          post: {
            round: 1n,
            parentRound: 0n,
            cidCodec: 0x55,
            modelRoot: ethers.ZeroHash,
            cidDigest: ethers.ZeroHash,
            commitment: ethers.ZeroHash,
          },
        },
      };
      await expect(stack.ledger.connect(stack.aggregator).postBatchedRound(id, r.record.post, [], ethers.ZeroHash, []))
        .to.be.revertedWithCustomError(stack.ledger, "ProvenanceNotBatched")
        .withArgs(id);
      await expect(
        stack.ledger.connect(stack.aggregator).proveBatchedRound(
          id,
          1n,
          [0n, 0n],
          [
            [0n, 0n],
            [0n, 0n],
          ],
          [0n, 0n],
        ),
      )
        .to.be.revertedWithCustomError(stack.ledger, "ProvenanceNotBatched")
        .withArgs(id);
      await expect(stack.ledger.batchedPublicInputs(id, 1n))
        .to.be.revertedWithCustomError(stack.ledger, "ProvenanceNotBatched")
        .withArgs(id);
      await expect(stack.ledger.batchedFederation(id)).to.be.revertedWithCustomError(stack.ledger, "ProvenanceNotBatched").withArgs(id);
      await expect(stack.ledger.batchedFederation(id + 100n))
        .to.be.revertedWithCustomError(stack.ledger, "ProvenanceUnknownFederation")
        .withArgs(id + 100n);
    });
  });

  /** The highest federation id in use. */
  async function lastFederation(): Promise<bigint> {
    let n = 1n;
    for (;;) {
      try {
        await stack.ledger.federation(n + 1n);
        n++;
      } catch {
        return n;
      }
    }
  }

  describe("key registry: enrol and revoke", function () {
    let f: Federation;

    before(async function () {
      f = await createBatchedFederation(stack, members.slice(0, 2), { registryDepth: 3 });
    });

    it("should put an enrolled key in the next slot, emit the new root, and keep the open round's root", async function () {
      const [, rootBefore] = await stack.ledger.batchedFederation(f.id);
      const receipt = await enrolMember(f, members[2]);
      const expected = await registryOf(f);
      const [, root, openRoot] = await stack.ledger.batchedFederation(f.id);
      expect(root).to.equal(fieldToBytes32(expected.root));
      expect(openRoot, "round 1 keeps the root it opened with").to.equal(rootBefore);
      const updated = receipt.logs.map((l: any) => stack.ledger.interface.parseLog(l)).find((e: any) => e?.name === "KeyRegistryUpdated");
      expect(updated.args.slot).to.equal(2n);
      expect(updated.args.leaf).to.equal(expected.levels[0][2]);
      expect(updated.args.keyRegistryRoot).to.equal(root);
      expect(updated.args.effectiveFromRound).to.equal(2n);
      console.log(`      enrol with a key, R = 3: ${receipt.gasUsed} gas`);
    });

    it("should leave the registry unchanged for a participant without a key", async function () {
      const [, before] = await stack.ledger.batchedFederation(f.id);
      const receipt = await enrolMember(f, await member("keyless 2", false));
      expect((await stack.ledger.batchedFederation(f.id))[1]).to.equal(before);
      console.log(`      enrol without a key: ${receipt.gasUsed} gas`);
    });

    it("should zero a revoked participant's slot", async function () {
      const receipt = await revokeMember(f, 1);
      expect((await stack.ledger.batchedFederation(f.id))[1]).to.equal(fieldToBytes32((await registryOf(f)).root));
      expect((await registryOf(f)).levels[0][1]).to.equal(0n);
      console.log(`      revoke, R = 3: ${receipt.gasUsed} gas`);
    });

    it("should refuse a key already in the registry, and a roster beyond 2^R slots", async function () {
      await expectRefused(
        f,
        () => stack.ledger.enrol(f.id, { ...participantInfo(stack.chainId, members[4]), babyJubJubKey: [...members[0].key!.publicKey] }),
        "ProvenanceKeyAlreadyEnrolled",
        [f.id, members[4].wallet.address],
      );
      // A revoked key stays enrolled: it cannot come back under another address.
      await expectRefused(
        f,
        () => stack.ledger.enrol(f.id, { ...participantInfo(stack.chainId, members[4]), babyJubJubKey: [...members[1].key!.publicKey] }),
        "ProvenanceKeyAlreadyEnrolled",
        [f.id, members[4].wallet.address],
      );
      for (let i = f.roster.length; i < 8; i++) await enrolMember(f, await member(`filler ${i}`));
      expect((await stack.ledger.batchedFederation(f.id))[1]).to.equal(fieldToBytes32((await registryOf(f)).root));
      await expectRefused(f, () => stack.ledger.enrol(f.id, participantInfo(stack.chainId, members[5])), "ProvenanceRegistryFull", [
        f.id,
        8n,
      ]);
    });

    it("should measure enrolment at the production depth R = 6", async function () {
      const g = await createBatchedFederation(stack, [], { registryDepth: 6 });
      const gas = [];
      for (let i = 0; i < 3; i++) gas.push((await enrolMember(g, await member(`r6 ${i}`))).gasUsed);
      expect((await stack.ledger.batchedFederation(g.id))[1]).to.equal(fieldToBytes32((await registryOf(g)).root));
      console.log(`      enrol with a key, R = 6: ${gas.join(", ")} gas (1st, 2nd, 3rd)`);
    });
  });

  describe("rounds: post, challenge, prove, finalize", function () {
    /** Created with p0..p2; p3 enrols after round 1 is posted. */
    let f: Federation;
    let r1: BatchedRound;
    let r2: BatchedRound;
    let r3: BatchedRound;
    let p1: BatchedProof;
    let substituted: BatchedProof;
    /** The registry rounds 1 and 2 open keys against: the three keys of the roster they opened with. */
    let registry12: KeyRegistry;
    const proveGas: bigint[] = [];

    before(async function () {
      f = await createBatchedFederation(stack, members.slice(0, 3));
      registry12 = await registryOf(f);
    });

    it("should post a batched round with no participant signature check: Proposed, registry root and slots recorded, budgets debited", async function () {
      r1 = await buildBatchedRound(f);
      const spentBefore = await Promise.all(
        r1.slots.map(async (i) => (await stack.ledger.participant(f.id, f.roster[i].wallet.address))[0]),
      );
      const receipt = await postBatchedRound(r1);
      const events = receipt.logs.map((l: any) => stack.ledger.interface.parseLog(l)).filter((e: any) => e !== null);
      expect(events.map((e: any) => e.name)).to.deep.equal(["BatchedRoundProposed", "RoundOpened"]);
      const proposed = events[0].args;
      expect(proposed.participantsRoot).to.equal(r1.record.participantsRoot);
      expect(proposed.updatesCommitment).to.equal(r1.record.updatesCommitment);
      expect(proposed.entriesDigest).to.equal(r1.record.entriesDigest);
      expect(proposed.keyRegistryRoot).to.equal(fieldToBytes32(registry12.root));
      expect(proposed.participantSlots).to.equal(packParticipantSlots(r1.slots, 2));
      // args.entries would be Result's own entries(): the column is argument 8.
      expect(Array.from(proposed[8], (e: any) => e.participant)).to.deep.equal(r1.entries.map((e) => e.participant));
      const rec = await stack.ledger.roundRecord(f.id, 1n);
      expect(rec.status).to.equal(RoundStatus.Proposed);
      expect(rec.commitment).to.equal(r1.record.post.commitment);
      expect(rec.updatesDigest).to.equal(r1.record.updatesCommitment);
      expect(rec.challengeSeed).to.equal(ethers.ZeroHash);
      const b = await stack.ledger.batchedRound(f.id, 1n);
      expect([b.keyRegistryRoot, b.participantSlots, b.postedBlock]).to.deep.equal([
        fieldToBytes32(registry12.root),
        packParticipantSlots(r1.slots, 2),
        BigInt(receipt.blockNumber),
      ]);
      for (const [j, i] of r1.slots.entries()) {
        const [p] = await stack.ledger.participant(f.id, f.roster[i].wallet.address);
        expect(p.epsilonSpentMicros - spentBefore[j].epsilonSpentMicros).to.equal(r1.entries[j].epsilonMicros);
        expect(p.reputationMicros).to.equal(BigInt(r1.entries[j].reputationMicros));
      }
      console.log(`      postBatchedRound, K = 2: ${receipt.gasUsed} gas`);
    });

    it("should not fix the challenge before the block after the posting one exists", async function () {
      const posted = (await stack.ledger.batchedRound(f.id, 1n)).postedBlock as bigint;
      await expect(stack.ledger.batchedChallenge(f.id, 1n))
        .to.be.revertedWithCustomError(stack.ledger, "ProvenanceChallengeNotReady")
        .withArgs(f.id, 1n, posted + 2n);
      await expectRefused(f, () => prove(f, 1n, NO_PROOF), "ProvenanceChallengeNotReady", [f.id, 1n, posted + 2n]);
    });

    it("should keep round 1's registry snapshot when a participant enrols between post and proof", async function () {
      await enrolMember(f, members[3]);
      const [, root, openRoot] = await stack.ledger.batchedFederation(f.id);
      expect(root).to.equal(fieldToBytes32((await registryOf(f)).root));
      expect(root).to.not.equal(fieldToBytes32(registry12.root));
      expect(openRoot, "round 2, open since round 1 was posted, keeps the root it opened with").to.equal(fieldToBytes32(registry12.root));
      expect((await stack.ledger.batchedRound(f.id, 1n)).keyRegistryRoot).to.equal(fieldToBytes32(registry12.root));
    });

    it("should derive the challenge from h_t and the hash of the block after the posting one, as TypeScript does", async function () {
      const { seed, chunkIndices } = await waitForChallenge(r1);
      const posted = Number((await stack.ledger.batchedRound(f.id, 1n)).postedBlock);
      const next = await ethers.provider.getBlock(posted + 1);
      expect(seed).to.equal(challengeSeed(r1.record.post.commitment, next!.hash!));
      // 212 parameters are 2 chunks of 112: S = 2 covers both, in the order the draw gives.
      expect(chunkIndices).to.deep.equal(challengeIndices(seed, challengeChunkCount(MODEL_LENGTH), 2));
    });

    it("should verify a real proof of the participants' EdDSA signatures; its inputs are snarkjs' publicSignals; Proven, then Finalized", async function () {
      const { seed, chunkIndices } = await waitForChallenge(r1);
      const t0 = performance.now();
      p1 = await proveBatched(r1, { chunkIndices, registry: registry12 });
      console.log(`      witness + proof: ${(performance.now() - t0).toFixed(0)} ms`);
      const inputs: bigint[] = [...(await stack.ledger.batchedPublicInputs(f.id, 1n))];
      expect(inputs, "the contract's public inputs vs snarkjs' publicSignals").to.deep.equal(p1.publicSignals);
      expect(inputs[0]).to.equal(roundScope(stack.chainId, stack.ledgerAddress, f.id, 1n));
      expect(inputs[1]).to.equal(await vectorRoot(r1.prev));
      const tx = prove(f, 1n, p1);
      await expect(tx).to.emit(stack.ledger, "BatchedRoundChallenged").withArgs(f.id, 1n, seed, inputs);
      await expect(tx).to.emit(stack.ledger, "RoundProven");
      proveGas.push((await (await tx).wait()).gasUsed);
      const verifierTx: bigint = await stack.verifier.verifyProof.estimateGas(p1.proof.a, p1.proof.b, p1.proof.c, inputs);
      console.log(
        `      the verifier alone, called directly: ${verifierTx} gas; the ledger's share of proveBatchedRound: ${proveGas[0] - verifierTx}`,
      );
      const rec = await stack.ledger.roundRecord(f.id, 1n);
      expect(rec.status).to.equal(RoundStatus.Proven);
      expect(rec.challengeSeed).to.equal(seed);
      await expectRefused(f, () => prove(f, 1n, p1), "ProvenanceRoundNotProposed", [f.id, 1n]);
      await expect(stack.ledger.finalizeRound(f.id, 1n)).to.emit(stack.ledger, "RoundFinalized").withArgs(f.id, 1n);
      expect((await stack.ledger.roundRecord(f.id, 1n)).status).to.equal(RoundStatus.Finalized);
      console.log(`      proveBatchedRound (8 public inputs): ${proveGas[0]} gas`);
    });

    it("should read the same round through the TypeScript adapter (LedgerClient)", async function () {
      const c = client();
      const { seed, chunkIndices } = await c.batchedChallenge(f.id, 1n);
      expect(seed).to.equal((await stack.ledger.roundRecord(f.id, 1n)).challengeSeed);
      expect(await c.batchedPublicInputs(f.id, 1n)).to.deep.equal(p1.publicSignals);
      expect(chunkIndices).to.deep.equal(p1.publicSignals.slice(6).map(Number));
      const info = await c.batchedRound(f.id, 1n);
      expect(info.participantSlots).to.equal(packParticipantSlots(r1.slots, 2));
      const { batched, keyRegistryRoot } = await c.batchedFederation(f.id);
      expect(batched).to.deep.equal(f.batched);
      expect(keyRegistryRoot).to.equal(fieldToBytes32((await registryOf(f)).root));
      try {
        await c.proveBatchedRound(f.id, 1n, p1.proof);
        expect.fail("a second proof was accepted");
      } catch (e) {
        expect((e as DsainError).code).to.equal(ErrorCode.CHAIN_FAILURE);
        expect((e as DsainError).message).to.match(/ProvenanceRoundNotProposed\(/);
        expect((e as DsainError).revert?.name).to.equal("ProvenanceRoundNotProposed");
        expect((e as DsainError).retryable).to.equal(false);
      }
    });

    it("should refuse round 1's proof replayed at round 2", async function () {
      r2 = await buildBatchedRound(f);
      // Through the TypeScript adapter, as an aggregator would.
      await client().postBatchedRound(f.id, r2.record.post, r2.entries, r2.record.updatesCommitment, r2.quorumSignatures);
      await waitForChallenge(r2);
      expect((await stack.ledger.batchedRound(f.id, 2n)).keyRegistryRoot).to.equal(fieldToBytes32(registry12.root));
      const inputs: bigint[] = [...(await stack.ledger.batchedPublicInputs(f.id, 2n))];
      expect(inputs[0]).to.not.equal(p1.publicSignals[0]);
      await expectRefused(f, () => prove(f, 2n, p1), "ProvenanceProofRejected", [f.id, 2n]);
    });

    it("should refuse round 1's proof in another federation with the same roster and genesis", async function () {
      const g = await createBatchedFederation(stack, members.slice(0, 3));
      const rg = await buildBatchedRound(g);
      await postBatchedRound(rg);
      await waitForChallenge(rg);
      await expectRefused(g, () => prove(g, 1n, p1), "ProvenanceProofRejected", [g.id, 1n]);
    });

    it("should refuse a proof made for chunk indices other than the challenged ones", async function () {
      const { chunkIndices } = await waitForChallenge(r2);
      // Two chunks, two samples: the only other indices are the same chunks in another order or repeated.
      const other = [chunkIndices[1], chunkIndices[1]];
      const wrong = await proveBatched(r2, { chunkIndices: other, registry: registry12 });
      await expectRefused(f, () => prove(f, 2n, wrong), "ProvenanceProofRejected", [f.id, 2n]);
    });

    it("should prove round 2 although one of its participants was revoked between post and proof (snapshot)", async function () {
      await revokeMember(f, r2.slots[REVOKED_OF_ROUND_2]);
      expect((await stack.ledger.batchedFederation(f.id))[1]).to.equal(fieldToBytes32((await registryOf(f)).root));
      const { chunkIndices } = await waitForChallenge(r2);
      const p2 = await proveBatched(r2, { chunkIndices, registry: registry12 });
      const receipt = await client().proveBatchedRound(f.id, 2n, p2.proof);
      proveGas.push(receipt.gasUsed);
      expect((await stack.ledger.roundRecord(f.id, 2n)).status).to.equal(RoundStatus.Proven);
      await (await stack.ledger.finalizeRound(f.id, 2n)).wait();
    });

    it("should refuse a proof in which a non-selected participant's genuine signature replaces a selected one's", async function () {
      // Round 3 opened with p3 enrolled and nobody revoked yet (the revocation came during round 3).
      const registry3 = await registryOf(f, 4, new Set());
      const selected = await selectedSlots(f);
      const outside = [0, 1, 2, 3].filter((i) => !selected.includes(i));
      const [a, b] = selected;
      const above = outside.find((c) => c > a);
      const keySlots = above !== undefined ? [a, above] : [outside[0], b];
      // A committee that colludes commits to the outsider's key; the entries still name the selected pair.
      r3 = await buildBatchedRound(f, { committedKeys: keySlots.map((i) => f.roster[i].key) });
      await postBatchedRound(r3);
      const { chunkIndices } = await waitForChallenge(r3);
      const onChain: bigint[] = [...(await stack.ledger.batchedPublicInputs(f.id, 3n))];
      expect(onChain[4]).to.equal(packParticipantSlots(selected, 2));
      substituted = await proveBatched(r3, { chunkIndices, registry: registry3, keySlots });
      const differing = onChain.map((x, i) => (x === substituted.publicSignals[i] ? -1 : i)).filter((i) => i >= 0);
      expect(differing, "only participantSlots differs").to.deep.equal([4]);
      await expectRefused(f, () => prove(f, 3n, substituted), "ProvenanceProofRejected", [f.id, 3n]);
      // Against the ledger's slots no witness exists: the circuit packs the slots it opened.
      const forced = { ...substituted.input, participantSlots: onChain[4].toString() };
      await expectWitnessRejected(calculateWitness(BATCHED_INSTANCE, forced));
      // And the selected participants' own signatures do not match the committed keys.
      const honest = await batchedProofInput(r3, { chunkIndices, registry: registry3 });
      await expectWitnessRejected(calculateWitness(BATCHED_INSTANCE, { ...honest, updatesCommitment: onChain[5].toString() }));
    });

    it("should refuse every proof once the challenge block's hash is out of reach, and let anyone expire the round at once", async function () {
      const posted = (await stack.ledger.batchedRound(f.id, 3n)).postedBlock as bigint;
      const now = BigInt(await ethers.provider.getBlockNumber());
      // Calls run on the latest block: at posted + 258, blockhash(posted + 1) is out of reach. The last
      // block in which a proof could still be mined is posted + 257.
      await ethers.provider.send("hardhat_mine", ["0x" + (posted + 258n - now).toString(16)]);
      await expect(stack.ledger.batchedChallenge(f.id, 3n))
        .to.be.revertedWithCustomError(stack.ledger, "ProvenanceChallengeExpired")
        .withArgs(f.id, 3n, posted + 257n);
      await expectRefused(f, () => prove(f, 3n, substituted), "ProvenanceChallengeExpired", [f.id, 3n, posted + 257n]);
      const rec = await stack.ledger.roundRecord(f.id, 3n);
      const block = await ethers.provider.getBlock("latest");
      expect(BigInt(block!.timestamp)).to.be.lessThan(rec.openedAt + BigInt(f.config.roundDeadline));
      const tx = stack.ledger.connect(stack.outsider).expireRound(f.id, 3n);
      await expect(tx).to.emit(stack.ledger, "RoundRejected").withArgs(f.id, 3n, "challenge window");
      await expect(tx).to.emit(stack.ledger, "RoundRejected").withArgs(f.id, 4n, "challenge window");
      expect((await stack.ledger.roundRecord(f.id, 3n)).status).to.equal(RoundStatus.Rejected);
      const [, st] = await stack.ledger.federation(f.id);
      expect([st.head, st.lastRound]).to.deep.equal([2n, 4n]);
    });

    describe("postBatchedRound refusals (round 5)", function () {
      let r5: BatchedRound;
      let revokedSlot: number;

      before(async function () {
        revokedSlot = r2.slots[REVOKED_OF_ROUND_2];
        // Selection never draws a participant revoked for the round (§10), so round 5's draw is valid
        // whatever the seed; the ledger's own bound agrees (selectedSlots checks it).
        expect(await selectedSlots(f), "round 5 draws the participant revoked in round 4").to.not.include(revokedSlot);
        r5 = await buildBatchedRound(f);
      });

      it("should refuse a quorum short by one", async function () {
        await expectRefused(f, () => post(r5, { signatures: r5.quorumSignatures.slice(0, 1) }), "ProvenanceQuorumNotReached", [
          f.id,
          1n,
          2n,
        ]);
      });

      it("should refuse a record whose updatesCommitment is not the one the committee signed", async function () {
        const other = fieldToBytes32(BigInt(r5.record.updatesCommitment) ^ 1n);
        await expectRefused(f, () => post(r5, { commitment: other }), "ProvenanceInvalidQuorumSignature", [
          f.id,
          0n,
          (a: string) => isAddress(a),
        ]);
      });

      it("should refuse an entry of a participant outside S_t", async function () {
        const selected = await selectedSlots(f);
        const outsider = [0, 1, 2, 3].find((i) => !selected.includes(i) && i !== revokedSlot)!;
        const slots = [outsider, selected.find((i) => i !== revokedSlot)!].sort((x, y) => x - y);
        const r = await buildBatchedRound(f, { slots });
        await expectRefused(f, () => post(r), "ProvenanceNotSelected", [f.id, 5n, f.roster[outsider].wallet.address]);
      });

      it("should refuse an entry of a participant revoked for this round", async function () {
        const other = [0, 1, 2, 3].find((i) => i !== revokedSlot)!;
        const r = await buildBatchedRound(f, { slots: [revokedSlot, other].sort((x, y) => x - y) });
        await expectRefused(f, () => post(r), "ProvenanceParticipantRevoked", [f.id, f.roster[revokedSlot].wallet.address, 4n]);
      });

      it("should refuse entries not in strictly ascending roster order", async function () {
        await expectRefused(f, () => post(r5, { entries: [...r5.entries].reverse() }), "ProvenanceParticipantsNotAscending", [f.id, 1n]);
        await expectRefused(f, () => post(r5, { entries: [r5.entries[0], r5.entries[0]] }), "ProvenanceParticipantsNotAscending", [
          f.id,
          1n,
        ]);
      });

      // Hostile history (issue 16): the debit was whatever the committee wrote, whatever was attested.
      it("should refuse a debit other than the epsilon its participant attested (0, or the whole budget)", async function () {
        const debit = f.config.dp.epsilonMicros;
        expect(debit).to.equal(100_000n);
        for (const wrong of [0n, f.config.epsilonBudgetMicros]) {
          const r = await buildBatchedRound(f, { epsilonMicros: wrong });
          await expectRefused(f, () => post(r), "ProvenanceWrongDebit", [f.id, r.entries[0].participant, wrong, debit]);
        }
      });

      // Hostile history (issue 16): a selected participant's own attest() for the round, left out of the
      // committee's record. On a batched federation the round then belongs to the direct path.
      it("should refuse a batched record of a round a selected participant attested on-chain", async function () {
        const g = await createBatchedFederation(stack, members.slice(0, 2)); // K = 2 of 2: both selected
        const who = g.roster[0].wallet;
        const update = { updateRoot: fieldToBytes32(123n), sampleCount: 9n };
        const ctx = { federationId: g.id, round: 1n, baseModelRoot: g.config.genesisModelRoot, dp: g.config.dp };
        const signature = await signUpdate(who, stack.domain, ctx, update);
        await (await stack.ledger.attest(g.id, who.address, 1n, update.updateRoot, update.sampleCount, signature)).wait();
        const r = await buildBatchedRound(g);
        await expectRefused(g, () => post(r), "ProvenanceAttestationOmitted", [g.id, 1n, 1n, 0n]);
      });

      it("should refuse a debit beyond a participant's privacy budget", async function () {
        const g = await createBatchedFederation(stack, members.slice(0, 2), { epsilonBudgetMicros: 50_000n });
        const r = await buildBatchedRound(g);
        await expectRefused(g, () => post(r), "ProvenanceBudgetExceeded", [g.id, r.entries[0].participant, 0n, 100_000n, 50_000n]);
      });

      it("should refuse a record of fewer than K entries, weights not summing to 65536, or an h_t that is not the recomputed one", async function () {
        await expectRefused(f, () => post(r5, { entries: r5.entries.slice(0, 1) }), "ProvenanceWrongUpdateCount", [f.id, 2n, 2n, 1n]);
        const heavier = r5.entries.map((e, i) => (i === 0 ? { ...e, weight: e.weight + 1 } : e));
        await expectRefused(f, () => post(r5, { entries: heavier }), "ProvenanceWeightsDoNotSum", [f.id, 65537n]);
        const wrong = { ...r5.record.post, commitment: keccak256(toUtf8Bytes("another h_t")) };
        await expectRefused(
          f,
          () =>
            stack.ledger
              .connect(stack.aggregator)
              .postBatchedRound(f.id, wrong, r5.entries, r5.record.updatesCommitment, r5.quorumSignatures),
          "ProvenanceCommitmentMismatch",
          [f.id, 5n, r5.record.post.commitment, wrong.commitment],
        );
      });

      it("should refuse a caller without AGGREGATOR_ROLE and a round out of order", async function () {
        await expectRefused(
          f,
          () =>
            stack.ledger
              .connect(stack.outsider)
              .postBatchedRound(f.id, r5.record.post, r5.entries, r5.record.updatesCommitment, r5.quorumSignatures),
          "AccessControlUnauthorizedAccount",
        );
        const early = await buildBatchedRound(f, { round: 6n });
        await expectRefused(f, () => post(early), "ProvenanceRoundOutOfOrder", [f.id, 5n, 6n]);
      });

      it("should post round 5, then refuse to build on it, by either path, until it is proven", async function () {
        await postBatchedRound(r5);
        const r6 = await buildBatchedRound(f, { parentRound: 5n });
        await expectRefused(f, () => post(r6), "ProvenanceRoundNotAttested", [f.id, 5n]);
        await expectRefused(
          f,
          () => stack.ledger.connect(stack.aggregator).postRound(f.id, { ...r6.record.post, parentRound: 5n }, "0x", []),
          "ProvenanceRoundNotAttested",
          [f.id, 5n],
        );
        // No EIP-712 attestation is taken for round 5 itself: its entries are its participants' attestations, checked by the proof.
        const entry = r5.entries[0];
        await expectRefused(
          f,
          () => stack.ledger.attest(f.id, entry.participant, 5n, entry.updateRoot, entry.sampleCount, "0x"),
          "ProvenanceDuplicateAttestation",
          [f.id, 5n, entry.participant],
        );
        // The EIP-712 path's proof does not apply to a batched round.
        await expectRefused(
          f,
          () =>
            stack.ledger.connect(stack.aggregator).proveRound(
              f.id,
              5n,
              { participants: [], updateRoots: [], weights: [] },
              [0n, 0n],
              [
                [0n, 0n],
                [0n, 0n],
              ],
              [0n, 0n],
            ),
          "ProvenanceRoundNotAttested",
          [f.id, 5n],
        );
        await expectRefused(f, () => prove(f, 2n, p1), "ProvenanceRoundNotProposed", [f.id, 2n]);
        await expectRefused(f, () => prove(f, 4n, p1), "ProvenanceNotBatchedRound", [f.id, 4n]);
      });
      it("should refuse a record on another parent, and a record or a proof after the round's deadline", async function () {
        const g = await createBatchedFederation(stack, members.slice(0, 3));
        const onGenesis = await buildBatchedRound(g);
        const elsewhere = { ...onGenesis.record.post, parentRound: 1n };
        await expectRefused(
          g,
          () =>
            stack.ledger
              .connect(stack.aggregator)
              .postBatchedRound(g.id, elsewhere, onGenesis.entries, onGenesis.record.updatesCommitment, onGenesis.quorumSignatures),
          "ProvenanceWrongParent",
          [g.id, 0n, 1n],
        );
        await postBatchedRound(onGenesis);
        await waitForChallenge(onGenesis);
        const opened = (await stack.ledger.roundRecord(g.id, 1n)).openedAt as bigint;
        await ethers.provider.send("evm_increaseTime", [g.config.roundDeadline + 1]);
        await ethers.provider.send("hardhat_mine", ["0x1"]);
        const deadline = (t: bigint) => t + BigInt(g.config.roundDeadline);
        await expectRefused(g, () => prove(g, 1n, NO_PROOF), "ProvenanceDeadlinePassed", [g.id, 1n, deadline(opened)]);
        // Once round 1 expires (with the open round 2), round 3 opens afresh; past its deadline it takes no record.
        await expect(stack.ledger.expireRound(g.id, 1n)).to.emit(stack.ledger, "RoundRejected").withArgs(g.id, 1n, "deadline");
        const fresh = await buildBatchedRound(g);
        expect(fresh.round).to.equal(3n);
        const [, st] = await stack.ledger.federation(g.id);
        await ethers.provider.send("evm_increaseTime", [g.config.roundDeadline + 1]);
        await ethers.provider.send("hardhat_mine", ["0x1"]);
        await expectRefused(g, () => post(fresh), "ProvenanceDeadlinePassed", [g.id, 3n, deadline(st.openedAt as bigint)]);
      });
    });

    after(function () {
      if (proveGas.length > 0) console.log(`      proveBatchedRound gas: ${proveGas.join(", ")}`);
    });
  });

  describe("gas of postBatchedRound against K (no signature checked on-chain)", function () {
    /** Calldata at 4 gas per zero byte and 16 per other byte. */
    const calldataGas = (data: string) => [...Buffer.from(data.slice(2), "hex")].reduce((g, x) => g + (x === 0 ? 4 : 16), 0);
    /** 375 per log, 375 per topic, 8 per data byte. */
    const logGas = (logs: any[]) => logs.reduce((g, l) => g + 375 + 375 * l.topics.length + 8 * ((l.data.length - 2) / 2), 0);

    it("should cost less per participant than one ecrecover, and print the table against 120,000 + 8,000·K", async function () {
      const rows: { k: number; gas: number }[] = [];
      console.log("      | K | roster | postBatchedRound | goal | calldata | logs | execution |");
      for (const k of [2, 4, 8, 16]) {
        // A roster of 2K, so the swap-or-not shuffle runs; R = 6 as in production (K * R <= 192).
        const roster = await Promise.all(Array.from({ length: 2 * k }, (_, i) => member(`gas ${k}/${i}`)));
        const g = await createBatchedFederation(stack, roster, { k, registryDepth: 6 });
        const receipt = await postBatchedRound(await buildBatchedRound(g));
        const gas = Number(receipt.gasUsed);
        const calldata = calldataGas((await ethers.provider.getTransaction(receipt.hash))!.data);
        const logs = logGas(receipt.logs);
        rows.push({ k, gas });
        console.log(
          `      | ${k} | ${2 * k} | ${gas} | ${120_000 + 8_000 * k} | ${calldata} | ${logs} | ${gas - 21_000 - calldata - logs} |`,
        );
      }
      const slope = (rows[3].gas - rows[0].gas) / (rows[3].k - rows[0].k);
      const base = rows[0].gas - slope * rows[0].k;
      console.log(
        `      fit: ${base.toFixed(0)} + ${slope.toFixed(0)}·K; K = 64 would be ${(base + 64 * slope).toFixed(0)} (the circuit takes K <= 16)`,
      );
      expect(slope, "gas per participant").to.be.lessThan(28_000);
    });
  });

  describe("a record of 12 or more entries, checked against S_t made whole", function () {
    it("should accept S_t and refuse an entry of a participant outside it", async function () {
      // K = 12 from a roster of 24: the ledger checks the entries against the selection mask (docs/protocol.md §10).
      const roster = await Promise.all(Array.from({ length: 24 }, (_, i) => member(`mask ${i}`)));
      const g = await createBatchedFederation(stack, roster, { k: 12, registryDepth: 6 });
      const selected = await selectedSlots(g);
      expect(selected.length).to.equal(12);
      const outsider = roster.findIndex((_, i) => !selected.includes(i));
      const slots = [...selected.slice(1), outsider].sort((x, y) => x - y);
      const r = await buildBatchedRound(g, { slots });
      await expectRefused(g, () => post(r), "ProvenanceNotSelected", [g.id, 1n, roster[outsider].wallet.address]);
      await postBatchedRound(await buildBatchedRound(g));
      expect((await stack.ledger.roundRecord(g.id, 1n)).updateCount).to.equal(12n);
    });
  });

  describe("protocol twins", function () {
    it("should match test/vectors/proof-of-training.json → ledger: zero hashes, challenge seed, entries digest, record digest", async function () {
      const v = readVector("proof-of-training.json").ledger;
      expect((await registryZeroHashes(32)).map(String)).to.deep.equal(v.zeroHashes);
      expect(challengeSeed(v.challenge.commitment, v.challenge.nextBlockHash)).to.equal(v.challenge.seed);
      expect(challengeIndices(v.challenge.seed, v.challenge.chunks, v.challenge.samples)).to.deep.equal(v.challenge.indices);
      const entries = v.record.entries.map((e: any) => ({
        ...e,
        sampleCount: BigInt(e.sampleCount),
        epsilonMicros: BigInt(e.epsilonMicros),
      }));
      expect(batchedEntriesDigest(entries)).to.equal(v.record.entriesDigest);
      expect(BATCHED_ROUND_RECORD_TYPE).to.equal(v.record.type);
      expect(keccak256(toUtf8Bytes(BATCHED_ROUND_RECORD_TYPE))).to.equal(v.record.typeHash);
      const message = { ...v.record.message, federationId: BigInt(v.record.message.federationId), round: BigInt(v.record.message.round) };
      message.parentRound = BigInt(v.record.message.parentRound);
      expect(batchedRoundRecordDigest(v.record.domain, message)).to.equal(v.record.digest);
    });

    it("should give the record digest the ledger computes", async function () {
      const v = readVector("proof-of-training.json").ledger.record;
      const m = v.message;
      const digest = await stack.ledger.batchedRoundRecordDigest(
        m.federationId,
        m.round,
        m.parentRound,
        m.commitment,
        m.updatesCommitment,
        m.entriesDigest,
      );
      expect(digest).to.equal(
        batchedRoundRecordDigest(stack.domain, {
          ...m,
          federationId: BigInt(m.federationId),
          round: BigInt(m.round),
          parentRound: BigInt(m.parentRound),
        }),
      );
    });
  });
});
