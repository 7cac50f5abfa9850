// `dsain demo --zk-attestations`: the main job on the batched path with in-circuit attestations
// (docs/protocol.md §14). Participants hold BabyJubJub keys in the federation's key registry and
// sign their update commitments with EdDSA-Poseidon; the committee posts one postBatchedRound with
// its quorum's EIP-712 BatchedRoundRecord signatures; the challenge comes from the hash of the block
// after the posting one; one RoundAttested Groth16 proof checks the signatures and the aggregation on
// the challenged chunks. Proofs run in the ProverQueue's child process, so round t+1 trains while
// round t is proven (round t+1 can be posted only once round t is proven: the ledger refuses a
// record on a Proposed head).
import path from "node:path";
import { Wallet, type Signer } from "ethers";
import { LedgerClient } from "../adapters/chain/ledger.js";
import { AggregationRule, NO_DP, NO_PREDECESSOR, pkhDid, RoundStatus, type ParticipantInfo } from "../protocol/evidence.js";
import { buildBatchedRecord, signBatchedRecord } from "../adapters/chain/records.js";
import { awaitChallenge, grindChallengeBlock } from "../adapters/chain/challenge-block.js";
import { deployPoseidon2Hasher } from "../adapters/chain/deploy.js";
import { openChain, type ChainSession } from "../adapters/chain/hardhat.js";
import { DsainError, ErrorCode } from "../errors.js";
import { syntheticClassification, splitIid, trainTestSplit, type Dataset } from "../maths/learning/data.js";
import { evaluate, initialWeights, mlpSpec, trainLocal } from "../maths/learning/model.js";
import { initTf } from "../maths/learning/tf.js";
import { openCheckpointStore, type CheckpointStore } from "../adapters/storage/checkpoint-store.js";
import {
  aggregateExact,
  attestationDomain,
  CHUNK_SIZE,
  decodeVector,
  encodeCheckpoint,
  encodeUpdateFile,
  encodeVector,
  encodedDelta,
  fieldToBytes32,
  integerWeights,
  isSelected,
  MICROS,
  SCALE,
  vectorRoot,
  type PublishedUpdate,
} from "../protocol/index.js";
import { cidToOnchain } from "../protocol/cid.js";
import { babyJubKeyFromSeed, roundScope, type BabyJubKeyPair } from "../adapters/proof/attestation.js";
import {
  batchedEntries,
  buildBatchedProofInput,
  checkBatchedPublicInputs,
  rosterRegistry,
  signBatchedUpdate,
  type BatchedAttestation,
} from "../adapters/proof/batched-round.js";
import { ensureCircuitKeys, loadCircuitInstance, releaseZkWorkers } from "../adapters/proof/keys.js";
import { ProverQueue, type QueuedProof } from "../adapters/proof/pipeline.js";
import { toSolidityProof } from "../adapters/proof/prover.js";
import {
  committeeWallet,
  concludeDemo,
  DEMO_INSTANCE,
  DEMO_MODEL_ID,
  participantWallet,
  pct,
  resetWorkDir,
  ROSTER_EXTRA,
  type DemoOptions,
  type DemoResult,
  type RoundSummary,
} from "./common.js";

/** The RoundAttested instance of the demo: K = 2, DEPTH = 4 (the 212-parameter MLP: 14 chunks), C = 0, S = 2, R = 2. */
export const ZK_DEMO_INSTANCE = "RoundAttested_2-4-0-2-2_test";

/** A round posted and waiting for its proof (which the ProverQueue computes meanwhile). */
interface InFlight {
  t: number;
  proof: Promise<QueuedProof>;
  summary: Omit<RoundSummary, "proveGas" | "witnessMs" | "proveMs" | "accuracy" | "loss">;
  next: Int32Array;
}

