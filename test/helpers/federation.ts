// A federation on Hardhat's network for ledger tests: deterministic participants and committee, the
// real snarkjs verifier of RoundChunk(4, 1), rounds over real encoded vectors (so every round a test
// posts can be proven with a real Groth16 proof), and builders for signed round records (batched or
// direct) with overrides that let a test break exactly one thing.
import { Wallet, getBytes, keccak256, toUtf8Bytes, type Signer, type TypedDataDomain } from "ethers";
import { deployLedger } from "../../aggregator/adapters/chain/deploy.js";
import { type UpdateEntry } from "../../aggregator/adapters/chain/ledger.js";
import {
  AggregationRule,
  epsilonDebit,
  NO_PREDECESSOR,
  pkhDid,
  type FederationConfig,
  type ParticipantInfo,
  type RoundColumns,
  type RoundPost,
  type SolidityProof,
  type DpParams,
} from "../../aggregator/protocol/evidence.js";
import { signRecord } from "../../aggregator/adapters/chain/records.js";
import {
  FIELD_MODULUS,
  attestationDomain,
  fieldToBytes32,
  selectParticipants,
  treeDepth,
  vectorTree,
  type RoundRecordMessage,
  type VectorTree,
  encodeRecordEntries,
} from "../../aggregator/protocol/index.js";
import { ensureCircuitKeys } from "../../aggregator/adapters/proof/keys.js";
import { buildRoundChunkInput, proveRoundChunk, toSolidityProof } from "../../aggregator/adapters/proof/prover.js";
import { awaitChallenge, type RpcProvider } from "../../aggregator/adapters/chain/challenge-block.js";
import { fedAvgExact } from "../../aggregator/maths/robust/exact-rule.js";
import { aggregateRound, proposeRecord, recordEntries } from "../../aggregator/roles/aggregator.js";
import { signUpdate } from "../../aggregator/roles/participant.js";

/** The circuit instance whose verifier the fixture deploys and whose keys prove its rounds. */
export const PROOF_INSTANCE = "RoundChunk_4-1_test";

/** The default model length: the demo model's 212 parameters, 2 chunks of 112, a tree of depth 1 as RoundChunk(4, 1) opens. */
export const MODEL_LENGTH = 212;

/** A bytes32 below the BN254 modulus derived from a label: a root that no vector of the tests has. */
export const fakeRoot = (label: string): string => fieldToBytes32(BigInt(keccak256(toUtf8Bytes(label))) % FIELD_MODULUS);

export const wallet = (label: string): Wallet => new Wallet(keccak256(toUtf8Bytes(`dsain ledger test: ${label}`)));

/** A deterministic encoded vector: `length` int32 entries in [-span, span] drawn from keccak256(label) (mulberry32). */
export function labelVector(label: string, length: number, span: number): Int32Array {
  const seed = getBytes(keccak256(toUtf8Bytes(label)));
  let s = new DataView(seed.buffer, seed.byteOffset, 4).getUint32(0);
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    out[i] = (((z ^ (z >>> 14)) >>> 0) % (2 * span + 1)) - span;
  }
  return out;
}

export interface FixtureOptions {
  rosterSize?: number;
  k?: number;
  minUpdates?: number;
  committeeSize?: number;
  epsilonBudgetMicros?: bigint;
  roundDeadline?: number;
  finalityDelay?: number;
  /** Must give a tree of the proof instance's depth (113 to 224 parameters for depth 1) for rounds to be provable. */
  modelLength?: number;
  /** The federation's verifier: a contract name to deploy, or an address (default: the instance's snarkjs verifier). */
  verifier?: string;
  /** The DP parameters every attestation is made under; each entry's debit is epsilonDebit(dp) (default FIXTURE_DP). */
  dp?: DpParams;
}

/** The fixture's DP parameters: each update debits 100,000 µε (docs/protocol.md §13). */
export const FIXTURE_DP: DpParams = { epsilonMicros: 100_000n, deltaPicos: 10_000n, clipMicros: 1_000_000n, noiseMicros: 1_100_000n };

