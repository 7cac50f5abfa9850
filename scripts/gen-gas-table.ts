// Writes docs/gas.md: gas per round of ProvenanceLedger measured on Hardhat's in-process network for
// K = 4, 16, 64 in batched mode (one transaction) and direct mode (K attestation transactions, then
// the record), with each transaction split into intrinsic, calldata, log and execution gas, and
// proveRound with the real snarkjs verifier and a real Groth16 proof where the project has a
// RoundChunk instance of that K; then the batched path with in-circuit EdDSA attestations
// (docs/protocol.md §14): postBatchedRound for K = 2, 4, 8, 16 and proveBatchedRound with real
// RoundAttested proofs where the project has an instance of that K (the test instance K = 2 and the
// default production instance K = 8, whose keys a cold cache builds first, which takes minutes);
// then the floor: GasFloorProbe (scripts/gas-floor.ts) in several storage layouts for the same K.
// Run: `npm run generate:gas` (npx tsx scripts/gen-gas-table.ts). Generated, never typed.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Wallet, keccak256, toUtf8Bytes, type TransactionReceipt, type TransactionResponse } from "ethers";
import { openChain } from "../aggregator/adapters/chain/hardhat.js";
import { awaitChallenge } from "../aggregator/adapters/chain/challenge-block.js";
import { deployLedger } from "../aggregator/adapters/chain/deploy.js";
import { encodeRecordEntries, type UpdateEntry } from "../aggregator/adapters/chain/ledger.js";
import { AggregationRule, NO_PREDECESSOR, pkhDid, type FederationConfig } from "../aggregator/protocol/evidence.js";
import { signRecord } from "../aggregator/adapters/chain/records.js";
import { attestationDomain, fieldToBytes32, selectParticipants, vectorTree, type VectorTree } from "../aggregator/protocol/index.js";
import { CHUNK_SIZE } from "../aggregator/protocol/constants.js";
import { treeDepth } from "../aggregator/protocol/vector-root.js";
import { ensureCircuitKeys, releaseZkWorkers } from "../aggregator/adapters/proof/keys.js";
import { buildRoundChunkInput, proveRoundChunk, toSolidityProof, type SolidityProof } from "../aggregator/adapters/proof/prover.js";
import { proveInstance } from "../aggregator/adapters/proof/sampled.js";
import {
  BATCHED_INSTANCE,
  batchedProofInput,
  buildBatchedRound,
  createBatchedFederation,
  deployStack,
  member,
  postBatchedRound,
  registryOf,
  waitForChallenge,
  type BatchedRound,
  type Federation,
  type Stack,
} from "../test/helpers/batched.js";
import { FLOOR_LAYOUTS, deployProbe, postProbeRound, probeEntries, probeSelection } from "./gas-floor.js";
import { fedAvgExact } from "../aggregator/maths/robust/exact-rule.js";
import { aggregateRound, proposeRecord, recordEntries } from "../aggregator/roles/aggregator.js";
import { signUpdate } from "../aggregator/roles/participant.js";

export const GAS_DOC = path.resolve(import.meta.dirname, "..", "docs", "gas.md");
export const SIZES = [4, 16, 64] as const;
/** The circuit instance whose snarkjs verifier every federation of the table names (circuits/circuits.json). */
export const PROOF_INSTANCE = "RoundChunk_4-1_test";
/** The demo model's length: 2 chunks, the tree depth RoundChunk(4, 1) opens. */
const MODEL_LENGTH = 212;
/** K of the batched path (in-circuit EdDSA); MAX_BATCHED_UPDATES is 16. */
export const BATCHED_SIZES = [2, 4, 8, 16] as const;
/** The RoundAttested instances the project has (circuits/circuits.json): the test one and the default production one. */
export const BATCHED_INSTANCES = [BATCHED_INSTANCE, "RoundAttested_8-11-0-1-6"] as const;
/** Registry depth of batched federations of a K without a RoundAttested instance: R = 6, as the production instance. */
const BATCHED_REGISTRY_DEPTH = 6;
/** Goal of issue 3 for a batched round, signature checks included. */
export const goal = (k: number): number => 120_000 + 8_000 * k;

const key = (label: string) => new Wallet(keccak256(toUtf8Bytes(`dsain gas table: ${label}`)));

/** A deterministic encoded vector: entries in [-span, span] from a linear congruential sequence seeded by `seed`. */
function vector(seed: number, span: number): Int32Array {
  let s = seed >>> 0;
  return Int32Array.from({ length: MODEL_LENGTH }, () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return (s % (2 * span + 1)) - span;
  });
}

interface Model {
  values: Int32Array;
  tree: VectorTree;
}

async function model(values: Int32Array): Promise<Model> {
  return { values, tree: await vectorTree(values) };
}
const DP = { epsilonMicros: 1_000_000n, deltaPicos: 10_000n, clipMicros: 1_000_000n, noiseMicros: 1_100_000n };

/** Where a transaction's gas goes: the protocol's fixed charges, and what execution leaves. */
export interface GasSplit {
  total: number;
  intrinsic: number;
  calldata: number;
  logs: number;
  execution: number;
}

export interface GasRow {
  k: number;
  rosterSize: number;
  batched: GasSplit;
  /** One participant's attest() transaction (the mean over the round's K). */
  directAttest: GasSplit;
  /** The record in direct mode (entries without signatures). */
  directRecord: GasSplit;
  directTotal: number;
  /** proveRound of the batched round with the real verifier and a real proof; null without a RoundChunk instance of this K. */
  prove: GasSplit | null;
  /** The same proof sent to the verifier's verifyProof alone: the Groth16 pairing check's share of `prove`. */
  verify: GasSplit | null;
  /** The batched record's transaction, for tracing. */
  batchedHash: string;
}

function split(tx: TransactionResponse, receipt: TransactionReceipt): GasSplit {
  const data = Buffer.from(tx.data.slice(2), "hex");
  const zero = data.filter((b) => b === 0).length;
  const calldata = 4 * zero + 16 * (data.length - zero);
  const logs = receipt.logs.reduce((sum, l) => sum + 375 + 375 * l.topics.length + 8 * ((l.data.length - 2) / 2), 0);
  const total = Number(receipt.gasUsed);
  return { total, intrinsic: 21_000, calldata, logs, execution: total - 21_000 - calldata - logs };
}

/**
 * A transaction carrying a Groth16 proof, with the proof's 256 bytes priced at 16 gas each. Groth16
 * proofs are randomized, and each zero byte a proof happens to hold (about one in 256) is 12 gas
 * cheaper; pricing them all as non-zero keeps the table the same from one proof to the next.
 */
function splitWithProof(tx: TransactionResponse, receipt: TransactionReceipt, proof: SolidityProof): GasSplit {
  const s = split(tx, receipt);
  const words = [...proof.a, ...proof.b[0], ...proof.b[1], ...proof.c].map((x) => x.toString(16).padStart(64, "0"));
  const zeros = words
    .join("")
    .match(/../g)!
    .filter((byte) => byte === "00").length;
  return { ...s, total: s.total + 12 * zeros, calldata: s.calldata + 12 * zeros };
}

