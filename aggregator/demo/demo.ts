// The main job: a real federation end to end in one process — chain, IPFS, training, exact
// aggregation, attestations, Groth16 proofs bound to the recorded round — then the audit.
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { LedgerClient, NO_DP, type SignedUpdate } from "../chain/ledger.js";
import { openChain, type ChainSession } from "../chain/hardhat.js";
import { DsainError, ErrorCode } from "../errors.js";
import { syntheticClassification, splitIid, trainTestSplit, type Dataset } from "../fl/data.js";
import { evaluate, initialWeights, mlpSpec, trainLocal } from "../fl/model.js";
import { initTf } from "../fl/tf.js";
import { openCheckpointStore, type CheckpointStore } from "../ipfs/checkpoint-store.js";
import {
  aggregateExact,
  attestationDomain,
  decodeVector,
  encodeCheckpoint,
  encodeVector,
  encodedDelta,
  fieldToBytes32,
  integerWeights,
  participantsRoot,
  roundCommitment,
  signAttestation,
  sortParticipants,
  vectorRoot,
} from "../protocol/index.js";
import { cidToOnchain } from "../protocol/cid.js";
import { ensureCircuitKeys, releaseZkWorkers, PROJECT_ROOT } from "../zk/keys.js";
import { buildRoundChunkInput, proveRoundChunk, toSolidityProof } from "../zk/prover.js";
import { auditEvidence, type AuditOutcome } from "../audit/run.js";

export const DEMO_INSTANCE = "RoundChunk_4-4_test";
export const DEMO_MODEL_ID = "dsain-demo-mlp-8-16-4";

export interface DemoOptions {
  rounds: number;
  participants: number;
  /** Local epochs per round. */
  epochs: number;
  seed: number;
  /** Working directory: IPFS blocks, summary. Cleared at start. */
  workDir: string;
  /** JSON-RPC URL of an external chain; in-process Hardhat network when undefined. */
  rpcUrl?: string;
  /** Skip the audit at the end (tests run it themselves). */
  skipAudit?: boolean;
  /** Keep the chain and IPFS node open and return them (tests tamper with them). */
  keepOpen?: boolean;
  log?: (line: string) => void;
}

export interface RoundSummary {
  round: number;
  accuracy: number;
  loss: number;
  cid: string;
  modelRoot: string;
  commitment: string;
  chunkIndex: number;
  postGas: bigint;
  proveGas: bigint;
  witnessMs: number;
  proveMs: number;
}

export interface DemoResult {
  chainId: bigint;
  ledger: string;
  verifier: string;
  federationId: bigint;
  genesisCid: string;
  initialAccuracy: number;
  rounds: RoundSummary[];
  constraints: number;
  vkeyHash: string;
  ipfsDir: string;
  /** Ignition deployment id on an external chain (its journal is ignition/deployments/<id>). */
  deploymentId?: string;
  audit?: AuditOutcome;
  /** Present with keepOpen: the caller must close both. */
  session?: { chain: ChainSession; store: CheckpointStore; ledgerClient: LedgerClient };
}

export const DEMO_DEFAULTS: Omit<DemoOptions, "log"> = {
  rounds: 2,
  participants: 4,
  epochs: 2,
  seed: 1,
  workDir: path.join(PROJECT_ROOT, ".dsain", "demo"),
};