/** A committed model vector and its Poseidon tree. */
export interface ModelVector {
  values: Int32Array;
  tree: VectorTree;
}

export type Fixture = Awaited<ReturnType<typeof federationFixture>>;

export async function federationFixture(ethers: any, o: FixtureOptions = {}) {
  // Each fixture's deployments start from a zero base fee: a test file deploys a fresh stack per test
  // on one chain, and under --coverage the instrumented deployments fill blocks, so a base fee
  // compounding over the whole file would drain the test accounts.
  await ethers.provider.send("hardhat_setNextBlockBaseFeePerGas", ["0x0"]);
  const [admin, aggregator, outsider] = await ethers.getSigners();
  const keys = await ensureCircuitKeys(PROOF_INSTANCE);
  const modelLength = o.modelLength ?? MODEL_LENGTH;
  const [circuitK, depth] = keys.instance.params;
  if (o.modelLength === undefined && treeDepth(modelLength) !== depth) {
    throw new Error(`MODEL_LENGTH ${modelLength} gives a tree of depth ${treeDepth(modelLength)}; ${PROOF_INSTANCE} opens depth ${depth}`);
  }
  const ledger = await deployLedger(ethers, admin.address, [aggregator.address]);
  const verifierName = o.verifier ?? keys.instance.verifier;
  const verifier = verifierName.startsWith("0x") ? null : await ethers.deployContract(verifierName);
  const verifierAddress: string = verifier === null ? verifierName : await verifier.getAddress();
  const chainId: bigint = (await ethers.provider.getNetwork()).chainId;
  const ledgerAddress: string = await ledger.getAddress();
  const rosterWallets = Array.from({ length: o.rosterSize ?? 6 }, (_, i) => wallet(`participant ${i}`));
  const committee = Array.from({ length: o.committeeSize ?? 3 }, (_, i) => wallet(`aggregator ${i}`));
  const infos: ParticipantInfo[] = rosterWallets.map((w) => ({
    signer: w.address,
    did: pkhDid(chainId, w.address),
    babyJubJubKey: [0n, 0n],
  }));
  const genesis = labelVector("genesis model", modelLength, 50_000);
  const genesisTree = await vectorTree(genesis);
  // Every model vector a round of this fixture committed to, by its on-chain root.
  const models = new Map<string, ModelVector>([[fieldToBytes32(genesisTree.root), { values: genesis, tree: genesisTree }]]);
  const config: FederationConfig = {
    modelId: "test-model",
    modelLength,
    participantsPerRound: o.k ?? circuitK,
    minUpdates: o.minUpdates ?? 3,
    quorum: Math.floor(committee.length / 2) + 1,
    roundDeadline: o.roundDeadline ?? 3600,
    finalityDelay: o.finalityDelay ?? 60,
    genesisCidCodec: 0x55,
    verifier: verifierAddress,
    epsilonBudgetMicros: o.epsilonBudgetMicros ?? 10_000_000n,
    aggregation: { rule: AggregationRule.FedAvg, tauMicros: 0n, reputationDecayMicros: 0n },
    dp: o.dp ?? FIXTURE_DP,
    committee: committee.map((w) => w.address),
    // The pin a federation must give: the key its verifier was generated from (VERIFYING_KEY_HASH()).
    verifyingKeyHash: verifier === null ? keys.vkeyHash : ((await verifier.VERIFYING_KEY_HASH()) as string),
    genesisModelRoot: fieldToBytes32(genesisTree.root),
    genesisCidDigest: keccak256(toUtf8Bytes("genesis checkpoint")),
    predecessor: NO_PREDECESSOR,
  };
  await (await ledger.createFederation(config, infos)).wait();
  const domain = attestationDomain(chainId, ledgerAddress);
  const byAddress = new Map(rosterWallets.map((w) => [w.address, w]));
  return {
    ledger,
    verifier,
    admin,
    aggregator,
    outsider,
    chainId,
    ledgerAddress,
    domain,
    rosterWallets,
    byAddress,
    committee,
    config,
    infos,
    models,
  };
}

