// The main job on the batched path (docs/protocol.md §14, `dsain demo --zk-attestations`) end to end
// on Hardhat's in-process network: BabyJubJub keys, EdDSA-signed updates, postBatchedRound, the
// challenge from the next block's hash, real RoundAttested proofs through the ProverQueue, Helia;
// then the auditor, untouched (PASS) and against tampered evidence and blocks, each failure naming
// its round and link. Also the production builders' refusals (aggregator/adapters/proof/batched-round.ts).
import { expect } from "chai";
import { withBlock } from "../helpers/blocks.js";
import { startDemoRun, stopDemoRun } from "../helpers/demo-run.js";
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { runDemo, committeeWallet, DEMO_DEFAULTS, DEMO_INSTANCE, type DemoResult } from "../../aggregator/demo/demo.js";
import { ZK_DEMO_INSTANCE } from "../../aggregator/demo/zk-demo.js";
import { auditEvidence } from "../../aggregator/roles/auditor/run.js";
import { NO_DP, RoundStatus, type FederationEvidence } from "../../aggregator/protocol/evidence.js";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import {
  attestationDomain,
  batchedRoundRecordDigest,
  fieldToBytes32,
  signBatchedRoundRecord,
  vectorRoot,
} from "../../aggregator/protocol/index.js";
import { babyJubKeyFromSeed, roundScope } from "../../aggregator/protocol/eddsa.js";
import {
  batchedEntries,
  buildBatchedProofInput,
  checkBatchedPublicInputs,
  rosterRegistry,
  signBatchedUpdate,
  type BatchedUpdate,
} from "../../aggregator/adapters/proof/batched-round.js";
import { ensureCircuitKeys, releaseZkWorkers } from "../../aggregator/adapters/proof/keys.js";
import { aggregateExact, integerWeights, recoverBatchedRoundRecordSigner } from "../../aggregator/protocol/index.js";
import { network } from "hardhat";
import { LedgerClient } from "../../aggregator/adapters/chain/ledger.js";
import { checkBatchedRound, replayKeyRegistry } from "../../aggregator/roles/auditor/batched.js";
import { loadSnarkjs } from "../../aggregator/adapters/proof/keys.js";
import { fromSolidityProof } from "../../aggregator/adapters/proof/prover.js";
import { getAddress } from "ethers";
import {
  BATCHED_INSTANCE,
  buildBatchedRound,
  createBatchedFederation,
  deployStack,
  enrolMember,
  member,
  postBatchedRound,
  proveBatched,
  registryOf,
  revokeMember,
  waitForChallenge,
} from "../helpers/batched.js";
import { stateFromChain } from "../../aggregator/roles/round-state.js";
import { proposeBatchedRecord, readSelection } from "../../aggregator/roles/aggregator.js";
import { signUpdateEdDSA } from "../../aggregator/roles/participant.js";
import { endorseBatched, MemoryEndorsementLog, reviewBasis } from "../../aggregator/roles/committee.js";
import { seededVector } from "../helpers/random.js";
import { aggregateAndStore } from "../helpers/library-round.js";

async function expectDsainError(promise: Promise<unknown> | (() => unknown), code: string, text: string): Promise<void> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(DsainError);
    expect((e as DsainError).code).to.equal(code);
    expect((e as Error).message).to.contain(text);
    return;
  }
  expect.fail(`expected ${code} (${text})`);
}