function mean(splits: GasSplit[]): GasSplit {
  const avg = (f: (s: GasSplit) => number) => Math.round(splits.reduce((a, s) => a + f(s), 0) / splits.length);
  return {
    total: avg((s) => s.total),
    intrinsic: avg((s) => s.intrinsic),
    calldata: avg((s) => s.calldata),
    logs: avg((s) => s.logs),
    execution: avg((s) => s.execution),
  };
}

/**
 * Deploys a fresh ledger with the real verifier, runs a warm-up round, then measures round 2 batched
 * and round 3 direct. Rounds aggregate real vectors (Poseidon roots, exact aggregation), so where
 * the circuit's K equals `k` each round is proven with a real Groth16 proof and finalized; other
 * rounds are posted on their unproven parents, which the ledger allows (docs/protocol.md §11).
 */
export async function measure(ethers: any, k: number, rosterFactor = 2): Promise<GasRow> {
  const [admin] = await ethers.getSigners();
  const keys = await ensureCircuitKeys(PROOF_INSTANCE, { log: () => {} });
  const provable = keys.instance.params[0] === k;
  const ledger = await deployLedger(ethers, admin.address, [admin.address]);
  const verifier = await ethers.deployContract(keys.instance.verifier);
  const chainId: bigint = (await ethers.provider.getNetwork()).chainId;
  const domain = attestationDomain(chainId, await ledger.getAddress());
  const rosterSize = rosterFactor * k; // 2K: the selection leaves half the roster out, so the shuffle runs
  const roster = Array.from({ length: rosterSize }, (_, i) => key(`participant ${k}/${i}`));
  const committee = [key("aggregator 0"), key("aggregator 1"), key("aggregator 2")];
  const byAddress = new Map(roster.map((w) => [w.address, w]));
  let parent = await model(vector(k, 50_000));
  const config: FederationConfig = {
    modelId: `gas-table-k${k}`,
    modelLength: MODEL_LENGTH,
    participantsPerRound: k,
    minUpdates: k,
    quorum: 2,
    roundDeadline: 86_400,
    finalityDelay: 0,
    genesisCidCodec: 0x70,
    verifier: await verifier.getAddress(),
    epsilonBudgetMicros: 1_000_000_000n,
    aggregation: { rule: AggregationRule.ByzFed, tauMicros: 500_000n, reputationDecayMicros: 900_000n },
    dp: DP,
    committee: committee.map((w) => w.address),
    verifyingKeyHash: keys.vkeyHash,
    genesisModelRoot: fieldToBytes32(parent.tree.root),
    genesisCidDigest: keccak256(toUtf8Bytes("genesis checkpoint")),
    predecessor: NO_PREDECESSOR,
  };
  // Enrolled in slices: one transaction for 128 DIDs would exceed a block.
  await (await ledger.createFederation(config, [])).wait();
  for (const w of roster) {
    await (await ledger.enrol(1n, { signer: w.address, did: pkhDid(chainId, w.address), babyJubJubKey: [0n, 0n] })).wait();
  }
  // Round 1 (skipped, not measured) re-opens the federation on the full roster.
  await (await ledger.rejectRound(1n, 1n, "roster complete")).wait();

  let parentRound = 0n;
  async function round(direct: boolean) {
    const [, state] = await ledger.federation(1n);
    const t = state.lastRound + 1n;
    const members = selectParticipants(await ledger.roster(1n), Number(state.rosterSize), k, state.selectionSeed);
    const sampleCounts = members.map((_, i) => BigInt(500 + i));
    const deltas = members.map((_, i) => vector(1_000 * Number(t) + i, 3_000));
    const deltaTrees = await Promise.all(deltas.map((d) => vectorTree(d)));
    // The round library's steps. The weights are FedAvg's even though the federation names ByzFed:
    // the table measures the ledger's cost of a record, whose checks do not depend on the rule.
    const updates = members.map((a, i) => ({
      participant: a,
      delta: deltas[i],
      sampleCount: sampleCounts[i],
      updateRoot: fieldToBytes32(deltaTrees[i].root),
      signature: "",
    }));
    const { decision, next: nextValues } = aggregateRound(fedAvgExact, { model: parent.values, reputations: new Map() }, updates);
    const weights = decision.weights;
    const next = await model(nextValues);
    const attests: GasSplit[] = [];
    const roundCtx = { federationId: 1n, round: t, baseModelRoot: fieldToBytes32(parent.tree.root), dp: DP };
    for (const u of updates) {
      const signature = await signUpdate(byAddress.get(u.participant)!, domain, roundCtx, u);
      if (direct) {
        const tx = await ledger.attest(1n, u.participant, t, u.updateRoot, u.sampleCount, signature);
        attests.push(split(tx, await tx.wait()));
      }
      u.signature = direct ? "0x" : signature;
    }
    const entries: UpdateEntry[] = recordEntries(updates, decision, new Map(members.map((a, i) => [a, 900_000 - i])), DP);
    const record = proposeRecord(
      1n,
      { round: t, parentRound },
      { modelRoot: fieldToBytes32(next.tree.root), cidCodec: 0x70, cidDigest: keccak256(toUtf8Bytes(`checkpoint ${k} ${t}`)) },
      entries,
    );
    const quorum = await signRecord(committee.slice(0, 2), domain, record.message);
    const tx = await ledger.postRound(1n, record.post, encodeRecordEntries(entries), quorum);
    const post = split(tx, await tx.wait());
    const postHash: string = tx.hash;
    let prove: GasSplit | null = null;
    let verify: GasSplit | null = null;
    if (provable) {
      // As the aggregator proves: the public inputs the ledger builds, the challenged chunk, a real proof.
      // The challenge is fixed by the block after the one that completed the record: mined first.
      const inputs = await awaitChallenge({
        read: async () => [...(await ledger.publicInputs(1n, t, record.columns))] as bigint[],
        provider: ethers.provider,
        mine: true,
        what: `round ${t}`,
      });
      const built = await buildRoundChunkInput({
        prev: parent.values,
        next: next.values,
        deltas,
        weights,
        chunkIndex: Number(inputs[2]),
        trees: { prev: parent.tree, next: next.tree, deltas: deltaTrees },
      });
      if (built.publicSignals.join(",") !== inputs.join(","))
        throw new Error(`round ${t}: the ledger's public inputs are not the circuit's`);
      const proof = toSolidityProof((await proveRoundChunk(PROOF_INSTANCE, built.input, { keepWorkers: true })).proof);
      const proveTx = await ledger.proveRound(1n, t, record.columns, proof.a, proof.b, proof.c);
      prove = splitWithProof(proveTx, await proveTx.wait(), proof);
      // verifyProof is a view; sent as a transaction it reports the pairing check's exact gas.
      const verifyTx = await verifier.verifyProof.send(proof.a, proof.b, proof.c, inputs);
      verify = splitWithProof(verifyTx, await verifyTx.wait(), proof);
      await (await ledger.finalizeRound(1n, t)).wait();
    }
    parentRound = t;
    parent = next;
    return { post, postHash, attests, prove, verify };
  }
  try {
    await round(false); // warm-up: first debits and reputations of this roster
    const batched = await round(false);
    const direct = await round(true);
    return {
      k,
      rosterSize,
      batched: batched.post,
      directAttest: mean(direct.attests),
      directRecord: direct.post,
      directTotal: direct.attests.reduce((a, s) => a + s.total, 0) + direct.post.total,
      prove: batched.prove,
      verify: batched.verify,
      batchedHash: batched.postHash,
    };
  } finally {
    await releaseZkWorkers();
  }
}