/** The federation's pointers and open-round selection, as the contract holds them. */
export async function stateOf(f: Fixture, federationId = 1n) {
  const [, s] = await f.ledger.federation(federationId);
  return {
    lastRound: s.lastRound as bigint,
    head: s.head as bigint,
    lastFinalized: s.lastFinalized as bigint,
    openedAt: s.openedAt as bigint,
    selectionSeed: s.selectionSeed as string,
    rosterSize: Number(s.rosterSize),
    selectionBound: Number(s.selectionBound),
    openAttestations: Number(s.openAttestations),
  };
}

/** Roster indices below `size` revoked for `round` (docs/protocol.md §10: S_t skips them). */
export async function revokedIndices(
  ledger: any,
  federationId: bigint,
  roster: readonly string[],
  size: number,
  round: bigint,
): Promise<Set<number>> {
  const out = new Set<number>();
  for (let i = 0; i < size; i++) {
    const [p] = await ledger.participant(federationId, roster[i]);
    if (p.revokedFrom !== 0n && round >= p.revokedFrom) out.add(i);
  }
  return out;
}

/** S_t of the open round, recomputed in TypeScript from the contract's seed, snapshot and revocations. */
export async function selectedWallets(f: Fixture, federationId = 1n): Promise<Wallet[]> {
  const s = await stateOf(f, federationId);
  const roster: string[] = await f.ledger.roster(federationId);
  const revoked = await revokedIndices(f.ledger, federationId, roster, s.rosterSize, s.lastRound + 1n);
  return selectParticipants(roster, s.rosterSize, f.config.participantsPerRound, s.selectionSeed, revoked).map((a) => f.byAddress.get(a)!);
}

export interface RoundOptions {
  federationId?: bigint;
  round?: bigint;
  parentRound?: bigint;
  /** Participants in S_t order (default: the whole of S_t, at most K). */
  participants?: Wallet[];
  /** Addresses whose entries carry no signature (direct mode). */
  direct?: Set<string> | "all";
  /** Who signs each participant's attestation (default: itself). */
  signers?: Map<string, Signer>;
  domain?: TypedDataDomain;
  signRound?: bigint;
  signFederation?: bigint;
  /** The model root the attestations are signed over (default: the parent's); the vectors stay the parent's. */
  baseModelRoot?: string;
  epsilonMicros?: (address: string) => bigint;
  reputationMicros?: (address: string) => number;
  /** Committee members who sign the record (default: the first `quorum` of them). */
  committeeSigners?: Signer[];
  /** Varies the updates (and so the new model) and the checkpoint of a record with the same participants. */
  tag?: string;
}

/** A real proof and the public inputs it was made for. */
export interface RoundProof {
  /** The ledger's publicInputs(federation, round, columns) when the proof was made. */
  inputs: bigint[];
  /** What snarkjs reports as the proof's public signals. */
  publicSignals: bigint[];
  proof: SolidityProof;
}

export interface BuiltRound {
  post: RoundPost;
  entries: UpdateEntry[];
  columns: RoundColumns;
  message: RoundRecordMessage;
  quorumSignatures: string[];
  /** Each participant's attestation signature, for attest() in direct mode. */
  attestations: Map<string, string>;
  /** The round's encoded vectors: w_t (the parent's model), every Δ_i in entry order, w_{t+1}, the weights. */
  vectors: { prev: ModelVector; next: ModelVector; deltas: Int32Array[]; deltaTrees: VectorTree[]; weights: number[] };
  /** Proofs made for this record, by the exact public inputs they prove (see proofOf). */
  proofs: Map<string, RoundProof>;
}