describe("batched path (in-circuit attestations): production builders refuse bad inputs", function () {
  const length = 212;
  const vec = (seed: number) => Int32Array.from({ length }, (_, i) => ((i * 7919 + seed * 104729) % 2001) - 1000);

  async function updates(): Promise<BatchedUpdate[]> {
    const keys = await Promise.all([0, 1].map((i) => babyJubKeyFromSeed(`builder test ${i}`)));
    return [0, 2].map((slot, i) => ({
      slot,
      participant: new Wallet(keccak256(toUtf8Bytes(`builder test ${i}`))).address,
      publicKey: keys[i].publicKey,
      delta: vec(i + 1),
      sampleCount: 100n + BigInt(i),
      weight: 32768,
      epsilonMicros: 0n,
      reputationMicros: 1_000_000,
    }));
  }

  it("should refuse entries out of roster order, without a key, with unequal lengths or weights not summing to 65536", async function () {
    const u = await updates();
    await expectDsainError(batchedEntries([u[1], u[0]], NO_DP), ErrorCode.BAD_PARTICIPANT_SET, "strictly ascending roster index");
    await expectDsainError(
      batchedEntries([u[0], { ...u[1], publicKey: null as never }], NO_DP),
      ErrorCode.BAD_PARTICIPANT_SET,
      "no BabyJubJub key",
    );
    await expectDsainError(
      batchedEntries([u[0], { ...u[1], delta: vec(3).subarray(1) }], NO_DP),
      ErrorCode.VECTOR_LENGTH_MISMATCH,
      "211 coordinates",
    );
    await expectDsainError(batchedEntries([u[0], { ...u[1], weight: 1 }], NO_DP), ErrorCode.BAD_WEIGHTS, "sum to 32769");
    await expectDsainError(batchedEntries([u[0], { ...u[1], sampleCount: 0n }], NO_DP), ErrorCode.BAD_SAMPLE_COUNT, "must be positive");
    await expectDsainError(batchedEntries([], NO_DP), ErrorCode.BAD_PARTICIPANT_SET, "1 to 16 entries");
    const ok = await batchedEntries(u, NO_DP);
    expect(ok.entries.map((e) => e.participant)).to.deep.equal(u.map((x) => x.participant));
    expect(ok.entries[0].updateRoot).to.equal(fieldToBytes32(await vectorRoot(u[0].delta)));
  });

  it("should name the entry and slot whose EdDSA signature does not verify, and the public input that differs from the ledger's", async function () {
    const u = await updates();
    const keys = await Promise.all([0, 1].map((i) => babyJubKeyFromSeed(`builder test ${i}`)));
    const registry = await rosterRegistry([keys[0].publicKey, null, keys[1].publicKey, null], 2);
    const prev = vec(9);
    const weights = integerWeights([1, 1]);
    const next = aggregateExact(
      prev,
      u.map((x) => x.delta),
      weights,
    );
    const scope = roundScope(31337n, "0x0000000000000000000000000000000000000001", 1n, 1n);
    const prevRoot = await vectorRoot(prev);
    const signed = await Promise.all(
      u.map((x, i) => signBatchedUpdate(keys[i], { scope, prevRoot, delta: x.delta, sampleCount: x.sampleCount, dp: NO_DP })),
    );
    const args = {
      scope,
      registry,
      prev,
      next,
      deltas: u.map((x) => x.delta),
      weights,
      chunkIndices: [0, 1],
      participants: u.map((x, i) => ({ keyIndex: x.slot, meta: signed[i].meta, signature: signed[i].signature })),
    };
    const build = await buildBatchedProofInput(args);
    expect(build.publicSignals.length).to.equal(8);
    // The second participant's signature under the first one's slot: refused before the witness generator.
    const swapped = { ...args, participants: [args.participants[0], { ...args.participants[1], signature: signed[0].signature }] };
    await expectDsainError(
      buildBatchedProofInput(swapped),
      ErrorCode.INPUT_INVALID,
      "entry 1: the EdDSA signature does not verify under the key of registry slot 2",
    );
    await expectDsainError(
      buildBatchedProofInput({ ...args, participants: [{ ...args.participants[0], keyIndex: 1 }, args.participants[1]] }),
      ErrorCode.BAD_PARTICIPANT_SET,
      "registry slot 1 holds no key",
    );
    const ledger = build.publicSignals.map(BigInt);
    checkBatchedPublicInputs(1, build.publicSignals, ledger);
    ledger[3] += 1n;
    await expectDsainError(
      () => checkBatchedPublicInputs(1, build.publicSignals, ledger),
      ErrorCode.ZK_PROOF_INVALID,
      "public input keyRegistryRoot",
    );
  });
});