/** A batched round of the in-circuit path (docs/protocol.md §14), measured. */
export interface BatchedGasRow {
  k: number;
  rosterSize: number;
  registryDepth: number;
  /** S, the chunks a proof opens: the proof has 6 + S public inputs. */
  samples: number;
  modelLength: number;
  /** The RoundAttested instance that proves the round; null when the project has none of this K. */
  instance: string | null;
  /** The round measured: 2 after a proven and finalized round 1, or 3 after round 1 lapsed unproven. */
  round: number;
  post: GasSplit;
  prove: GasSplit | null;
  /** The same proof sent to the verifier's verifyProof alone. */
  verify: GasSplit | null;
}

async function txSplit(ethers: any, receipt: TransactionReceipt): Promise<GasSplit> {
  return split((await ethers.provider.getTransaction(receipt.hash))!, receipt);
}

/** Proves a posted batched round with a real Groth16 proof of `instance` and sends proveBatchedRound. */
async function proveBatchedRound(f: Federation, r: BatchedRound, instance: string) {
  const { ledger, aggregator, verifier } = f.stack;
  const { chunkIndices } = await waitForChallenge(r);
  const input = await batchedProofInput(r, { chunkIndices, registry: await registryOf(f) });
  const proved = await proveInstance(instance, input, { keepWorkers: true, log: () => {} });
  const proof = toSolidityProof(proved.proof);
  const inputs: bigint[] = [...(await ledger.batchedPublicInputs(f.id, r.round))];
  if (inputs.join(",") !== proved.publicSignals.join(","))
    throw new Error(`round ${r.round}: the ledger's public inputs are not the circuit's`);
  const tx = await ledger.connect(aggregator).proveBatchedRound(f.id, r.round, proof.a, proof.b, proof.c);
  const prove = splitWithProof(tx, await tx.wait(), proof);
  // verifyProof is a view; sent as a transaction it reports the pairing check's exact gas.
  const verifyTx = await verifier.verifyProof.send(proof.a, proof.b, proof.c, inputs);
  const verify = splitWithProof(verifyTx, await verifyTx.wait(), proof);
  return { prove, verify };
}

/**
 * Deploys a fresh ledger and a batched federation of K participants selected from a roster of
 * rosterFactor·K, each with a BabyJubJub key, through test/helpers/batched.ts (real vectors, real
 * EdDSA-Poseidon signatures). With a RoundAttested instance of this K, round 1 is proven and
 * finalized and round 2 is measured, posting and proof. Without one nothing can prove the rounds:
 * round 1 is posted, left to lapse (its challenge block hash goes out of reach) and expired, which
 * rejects rounds 1 and 2 and opens round 3 on genesis, and round 3's posting is measured.
 */
export async function measureBatched(ethers: any, k: number, rosterFactor = 2): Promise<BatchedGasRow> {
  const base = await deployStack(ethers);
  let stack: Stack = base;
  let instance: string | null = null;
  for (const name of BATCHED_INSTANCES) {
    const keys = await ensureCircuitKeys(name, { log: (m) => console.error(m) });
    if (keys.instance.params[0] !== k) continue;
    const verifier = await ethers.deployContract(keys.instance.verifier);
    stack = { ...base, keys, verifier, verifierAddress: await verifier.getAddress() };
    instance = name;
  }
  // RoundAttested(K, DEPTH, C, S, R) opens trees of depth DEPTH exactly: the table's model if its tree
  // has that depth, else the shortest model that does (2^(DEPTH-1) + 1 leaves of CHUNK_SIZE).
  const [, depth, chunkLevel, samples, registryDepth] =
    instance === null ? [k, 4, 0, 2, BATCHED_REGISTRY_DEPTH] : stack.keys.instance.params;
  const modelLength = treeDepth(MODEL_LENGTH) === depth ? MODEL_LENGTH : CHUNK_SIZE * (2 ** (depth - 1) + 1);
  const rosterSize = rosterFactor * k;
  const roster = await Promise.all(Array.from({ length: rosterSize }, (_, i) => member(`gas table ${k}/${i}`)));
  const f = await createBatchedFederation(stack, roster, { k, registryDepth, samples, chunkLevel, modelLength });
  try {
    const first = await buildBatchedRound(f);
    await postBatchedRound(first);
    if (instance !== null) {
      await proveBatchedRound(f, first, instance);
      await (await stack.ledger.finalizeRound(f.id, first.round)).wait();
    } else {
      const posted = BigInt((await stack.ledger.batchedRound(f.id, first.round)).postedBlock);
      const now = BigInt(await ethers.provider.getBlockNumber());
      await ethers.provider.send("hardhat_mine", ["0x" + (posted + 258n - now).toString(16)]);
      await (await stack.ledger.expireRound(f.id, first.round)).wait();
    }
    const r = await buildBatchedRound(f);
    const post = await txSplit(ethers, await postBatchedRound(r));
    const proven = instance === null ? null : await proveBatchedRound(f, r, instance);
    return {
      k,
      rosterSize,
      registryDepth,
      samples,
      modelLength,
      instance,
      round: Number(r.round),
      post,
      prove: proven?.prove ?? null,
      verify: proven?.verify ?? null,
    };
  } finally {
    await releaseZkWorkers();
  }
}

/** GasFloorProbe's batched rounds in one layout, for each K of the table. */
export interface FloorRow {
  perWord: number;
  rosterFactor: number;
  /** Round 2 of a fresh probe, one per K in SIZES. */
  rounds: GasSplit[];
  /** The loop's own code per participant at the largest K, traced: what is not recovery, storage, logs or keccak256. */
  loopCode: number;
}

/**
 * Measures GasFloorProbe (contracts/bench/, scripts/gas-floor.ts) with `perWord` states a storage word
 * and a roster of rosterFactor·K: for each K, a fresh probe, a warm-up round, then round 2 measured.
 */
export async function measureFloor(ethers: any, layout: { perWord: number; rosterFactor: number }): Promise<FloorRow> {
  const rounds: GasSplit[] = [];
  let loopCode = 0;
  for (const k of SIZES) {
    const probe = await deployProbe(
      ethers,
      layout.perWord,
      layout.rosterFactor * k,
      `K ${k}, ${layout.perWord} a word, roster ${layout.rosterFactor}K`,
    );
    await postProbeRound(probe, 1n, await probeEntries(probe, 1n, probeSelection(probe, k, 1n)));
    const { tx, receipt } = await postProbeRound(probe, 2n, await probeEntries(probe, 2n, probeSelection(probe, k, 2n)));
    rounds.push(split(tx, receipt));
    loopCode = (await participantProfile(ethers, tx.hash, k)).rest;
  }
  return { ...layout, rounds, loopCode };
}