export async function buildRound(f: Fixture, o: RoundOptions = {}): Promise<BuiltRound> {
  const federationId = o.federationId ?? 1n;
  const s = await stateOf(f, federationId);
  const round = o.round ?? s.lastRound + 1n;
  const parentRound = o.parentRound ?? s.head;
  const participants = [...(o.participants ?? (await selectedWallets(f, federationId)).slice(0, f.config.participantsPerRound))].sort(
    (a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1),
  );
  const parentRoot = (await f.ledger.roundRecord(federationId, parentRound)).modelRoot as string;
  const prev = f.models.get(parentRoot);
  if (prev === undefined) throw new Error(`round ${parentRound}'s model root ${parentRoot} is not a vector this fixture committed to`);
  const base = o.baseModelRoot ?? parentRoot;
  const tag = o.tag ?? "";
  // Per participant, not per position: a direct attestation matches any record that names it.
  const sampleCounts = participants.map((w) => 100n + (BigInt(w.address) % 900n));
  const deltas = participants.map((w) => labelVector(`update ${round} ${w.address} ${tag}`, f.config.modelLength, 3_000));
  const deltaTrees = await Promise.all(deltas.map((d) => vectorTree(d)));
  // The round library's steps: FedAvg on the exact path, each sender's EIP-712 attestation, the entries, the record.
  const updates = participants.map((w, i) => ({
    participant: w.address,
    delta: deltas[i],
    sampleCount: sampleCounts[i],
    updateRoot: fieldToBytes32(deltaTrees[i].root),
    epsilonMicros: o.epsilonMicros?.(w.address) ?? epsilonDebit(f.config.dp),
    signature: "",
  }));
  const { decision, next: nextValues } = aggregateRound(fedAvgExact, { model: prev.values, reputations: new Map() }, updates);
  const weights = decision.weights;
  const next: ModelVector = { values: nextValues, tree: await vectorTree(nextValues) };
  const modelRoot = fieldToBytes32(next.tree.root);
  f.models.set(modelRoot, next);
  const attestations = new Map<string, string>();
  for (const [i, w] of participants.entries()) {
    const signature = await signUpdate(
      o.signers?.get(w.address) ?? w,
      o.domain ?? f.domain,
      { federationId: o.signFederation ?? federationId, round: o.signRound ?? round, baseModelRoot: base, dp: f.config.dp },
      updates[i],
    );
    attestations.set(w.address, signature);
    const direct = o.direct === "all" || (o.direct?.has(w.address) ?? false);
    updates[i].signature = direct ? "0x" : signature;
  }
  const reputations = new Map(participants.map((w) => [w.address, o.reputationMicros?.(w.address) ?? 1_000_000]));
  const entries: UpdateEntry[] = recordEntries(updates, decision, reputations, f.config.dp);
  const record = proposeRecord(
    federationId,
    { round, parentRound },
    { modelRoot, cidCodec: 0x70, cidDigest: keccak256(toUtf8Bytes(`checkpoint ${round} ${tag}`)) },
    entries,
  );
  const quorumSignatures = await signRecord(o.committeeSigners ?? f.committee.slice(0, f.config.quorum), f.domain, record.message);
  return {
    post: record.post,
    entries,
    columns: record.columns,
    message: record.message,
    quorumSignatures,
    attestations,
    vectors: { prev, next, deltas, deltaTrees, weights },
    proofs: new Map(),
  };
}

/** Posts `r` as the aggregator. */
export async function post(f: Fixture, r: BuiltRound, federationId = 1n) {
  return f.ledger.connect(f.aggregator).postRound(federationId, r.post, encodeRecordEntries(r.entries), r.quorumSignatures);
}

/** Direct mode: participant `address` sends its own attestation from `r`. */
export async function attestFrom(f: Fixture, r: BuiltRound, address: string, federationId = 1n) {
  const e = r.entries.find((x) => x.participant === address)!;
  return f.ledger.attest(federationId, address, r.post.round, e.updateRoot, e.sampleCount, r.attestations.get(address)!);
}

/**
 * The ledger's publicInputs of `r` (docs/protocol.md §8), mining the block after the one that
 * completed its attestations first when it does not exist yet: that block's hash fixes the challenge.
 */
