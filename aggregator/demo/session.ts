// What both demo paths set up and tear down around their rounds (chain, Ignition deployment, ledger
// client, Helia store, tfjs, the synthetic data of the roster, the parties' development keys, the
// genesis model), and the round steps they share: the selected participants train, the aggregator
// publishes, aggregates with the federation's rule, commits the checkpoint, and reads the challenge.
import path from "node:path";
import { Wallet, type InterfaceAbi, type Signer } from "ethers";
import { LedgerClient } from "../adapters/chain/ledger.js";
import { LEDGER_ABI } from "../adapters/chain/abi.js";
import { openChain, type ChainSession } from "../adapters/chain/hardhat.js";
import { openCheckpointStore, type CheckpointStore } from "../adapters/storage/checkpoint-store.js";
import { releaseZkWorkers } from "../adapters/proof/keys.js";
import { syntheticClassification, splitIid, trainTestSplit, type Dataset } from "../maths/learning/data.js";
import { evaluate, initialWeights, mlpSpec } from "../maths/learning/model.js";
import { initTf, type Tf } from "../maths/learning/tf.js";
import type { ExactDecision, ExactRule } from "../maths/robust/exact-rule.js";
import type { PublishedUpdate, TensorSpec } from "../protocol/checkpoint.js";
import { decodeVector, encodeVector } from "../protocol/fixed-point.js";
import { aggregateRound, publishUpdates, storeCheckpoint, type StoredCheckpoint } from "../roles/aggregator.js";
import { trainUpdate, type LocalUpdate } from "../roles/participant.js";
import { readChallenge, type ChallengeOptions } from "../roles/prover.js";
import type { RoundState } from "../roles/round-state.js";
import { MemoryEndorsementLog, reviewBasis, type Endorsement, type ReviewBasis } from "../roles/committee.js";
import { formatFinding, type AuditState } from "../roles/auditor/audit.js";
import { DsainError, ErrorCode } from "../errors.js";
import {
  applyCheat,
  committeeWallet,
  concludeDemo,
  DEMO_MODEL_ID,
  participantWallet,
  poisonUpdate,
  type Cheat,
  type DemoOptions,
  type DemoResult,
} from "./common.js";

export interface DemoSession {
  options: DemoOptions;
  log: (line: string) => void;
  step: (what: string) => void;
  chain: ChainSession;
  store: CheckpointStore;
  /** The deployer, the ledger's aggregator role and the first committee member. */
  aggregator: Signer;
  ledger: LedgerClient;
  ledgerAddress: string;
  /** The Ignition-deployed RoundChunk verifier. */
  chunkVerifierAddress: string;
  /** The ledger's ABI (participants build their own clients with it). */
  abi: InterfaceAbi;
  chainId: bigint;
  deploymentId: string | undefined;
  ipfsDir: string;
  tf: Tf;
  spec: TensorSpec[];
  /** The roster's local data, by roster index. */
  shards: Dataset[];
  test: Dataset;
  /** The roster's EIP-712 accounts, by roster index. */
  wallets: Wallet[];
  /** 2f+1 = 3 aggregators (f = 1): the posting account and two more; any 2 accept a record. */
  committee: Signer[];
  committeeAddresses: string[];
  genesis: { model: Int32Array; checkpoint: StoredCheckpoint; accuracy: number };
}

export interface SessionSetup {
  rosterSize: number;
  /** Participants selected per round. */
  k: number;
  /** The step line of the deployment. */
  deploying: string;
  /** Deploys what the path needs besides the Ignition stack; returns (name, address) pairs for the log. */
  extraContracts?: (chain: ChainSession) => Promise<[string, string][]>;
}

/**
 * Opens the chain, deploys, opens the store and the data, runs `body`, then concludes the demo
 * (audit, summary.json, the session kept open when asked) and closes whatever it opened.
 */