const n = (x: number) => x.toLocaleString("en-US");

/** One participant of a batched record, by opcode class (gas), from the transaction's trace. */
export interface ParticipantProfile {
  k: number;
  /** Loop iterations averaged: those between two consecutive participant signature recoveries. */
  iterations: number;
  recovery: number;
  storage: number;
  logs: number;
  keccak: number;
  /** Everything else: stack, jumps, arithmetic, memory and calldata reads, ABI encoding. */
  rest: number;
  total: number;
  steps: number;
}

interface StructLog {
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
}

/** A call to the ecrecover precompile (address 1): a signature recovery. */
const isRecovery = (s: StructLog) => s.op === "STATICCALL" && s.stack !== undefined && BigInt(s.stack[s.stack.length - 2]) === 1n;

/** A step's gas: a call's is what it took, read from the next step at the same depth. */
const stepCost = (logs: StructLog[], i: number) =>
  logs[i].op === "STATICCALL" || logs[i].op === "DELEGATECALL" ? logs[i].gas - logs[i + 1].gas : logs[i].gasCost;

/**
 * Traces a batched record (debug_traceTransaction, struct logs) and averages the gas of its
 * per-participant loop between consecutive ecrecover calls (STATICCALL to address 1; the first K
 * are the participants', the quorum's come after). A call's cost is the gas it took, read from the
 * next step at the same depth.
 */
export async function participantProfile(ethers: any, hash: string, k: number): Promise<ParticipantProfile> {
  const trace = await ethers.provider.send("debug_traceTransaction", [hash, { disableMemory: true, disableStorage: true }]);
  const logs: StructLog[] = trace.structLogs;
  const recoveries: number[] = [];
  logs.forEach((s, i) => {
    if (s.depth === 1 && isRecovery(s)) recoveries.push(i);
  });
  if (recoveries.length !== k + 2)
    throw new Error(`tracing the K = ${k} record: ${recoveries.length} signature recoveries, expected ${k} + 2`);
  const sum = { recovery: 0, storage: 0, logs: 0, keccak: 0, total: 0, steps: 0 };
  for (let j = 0; j + 1 < k; j++) {
    const [from, to] = [recoveries[j], recoveries[j + 1]];
    for (let i = from; i < to; i++) {
      const s = logs[i];
      const cost = stepCost(logs, i);
      if (s.depth !== 1) throw new Error(`tracing the K = ${k} record: a call into a contract inside the loop (${s.op})`);
      if (s.op === "STATICCALL") sum.recovery += cost;
      else if (s.op === "SLOAD" || s.op === "SSTORE") sum.storage += cost;
      else if (s.op.startsWith("LOG")) sum.logs += cost;
      else if (s.op === "KECCAK256") sum.keccak += cost;
    }
    sum.total += logs[from].gas - logs[to].gas;
    sum.steps += to - from;
  }
  const m = k - 1;
  const avg = (x: number) => Math.round(x / m);
  const profile = {
    k,
    iterations: m,
    recovery: avg(sum.recovery),
    storage: avg(sum.storage),
    logs: avg(sum.logs),
    keccak: avg(sum.keccak),
    total: avg(sum.total),
    steps: avg(sum.steps),
  };
  return { ...profile, rest: profile.total - profile.recovery - profile.storage - profile.logs - profile.keccak };
}

/** Where a whole record's gas goes, traced (debug_traceTransaction) at the top level of the ledger. */
export interface RecordProfile {
  k: number;
  total: number;
  /** 21,000 and the calldata bytes. */
  intrinsic: number;
  /** SSTOREs that create a word (zero to non-zero: 20,000 and more), their count and gas. */
  newWords: number;
  newWordsGas: number;
  /** Every other SSTORE and every SLOAD. */
  otherStorage: number;
  logs: number;
  recoveries: number;
  keccak: number;
  rest: number;
}

/** Traces the batched record `hash` of K entries and sorts its execution gas by what it pays for. */
export async function recordProfile(ethers: any, hash: string, k: number, s: GasSplit): Promise<RecordProfile> {
  const trace = await ethers.provider.send("debug_traceTransaction", [hash, { disableMemory: true, disableStorage: true }]);
  const logs: StructLog[] = trace.structLogs;
  const out = { newWords: 0, newWordsGas: 0, otherStorage: 0, logs: 0, recoveries: 0, keccak: 0 };
  logs.forEach((step, i) => {
    if (step.depth !== 1) return;
    const cost = stepCost(logs, i);
    if (step.op === "SSTORE" && cost >= 20_000) {
      out.newWords++;
      out.newWordsGas += cost;
    } else if (step.op === "SSTORE" || step.op === "SLOAD") out.otherStorage += cost;
    else if (step.op.startsWith("LOG")) out.logs += cost;
    else if (isRecovery(step)) out.recoveries += cost;
    else if (step.op === "KECCAK256") out.keccak += cost;
  });
  const intrinsic = s.intrinsic + s.calldata;
  const rest = s.total - intrinsic - out.newWordsGas - out.otherStorage - out.logs - out.recoveries - out.keccak;
  return { k, total: s.total, intrinsic, ...out, rest };
}

/**
 * The straight line through two measurements of one kind of round: gas per participant (in all and by
 * part), the fixed part, and the selection check's share per participant (`noShuffle`: `b`'s K posted
 * from a roster of exactly K, so that no index is shuffled).
 */
export function fitPerParticipant(a: { k: number; split: GasSplit }, b: { k: number; split: GasSplit }, noShuffle: GasSplit) {
  const marginal = (part: keyof GasSplit) => Math.round((b.split[part] - a.split[part]) / (b.k - a.k));
  const perK = { total: marginal("total"), calldata: marginal("calldata"), logs: marginal("logs"), execution: marginal("execution") };
  return {
    perK,
    fixed: b.split.total - perK.total * b.k,
    selection: Math.round((b.split.total - noShuffle.total) / b.k),
  };
}

export function renderRow(r: GasRow): string {
  const within = r.batched.total <= goal(r.k);
  return `| ${r.k} | ${r.rosterSize} | ${n(r.batched.total)} | ${n(goal(r.k))} | ${within ? "yes" : `no (×${(r.batched.total / goal(r.k)).toFixed(2)})`} | ${n(Math.round(r.batched.total / r.k))} | ${n(r.directAttest.total)} | ${n(r.directRecord.total)} | ${n(r.directTotal)} | ${r.prove === null ? "—" : n(r.prove.total)} |`;
}