export async function challengedInputs(f: Fixture, r: BuiltRound, federationId = 1n): Promise<bigint[]> {
  return awaitChallenge({
    read: async () => [...(await f.ledger.publicInputs(federationId, r.post.round, r.columns))] as bigint[],
    provider: f.ledger.runner!.provider as unknown as RpcProvider,
    mine: true,
    what: `round ${r.post.round}`,
  });
}

/**
 * A real Groth16 proof of `r`'s aggregation at `chunkIndex`, whatever the ledger challenged. The proof
 * is valid for the returned public signals; `inputs` is left empty (nothing was read from the chain).
 */
export async function proveChunk(r: BuiltRound, chunkIndex: number, slots?: number): Promise<RoundProof> {
  const { prev, next, deltas, deltaTrees, weights } = r.vectors;
  const { input, publicSignals } = await buildRoundChunkInput({
    prev: prev.values,
    next: next.values,
    deltas,
    weights,
    chunkIndex,
    slots,
    trees: { prev: prev.tree, next: next.tree, deltas: deltaTrees },
  });
  // Workers stay up between proofs; each test file releases them in its after() hook.
  const { proof } = await proveRoundChunk(PROOF_INSTANCE, input, { keepWorkers: true });
  return { inputs: [], publicSignals: publicSignals.map(BigInt), proof: toSolidityProof(proof) };
}

/**
 * The real proof of `r` for the public inputs the ledger builds for it now (publicInputs view:
 * its model roots, its challenged chunk, the recorded columns), as the aggregator makes it. Throws
 * when the circuit's signals of `r`'s vectors are not those inputs, since no proof could then pass.
 * Memoized on `r` by the exact inputs: a proof is valid for precisely the inputs it was made for.
 */
export async function proofOf(f: Fixture, r: BuiltRound, federationId = 1n): Promise<RoundProof> {
  const inputs = await challengedInputs(f, r, federationId);
  const key = inputs.join(",");
  const known = r.proofs.get(key);
  if (known !== undefined) return known;
  const made = await proveChunk(r, Number(inputs[2]), Number(f.config.participantsPerRound));
  if (made.publicSignals.join(",") !== key) {
    throw new Error(
      `round ${r.post.round}: the ledger's public inputs [${key}] are not the circuit's signals [${made.publicSignals.join(",")}]`,
    );
  }
  const proof = { ...made, inputs };
  r.proofs.set(key, proof);
  return proof;
}

/** Sends proveRound for `r` with `proof` (as the aggregator unless `from` is given). */
export async function submitProof(f: Fixture, r: BuiltRound, proof: SolidityProof, federationId = 1n, from: Signer = f.aggregator) {
  return f.ledger.connect(from).proveRound(federationId, r.post.round, r.columns, proof.a, proof.b, proof.c);
}

/** Proves `r` with a real proof against the ledger's own public inputs, and submits it. */
export async function prove(f: Fixture, r: BuiltRound, federationId = 1n) {
  const { proof } = await proofOf(f, r, federationId);
  return submitProof(f, r, proof, federationId);
}

/** Everything observable about federation 1: state, every round record, every participant, the log count. */
export async function snapshot(f: Fixture, federationId = 1n): Promise<string> {
  const count = BigInt(await ethersCount(f));
  let state: unknown = null;
  const rounds: unknown[] = [];
  const participants: unknown[] = [];
  try {
    const s = await stateOf(f, federationId);
    state = s;
    for (let r = 0n; r <= s.lastRound + 2n; r++) rounds.push(await f.ledger.roundRecord(federationId, r));
    for (const a of await f.ledger.roster(federationId)) participants.push(await f.ledger.participant(federationId, a));
  } catch (e) {
    state = `unreadable: ${(e as Error).message.slice(0, 80)}`;
  }
  return JSON.stringify({ count, state, rounds, participants }, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

async function ethersCount(f: Fixture): Promise<number> {
  return (await f.ledger.queryFilter("*")).length;
}
