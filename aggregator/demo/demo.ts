// The main job: a real federation end to end in one process — chain, IPFS, training, exact
// aggregation (FedAvg or ByzFed), published updates, attestations, Groth16 proofs bound to the
// recorded round — then the audit, which recomputes every round from the published updates.
import path from "node:path";
import { Wallet, type Signer } from "ethers";
import { LedgerClient, type UpdateEntry } from "../adapters/chain/ledger.js";
import { AggregationRule, NO_DP, NO_PREDECESSOR, pkhDid, RoundStatus, type ParticipantInfo } from "../protocol/evidence.js";
import { buildRecord, signRecord } from "../adapters/chain/records.js";
import { awaitChallenge, grindChallengeBlock } from "../adapters/chain/challenge-block.js";
import { openChain } from "../adapters/chain/hardhat.js";
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
  MICROS,
  SCALE,
  selectParticipants,
  signAttestation,
  vectorRoot,
  type PublishedUpdate,
} from "../protocol/index.js";
import { cidToOnchain } from "../protocol/cid.js";
import { byzFedExactRound, INITIAL_REPUTATION_MICROS } from "../maths/robust/byzfed-exact.js";
import { ensureCircuitKeys, releaseZkWorkers } from "../adapters/proof/keys.js";
import { buildRoundChunkInput, proveRoundChunk, toSolidityProof } from "../adapters/proof/prover.js";