describe("end to end: batched demo (--zk-attestations) then audit", function () {
  let dir: string;
  let result: DemoResult;
  let evidence: FederationEvidence;

  before(async function () {
    ({ dir, result, evidence } = await startDemoRun("dsain-e2e-batched-", { participants: 2, epochs: 1, zkAttestations: true }));
  });

  after(async function () {
    await stopDemoRun(dir, result);
  });

  /** Audits a tampered deep copy of the chain's evidence with both verifying keys. */
  async function auditWith(tamper: (e: FederationEvidence) => void, keys: { batched?: string | null } = {}) {
    const copy = structuredClone(evidence);
    tamper(copy);
    const direct = await ensureCircuitKeys(DEMO_INSTANCE);
    const batched = keys.batched === null ? undefined : await ensureCircuitKeys(keys.batched ?? ZK_DEMO_INSTANCE);
    return auditEvidence({
      evidence: copy,
      store: result.session!.store,
      vkey: direct.vkey,
      vkeyHash: direct.vkeyHash,
      batchedVkey: batched?.vkey,
      batchedVkeyHash: batched?.vkeyHash,
    });
  }

  const links = (out: Awaited<ReturnType<typeof auditWith>>) => out.report.findings.map((f) => `${f.round}:${f.link}`);

  it("should record two batched rounds, each proven on-chain with a real RoundAttested proof and finalized", async function () {
    expect(result.instance).to.equal(ZK_DEMO_INSTANCE);
    expect(result.rounds.map((r) => `${r.round}:${r.mode}`)).to.deep.equal(["1:zk", "2:zk"]);
    for (const r of result.rounds) {
      const record = await result.session!.ledgerClient.roundRecord(result.federationId, BigInt(r.round));
      expect(record.status, `round ${r.round} status`).to.equal(BigInt(RoundStatus.Finalized));
      expect(record.commitment).to.equal(r.commitment);
      expect(r.selected.length).to.equal(2);
      expect(r.chunkIndices!.length).to.equal(2);
      expect(r.attestGas).to.equal(0n);
      // §14's measured ranges: postBatchedRound about 266k at K = 2, proveBatchedRound about 339k.
      expect(Number(r.postGas)).to.be.within(200_000, 330_000);
      expect(Number(r.proveGas)).to.be.within(300_000, 380_000);
    }
    expect(evidence.participants.length).to.equal(4); // K + 2
    expect(evidence.batched?.config.registryDepth).to.equal(2);
    expect(evidence.rounds.every((r) => r.batched !== undefined && r.batched.publicInputs?.length === 8)).to.equal(true);
  });

  it("should pass the audit of the untouched history, recomputing both rounds and verifying both proofs off-chain", function () {
    expect(result.audit?.ok, result.audit?.lines.join("\n")).to.equal(true);
    expect(result.audit?.report.proven).to.equal(2);
    expect(result.audit?.report.recomputed).to.equal(2);
    expect(result.audit?.lines.join("\n")).to.contain("round 2: ok (batched: selection, key registry root and slots");
  });

  it("should fail, naming round 2 and the updates, when one coordinate of a published update is changed in the Helia blockstore", async function () {
    const who = result.rounds[1].selected[1];
    const out = await withBlock(
      result.session!.store,
      result.rounds[1].updateCids[1],
      async (file, bytes) => {
        const payload = 12 + bytes.readUInt32LE(8);
        bytes.writeInt32LE(bytes.readInt32LE(payload + 4 * 100) + 1, payload + 4 * 100);
        await writeFile(file, bytes);
      },
      () => auditWith(() => undefined),
    );
    expect(links(out)).to.deep.equal(["2:updates"]);
    expect(out.lines.join("\n")).to.contain(`round 2: updates: update of ${who}`);
  });

  it("should fail, naming round 2 and the updatesCommitment, when an entry's sample count differs from what was committed", async function () {
    const out = await auditWith((e) => {
      e.rounds[1].updates[0].sampleCount += 1n;
    });
    expect(links(out)).to.include("2:updatesCommitment");
    expect(links(out)).to.include("2:commitment"); // entriesDigest
    expect(links(out).every((l) => l.startsWith("2:"))).to.equal(true);
  });

  it("should fail, naming round 1 and the registry, when the key registry root a round carries is not the rebuilt one", async function () {
    const out = await auditWith((e) => {
      e.rounds[0].batched!.keyRegistryRoot = fieldToBytes32(12345n);
    });
    expect(links(out)).to.deep.equal(["1:registry"]);
    expect(out.report.findings[0].message).to.contain("the registry rebuilt from the enrolment and KeyRegistryUpdated events gives");
  });

  it("should fail at creation and in every round when an enrolled BabyJubJub key differs from the registry the ledger built", async function () {
    const other = await babyJubKeyFromSeed("an impostor");
    const out = await auditWith((e) => {
      const enrolled = e.events.find((x) => x.kind === "enrolled" && x.index === 0);
      if (enrolled?.kind !== "enrolled") throw new Error("no enrolment of index 0");
      enrolled.babyJubJubKey = [other.publicKey[0], other.publicKey[1]];
    });
    expect(links(out)).to.include.members(["0:registry", "1:registry", "2:registry"]);
  });

  it("should fail, naming round 2 and the registry, when participantSlots is altered", async function () {
    const out = await auditWith((e) => {
      e.rounds[1].batched!.participantSlots += 1n;
    });
    expect(links(out)).to.deep.equal(["2:registry"]);
  });

  it("should fail, naming round 1 and the quorum, when a committee signature is replaced by an outsider's over the same record", async function () {
    const outsider = new Wallet(keccak256(toUtf8Bytes("not on the committee")));
    const r = evidence.rounds[0];
    const domain = attestationDomain(evidence.chainId, evidence.ledger);
    const message = {
      federationId: evidence.federationId,
      round: 1n,
      parentRound: 0n,
      commitment: r.commitment,
      updatesCommitment: r.batched!.updatesCommitment,
      entriesDigest: r.batched!.entriesDigest,
    };
    expect(batchedRoundRecordDigest(domain, message)).to.match(/^0x/);
    const forged = await signBatchedRoundRecord(outsider, domain, message);
    const out = await auditWith((e) => {
      e.rounds[0].quorumSignatures[1] = forged;
    });
    expect(links(out)).to.deep.equal(["1:quorum", "1:quorum"]);
    expect(out.lines.join("\n")).to.contain(
      `quorum signature 2 does not recover a committee member over this batched record (it recovers ${outsider.address}`,
    );
    expect(out.lines.join("\n")).to.contain("1 committee signatures over the BatchedRoundRecord, 2 needed");
  });

  it("should fail, naming round 2 and the proof, when the hash of the block after the posting differs (challenge seed)", async function () {
    const out = await auditWith((e) => {
      e.rounds[1].batched!.nextBlockHash = keccak256(toUtf8Bytes("another block"));
    });
    expect(links(out)).to.include("2:proof");
    expect(out.lines.join("\n")).to.contain("challenge seed");
    expect(links(out).every((l) => l === "2:proof")).to.equal(true);
  });

  it("should fail, naming round 1 and the proof, when a proof is altered", async function () {
    const out = await auditWith((e) => {
      const p = e.rounds[0].proof!;
      p.a = [p.a[0], p.a[1] + 1n];
    });
    expect(links(out)).to.deep.equal(["1:proof"]);
  });

  it("should let a committee member endorse an honest batched round 3 and refuse one whose EdDSA attestations do not verify", async function () {
    const { chain, ledgerClient: ledger, store } = result.session!;
    const fid = result.federationId;
    const state = await stateFromChain(ledger, fid, evidence, store);
    const roster = evidence.participants;
    const { slots } = await readSelection(ledger, fid, roster, 2);
    const scope = roundScope(result.chainId, result.ledger, fid, state.round);
    const lines = [];
    for (const slot of slots) {
      const key = await babyJubKeyFromSeed(`dsain demo participant ${slot} seed 1`);
      const update = { delta: seededVector(700 + slot, state.model.length, 1 << 12), sampleCount: 40n + BigInt(slot) };
      const signed = await signUpdateEdDSA(key, { scope, baseModelRoot: BigInt(state.modelRoot), update });
      lines.push({ slot, participant: roster[slot], publicKey: key.publicKey, ...update, signed });
    }
    const { decision, checkpoint } = await aggregateAndStore(store, evidence.config.modelId, state, lines);
    const { record, built } = await proposeBatchedRecord(fid, state, checkpoint, lines, decision, evidence.config.dp);
    const basis = await reviewBasis(await ledger.readEvidence(fid, chain.ethers.provider), store);
    const domain = attestationDomain(result.chainId, result.ledger);
    const reviewer = committeeWallet(1);
    const attestations = lines.map((l) => ({ meta: l.signed.meta, signature: l.signed.signature }));
    const swapped = [attestations[1], attestations[0]];
    const refused = await endorseBatched(reviewer, domain, basis, record, built.entries, swapped, new MemoryEndorsementLog());
    expect(refused.signed).to.equal(false);
    expect(refused.signed === false && refused.findings.map((x) => `${x.round}:${x.link}`)).to.deep.equal(["3:signature", "3:signature"]);
    const endorsed = await endorseBatched(reviewer, domain, basis, record, built.entries, attestations, new MemoryEndorsementLog());
    if (!endorsed.signed) expect.fail(`the honest batched record was refused: ${endorsed.findings.map((x) => x.message).join("; ")}`);
    expect(recoverBatchedRoundRecordSigner(domain, record.message, endorsed.signature)).to.equal(reviewer.address);
  });

  it("should refuse to vouch for the proofs without the federation's batched verifying key, or with another key", async function () {
    const none = await auditWith(() => undefined, { batched: null });
    expect(links(none)).to.deep.equal(["0:federation", "1:proof", "2:proof"]);
    const wrong = await auditWith(() => undefined, { batched: DEMO_INSTANCE });
    expect(links(wrong)).to.deep.equal(["0:federation", "1:proof", "2:proof"]);
    expect(wrong.lines.join("\n")).to.contain("is not the one the federation pins for batched rounds");
  });
});