export async function runDemoSession(
  options: DemoOptions,
  setup: SessionSetup,
  body: (s: DemoSession) => Promise<{ result: DemoResult; auditKeys: Parameters<typeof concludeDemo>[3] }>,
  cleanup?: () => Promise<void>,
): Promise<DemoResult> {
  const log = options.log ?? (() => undefined);
  const step = (what: string) => log(`• ${what}`);
  const ipfsDir = path.join(options.workDir, "ipfs");
  step(`${options.rpcUrl ? `chain at ${options.rpcUrl}` : "Hardhat in-process network"}; compiling the contracts if they changed...`);
  const chain = await openChain({ rpcUrl: options.rpcUrl });
  let store: CheckpointStore | undefined;
  let keep = false;
  try {
    const [aggregator] = await chain.ethers.getSigners();
    const { default: DsainModule } = await import("../../ignition/modules/Dsain.js");
    step(setup.deploying);
    // On an external chain Ignition keeps a journal under ignition/deployments/<id>; each demo is a
    // fresh deployment, so it gets its own id instead of resuming (or clashing with) an older one.
    const deploymentId = options.rpcUrl === undefined ? undefined : `dsain-demo-${Date.now()}`;
    const deployed = await chain.connection.ignition.deploy(DsainModule, {
      parameters: { ProvenanceLedger: { admin: aggregator.address, aggregator: aggregator.address } },
      deploymentId,
    });
    if (deploymentId !== undefined) log(`  Ignition journal: ignition/deployments/${deploymentId}`);
    const ledgerAddress: string = await deployed.ledger.getAddress();
    const chunkVerifierAddress: string = await deployed.verifier.getAddress();
    const extra =
      setup.extraContracts === undefined ? [["verifier", chunkVerifierAddress] as [string, string]] : await setup.extraContracts(chain);
    const ledger = LedgerClient.at(ledgerAddress, aggregator);
    const chainId: bigint = (await chain.ethers.provider.getNetwork()).chainId;
    log(`  ledger ${ledgerAddress}, ${extra.map(([name, address]) => `${name} ${address}`).join(", ")}, chain id ${chainId}`);

    step(`IPFS (embedded Helia, offline) with blocks in ${path.relative(process.cwd(), ipfsDir) || ipfsDir}`);
    store = await openCheckpointStore({ directory: ipfsDir });

    const { tf, backend } = await initTf();
    step(`tfjs on the ${backend} backend; synthetic data for a roster of ${setup.rosterSize}, ${setup.k} selected per round`);
    const all = syntheticClassification({ seed: options.seed, samples: 1200 });
    const { train, test } = trainTestSplit(all, 1 / 6, options.seed);
    const shards = splitIid(train, setup.rosterSize, options.seed);
    const spec = mlpSpec();
    const wallets = Array.from({ length: setup.rosterSize }, (_, i) => participantWallet(options.seed, i));
    const committee: Signer[] = [aggregator, committeeWallet(1), committeeWallet(2)];
    const committeeAddresses = [aggregator.address, ...committee.slice(1).map((w) => (w as Wallet).address)];

    // Genesis model, checkpointed and pinned before the federation exists.
    const model = encodeVector(initialWeights(spec, options.seed));
    const checkpoint = await storeCheckpoint(store, { round: 0, modelId: DEMO_MODEL_ID, tensors: spec, values: model });
    const accuracy = evaluate(tf, spec, decodeVector(model), test).accuracy;

    const session: DemoSession = {
      options,
      log,
      step,
      chain,
      store,
      aggregator,
      ledger,
      ledgerAddress,
      chunkVerifierAddress,
      abi: LEDGER_ABI,
      chainId,
      deploymentId,
      ipfsDir,
      tf,
      spec,
      shards,
      test,
      wallets,
      committee,
      committeeAddresses,
      genesis: { model, checkpoint, accuracy },
    };
    const { result, auditKeys } = await body(session);
    keep = await concludeDemo(result, options, { chain, store, ledger }, auditKeys);
    return result;
  } finally {
    await cleanup?.().catch(() => undefined);
    if (!keep) {
      await store?.stop();
      await chain.close();
      await releaseZkWorkers();
    }
  }
}

/** A selected participant's update, with its sender and roster index. */
export type TrainedUpdate = LocalUpdate & { participant: string; slot: number };

/**
 * The selected participants (roster indices `slots`, in the path's record order) train from the
 * state's model; roster indices below `--byzantine` poison their updates.
 */
export async function trainSelected(
  s: DemoSession,
  state: RoundState,
  t: number,
  slots: readonly number[],
): Promise<{ updates: TrainedUpdate[]; poisoned: string[] }> {
  const { options } = s;
  const updates: TrainedUpdate[] = [];
  const poisoned: string[] = [];
  for (const [i, slot] of slots.entries()) {
    const participant = s.wallets[slot].address;
    let update = await trainUpdate(s.tf, s.spec, state.model, s.shards[slot], {
      train: { epochs: options.epochs, seed: options.seed * 100_003 + t * 101 + i },
    });
    if (slot < (options.byzantine ?? 0)) {
      update = poisonUpdate(update);
      poisoned.push(participant);
    }
    updates.push({ ...update, participant, slot });
  }
  return { updates, poisoned };
}