export * from "./common.js";
import {
  DEMO_BYZFED,
  DEMO_INSTANCE,
  DEMO_MODEL_ID,
  DemoOptions,
  DemoResult,
  PostMode,
  ROSTER_EXTRA,
  RoundSummary,
  committeeWallet,
  concludeDemo,
  participantWallet,
  pct,
  resetWorkDir,
} from "./common.js";

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  if (options.zkAttestations === true) return (await import("./zk-demo.js")).runZkDemo(options);
  const log = options.log ?? (() => undefined);
  const step = (what: string) => log(`• ${what}`);
  if (!Number.isInteger(options.rounds) || options.rounds < 1) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `--rounds is ${options.rounds}; it must be a positive integer`);
  }
  if (options.participants !== 4) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `--participants is ${options.participants}; the demo circuit ${DEMO_INSTANCE} is built for exactly 4 participants`,
    );
  }
  if (!Number.isInteger(options.epochs) || options.epochs < 1) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `--epochs is ${options.epochs}; it must be a positive integer`);
  }
  const rule = options.rule ?? "fedavg";
  if (rule !== "fedavg" && rule !== "byzfed")
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `--rule is ${String(rule)}; it must be fedavg or byzfed`);
  const byzantine = options.byzantine ?? 0;
  if (!Number.isInteger(byzantine) || byzantine < 0 || byzantine > options.participants + ROSTER_EXTRA) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `--byzantine is ${byzantine}; it must be an integer between 0 and the roster size ${options.participants + ROSTER_EXTRA}`,
    );
  }
  const dropouts = options.dropouts ?? 0;
  if (!Number.isInteger(dropouts) || dropouts < 0 || dropouts >= options.participants) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `--dropouts is ${dropouts}; it must be an integer from 0 to ${options.participants - 1} (a round needs at least one update)`,
    );
  }

  await resetWorkDir(options.workDir);
  step(`proving keys for ${DEMO_INSTANCE} (cached after the first run)`);
  const keys = await ensureCircuitKeys(DEMO_INSTANCE, { log: (m) => log(`  ${m}`) });
  log(`  ${keys.constraints} constraints, verifying key ${keys.vkeyHash.slice(0, 18)}… (development key, not for production)`);

  const ipfsDir = path.join(options.workDir, "ipfs");

  step(options.rpcUrl ? `chain at ${options.rpcUrl}` : "Hardhat in-process network");
  const chain = await openChain({ rpcUrl: options.rpcUrl });
  let store: CheckpointStore | undefined;
  let keep = false;
  try {
    const [aggregator] = await chain.ethers.getSigners();
    const { default: DsainModule } = await import("../../ignition/modules/Dsain.js");
    step("deploying RoundChunkVerifier_4_4 and ProvenanceLedger with Ignition");
    // On an external chain Ignition keeps a journal under ignition/deployments/<id>; each demo is a
    // fresh deployment, so it gets its own id instead of resuming (or clashing with) an older one.
    const deploymentId = options.rpcUrl === undefined ? undefined : `dsain-demo-${Date.now()}`;
    const deployed = await chain.connection.ignition.deploy(DsainModule, {
      parameters: { ProvenanceLedger: { admin: aggregator.address, aggregator: aggregator.address } },
      deploymentId,
    });
    if (deploymentId !== undefined) log(`  Ignition journal: ignition/deployments/${deploymentId}`);
    const ledgerAddress: string = await deployed.ledger.getAddress();
    const verifierAddress: string = await deployed.verifier.getAddress();
    const artifact = await chain.hre.artifacts.readArtifact("ProvenanceLedger");
    const ledger = new LedgerClient(ledgerAddress, artifact.abi, aggregator);
    const chainId: bigint = (await chain.ethers.provider.getNetwork()).chainId;
    log(`  ledger ${ledgerAddress}, verifier ${verifierAddress}, chain id ${chainId}`);

    step(`IPFS (embedded Helia, offline) with blocks in ${path.relative(process.cwd(), ipfsDir) || ipfsDir}`);
    store = await openCheckpointStore({ directory: ipfsDir });

    const { tf, backend } = await initTf();
    const k = options.participants;
    const rosterSize = k + ROSTER_EXTRA;
    step(`tfjs on the ${backend} backend; synthetic data for a roster of ${rosterSize}, ${k} selected per round`);
    const all = syntheticClassification({ seed: options.seed, samples: 1200 });
    const { train, test } = trainTestSplit(all, 1 / 6, options.seed);
    const shards: Dataset[] = splitIid(train, rosterSize, options.seed);
    const spec = mlpSpec();

    const participants = Array.from({ length: rosterSize }, (_, i) => participantWallet(options.seed, i));
    const byAddress = new Map(participants.map((w, i) => [w.address, { wallet: w, data: shards[i] }]));
    // Committee of 2f+1 = 3 aggregators (f = 1): the posting account and two more; any 2 accept a record.
    const committee: Signer[] = [aggregator, committeeWallet(1), committeeWallet(2)];
    const committeeAddresses = [aggregator.address, ...committee.slice(1).map((w) => (w as Wallet).address)];
    // Direct mode: participants pay for their own attestation transactions.
    for (const w of participants) {
      await (await aggregator.sendTransaction({ to: w.address, value: 10n ** 18n })).wait();
    }

    // Genesis model, checkpointed and pinned before the federation exists.
    let model = encodeVector(initialWeights(spec, options.seed));
    const genesisBytes = encodeCheckpoint({ round: 0, modelId: DEMO_MODEL_ID, tensors: spec, values: model });
    const genesisCid = await store.put(genesisBytes);
    const genesisOnchain = cidToOnchain(genesisCid);
    let modelRoot = fieldToBytes32(await vectorRoot(model));
    const roster: ParticipantInfo[] = participants.map((w) => ({
      signer: w.address,
      did: pkhDid(chainId, w.address),
      babyJubJubKey: [0n, 0n],
    }));
    const { federationId } = await ledger.createFederation(
      {
        modelId: DEMO_MODEL_ID,
        modelLength: model.length,
        participantsPerRound: k,
        // The circuit proves K slots; a round with fewer updates pads them at weight 0 (§8).
        minUpdates: k - dropouts,
        quorum: 2,
        roundDeadline: 3600,
        finalityDelay: 0,
        genesisCidCodec: genesisOnchain.codec,
        verifier: verifierAddress,
        epsilonBudgetMicros: 0n, // no DP noise in the demo, so no epsilon is spent
        aggregation:
          rule === "byzfed"
            ? { rule: AggregationRule.ByzFed, ...DEMO_BYZFED }
            : { rule: AggregationRule.FedAvg, tauMicros: 0n, reputationDecayMicros: 0n },
        dp: NO_DP,
        committee: committeeAddresses,
        verifyingKeyHash: keys.vkeyHash,
        genesisModelRoot: modelRoot,
        genesisCidDigest: genesisOnchain.digest,
        predecessor: NO_PREDECESSOR,
      },
      roster,
    );
    const initial = evaluate(tf, spec, decodeVector(model), test);
    log(`  federation ${federationId}: ${model.length} parameters, genesis ${genesisCid.toString()}, accuracy ${pct(initial.accuracy)}`);
    log(`  roster of ${rosterSize} (did:pkh), committee of 3 aggregators with quorum 2, ${k} participants selected per round`);
    log(
      rule === "byzfed"
        ? `  aggregation: ByzFed (tau ${Number(DEMO_BYZFED.tauMicros) / MICROS}, reputation decay ${Number(DEMO_BYZFED.reputationDecayMicros) / MICROS}) on the exact path`
        : "  aggregation: FedAvg on the exact path",
    );
    if (byzantine > 0) {
      log(`  Byzantine: roster ${byzantine === 1 ? "index 0 sends" : `indices 0…${byzantine - 1} send`} -5 × its update whenever selected`);
    }

    const domain = attestationDomain(chainId, ledgerAddress);
    const rosterAddresses = participants.map((w) => w.address);
    const rounds: RoundSummary[] = [];
    // Reputations as the ledger holds them after each record (ByzFed); absent: never in a record.
    const reputations = new Map<string, number>();
    let parentRound = 0n;
    for (let t = 1; t <= options.rounds; t++) {
      const mode = postModeOf(options.postMode ?? "alternate", t);
      step(`round ${t}/${options.rounds} (${mode} mode)`);
      // S_t is fixed by the chain when the round opens; everyone recomputes it from the seed.
      const state = await ledger.federationState(federationId);
      const sorted = selectParticipants(rosterAddresses, Number(state.rosterSize), k, state.selectionSeed);
      log(
        `  S_${t}: roster indices ${sorted
          .map((a) => rosterAddresses.indexOf(a))
          .sort((a, b) => a - b)
          .join(", ")} selected by seed ${state.selectionSeed.slice(0, 12)}…`,
      );
      // Dropouts: the last participants of S_t send nothing; the round closes with the others.
      const dropped = sorted.slice(sorted.length - dropouts);
      if (dropouts > 0)
        log(
          `  dropouts: ${dropped.map((a) => `roster index ${rosterAddresses.indexOf(a)}`).join(", ")} ${dropped.length === 1 ? "sends" : "send"} no update`,
        );
      const sending = sorted.slice(0, sorted.length - dropouts);
      const base = model;
      const deltas: Int32Array[] = [];
      const updates: UpdateEntry[] = [];
      const poisoned: string[] = [];
      for (const [i, address] of sending.entries()) {
        const { wallet, data } = byAddress.get(address)!;
        const local = await trainLocal(tf, spec, decodeVector(base), data, {
          epochs: options.epochs,
          seed: options.seed * 100_003 + t * 101 + i,
        });
        let delta = encodedDelta(encodeVector(local), base);
        if (rosterAddresses.indexOf(address) < byzantine) {
          // DSAIN's boosted sign flip (paper Table 2, lambda = 5), signed like any honest update.
          delta = delta.map((x) => -5 * x);
          poisoned.push(address);
        }
        const updateRoot = fieldToBytes32(await vectorRoot(delta));
        const sampleCount = BigInt(data.y.length);
        const signature = await signAttestation(wallet, domain, {
          federationId,
          round: BigInt(t),
          baseModelRoot: modelRoot,
          updateRoot,
          sampleCount,
          dpEpsilonMicros: 0n,
          dpDeltaPicos: 0n,
          dpClipMicros: 0n,
          dpNoiseMicros: 0n,
        });
        deltas.push(delta);
        updates.push({ participant: address, updateRoot, sampleCount, weight: 0, epsilonMicros: 0n, reputationMicros: MICROS, signature });
      }
      log(
        `  ${updates.length} participants trained ${options.epochs} local epoch(s) and signed their updates${poisoned.length > 0 ? ` (${poisoned.length} poisoned)` : ""}`,
      );
      let attestGas = 0n;
      if (mode === "direct") {
        for (const u of updates) {
          const own = new LedgerClient(ledgerAddress, artifact.abi, byAddress.get(u.participant)!.wallet.connect(chain.ethers.provider));
          attestGas += (await own.attest(federationId, { ...u, round: BigInt(t) })).gasUsed;
          u.signature = "0x"; // the record refers to the attestation already on-chain
        }
        log(`  each participant sent its own attestation transaction (${attestGas} gas in all)`);
      }

      // The updates are published beside the checkpoint, which lists their CIDs (docs/protocol.md §7);
      // here the aggregator puts them in its store on the participants' behalf.
      const published: PublishedUpdate[] = [];
      for (const [i, u] of updates.entries()) {
        const file = encodeUpdateFile({ round: t, participant: u.participant, modelId: DEMO_MODEL_ID, tensors: spec, values: deltas[i] });
        published.push({ participant: u.participant, cid: (await store.put(file)).toString() });
      }
      log(`  ${published.length} updates published to IPFS`);

      let weights: number[];
      if (rule === "byzfed") {
        const before = updates.map((u) => reputations.get(u.participant) ?? INITIAL_REPUTATION_MICROS);
        const decision = byzFedExactRound(
          deltas,
          updates.map((u) => u.participant),
          before,
          DEMO_BYZFED,
        );
        weights = decision.weights;
        updates.forEach((u, i) => (u.reputationMicros = decision.reputationsAfter[i]));
        const dropped = updates.filter((_, i) => !decision.kept.includes(i)).map((u) => rosterAddresses.indexOf(u.participant));
        log(
          `  ByzFed keeps ${decision.kept.length} of ${updates.length}${dropped.length > 0 ? ` (drops roster index ${dropped.join(", ")})` : ""}; reputations ${decision.reputationsAfter.map((r) => (r / MICROS).toFixed(2)).join("/")}`,
        );
      } else {
        weights = integerWeights(updates.map((u) => u.sampleCount));
      }
      updates.forEach((u, i) => (u.weight = weights[i]));
      const exact = aggregateExact(base, deltas, weights);
      const cheat = options.cheats?.find((c) => c.round === t)?.kind;
      const listed = published.slice();
      if (cheat === "swapped-updates") {
        [listed[0], listed[1]] = [
          { participant: published[0].participant, cid: published[1].cid },
          { participant: published[1].participant, cid: published[0].cid },
        ];
      }
      const checkpointOf = (values: Int32Array) =>
        encodeCheckpoint({ round: t, modelId: DEMO_MODEL_ID, tensors: spec, values, updates: listed });
      let next = exact;
      let cheatNote: string | undefined;
      let cheatedChunk: number | undefined;
      if (cheat === "model-outside-challenge") {
        // The last coordinate +1.0: the challenge is fixed only after the record, so the cheater
        // needs the producer of the next block to collude (below).
        const coordinate = exact.length - 1;
        next = exact.slice();
        next[coordinate] += SCALE;
        cheatedChunk = Math.floor(coordinate / CHUNK_SIZE);
        cheatNote = `coordinate ${coordinate} committed as ${next[coordinate]} instead of ${exact[coordinate]} (chunk ${cheatedChunk})`;
      } else if (cheat === "swapped-updates") {
        cheatNote = `the checkpoint lists the update files of ${published[0].participant} and ${published[1].participant} swapped`;
      }
      if (cheatNote !== undefined) log(`  ✗ cheating aggregator: ${cheatNote}`);
      const bytes = checkpointOf(next);
      const cid = await store.put(bytes);
      const onchain = cidToOnchain(cid);
      const nextRoot = fieldToBytes32(await vectorRoot(next));
      const record = buildRecord({
        federationId,
        round: BigInt(t),
        parentRound,
        modelRoot: nextRoot,
        cidCodec: onchain.codec,
        cidDigest: onchain.digest,
        entries: updates,
      });
      const commitment = record.post.commitment;
      const quorum = await signRecord(committee.slice(0, 2), domain, record.message);
      const postReceipt = await ledger.postRound(federationId, record.post, updates, quorum);
      log(
        `  ${rule === "byzfed" ? "ByzFed" : "FedAvg"} (exact, weights ${weights.join("/")}) → ${cid.toString()}; h_t ${commitment.slice(0, 18)}… posted with 2 of 3 committee signatures (${postReceipt.gasUsed} gas)`,
      );

      // The proof's public inputs come from the contract, never from the aggregator's own state; the
      // challenged chunk in them is fixed by the hash of the block after the record's (§8).
      const readInputs = () => ledger.publicInputs(federationId, BigInt(t), record.columns);
      let publicInputs: bigint[];
      if (cheatedChunk !== undefined) {
        const ground = await grindChallengeBlock({
          read: readInputs,
          provider: chain.ethers.provider,
          accept: (inputs: bigint[]) => Number(inputs[2]) !== cheatedChunk,
          what: `round ${t}`,
        });
        publicInputs = ground.challenge;
        log(
          `  ✗ the colluding block producer mined the challenge block ${ground.tries} time(s) until the challenge missed chunk ${cheatedChunk}`,
        );
      } else {
        publicInputs = await awaitChallenge({
          read: readInputs,
          provider: chain.ethers.provider,
          mine: options.rpcUrl === undefined,
          nudge: committee[0],
          what: `round ${t}`,
          log,
        });
      }
      const chunkIndex = Number(publicInputs[2]);
      const { input, publicSignals } = await buildRoundChunkInput({ prev: base, next, deltas, weights, chunkIndex, slots: k });
      if (publicSignals.length !== publicInputs.length || publicSignals.some((s, i) => BigInt(s) !== publicInputs[i])) {
        throw new DsainError(ErrorCode.ZK_PROOF_INVALID, `round ${t}: the contract's public inputs differ from the aggregator's witness`);
      }
      const proved = await proveRoundChunk(DEMO_INSTANCE, input);
      const proveReceipt = await ledger.proveRound(federationId, BigInt(t), record.columns, toSolidityProof(proved.proof));
      await ledger.finalizeRound(federationId, BigInt(t));
      const status = (await ledger.roundRecord(federationId, BigInt(t))).status;
      if (status !== BigInt(RoundStatus.Finalized)) {
        throw new DsainError(ErrorCode.CHAIN_FAILURE, `round ${t} is in status ${status} after finalization, not Finalized`);
      }
      log(
        `  Groth16 proof of chunk ${chunkIndex}: witness ${Math.round(proved.witnessMs)} ms, prove ${Math.round(proved.proveMs)} ms; verified on-chain (${proveReceipt.gasUsed} gas); round finalized`,
      );

      const metrics = evaluate(tf, spec, decodeVector(next), test);
      log(`  test accuracy ${pct(metrics.accuracy)} (loss ${metrics.loss.toFixed(4)})`);
      rounds.push({
        round: t,
        mode,
        selected: sending,
        dropped,
        accuracy: metrics.accuracy,
        loss: metrics.loss,
        cid: cid.toString(),
        updateCids: published.map((p) => p.cid),
        weights,
        reputations: updates.map((u) => u.reputationMicros),
        byzantine: poisoned,
        cheat: cheatNote,
        modelRoot: nextRoot,
        commitment,
        chunkIndex,
        postGas: postReceipt.gasUsed,
        attestGas,
        proveGas: proveReceipt.gasUsed,
        witnessMs: Math.round(proved.witnessMs),
        proveMs: Math.round(proved.proveMs),
      });
      for (const u of updates) reputations.set(u.participant, u.reputationMicros);
      model = next;
      modelRoot = nextRoot;
      parentRound = BigInt(t);
    }

    const result: DemoResult = {
      chainId,
      ledger: ledgerAddress,
      verifier: verifierAddress,
      federationId,
      rule,
      genesisCid: genesisCid.toString(),
      initialAccuracy: initial.accuracy,
      rounds,
      constraints: keys.constraints,
      vkeyHash: keys.vkeyHash,
      ipfsDir,
      deploymentId,
    };

    keep = await concludeDemo(result, options, { chain, store, ledger }, { vkey: keys.vkey, vkeyHash: keys.vkeyHash });
    return result;
  } finally {
    if (!keep) {
      await store?.stop();
      await chain.close();
      await releaseZkWorkers();
    }
  }
}

function postModeOf(mode: PostMode, t: number): "batched" | "direct" {
  if (mode === "alternate") return t % 2 === 1 ? "batched" : "direct";
  return mode;
}