function participantWallet(seed: number, i: number): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(`dsain demo participant ${i} seed ${seed}`)));
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
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
      parameters: { Dsain: { admin: aggregator.address, aggregator: aggregator.address } },
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
    step(`tfjs on the ${backend} backend; synthetic data for ${options.participants} participants`);
    const all = syntheticClassification({ seed: options.seed, samples: 1200 });
    const { train, test } = trainTestSplit(all, 1 / 6, options.seed);
    const shards: Dataset[] = splitIid(train, options.participants, options.seed);
    const spec = mlpSpec();

    const wallets = options.participants;
    const participants = Array.from({ length: wallets }, (_, i) => participantWallet(options.seed, i));
    const sorted = sortParticipants(participants.map((w) => w.address));
    const byAddress = new Map(participants.map((w, i) => [w.address, { wallet: w, data: shards[i] }]));

    // Genesis model, checkpointed and pinned before the federation exists.
    let model = encodeVector(initialWeights(spec, options.seed));
    const genesisBytes = encodeCheckpoint({ round: 0, modelId: DEMO_MODEL_ID, tensors: spec, values: model });
    const genesisCid = await store.put(genesisBytes);
    const genesisOnchain = cidToOnchain(genesisCid);
    let modelRoot = fieldToBytes32(await vectorRoot(model));
    const { federationId } = await ledger.createFederation({
      modelId: DEMO_MODEL_ID,
      modelLength: model.length,
      participantsPerRound: wallets,
      verifier: verifierAddress,
      verifyingKeyHash: keys.vkeyHash,
      genesisModelRoot: modelRoot,
      genesisCidCodec: genesisOnchain.codec,
      genesisCidDigest: genesisOnchain.digest,
    });
    for (const address of sorted) await ledger.enrol(federationId, address);
    const initial = evaluate(tf, spec, decodeVector(model), test);
    log(`  federation ${federationId}: ${model.length} parameters, genesis ${genesisCid.toString()}, accuracy ${pct(initial.accuracy)}`);

    const domain = attestationDomain(chainId, ledgerAddress);
    const rounds: RoundSummary[] = [];
    for (let t = 1; t <= options.rounds; t++) {
      step(`round ${t}/${options.rounds}`);
      const base = model;
      const deltas: Int32Array[] = [];
      const updates: SignedUpdate[] = [];
      for (const [i, address] of sorted.entries()) {
        const { wallet, data } = byAddress.get(address)!;
        const local = await trainLocal(tf, spec, decodeVector(base), data, {
          epochs: options.epochs,
          seed: options.seed * 100_003 + t * 101 + i,
        });
        const delta = encodedDelta(encodeVector(local), base);
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
        updates.push({ participant: address, updateRoot, sampleCount, weight: 0, dp: NO_DP, signature });
      }
      log(`  ${updates.length} participants trained ${options.epochs} local epoch(s) and signed their updates`);

      const weights = integerWeights(updates.map((u) => u.sampleCount));
      updates.forEach((u, i) => (u.weight = weights[i]));
      const next = aggregateExact(base, deltas, weights);
      const bytes = encodeCheckpoint({ round: t, modelId: DEMO_MODEL_ID, tensors: spec, values: next });
      const cid = await store.put(bytes);
      const onchain = cidToOnchain(cid);
      const nextRoot = fieldToBytes32(await vectorRoot(next));
      const commitment = roundCommitment({
        modelRoot: nextRoot,
        cidCodec: onchain.codec,
        cidDigest: onchain.digest,
        participantsRoot: participantsRoot(sorted),
        round: t,
      });
      const postReceipt = await ledger.postRound(
        federationId,
        { round: BigInt(t), modelRoot: nextRoot, cidCodec: onchain.codec, cidDigest: onchain.digest, commitment },
        updates,
      );
      log(
        `  FedAvg (exact, weights ${weights.join("/")}) → ${cid.toString()}; h_t ${commitment.slice(0, 18)}… posted (${postReceipt.gasUsed} gas)`,
      );

      // The proof's public inputs come from the contract, never from the aggregator's own state.
      const publicInputs = await ledger.publicInputs(federationId, BigInt(t));
      const chunkIndex = Number(publicInputs[2]);
      const { input, publicSignals } = await buildRoundChunkInput({ prev: base, next, deltas, weights, chunkIndex });
      if (publicSignals.length !== publicInputs.length || publicSignals.some((s, i) => BigInt(s) !== publicInputs[i])) {
        throw new DsainError(ErrorCode.ZK_PROOF_INVALID, `round ${t}: the contract's public inputs differ from the aggregator's witness`);
      }
      const proved = await proveRoundChunk(DEMO_INSTANCE, input);
      const proveReceipt = await ledger.proveRound(federationId, BigInt(t), toSolidityProof(proved.proof));
      log(
        `  Groth16 proof of chunk ${chunkIndex}: witness ${Math.round(proved.witnessMs)} ms, prove ${Math.round(proved.proveMs)} ms; verified on-chain (${proveReceipt.gasUsed} gas)`,
      );

      const metrics = evaluate(tf, spec, decodeVector(next), test);
      log(`  test accuracy ${pct(metrics.accuracy)} (loss ${metrics.loss.toFixed(4)})`);
      rounds.push({
        round: t,
        accuracy: metrics.accuracy,
        loss: metrics.loss,
        cid: cid.toString(),
        modelRoot: nextRoot,
        commitment,
        chunkIndex,
        postGas: postReceipt.gasUsed,
        proveGas: proveReceipt.gasUsed,
        witnessMs: Math.round(proved.witnessMs),
        proveMs: Math.round(proved.proveMs),
      });
      model = next;
      modelRoot = nextRoot;
    }

    const result: DemoResult = {
      chainId,
      ledger: ledgerAddress,
      verifier: verifierAddress,
      federationId,
      genesisCid: genesisCid.toString(),
      initialAccuracy: initial.accuracy,
      rounds,
      constraints: keys.constraints,
      vkeyHash: keys.vkeyHash,
      ipfsDir,
      deploymentId,
    };

    if (options.skipAudit !== true) {
      step("audit: rebuilding the history from chain events and IPFS alone");
      result.audit = await auditEvidence({
        evidence: await ledger.readEvidence(federationId, chain.ethers.provider),
        store,
        vkey: keys.vkey,
        vkeyHash: keys.vkeyHash,
        log,
      });
    }
    await writeFile(
      path.join(options.workDir, "summary.json"),
      JSON.stringify(result, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n",
    );
    if (options.keepOpen === true) {
      keep = true;
      result.session = { chain, store, ledgerClient: ledger };
    }
    return result;
  } finally {
    if (!keep) {
      await store?.stop();
      await chain.close();
      await releaseZkWorkers();
    }
  }
}