describe("end to end: batched demo with a cheating aggregator (--zk-attestations --cheat-round 2)", function () {
  after(async function () {
    await releaseZkWorkers();
  });

  it("should refuse a cheat outside the challenged chunks before starting: the proof opens both of the model's chunks", async function () {
    // Protocol version 2: the 212-parameter demo model is 2 chunks of 112 and RoundAttested_2-1-0-2-2_test
    // opens S = 2 of them, so every coordinate is proven (the EIP-712 demo, one chunk of two, shows the cheat).
    const workDir = path.join(os.tmpdir(), "dsain-zk-cheat-refused");
    await rm(workDir, { recursive: true, force: true });
    await expectDsainError(
      runDemo({
        ...DEMO_DEFAULTS,
        participants: 2,
        epochs: 1,
        workDir,
        zkAttestations: true,
        cheats: [{ round: 2, kind: "model-outside-challenge" }],
      }),
      ErrorCode.BAD_ARGUMENT,
      "opens 2 chunks and the demo model has 2",
    );
    expect(existsSync(workDir), "nothing written before the refusal").to.equal(false);
  });

  it("should refuse --zk-attestations with a participant count the circuit does not take, or with ByzFed", async function () {
    await expectDsainError(
      runDemo({ ...DEMO_DEFAULTS, participants: 4, workDir: path.join(os.tmpdir(), "dsain-zk-refused"), zkAttestations: true }),
      ErrorCode.BAD_ARGUMENT,
      "proves exactly 2 participants per round",
    );
    await expectDsainError(
      runDemo({
        ...DEMO_DEFAULTS,
        participants: 2,
        rule: "byzfed",
        workDir: path.join(os.tmpdir(), "dsain-zk-refused"),
        zkAttestations: true,
      }),
      ErrorCode.BAD_ARGUMENT,
      "--rule byzfed is not available with --zk-attestations",
    );
    await expectDsainError(
      runDemo({
        ...DEMO_DEFAULTS,
        participants: 2,
        dropouts: 1,
        workDir: path.join(os.tmpdir(), "dsain-zk-refused"),
        zkAttestations: true,
      }),
      ErrorCode.BAD_ARGUMENT,
      "--dropouts 1 is not available with --zk-attestations",
    );
  });
});