/** The aggregator's side of round t after the updates arrived: publish, decide, aggregate, (cheat,) commit the checkpoint. */
export async function aggregateAndCommit(
  s: DemoSession,
  state: RoundState,
  t: number,
  rule: ExactRule,
  updates: readonly (LocalUpdate & { participant: string })[],
): Promise<{ published: PublishedUpdate[]; decision: ExactDecision; cheat: Cheat; checkpoint: StoredCheckpoint }> {
  const published = await publishUpdates(s.store, { round: t, modelId: DEMO_MODEL_ID, tensors: s.spec }, updates);
  s.log(`  ${published.length} updates published to IPFS`);
  const { decision, next } = aggregateRound(rule, state, updates);
  const cheat = applyCheat(s.options.cheats?.find((c) => c.round === t)?.kind, next, published);
  if (cheat.note !== undefined) s.log(`  ✗ cheating aggregator: ${cheat.note}`);
  const checkpoint = await storeCheckpoint(s.store, {
    round: t,
    modelId: DEMO_MODEL_ID,
    tensors: s.spec,
    values: cheat.next,
    updates: cheat.listed,
  });
  return { published, decision, cheat, checkpoint };
}

/** Reads round t's challenge; a cheating round's colluding block producer grinds it to miss `cheat.chunk` (`misses` says whether a challenge does). */
export async function roundChallenge<T>(
  s: DemoSession,
  t: number,
  read: () => Promise<T>,
  cheat: Cheat,
  misses: (challenge: T, chunk: number) => boolean,
): Promise<T> {
  const chunk = cheat.chunk;
  const o: ChallengeOptions<T> = {
    provider: s.chain.ethers.provider,
    mine: s.options.rpcUrl === undefined,
    nudge: s.aggregator,
    what: `round ${t}`,
    log: s.log,
    collude: chunk === undefined ? undefined : (c: T) => misses(c, chunk),
  };
  const { challenge, tries } = await readChallenge(read, o);
  if (chunk !== undefined)
    s.log(`  ✗ the colluding block producer mined the challenge block ${tries} time(s) until the challenge missed chunk ${chunk}`);
  return challenge;
}

/** The test accuracy and loss of a round's model. */
export function evaluateModel(s: DemoSession, model: Int32Array): { accuracy: number; loss: number } {
  return evaluate(s.tf, s.spec, decodeVector(model), s.test);
}

/** The demo's reviewing committee member: its endorsement log and the state its last review left. */
export interface Reviewer {
  log: MemoryEndorsementLog;
  state?: AuditState;
}

export function newReviewer(): Reviewer {
  return { log: new MemoryEndorsementLog() };
}

/**
 * The record's quorum: the aggregator's own signature and the second member's endorsement, which it
 * gives only after re-executing the round with the auditor's checks. A cheating round needs f + 1
 * colluding members: `colluding` signs without review.
 */
export async function quorumOf(
  s: DemoSession,
  t: number,
  federationId: bigint,
  reviewer: Reviewer,
  cheat: Cheat,
  o: {
    own: () => Promise<string>;
    endorse: (basis: ReviewBasis, log: MemoryEndorsementLog) => Promise<Endorsement>;
    colluding: () => Promise<string[]>;
  },
): Promise<string[]> {
  if (cheat.note !== undefined) {
    reviewer.state = undefined; // its next review folds the history again, this round included
    s.log("  ✗ a colluding committee member signs without re-executing the round");
    return o.colluding();
  }
  const basis = await reviewBasis(await s.ledger.readEvidence(federationId, s.chain.ethers.provider), s.store, reviewer.state);
  const answer = await o.endorse(basis, reviewer.log);
  if (!answer.signed) {
    throw new DsainError(
      ErrorCode.AUDIT_FAILED,
      `committee member ${s.committeeAddresses[1]} refused to sign round ${t}: ${answer.findings.map(formatFinding).join("; ")}`,
    );
  }
  reviewer.state = answer.state;
  s.log(`  committee member ${s.committeeAddresses[1].slice(0, 10)}… re-executed the round from the published updates and signed`);
  return [await o.own(), answer.signature];
}