function renderBatchedRow(r: BatchedGasRow): string {
  const both = r.prove === null ? null : r.post.total + r.prove.total;
  const within = (gas: number) => (gas <= goal(r.k) ? "yes" : `no (×${(gas / goal(r.k)).toFixed(2)})`);
  return `| ${r.k} | ${r.rosterSize} | ${r.registryDepth} | ${n(r.modelLength)} | ${r.round} | ${n(r.post.total)} | ${n(goal(r.k))} | ${within(r.post.total)} | ${n(Math.round(r.post.total / r.k))} | ${r.prove === null ? "—" : n(r.prove.total)} | ${both === null ? "—" : `${n(both)}, ${within(both)}`} | ${r.instance === null ? "none" : `\`${r.instance}\``} |`;
}

/** The in-circuit batched path's section; `noShuffle` is its largest K measured again with a roster of exactly K. */
export function renderBatched(rows: BatchedGasRow[], noShuffle: BatchedGasRow): string {
  // The marginal cost from the rows measured alike (the lapse path, R = 6, the same model).
  const alike = rows.filter((r) => r.instance === null);
  const [a, b] = [alike[0], alike[alike.length - 1]];
  const { perK, fixed, selection } = fitPerParticipant({ k: a.k, split: a.post }, { k: b.k, split: b.post }, noShuffle.post);
  const proven = rows.filter((r) => r.prove !== null && r.verify !== null);
  const lapsed = rows.filter((r) => r.instance === null).map((r) => r.k);
  const ks = (xs: number[]) => xs.join(" and ");
  const proofText = proven
    .map((r) => {
      const inputs = 6 + r.samples;
      return `At K = ${r.k} (\`${r.instance}\`, ${inputs} public inputs) proveBatchedRound costs ${n(r.prove!.total)} gas, ${n(r.prove!.execution)} of it
execution; the same proof sent to \`verifyProof\` alone takes ${n(r.verify!.execution)} execution gas, so the ledger's own
work (the scope, the challenge seed and indices, the inputs from storage, storing the seed, two events) is
${n(r.prove!.execution - r.verify!.execution)}. Posting and proving together: ${n(r.post.total + r.prove!.total)} gas against a goal of ${n(goal(r.k))}.`;
    })
    .join("\n");
  return `## Batched rounds with in-circuit EdDSA attestations

\`postBatchedRound\` (docs/protocol.md §14) checks no participant signature: each participant's
EdDSA-Poseidon attestation is checked inside the RoundAttested Groth16 proof that
\`proveBatchedRound\` verifies, so the goal's "signature checks included" counts the proof too.
Measured through test/helpers/batched.ts: K participants with BabyJubJub keys selected from a
roster of 2K (so the swap-or-not selection runs for every entry), a committee of 3 of which 2 sign,
a fresh ledger per K. Where the project has a RoundAttested instance of K (circuits/circuits.json),
round 1 is proven with a real proof and finalized, and round 2 is measured, posted and then proven
with a real proof (development keys of aggregator/adapters/proof/keys.ts) to the verifier the federation names;
its model has the length whose Poseidon tree has the instance's depth. No instance exists for K =
${ks(lapsed)}, so no round of theirs can be proven: round 1 is posted, left to lapse past its
challenge window (256 blocks mined) and expired, which rejects rounds 1 and 2 and opens round 3 on
genesis, and the posting of round 3 is measured ("round" column). A participant's state word holds
its roster id from enrolment on, so its rewrite costs the same in every round.

| K | roster | R | model parameters | round | postBatchedRound | goal | within goal | per participant | proveBatchedRound | post + prove | instance |
| -: | -: | -: | -: | -: | -: | -: | :-: | -: | -: | :- | :- |
${rows.map(renderBatchedRow).join("\n")}

${proofText}

Between K = ${a.k} and K = ${b.k} (both R = ${a.registryDepth}, ${n(a.modelLength)} parameters, round ${a.round}) a posting grows by ${n(perK.total)} gas per
participant: ${n(perK.calldata)} calldata (six ABI words of \`BatchedEntry\`), ${n(perK.logs)} logs (the entry again in
\`BatchedRoundProposed\`), ${n(perK.execution)} execution; the fixed part is about ${n(fixed)} gas. Of the execution,
the selection check takes ${n(selection)} gas per participant (at K = ${b.k}, against S_t made whole as a bit mask,
docs/protocol.md §10; K = ${b.k} measured with a roster of ${b.k} instead of
${b.rosterSize}: ${n(noShuffle.post.total)} gas); the participant's state word (budget, reputation, last round) is one cold
read and one rewrite, 2,100 + 2,900 gas by the EVM's prices; the rest is reading and checking the entry,
its participant's enrolment, the address sort and the hashing of the entries.

**What is left** against 120,000 + 8,000·K: per participant ${n(perK.total)} against 8,000, ${perK.total > 8_000 ? `${n(perK.total - 8_000)} over` : `${n(8_000 - perK.total)} under`};
the fixed part ${n(fixed)} against 120,000, ${fixed > 120_000 ? `${n(fixed - 120_000)} over` : `${n(120_000 - fixed)} under`}, before the proof, which adds about
${proven.length > 0 ? n(Math.min(...proven.map((r) => r.prove!.total))) : "—"} gas per round whatever K. The fixed part is mostly storage written once per round: the round's
record (status and pointers, h_t, model root, updates commitment), the \`BatchedRound\` word pair
(registry root; slots and posting block), the federation's pointers and the next round's opening
(its selection seed and roster snapshot), plus the two quorum recoveries and the intrinsic 21,000.
Per participant, calldata, log and the state word alone come to about ${n(perK.calldata + perK.logs + 2_100 + 2_900)} gas. Reaching the goal
needs the protocol to change, not the Solidity: budgets and reputations kept as a commitment updated in
the proof (no per-participant storage), the entries published once (in calldata or the event, not both),
and the selection proven in-circuit.
`;
}

function splitRow(what: string, k: number, s: GasSplit): string {
  return `| ${what} | ${k} | ${n(s.total)} | ${n(s.intrinsic)} | ${n(s.calldata)} | ${n(s.logs)} | ${n(s.execution)} |`;
}

