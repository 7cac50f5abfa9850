// `dsain demo --zk-attestations`: the main job on the batched path with in-circuit attestations
// (docs/protocol.md §14). Participants hold BabyJubJub keys in the federation's key registry and
// sign their update commitments with EdDSA-Poseidon; the committee posts one postBatchedRound with
// its quorum's EIP-712 BatchedRoundRecord signatures; the challenge comes from the hash of the block
// after the posting one; one RoundAttested Groth16 proof checks the signatures and the aggregation on
// the challenged chunks. Proofs run in the ProverQueue's child process, so round t+1 trains while
// round t is proven (round t+1 can be posted only once round t is proven: the ledger refuses a
// record on a Proposed head).
import { AggregationRule, NO_DP, NO_PREDECESSOR, pkhDid, type ParticipantInfo } from "../protocol/evidence.js";
import { signBatchedRecord } from "../adapters/chain/records.js";
import { deployPoseidon2Hasher } from "../adapters/chain/deploy.js";
import { type ChainSession } from "../adapters/chain/hardhat.js";
import { DsainError, ErrorCode } from "../errors.js";
import { attestationDomain, CHUNK_SIZE, fieldToBytes32 } from "../protocol/index.js";
import { challengeChunkCount } from "../protocol/challenge.js";
import { mlpSpec, parameterCount } from "../maths/learning/model.js";
import { babyJubKeyFromSeed, roundScope, type BabyJubKeyPair } from "../protocol/eddsa.js";
import { rosterRegistry, type BatchedAttestation } from "../adapters/proof/batched-round.js";
import { ensureCircuitKeys, loadCircuitInstance } from "../adapters/proof/keys.js";
import { ProverQueue, type QueuedProof } from "../adapters/proof/pipeline.js";
import { toSolidityProof } from "../adapters/proof/prover.js";
import {
  DEMO_INSTANCE,
  DEMO_MODEL_ID,
  pct,
  resetWorkDir,
  ROSTER_EXTRA,
  type DemoOptions,
  type DemoResult,
  type RoundSummary,
  gasOf,
} from "./common.js";
import { exactRuleOf } from "../maths/robust/exact-rule.js";
import { signUpdateEdDSA } from "../roles/participant.js";
import { proposeBatchedRecord, readSelection, type BatchedLine } from "../roles/aggregator.js";
import { finalizeRecord, postBatchedRecord, proveBatchedRecord } from "../roles/poster.js";
import { batchedProofJob } from "../roles/prover.js";
import { advanceState, genesisState } from "../roles/round-state.js";
import { aggregateAndCommit, evaluateModel, newReviewer, quorumOf, roundChallenge, runDemoSession, trainSelected } from "./session.js";
import { endorseBatched } from "../roles/committee.js";