export async function runZkDemo(options: DemoOptions): Promise<DemoResult> {
  const log = options.log ?? (() => undefined);
  const step = (what: string) => log(`• ${what}`);
  if (!Number.isInteger(options.rounds) || options.rounds < 1) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `--rounds is ${options.rounds}; it must be a positive integer`);
  }
  if (!Number.isInteger(options.epochs) || options.epochs < 1) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `--epochs is ${options.epochs}; it must be a positive integer`);
  }
  if ((options.rule ?? "fedavg") !== "fedavg") {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `--rule ${options.rule} is not available with --zk-attestations: the batched demo aggregates with FedAvg`,
    );
  }
  if ((options.dropouts ?? 0) !== 0) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `--dropouts ${options.dropouts} is not available with --zk-attestations: a batched round carries exactly K attested updates`,
    );
  }
  if (options.postMode !== undefined) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `post mode ${options.postMode} does not apply with --zk-attestations: every round is a batched round`,
    );
  }

  const [K, DEPTH, C, S, R] = (await loadCircuitInstance(ZK_DEMO_INSTANCE)).params;
  if (options.participants !== K) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `--participants is ${options.participants}; with --zk-attestations the circuit ${ZK_DEMO_INSTANCE} proves exactly ${K} participants per round`,
    );
  }
  const rosterSize = K + ROSTER_EXTRA;
  if (rosterSize > 2 ** R) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `a roster of ${rosterSize} does not fit the ${2 ** R} slots of ${ZK_DEMO_INSTANCE}'s key registry`,
    );
  }
  const byzantine = options.byzantine ?? 0;
  if (!Number.isInteger(byzantine) || byzantine < 0 || byzantine > rosterSize) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `--byzantine is ${byzantine}; it must be an integer between 0 and the roster size ${rosterSize}`,
    );
  }
  for (const c of options.cheats ?? []) {
    if (!Number.isInteger(c.round) || c.round < 1 || c.round > options.rounds) {
      throw new DsainError(ErrorCode.BAD_ARGUMENT, `--cheat-round ${c.round} is not one of the demo's rounds 1…${options.rounds}`);
    }
    if (c.kind === "model-outside-challenge" && options.rpcUrl !== undefined) {
      throw new DsainError(
        ErrorCode.BAD_ARGUMENT,
        "--cheat-round with --zk-attestations needs Hardhat's in-process network: the cheat re-mines the block after its record until the challenge misses the corrupted chunk (a colluding block producer), which an external chain does not allow",
      );
    }
  }

  await resetWorkDir(options.workDir);
  step(`proving keys for ${ZK_DEMO_INSTANCE} (cached after the first run)`);
  const keys = await ensureCircuitKeys(ZK_DEMO_INSTANCE, { log: (m) => log(`  ${m}`) });
  log(
    `  ${keys.constraints} constraints (K ${K}, tree depth ${DEPTH}, chunk level ${C}, ${S} challenged chunks, registry depth ${R}), verifying key ${keys.vkeyHash.slice(0, 18)}… (development key, not for production)`,
  );
  // The federation's EIP-712 path names the Ignition-deployed RoundChunk verifier: pin its real key hash.
  const directKeys = await ensureCircuitKeys(DEMO_INSTANCE, { log: (m) => log(`  ${m}`) });

  const ipfsDir = path.join(options.workDir, "ipfs");
  step(options.rpcUrl ? `chain at ${options.rpcUrl}` : "Hardhat in-process network");
  const chain: ChainSession = await openChain({ rpcUrl: options.rpcUrl });
  const inProcess = options.rpcUrl === undefined;
  let store: CheckpointStore | undefined;
  const queue = new ProverQueue();
  let keep = false;
  try {
    const provider = chain.ethers.provider;
    const [aggregator] = await chain.ethers.getSigners();
    const { default: DsainModule } = await import("../../ignition/modules/Dsain.js");
    step(`deploying ProvenanceLedger (Ignition), the ${keys.instance.verifier} verifier and the Poseidon(2) hasher of the key registry`);
    const deploymentId = inProcess ? undefined : `dsain-demo-${Date.now()}`;
    const deployed = await chain.connection.ignition.deploy(DsainModule, {
      parameters: { ProvenanceLedger: { admin: aggregator.address, aggregator: aggregator.address } },
      deploymentId,
    });
    if (deploymentId !== undefined) log(`  Ignition journal: ignition/deployments/${deploymentId}`);
    const ledgerAddress: string = await deployed.ledger.getAddress();
    const chunkVerifierAddress: string = await deployed.verifier.getAddress();
    const verifier = await chain.ethers.deployContract(keys.instance.verifier);
    await verifier.waitForDeployment();
    const verifierAddress: string = await verifier.getAddress();
    const hasher = await deployPoseidon2Hasher(chain.ethers);
    const hasherAddress: string = await hasher.getAddress();
    const artifact = await chain.hre.artifacts.readArtifact("ProvenanceLedger");
    const ledger = new LedgerClient(ledgerAddress, artifact.abi, aggregator);
    const chainId: bigint = (await provider.getNetwork()).chainId;
    log(`  ledger ${ledgerAddress}, RoundAttested verifier ${verifierAddress}, hasher ${hasherAddress}, chain id ${chainId}`);

    step(`IPFS (embedded Helia, offline) with blocks in ${path.relative(process.cwd(), ipfsDir) || ipfsDir}`);
    store = await openCheckpointStore({ directory: ipfsDir });

    const { tf, backend } = await initTf();
    step(`tfjs on the ${backend} backend; synthetic data for a roster of ${rosterSize}, ${K} selected per round`);
    const all = syntheticClassification({ seed: options.seed, samples: 1200 });
    const { train, test } = trainTestSplit(all, 1 / 6, options.seed);
    const shards: Dataset[] = splitIid(train, rosterSize, options.seed);
    const spec = mlpSpec();

    // Each participant: an ECDSA account (its did:pkh) and a BabyJubJub key for in-circuit attestations.
    const wallets = Array.from({ length: rosterSize }, (_, i) => participantWallet(options.seed, i));
    const babyJub: BabyJubKeyPair[] = await Promise.all(
      wallets.map((_, i) => babyJubKeyFromSeed(`dsain demo participant ${i} seed ${options.seed}`)),
    );
    const committee: Signer[] = [aggregator, committeeWallet(1), committeeWallet(2)];
    const committeeAddresses = [aggregator.address, ...committee.slice(1).map((w) => (w as Wallet).address)];

    let model = encodeVector(initialWeights(spec, options.seed));
    const genesisCid = await store.put(encodeCheckpoint({ round: 0, modelId: DEMO_MODEL_ID, tensors: spec, values: model }));
    const genesisOnchain = cidToOnchain(genesisCid);
    let modelRoot = fieldToBytes32(await vectorRoot(model));
    const roster: ParticipantInfo[] = wallets.map((w, i) => ({
      signer: w.address,
      did: pkhDid(chainId, w.address),
      babyJubJubKey: [babyJub[i].publicKey[0], babyJub[i].publicKey[1]],
    }));
    const { federationId, receipt: created } = await ledger.createBatchedFederation(
      {
        modelId: DEMO_MODEL_ID,
        modelLength: model.length,
        participantsPerRound: K,
        minUpdates: K, // a batched round has exactly K entries
        quorum: 2,
        roundDeadline: 3600,
        finalityDelay: 0,
        genesisCidCodec: genesisOnchain.codec,
        verifier: chunkVerifierAddress,
        epsilonBudgetMicros: 0n,
        aggregation: { rule: AggregationRule.FedAvg, tauMicros: 0n, reputationDecayMicros: 0n },
        dp: NO_DP,
        committee: committeeAddresses,
        verifyingKeyHash: directKeys.vkeyHash,
        genesisModelRoot: modelRoot,
        genesisCidDigest: genesisOnchain.digest,
        predecessor: NO_PREDECESSOR,
      },
      roster,
      { verifier: verifierAddress, verifyingKeyHash: keys.vkeyHash, poseidon2: hasherAddress, samples: S, chunkLevel: C, registryDepth: R },
    );
    // The registry every round of this demo uses: nobody enrols or is revoked after creation.
    const registry = await rosterRegistry(
      babyJub.map((k) => k.publicKey),
      R,
    );
    const onchainRoot = (await ledger.batchedFederation(federationId)).keyRegistryRoot;
    if (onchainRoot !== fieldToBytes32(registry.root)) {
      throw new DsainError(
        ErrorCode.CHAIN_FAILURE,
        `the ledger's key registry root ${onchainRoot} is not the roster's ${fieldToBytes32(registry.root)}`,
      );
    }
    const initial = evaluate(tf, spec, decodeVector(model), test);
    log(
      `  batched federation ${federationId} (${created.gasUsed} gas): ${model.length} parameters, genesis ${genesisCid.toString()}, accuracy ${pct(initial.accuracy)}`,
    );
    log(
      `  roster of ${rosterSize} (did:pkh + BabyJubJub keys, registry root ${onchainRoot.slice(0, 12)}…), committee of 3 aggregators with quorum 2, ${K} participants selected per round`,
    );
    if (byzantine > 0) {
      log(`  Byzantine: roster ${byzantine === 1 ? "index 0 sends" : `indices 0…${byzantine - 1} send`} -5 × its update whenever selected`);
    }

    const domain = attestationDomain(chainId, ledgerAddress);
    const rounds: RoundSummary[] = [];
    let inFlight: InFlight | undefined;

    /** Waits for round f's proof, submits it, finalizes the round. */
    const finish = async (f: InFlight): Promise<void> => {
      const proved = await f.proof;
      const proveReceipt = await ledger.proveBatchedRound(federationId, BigInt(f.t), toSolidityProof(proved.proof));
      await ledger.finalizeRound(federationId, BigInt(f.t));
      const status = (await ledger.roundRecord(federationId, BigInt(f.t))).status;
      if (status !== BigInt(RoundStatus.Finalized)) {
        throw new DsainError(ErrorCode.CHAIN_FAILURE, `round ${f.t} is in status ${status} after finalization, not Finalized`);
      }
      const metrics = evaluate(tf, spec, decodeVector(f.next), test);
      log(
        `  round ${f.t}: RoundAttested proof of chunks ${f.summary.chunkIndices!.join(", ")} (witness ${Math.round(proved.witnessMs)} ms, prove ${Math.round(proved.proveMs)} ms, waited ${Math.round(proved.waitedMs)} ms in the queue); proveBatchedRound ${proveReceipt.gasUsed} gas; finalized; test accuracy ${pct(metrics.accuracy)} (loss ${metrics.loss.toFixed(4)})`,
      );
      rounds.push({
        ...f.summary,
        accuracy: metrics.accuracy,
        loss: metrics.loss,
        proveGas: proveReceipt.gasUsed,
        witnessMs: Math.round(proved.witnessMs),
        proveMs: Math.round(proved.proveMs),
      });
    };

    let parentRound = 0n;
    for (let t = 1; t <= options.rounds; t++) {
      step(`round ${t}/${options.rounds} (batched: in-circuit attestations)`);
      // S_t is fixed when round t opens (at the posting of round t - 1), before round t - 1 is proven.
      const state = await ledger.federationState(federationId);
      const size = Number(state.rosterSize);
      const slots = Array.from({ length: size }, (_, i) => i).filter((i) => isSelected(i, size, K, state.selectionSeed));
      log(`  S_${t}: roster indices ${slots.join(", ")} selected by seed ${state.selectionSeed.slice(0, 12)}…`);
      const base = model;
      const scope = roundScope(chainId, ledgerAddress, federationId, BigInt(t));
      const prevRoot = await vectorRoot(base);
      const deltas: Int32Array[] = [];
      const counts: bigint[] = [];
      const signed: BatchedAttestation[] = [];
      const poisoned: string[] = [];
      for (const [i, slot] of slots.entries()) {
        const local = await trainLocal(tf, spec, decodeVector(base), shards[slot], {
          epochs: options.epochs,
          seed: options.seed * 100_003 + t * 101 + i,
        });
        let delta = encodedDelta(encodeVector(local), base);
        if (slot < byzantine) {
          delta = delta.map((x) => -5 * x);
          poisoned.push(wallets[slot].address);
        }
        const sampleCount = BigInt(shards[slot].y.length);
        // The participant's side: EdDSA-Poseidon over (scope, w_t's root, its update root, meta).
        signed.push(await signBatchedUpdate(babyJub[slot], { scope, prevRoot, delta, sampleCount, dp: NO_DP }));
        deltas.push(delta);
        counts.push(sampleCount);
      }
      log(
        `  ${slots.length} participants trained ${options.epochs} local epoch(s) and signed their update commitments with EdDSA-Poseidon${poisoned.length > 0 ? ` (${poisoned.length} poisoned)` : ""}`,
      );

      // The previous round's proof ran in the prover process while this round trained.
      if (inFlight !== undefined) {
        await finish(inFlight);
        inFlight = undefined;
      }

      const published: PublishedUpdate[] = [];
      for (const [i, slot] of slots.entries()) {
        const file = encodeUpdateFile({
          round: t,
          participant: wallets[slot].address,
          modelId: DEMO_MODEL_ID,
          tensors: spec,
          values: deltas[i],
        });
        published.push({ participant: wallets[slot].address, cid: (await store.put(file)).toString() });
      }
      log(`  ${published.length} updates published to IPFS`);

      const weights = integerWeights(counts);
      const exact = aggregateExact(base, deltas, weights);
      const cheat = options.cheats?.find((c) => c.round === t)?.kind;
      const listed = published.slice();
      let next = exact;
      let cheatNote: string | undefined;
      let cheatedChunk: number | undefined;
      if (cheat === "swapped-updates") {
        listed[0] = { participant: published[0].participant, cid: published[1].cid };
        listed[1] = { participant: published[1].participant, cid: published[0].cid };
        cheatNote = `the checkpoint lists the update files of ${published[0].participant} and ${published[1].participant} swapped`;
      } else if (cheat === "model-outside-challenge") {
        next = exact.slice();
        const coordinate = next.length - 1;
        next[coordinate] += SCALE;
        cheatedChunk = Math.floor(coordinate / CHUNK_SIZE);
        cheatNote = `coordinate ${coordinate} committed as ${next[coordinate]} instead of ${exact[coordinate]} (chunk ${cheatedChunk})`;
      }
      if (cheatNote !== undefined) log(`  ✗ cheating aggregator: ${cheatNote}`);
      const cid = await store.put(encodeCheckpoint({ round: t, modelId: DEMO_MODEL_ID, tensors: spec, values: next, updates: listed }));
      const onchain = cidToOnchain(cid);
      const nextRoot = fieldToBytes32(await vectorRoot(next));

      // Each signature must verify before the committee vouches for the entries.
      const built = await batchedEntries(
        slots.map((slot, i) => ({
          slot,
          participant: wallets[slot].address,
          publicKey: babyJub[slot].publicKey,
          delta: deltas[i],
          sampleCount: counts[i],
          weight: weights[i],
          epsilonMicros: 0n,
          reputationMicros: MICROS,
        })),
        NO_DP,
      );
      const record = buildBatchedRecord({
        federationId,
        round: BigInt(t),
        parentRound,
        modelRoot: nextRoot,
        cidCodec: onchain.codec,
        cidDigest: onchain.digest,
        entries: built.entries,
        updatesCommitment: built.updatesCommitment,
      });
      const quorum = await signBatchedRecord(committee.slice(0, 2), domain, record.message);
      const postReceipt = await ledger.postBatchedRound(federationId, record.post, built.entries, record.updatesCommitment, quorum);
      log(
        `  FedAvg (exact, weights ${weights.join("/")}) → ${cid.toString()}; h_t ${record.post.commitment.slice(0, 18)}… and updatesCommitment posted with 2 of 3 committee signatures over the BatchedRoundRecord (postBatchedRound ${postReceipt.gasUsed} gas, block ${postReceipt.blockNumber})`,
      );

      // The challenge exists once the block after the posting one does.
      const readChallenge = () => ledger.batchedChallenge(federationId, BigInt(t));
      let challenge: { seed: string; chunkIndices: number[] };
      if (cheatedChunk === undefined) {
        challenge = await awaitChallenge({ read: readChallenge, provider, mine: inProcess, nudge: aggregator, what: `round ${t}`, log });
      } else {
        const ground = await grindChallengeBlock({
          read: readChallenge,
          provider,
          accept: (c) => !c.chunkIndices.includes(cheatedChunk),
          what: `round ${t}`,
        });
        challenge = ground.challenge;
        log(
          `  ✗ the colluding block producer mined the challenge block ${ground.tries} time(s) until the challenge missed chunk ${cheatedChunk}`,
        );
      }
      const build = await buildBatchedProofInput({
        scope,
        registry,
        prev: base,
        next,
        deltas,
        weights,
        participants: slots.map((slot, i) => ({ keyIndex: slot, meta: signed[i].meta, signature: signed[i].signature })),
        chunkIndices: challenge.chunkIndices,
        chunkLevel: C,
      });
      // The proof's public inputs come from the contract, never from the aggregator's own state.
      checkBatchedPublicInputs(t, build.publicSignals, await ledger.batchedPublicInputs(federationId, BigInt(t)));
      const proof = queue.submit({ instance: ZK_DEMO_INSTANCE, input: build.input, label: `round ${t}` });
      proof.catch(() => undefined); // awaited in finish(); avoids an unhandled rejection meanwhile
      log(
        `  challenge seed ${challenge.seed.slice(0, 12)}… (hash of block ${postReceipt.blockNumber + 1}) opens chunks ${challenge.chunkIndices.join(", ")}; proof queued`,
      );
      inFlight = {
        t,
        proof,
        next,
        summary: {
          round: t,
          mode: "zk",
          selected: slots.map((s) => wallets[s].address),
          cid: cid.toString(),
          updateCids: published.map((p) => p.cid),
          weights,
          reputations: slots.map(() => MICROS),
          byzantine: poisoned,
          cheat: cheatNote,
          modelRoot: nextRoot,
          commitment: record.post.commitment,
          chunkIndex: challenge.chunkIndices[0],
          chunkIndices: challenge.chunkIndices,
          postGas: postReceipt.gasUsed,
          attestGas: 0n,
        },
      };
      model = next;
      modelRoot = nextRoot;
      parentRound = BigInt(t);
    }
    if (inFlight !== undefined) await finish(inFlight);
    void modelRoot;

    const result: DemoResult = {
      chainId,
      ledger: ledgerAddress,
      verifier: verifierAddress,
      federationId,
      rule: "fedavg",
      genesisCid: genesisCid.toString(),
      initialAccuracy: initial.accuracy,
      rounds,
      constraints: keys.constraints,
      vkeyHash: keys.vkeyHash,
      instance: ZK_DEMO_INSTANCE,
      ipfsDir,
      deploymentId,
    };
    keep = await concludeDemo(
      result,
      options,
      { chain, store, ledger },
      { vkey: directKeys.vkey, vkeyHash: directKeys.vkeyHash, batchedVkey: keys.vkey, batchedVkeyHash: keys.vkeyHash },
    );
    return result;
  } finally {
    await queue.close().catch(() => undefined);
    if (!keep) {
      await store?.stop();
      await chain.close();
      await releaseZkWorkers();
    }
  }
}