/** `noShuffle` is the largest K measured again with a roster of exactly K, where nobody is left out. */
export function renderDoc(
  rows: GasRow[],
  noShuffle: GasRow,
  batched: BatchedGasRow[],
  batchedNoShuffle: BatchedGasRow,
  hardfork: string,
  profile: ParticipantProfile,
  floor: FloorRow[],
  record: RecordProfile,
): string {
  const [a, b] = [rows[rows.length - 2], rows[rows.length - 1]];
  const { perK, fixed, selection } = fitPerParticipant({ k: a.k, split: a.batched }, { k: b.k, split: b.batched }, noShuffle.batched);
  // Calldata, logs, the ecrecover precompile, the state word's cold read and rewrite, the selection check.
  const evidence = perK.calldata + perK.logs + 3_000 + 2_100 + 2_900 + selection;
  const proven = rows.filter((r) => r.prove !== null && r.verify !== null);
  const unproven = rows.filter((r) => r.prove === null).map((r) => r.k);
  const ks = (xs: number[]) => xs.join(" and ");
  const proofText = proven
    .map((r) => {
      const inputs = 3 + 2 * r.k;
      return `At K = ${r.k} (${inputs} public inputs) proveRound costs ${n(r.prove!.total)} gas, ${n(r.prove!.execution)} of it execution.
The same proof sent to \`verifyProof\` alone takes ${n(r.verify!.execution)} execution gas, the pairing check
(shared/TOOLCHAIN.md's rule of about 189,800 + 6,650 gas per public input gives ${n(189_800 + 6_650 * inputs)}); the
ledger's own work (the columns against the record, the challenge seed from the hash of the block
after the record's, the public inputs, the call, storing the seed: a new 22,100-gas word) is the other
${n(r.prove!.execution - r.verify!.execution)}.`;
    })
    .join("\n");
  return `# Gas per round

<!-- Generated by scripts/gen-gas-table.ts (npm run generate:gas); do not edit by hand. -->

Measured on Hardhat's in-process network (EDR, hardfork \`${hardfork}\`, solc 0.8.28 with viaIR and
200 optimizer runs) by deploying \`ProvenanceLedger\` and posting real rounds over real encoded
vectors (a ${MODEL_LENGTH}-parameter model, Poseidon roots, exact aggregation): K participants
selected from a roster of 2K (so the swap-or-not selection runs for every entry), a committee of
2f+1 = 3 aggregators of which f+1 = 2 sign each record, non-zero DP parameters, epsilon debits and
reputations. Each K is measured in its second round, when every participant slot is already warm
in the sense of holding non-zero values. Goal of issue 3 for batched mode: 120,000 + 8,000·K gas,
signature checks included.

| K | roster | batched round | goal | within goal | batched per participant | direct: one attest tx | direct: record tx | direct: whole round | proveRound |
| -: | -: | -: | -: | :-: | -: | -: | -: | -: | -: |
${rows.map(renderRow).join("\n")}

"proveRound" carries a real Groth16 proof of the round's challenged chunk, made from the public
inputs the ledger builds (docs/protocol.md §8: 3 + 2K of them), to the snarkjs verifier of
\`${PROOF_INSTANCE}\` that every federation here names.
${proofText}
Calldata prices the proof's 256 bytes at 16 gas each: a random proof has a zero byte about once in
256 bytes, 12 gas cheaper, so a receipt may show a few dozen gas less.
The project has a RoundChunk instance for K = ${ks(proven.map((r) => r.k))} only (circuits/circuits.json), so at
K = ${ks(unproven)} rounds are posted on unproven parents, as the ledger allows (§11), and no proof is
measured ("—").

${renderBatched(batched, batchedNoShuffle)}
## Where the gas goes

Each transaction split into the intrinsic 21,000, calldata (4 gas per zero byte, 16 per other
byte), logs (375 per log, 375 per topic, 8 per data byte) and the rest: execution, i.e. storage,
hashing and signature recovery.

| transaction | K | total | intrinsic | calldata | logs | execution |
| :- | -: | -: | -: | -: | -: | -: |
${rows.map((r) => splitRow("batched record", r.k, r.batched)).join("\n")}
${rows.map((r) => splitRow("direct attest (mean)", r.k, r.directAttest)).join("\n")}
${rows.map((r) => splitRow("direct record", r.k, r.directRecord)).join("\n")}
${proven.map((r) => splitRow("proveRound", r.k, r.prove!)).join("\n")}
${proven.map((r) => splitRow("verifyProof alone (same proof)", r.k, r.verify!)).join("\n")}
${batched.map((r) => splitRow(`in-circuit batched record (round ${r.round})`, r.k, r.post)).join("\n")}
${batched
  .filter((r) => r.prove !== null)
  .map((r) => splitRow("proveBatchedRound", r.k, r.prove!))
  .join("\n")}
${batched
  .filter((r) => r.verify !== null)
  .map((r) => splitRow("RoundAttested verifyProof alone (same proof)", r.k, r.verify!))
  .join("\n")}

Between K = ${a.k} and K = ${b.k} a batched round grows by ${n(perK.total)} gas per participant: ${n(perK.calldata)}
calldata, ${n(perK.logs)} logs, ${n(perK.execution)} execution; the fixed part is about ${n(fixed)} gas.

## Why batched mode misses 120,000 + 8,000·K

Every participant costs, whatever the optimisation, what the chain charges for the evidence
itself: its packed 141-byte entry in calldata (address, update root, sample count, weight, epsilon
debit, reputation and a 65-byte signature, docs/protocol.md §11; about ${n(perK.calldata)} gas), the same bytes
in \`RoundProposed\`, published once there so that an auditor can judge the round from events alone
(about ${n(perK.logs)} gas), the secp256k1 recovery of its EIP-712 signature (3,000 gas for the precompile alone),
and one storage write of its participant slot: cumulative epsilon, reputation and the round it
last attested in, packed into one word (a warm rewrite costs 2,900 gas after a 2,100-gas cold
read). The swap-or-not membership check (16 rounds; for a roster of at most 256 the ledger hashes the
16 source words once per record beside the pivots, and each check reads them; a record of 12 or more
entries checks them against S_t made whole as a bit mask, about 26,000 gas per record,
docs/protocol.md §10) adds ${n(selection)} gas (K = ${b.k}
measured with a roster of ${b.k} instead of ${b.rosterSize}: ${n(noShuffle.batched.total)} gas). That is ${n(evidence)} gas,
${evidence > 8_000 ? "above" : "below"} 8,000, before any hashing of the record. The fixed part pays four new storage words for the
round record (about 22,100 gas each: status, pointers and the attested block, h_t, model root,
updates digest; the challenge seed is stored by \`proveRound\`, since it is fixed only by the block
after the record's, docs/protocol.md §8), two quorum signatures, the digests over the columns and
the next round's selection seed.

Measured: the ledger's loop over the entries, traced (\`debug_traceTransaction\`) in the K = ${profile.k}
batched record and averaged over the ${profile.iterations} iterations between two consecutive participant signature
recoveries (gas by opcode; calldata, the intrinsic cost and the one \`RoundProposed\` log are outside the loop):

| per participant | ecrecover call | storage (SLOAD, SSTORE) | logs | keccak256 | the rest | total | EVM steps |
| :- | -: | -: | -: | -: | -: | -: | -: |
| K = ${profile.k} | ${n(profile.recovery)} | ${n(profile.storage)} | ${n(profile.logs)} | ${n(profile.keccak)} | ${n(profile.rest)} | ${n(profile.total)} | ${n(profile.steps)} |

"The rest" is the code around them: reading the packed entry (a few calldata loads and shifts),
checking the participant's state word (read once, rewritten with its three changed members), the
selection check, the EIP-712 digest (the record encodes the attestation struct once and fills in
each entry's update root and sample count) and the entry's row in the two buffers laid out as the
digests' \`abi.encode\`, so that hashing them needs no arrays and no second encoding. With the
entry's calldata (${n(perK.calldata)} gas) the loop accounts for ${n(profile.total + perK.calldata)} of the ${n(perK.total)} gas a participant adds; the
remainder is outside it (the entry's bytes in \`RoundProposed\`, hashing the buffers, memory).
With none of "the rest" at all, the signature recovery, the state word, the participant's share of
\`RoundProposed\` and the calldata still come to ${n(profile.recovery + profile.storage + perK.logs + perK.calldata)} gas per participant, ${profile.recovery + profile.storage + perK.logs + perK.calldata > 8_000 ? "above" : "below"} 8,000.

The remaining levers are in the protocol, not in the Solidity: checking the participants'
signatures inside the Groth16 proof removes the signature bytes, the recoveries and most of the
per-participant log (the in-circuit batched path above, which pays a proof instead); keeping budgets and reputations as a Merkle root
updated in the proof would remove the per-participant storage write. Short of that, the next
section measures how far any storage layout can go. Direct mode costs more in
total (each participant pays its own 21,000-gas transaction and a 22,100-gas storage word for its
attestation) but spreads the cost over the participants and keeps every transaction small.

${renderFloor(floor, fixed, selection * b.k)}

${renderAgainstFloor(rows, floor, perK.total, record)}`;
}