const WORK_DIR_MARKER = ".dsain-demo";

/** Empties the demo's working directory, refusing any non-empty folder the demo did not create. */
async function resetWorkDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length > 0 && !entries.includes(WORK_DIR_MARKER)) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `--work-dir ${dir} is not empty and was not made by dsain demo; refusing to clear it (choose an empty or new folder)`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, WORK_DIR_MARKER), "created by dsain demo; the folder is cleared on the next run\n");
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** The closing summary the demo prints. */
export function formatSummary(r: DemoResult): string {
  const lines = [
    "",
    "Summary",
    `  chain ${r.chainId}, ledger ${r.ledger}, federation ${r.federationId}`,
    `  genesis ${r.genesisCid}, accuracy ${pct(r.initialAccuracy)}`,
    "  round  accuracy  post gas  prove gas  witness+prove  checkpoint CID",
  ];
  for (const x of r.rounds) {
    lines.push(
      `  ${String(x.round).padStart(5)}  ${pct(x.accuracy).padStart(8)}  ${String(x.postGas).padStart(8)}  ${String(x.proveGas).padStart(9)}  ${`${x.witnessMs + x.proveMs} ms`.padStart(13)}  ${x.cid}`,
    );
  }
  lines.push(`  circuit ${DEMO_INSTANCE}: ${r.constraints} constraints (development key ${r.vkeyHash.slice(0, 18)}…, not for production)`);
  if (r.audit)
    lines.push(`  audit: ${r.audit.ok ? "PASS" : "FAIL"} (${r.audit.report.rounds} rounds, ${r.audit.report.proven} proofs verified)`);
  return lines.join("\n");
}