/** The RoundAttested instance of the demo: K = 2, DEPTH = 1 (the 212-parameter MLP: 2 chunks of 112), C = 0, S = 2, R = 2. */
export const ZK_DEMO_INSTANCE = "RoundAttested_2-1-0-2-2_test";

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
    // A cheat outside the challenged chunks needs a chunk the proof does not open.
    const chunks = challengeChunkCount(parameterCount(mlpSpec()), C);
    if (c.kind === "model-outside-challenge" && S >= chunks) {
      throw new DsainError(
        ErrorCode.BAD_ARGUMENT,
        `--cheat-round with --zk-attestations: every proof of ${ZK_DEMO_INSTANCE} opens ${S} chunks and the demo model has ${chunks} (${CHUNK_SIZE} coordinates each, docs/protocol.md §2), so each round's proof checks every coordinate and no corrupted model can be proven; the EIP-712 path's demo (without --zk-attestations) challenges one chunk and can show the cheat`,
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

  const queue = new ProverQueue();
  let verifierAddress = "";
  let hasherAddress = "";
  const setup = {
    rosterSize,
    k: K,
    deploying: `deploying ProvenanceLedger (Ignition), the ${keys.instance.verifier} verifier and the Poseidon(2) hasher of the key registry`,
    extraContracts: async (chain: ChainSession): Promise<[string, string][]> => {
      const verifier = await chain.ethers.deployContract(keys.instance.verifier);
      await verifier.waitForDeployment();
      verifierAddress = await verifier.getAddress();
      hasherAddress = await (await deployPoseidon2Hasher(chain.ethers)).getAddress();
      return [
        ["RoundAttested verifier", verifierAddress],
        ["hasher", hasherAddress],
      ];
    },
  };
  return runDemoSession(
    options,
    setup,
    async (s) => {
      const { ledger, ledgerAddress, chainId, wallets, genesis, committee } = s;
      // Each participant: an ECDSA account (its did:pkh) and a BabyJubJub key for in-circuit attestations.
      const babyJub: BabyJubKeyPair[] = await Promise.all(
        wallets.map((_, i) => babyJubKeyFromSeed(`dsain demo participant ${i} seed ${options.seed}`)),
      );
      const aggregation = { rule: AggregationRule.FedAvg, tauMicros: 0n, reputationDecayMicros: 0n };
      const roster: ParticipantInfo[] = wallets.map((w, i) => ({
        signer: w.address,
        did: pkhDid(chainId, w.address),
        babyJubJubKey: [babyJub[i].publicKey[0], babyJub[i].publicKey[1]],
      }));
      const { federationId, receipt: created } = await ledger.createBatchedFederation(
        {
          modelId: DEMO_MODEL_ID,
          modelLength: genesis.model.length,
          participantsPerRound: K,
          minUpdates: K, // a batched round has exactly K entries
          quorum: 2,
          roundDeadline: 3600,
          finalityDelay: 0,
          genesisCidCodec: genesis.checkpoint.cidCodec,
          verifier: s.chunkVerifierAddress,
          epsilonBudgetMicros: 0n,
          aggregation,
          dp: NO_DP,
          committee: s.committeeAddresses,
          verifyingKeyHash: directKeys.vkeyHash,
          genesisModelRoot: genesis.checkpoint.modelRoot,
          genesisCidDigest: genesis.checkpoint.cidDigest,
          predecessor: NO_PREDECESSOR,
        },
        roster,
        {
          verifier: verifierAddress,
          verifyingKeyHash: keys.vkeyHash,
          poseidon2: hasherAddress,
          samples: S,
          chunkLevel: C,
          registryDepth: R,
        },
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
      log(
        `  batched federation ${federationId} (${created.gasUsed} gas): ${genesis.model.length} parameters, genesis ${genesis.checkpoint.cid}, accuracy ${pct(genesis.accuracy)}`,
      );
      log(
        `  roster of ${rosterSize} (did:pkh + BabyJubJub keys, registry root ${onchainRoot.slice(0, 12)}…), committee of 3 aggregators with quorum 2, ${K} participants selected per round`,
      );
      if (byzantine > 0) {
        log(
          `  Byzantine: roster ${byzantine === 1 ? "index 0 sends" : `indices 0…${byzantine - 1} send`} -5 × its update whenever selected`,
        );
      }

      const domain = attestationDomain(chainId, ledgerAddress);
      const rosterAddresses = wallets.map((w) => w.address);
      const rounds: RoundSummary[] = [];
      let inFlight: InFlight | undefined;

      /** Waits for round f's proof, submits it, finalizes the round. */
      const finish = async (f: InFlight): Promise<void> => {
        const proved = await f.proof;
        const proveGas = gasOf(await proveBatchedRecord(ledger, federationId, BigInt(f.t), toSolidityProof(proved.proof)));
        await finalizeRecord(ledger, federationId, BigInt(f.t));
        const metrics = evaluateModel(s, f.next);
        log(
          `  round ${f.t}: RoundAttested proof of chunks ${f.summary.chunkIndices!.join(", ")} (witness ${Math.round(proved.witnessMs)} ms, prove ${Math.round(proved.proveMs)} ms, waited ${Math.round(proved.waitedMs)} ms in the queue); proveBatchedRound ${proveGas} gas; finalized; test accuracy ${pct(metrics.accuracy)} (loss ${metrics.loss.toFixed(4)})`,
        );
        rounds.push({
          ...f.summary,
          accuracy: metrics.accuracy,
          loss: metrics.loss,
          proveGas,
          witnessMs: Math.round(proved.witnessMs),
          proveMs: Math.round(proved.proveMs),
        });
      };

      const exactRule = exactRuleOf(aggregation);
      let state = genesisState(genesis.model, genesis.checkpoint.modelRoot);
      const reviewer = newReviewer();
      for (let t = 1; t <= options.rounds; t++) {
        step(`round ${t}/${options.rounds} (batched: in-circuit attestations)`);
        // S_t is fixed when round t opens (at the posting of round t - 1), before round t - 1 is proven.
        const { slots, selectionSeed } = await readSelection(ledger, federationId, rosterAddresses, K);
        const round = state.round;
        log(`  S_${t}: roster indices ${slots.join(", ")} selected by seed ${selectionSeed.slice(0, 12)}…`);
        const scope = roundScope(chainId, ledgerAddress, federationId, round);
        const baseModelRoot = BigInt(state.modelRoot);
        const { updates, poisoned } = await trainSelected(s, state, t, slots);
        const lines: (BatchedLine & { signed: BatchedAttestation })[] = [];
        for (const u of updates) {
          // The participant's side: EdDSA-Poseidon over (scope, w_t's root, its update root, meta).
          const signed = await signUpdateEdDSA(babyJub[u.slot], { scope, baseModelRoot, update: u });
          lines.push({ ...u, publicKey: babyJub[u.slot].publicKey, signed });
        }
        log(
          `  ${slots.length} participants trained ${options.epochs} local epoch(s) and signed their update commitments with EdDSA-Poseidon${poisoned.length > 0 ? ` (${poisoned.length} poisoned)` : ""}`,
        );

        // The previous round's proof ran in the prover process while this round trained.
        if (inFlight !== undefined) {
          await finish(inFlight);
          inFlight = undefined;
        }

        const { published, decision, cheat, checkpoint } = await aggregateAndCommit(s, state, t, exactRule, lines);
        const weights = decision.weights;
        const next = cheat.next;

        // Each signature must verify before the committee vouches for the entries.
        const { record, built } = await proposeBatchedRecord(federationId, state, checkpoint, lines, decision, NO_DP); // the federation's dp
        // The second committee member re-executes the round (and checks each EdDSA attestation) before it signs.
        const quorum = await quorumOf(s, t, federationId, reviewer, cheat, {
          own: async () => (await signBatchedRecord([committee[0]], domain, record.message))[0],
          endorse: (basis, endorsements) =>
            endorseBatched(
              committee[1],
              domain,
              basis,
              record,
              built.entries,
              lines.map((l) => ({ meta: l.signed.meta, signature: l.signed.signature })),
              endorsements,
            ),
          colluding: () => signBatchedRecord(committee.slice(0, 2), domain, record.message),
        });
        const posted = await postBatchedRecord(ledger, federationId, record, built.entries, quorum);
        const postedBlock = posted.sent ? posted.receipt.blockNumber : Number((await ledger.batchedRound(federationId, round)).postedBlock);
        log(
          `  FedAvg (exact, weights ${weights.join("/")}) → ${checkpoint.cid}; h_t ${record.post.commitment.slice(0, 18)}… and updatesCommitment posted with 2 of 3 committee signatures over the BatchedRoundRecord (postBatchedRound ${gasOf(posted)} gas, block ${postedBlock})`,
        );

        // The challenge exists once the block after the posting one does.
        const challenge = await roundChallenge(
          s,
          t,
          () => ledger.batchedChallenge(federationId, round),
          cheat,
          (c, chunk) => !c.chunkIndices.includes(chunk),
        );
        // The proof's public inputs come from the contract, never from the aggregator's own state.
        const build = await batchedProofJob(ledger, federationId, round, {
          scope,
          registry,
          prev: state.model,
          next,
          deltas: lines.map((l) => l.delta),
          weights,
          participants: lines.map((l) => ({ keyIndex: l.slot, meta: l.signed.meta, signature: l.signed.signature })),
          chunkIndices: challenge.chunkIndices,
          chunkLevel: C,
        });
        const proof = queue.submit({ instance: ZK_DEMO_INSTANCE, input: build.input, label: `round ${t}` });
        proof.catch(() => undefined); // awaited in finish(); avoids an unhandled rejection meanwhile
        log(
          `  challenge seed ${challenge.seed.slice(0, 12)}… (hash of block ${postedBlock + 1}) opens chunks ${challenge.chunkIndices.join(", ")}; proof queued`,
        );
        inFlight = {
          t,
          proof,
          next,
          summary: {
            round: t,
            mode: "zk",
            selected: lines.map((l) => l.participant),
            cid: checkpoint.cid,
            updateCids: published.map((p) => p.cid),
            weights,
            reputations: built.entries.map((e) => e.reputationMicros),
            byzantine: poisoned,
            cheat: cheat.note,
            modelRoot: checkpoint.modelRoot,
            commitment: record.post.commitment,
            chunkIndex: challenge.chunkIndices[0],
            chunkIndices: challenge.chunkIndices,
            postGas: gasOf(posted),
            attestGas: 0n,
          },
        };
        state = advanceState(state, { model: next, modelRoot: checkpoint.modelRoot, entries: built.entries });
      }
      if (inFlight !== undefined) await finish(inFlight);

      const result: DemoResult = {
        chainId,
        ledger: ledgerAddress,
        verifier: verifierAddress,
        federationId,
        rule: "fedavg",
        genesisCid: genesis.checkpoint.cid,
        initialAccuracy: genesis.accuracy,
        rounds,
        constraints: keys.constraints,
        vkeyHash: keys.vkeyHash,
        instance: ZK_DEMO_INSTANCE,
        ipfsDir: s.ipfsDir,
        deploymentId: s.deploymentId,
      };
      return {
        result,
        auditKeys: { vkey: directKeys.vkey, vkeyHash: directKeys.vkeyHash, batchedVkey: keys.vkey, batchedVkeyHash: keys.vkeyHash },
      };
    },
    () => queue.close(),
  );
}