/** The goal since issue 16: the ledger within this factor of the floor of its own storage layout. */
export const FLOOR_FACTOR = 1.25;

/**
 * The ledger's batched record beside the floor of its own layout (one state word per participant,
 * a roster of 2K: GasFloorProbe with P = 1), K by K and per participant.
 */
export function renderAgainstFloor(rows: GasRow[], floor: FloorRow[], ledgerPerParticipant: number, record: RecordProfile): string {
  const single = floor.find((r) => r.perWord === 1 && r.rosterFactor === 2)!;
  const last = SIZES.length - 1;
  const floorPer = single.rounds[last].total - single.rounds[last - 1].total;
  const floorPerParticipant = Math.round(floorPer / (SIZES[last] - SIZES[last - 1]));
  const ratio = (x: number, y: number) => x / y;
  const verdict = (x: number, y: number) => (ratio(x, y) <= FLOOR_FACTOR ? "yes" : "no");
  // What a K-participant record may spend besides its participants, within the goal at the smallest K.
  const fixedBudget = Math.floor(single.rounds[0].total * FLOOR_FACTOR) - ledgerPerParticipant * record.k;
  const probeFixed = Math.round(floorFit(single).fixed);
  const line = (what: string, ledger: number, fl: number) =>
    `| ${what} | ${n(ledger)} | ${n(fl)} | ×${ratio(ledger, fl).toFixed(2)} | ${verdict(ledger, fl)} | ${n(Math.max(0, ledger - Math.floor(fl * FLOOR_FACTOR)))} |`;
  return `## The ledger against the floor

The goal of the ledger's own storage layout (one state word per participant), with every check it
makes included: at most ${FLOOR_FACTOR}× the floor of that layout (the probe's P = 1 row above, a roster of
2K), for a batched record at each K and per participant (from K = ${SIZES[last - 1]} to K = ${SIZES[last]}).

| batched record | ledger | floor (P = 1) | ratio | within ${FLOOR_FACTOR}× | over ${FLOOR_FACTOR}× the floor |
| :- | -: | -: | -: | :-: | -: |
${SIZES.map((k, i) => line(`K = ${k}`, rows.find((r) => r.k === k)!.batched.total, single.rounds[i].total)).join("\n")}
${line("per participant", ledgerPerParticipant, floorPerParticipant)}

Where the K = ${record.k} record's ${n(record.total)} gas goes (traced; ${FLOOR_FACTOR}× the floor is ${n(Math.floor(single.rounds[0].total * FLOOR_FACTOR))}):

| 21,000 + calldata | new storage words | other storage | logs | signature recoveries | keccak256 | the rest |
| -: | -: | -: | -: | -: | -: | -: |
| ${n(record.intrinsic)} | ${n(record.newWordsGas)} (${record.newWords} words) | ${n(record.otherStorage)} | ${n(record.logs)} | ${n(record.recoveries)} | ${n(record.keccak)} | ${n(record.rest)} |

The record's new words are what the ledger keeps of a round (its RoundRecord: status, parent and
times; h_t; the model root; the updates digest); the floor probe keeps one word a round. At
${n(ledgerPerParticipant)} gas per participant, ${record.k} participants take ${n(ledgerPerParticipant * record.k)}, so
within ${FLOOR_FACTOR}× the floor the rest of a K = ${record.k} record, its fixed part, may cost ${n(fixedBudget)} gas
(the probe's own fixed part is ${n(probeFixed)}); the ledger's is ${n(record.total - ledgerPerParticipant * record.k)}, of which the round's
${record.newWords} new words take ${n(record.newWordsGas)}. ${
    21_000 + record.newWordsGas > fixedBudget
      ? `With the transaction's 21,000 base they alone exceed that budget, by ${n(21_000 + record.newWordsGas - fixedBudget)} gas: no code brings a round this small within the goal while the ledger keeps
a round in ${record.newWords} new words; it takes a round kept in fewer (for example one hash of its record, the
preimage given back with the proof) and a fixed part close to the probe's.`
      : `With the transaction's 21,000 base they leave ${n(fixedBudget - 21_000 - record.newWordsGas)} gas of that budget for everything else a round does.`
  }
`;
}

/** Gas per participant between the two largest K of a floor row, and the fixed part that line leaves. */
function floorFit(r: FloorRow) {
  const [a, b] = [r.rounds.length - 2, r.rounds.length - 1];
  const fit = fitPerParticipant({ k: SIZES[a], split: r.rounds[a] }, { k: SIZES[b], split: r.rounds[b] }, r.rounds[b]);
  return { perK: fit.perK, fixed: fit.fixed };
}

/** A lane's bits in GasFloorProbe: two halves of 128 / P bits. */
const laneBits = (perWord: number) => 2 * Math.floor(128 / perWord);

/** The largest epsilon budget, in millionths, that a lane holds beside a 20-bit reputation in millionths. */
const budgetCap = (perWord: number) => (2 ** (laneBits(perWord) - 20) - 1) / 1e6;

function renderEpsilon(x: number): string {
  if (x >= 1e9) return "> 10⁹";
  if (x >= 100) return n(Math.floor(x));
  return x.toPrecision(3);
}

/** A floor row's largest-K round with its loop's code counted as free. */
const noLoopCode = (r: FloorRow) => r.rounds[r.rounds.length - 1].total - SIZES[SIZES.length - 1] * r.loopCode;

export function renderFloorRow(r: FloorRow): string {
  const { perK } = floorFit(r);
  const within = SIZES.filter((k, i) => r.rounds[i].total <= goal(k));
  const roster = r.rosterFactor === 1 ? "K" : `${r.rosterFactor}K`;
  const verdict = within.length === SIZES.length ? "every K" : within.length === 0 ? "none" : `K = ${within.join(", ")}`;
  return `| ${r.perWord} | ${laneBits(r.perWord)} | ${renderEpsilon(budgetCap(r.perWord))} | ${roster} | ${r.rounds.map((x) => n(x.total)).join(" | ")} | ${n(perK.total)} (${n(perK.calldata)} + ${n(perK.logs)} + ${n(perK.execution)}) | ${verdict} | ${n(r.loopCode)} | ${n(noLoopCode(r))} |`;
}

/**
 * The floor section: GasFloorProbe's rounds in each layout, against the goal, the ledger's fixed part
 * and what its selection check costs at the largest K (that K from a roster of 2K, less from a roster of K).
 */
export function renderFloor(rows: FloorRow[], ledgerFixed: number, ledgerSelection: number): string {
  const last = SIZES.length - 1;
  const kMax = SIZES[last];
  const g = goal(kMax);
  const top = (r: FloorRow) => r.rounds[last].total;
  const room = (x: number) => (x <= g ? `${n(g - x)} under` : `${n(x - g)} over`);
  const wide = rows.filter((r) => r.rosterFactor === 2).sort((x, y) => x.perWord - y.perWord);
  const single = wide.find((r) => r.perWord === 1)!;
  const packed = wide.find((r) => r.perWord === 4)!;
  const whole = rows.filter((r) => r.rosterFactor === 1);
  const probeFixed = Math.round(rows.reduce((a, r) => a + floorFit(r).fixed, 0) / rows.length);
  const layout = (r: FloorRow) => `${r.perWord} a word (budgets up to ${renderEpsilon(budgetCap(r.perWord))} epsilon)`;
  return `## The floor: what any storage layout pays