describe("auditor: key registry history of a batched federation (enrolment and revocation between post and proof)", function () {
  it("should rebuild every registry root from the events, keep round 1's snapshot, verify round 1's proof off-chain, and name a forged leaf", async function () {
    const { ethers } = await network.create();
    const stack = await deployStack(ethers);
    const members = await Promise.all([0, 1, 2, 3].map((i) => member(`registry audit ${i}`)));
    const f = await createBatchedFederation(stack, members.slice(0, 3));
    const registry1 = await registryOf(f);
    const r1 = await buildBatchedRound(f);
    await postBatchedRound(r1);
    // During round 2 (open since round 1 was posted): one enrolment with a key, one revocation.
    await enrolMember(f, members[3]);
    await revokeMember(f, 0);
    const { chunkIndices } = await waitForChallenge(r1);
    const proof = await proveBatched(r1, { chunkIndices, registry: registry1 });
    await (await stack.ledger.connect(stack.aggregator).proveBatchedRound(f.id, 1n, proof.proof.a, proof.proof.b, proof.proof.c)).wait();

    const client = new LedgerClient(stack.ledgerAddress, stack.ledger.interface.fragments, stack.aggregator);
    const evidence = await client.readEvidence(f.id, ethers.provider);
    expect(evidence.events.filter((e) => e.kind === "registryUpdated").length).to.equal(2);
    const replay = await replayKeyRegistry(evidence);
    expect(replay.findings).to.deep.equal([]);
    expect(fieldToBytes32(replay.snapshotFor(1)!.root)).to.equal(fieldToBytes32(registry1.root));
    const [, latest] = await stack.ledger.batchedFederation(f.id);
    expect(fieldToBytes32(replay.snapshotFor(3)!.root)).to.equal(latest);
    expect(replay.snapshotFor(3)!.keys[0]).to.equal(null);

    const keys = await ensureCircuitKeys(BATCHED_INSTANCE);
    const snarkjs = await loadSnarkjs();
    const r = evidence.rounds[0];
    const rosterIndex = new Map(evidence.participants.map((a, i) => [getAddress(a), i]));
    const judged = await checkBatchedRound({
      evidence,
      r,
      registry: replay,
      rosterIndex,
      committee: new Set(evidence.config.committee.map((a) => getAddress(a))),
      baseModelRoot: evidence.config.genesisModelRoot,
      verifyProof: (signals, p) => snarkjs.groth16.verify(keys.vkey, signals.map(String), fromSolidityProof(p)),
    });
    expect(judged.findings).to.deep.equal([]);
    expect(judged.proofVerified).to.equal(true);
    expect(judged.chunkIndices).to.deep.equal(chunkIndices);

    // A forged KeyRegistryUpdated leaf (the enrolment) is named with the round that was open.
    const forged = structuredClone(evidence);
    const update = forged.events.find((e) => e.kind === "registryUpdated" && e.leaf !== 0n);
    if (update?.kind !== "registryUpdated") throw new Error("no enrolment update");
    update.leaf += 1n;
    const bad = await replayKeyRegistry(forged);
    expect(bad.findings.map((x) => `${x.round}:${x.link}`)).to.deep.equal(["2:registry"]);
    expect(bad.findings[0].message).to.contain("Poseidon of its enrolled key");
    await releaseZkWorkers();
  });
});