\`contracts/bench/GasFloorProbe.sol\` (a benchmark, never deployed with the ledger) posts a batched
round doing only the part of the ledger's work that each participant makes unavoidable, in a loop
written in assembly: the participant's 123-byte entry in calldata and once in an event (roster index,
update root, sample count, weight, epsilon debit, reputation, a 65-byte signature), the recovery of its
EIP-712 attestation (the ledger's \`Attestation\` type and domain, low-s enforced), its debit checked
against the budget, and its spent epsilon and reputation rewritten in storage; per round, two committee
signatures over the record and the entries, and one new storage word. It leaves out what the ledger
must also do: the selection check, revocation and duplicate checks, h_t and the digests over the
columns, the round's order and deadline, the next round's opening, the weights' sum. Participants'
states are packed by roster index, P lanes to a storage word (spent epsilon in a lane's low half,
reputation in its high half; how a lane is split does not change the gas), so that selected
participants who share a word share its cold read and its rewrite, and the roster is read from
contract code: one account access, with no storage slot per participant. "Largest budget" is what a
lane holds in the ledger's unit, millionths of epsilon, beside a 20-bit reputation in millionths (the
ledger's unit too). Each cell is round 2 of a fresh probe (round 1 warms it up; every lane holds a
non-zero state from the start, as the ledger's participant words do), K participants chosen by the
ledger's selection (§10) from a roster of the size shown, with real signatures; the debits and
reputations fit 16 bits, so every layout posts the same values (each probe has its own keys, so the
signatures differ, by a few gas of calldata at most). Per participant:
calldata + logs + execution, from K = ${SIZES[last - 1]} to K = ${kMax}. "Loop code" is what the loop spends
per participant on its own instructions, outside the signature recovery, storage and keccak256
(traced at K = ${kMax}, as the ledger's loop is above); the last column takes it away: the K = ${kMax} round as if
the loop cost nothing beyond the EVM's prices for the evidence.

| states a word (P) | lane bits | largest budget (epsilon) | roster | ${SIZES.map((k) => `K = ${k}`).join(" | ")} | per participant | within goal | loop code per participant | K = ${kMax}, loop code free |
| -: | -: | -: | :-: | ${SIZES.map(() => "-:").join(" | ")} | -: | :- | -: | -: |
${rows.map(renderFloorRow).join("\n")}
| goal | | | | ${SIZES.map((k) => n(goal(k))).join(" | ")} | 8,000 | | | ${n(g)} |

- One word per participant (P = 1) is the ledger's layout, and every layout's when the roster is much
  larger than K, since selected participants then rarely share a word. The probe pays
  ${n(floorFit(single).perK.total)} gas per participant there, ${n(top(single))} at K = ${kMax}; with its loop's code free,
  ${n(noLoopCode(single))}, ${room(noLoopCode(single))} the goal.
- From a roster of 2K, as in the tables above, at K = ${kMax}: ${wide.map((r) => `${layout(r)}: ${n(top(r))} gas, ${room(top(r))}; ${n(noLoopCode(r))} with the loop's code free`).join("; ")}.
- With the whole roster selected (a roster of K): ${whole.map((r) => `${layout(r)}: ${n(top(r))} gas, ${room(top(r))}; ${n(noLoopCode(r))} with the loop's code free`).join("; ")}.
- What the probe leaves out is not free in the ledger: its selection check alone costs ${n(ledgerSelection)} gas at
  K = ${kMax} (a roster of ${2 * kMax} against one of ${kMax}), and its fixed part is about ${n(ledgerFixed)} gas against the
  probe's ${n(probeFixed)}.

${
  noLoopCode(single) > g
    ? `So no code brings the ledger's storage model, one state word per participant, under the goal at
K = ${kMax}: with its loop's code free, the probe, which does less than the ledger, still costs
${n(noLoopCode(single))} gas. A model that might would pack
participants' states by roster index, bind the roster without a storage slot per participant, keep a
round's record in one word, and do everything else a round needs (the ledger's selection check alone
is ${n(ledgerSelection)} gas) in what is left: with four states a word from a roster of 2K, ${g >= top(packed) ? n(g - top(packed)) : "nothing"} with the
probe's own loop and ${g >= noLoopCode(packed) ? n(g - noLoopCode(packed)) : "nothing"} with a loop that costs nothing. What the floor is made of,
the recoveries and the storage rewrites, goes only if the proof takes it over: the attestations
checked inside the proof (the path above, which pays for a proof instead) or the states kept as a
root the proof updates.`
    : `So even one state word per participant leaves room under the goal at K = ${kMax} when the loop's code is
free (${n(noLoopCode(single))} gas); the gap is in the ledger's code and fixed part.`
}
`;
}

async function main(): Promise<void> {
  const chain = await openChain({ quiet: true });
  try {
    const rows: GasRow[] = [];
    for (const k of SIZES) {
      const row = await measure(chain.ethers, k);
      console.log(renderRow(row));
      rows.push(row);
    }
    const profile = await participantProfile(chain.ethers, rows[1].batchedHash, rows[1].k);
    const noShuffle = await measure(chain.ethers, SIZES[SIZES.length - 1], 1);
    const batched: BatchedGasRow[] = [];
    for (const k of BATCHED_SIZES) {
      const row = await measureBatched(chain.ethers, k);
      console.log(renderBatchedRow(row));
      batched.push(row);
    }
    const batchedNoShuffle = await measureBatched(chain.ethers, BATCHED_SIZES[BATCHED_SIZES.length - 1], 1);
    const hardfork = String(chain.connection.networkConfig?.hardfork ?? "default");
    const floor: FloorRow[] = [];
    for (const layout of FLOOR_LAYOUTS) {
      const row = await measureFloor(chain.ethers, layout);
      console.log(renderFloorRow(row));
      floor.push(row);
    }
    const record = await recordProfile(chain.ethers, rows[0].batchedHash, rows[0].k, rows[0].batched);
    await writeFile(GAS_DOC, renderDoc(rows, noShuffle, batched, batchedNoShuffle, hardfork, profile, floor, record));
    console.log(`wrote ${path.relative(process.cwd(), GAS_DOC)}`);
  } finally {
    await chain.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
