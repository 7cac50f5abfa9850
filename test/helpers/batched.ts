// Batched federations on Hardhat's network for ledger tests (docs/protocol.md §14): the real
// RoundAttested_2-1-0-2-2_test verifier, circomlibjs' Poseidon(2) hasher deployed from its committed
// bytecode, participants with ECDSA wallets and BabyJubJub keys, rounds over real encoded vectors and
// real EdDSA-Poseidon signatures, so every round a test posts can be proven with a real Groth16 proof.
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { deployLedger, deployPoseidon2Hasher } from "../../aggregator/adapters/chain/deploy.js";
import {
  AggregationRule,
  epsilonDebit,
  NO_PREDECESSOR,
  pkhDid,
  type BatchedEntry,
  type BatchedProofConfig,
  type FederationConfig,
  type ParticipantInfo,
  type SolidityProof,
  type DpParams,
} from "../../aggregator/protocol/evidence.js";
import { signBatchedRecord, type BuiltBatchedRecord } from "../../aggregator/adapters/chain/records.js";
import { attestationDomain, fieldToBytes32, isSelected, selectionBound, vectorRoot } from "../../aggregator/protocol/index.js";
import {
  babyJubKeyFromSeed,
  roundScope,
  signAttestation,
  type AttestedEntry,
  type BabyJubKeyPair,
  type KeyRegistry,
} from "../../aggregator/protocol/eddsa.js";
import { ensureCircuitKeys, type CircuitKeys } from "../../aggregator/adapters/proof/keys.js";
import { type RoundAttestedInput } from "../../aggregator/adapters/proof/sampled.js";
import { buildBatchedProofInput, proveBatchedRoundInput, rosterRegistry } from "../../aggregator/adapters/proof/batched-round.js";
import { seededVector } from "./random.js";
import { revokedIndices } from "./federation.js";
import { expect } from "chai";
import { fedAvgExact } from "../../aggregator/maths/robust/exact-rule.js";
import { aggregateRound, proposeBatchedRecord } from "../../aggregator/roles/aggregator.js";

/** The circuit instance whose verifier batched federations of these tests use: K = 2, DEPTH = 4, C = 0, S = 2, R = 2. */
export const BATCHED_INSTANCE = "RoundAttested_2-1-0-2-2_test";

/** 212 parameters: 2 chunks of 112, a tree of depth 1 as the instance opens. */
export const MODEL_LENGTH = 212;

/** A roster member: its ECDSA wallet (address, did:pkh) and its BabyJubJub key (null: EIP-712 only). */
export interface Member {
  wallet: Wallet;
  key: BabyJubKeyPair | null;
}

export async function member(label: string, withKey = true): Promise<Member> {
  return {
    wallet: new Wallet(keccak256(toUtf8Bytes(`dsain batched test: ${label}`))),
    key: withKey ? await babyJubKeyFromSeed(`dsain batched test: ${label}`) : null,
  };
}

export type Stack = Awaited<ReturnType<typeof deployStack>>;

/** The ledger (with an aggregator), the hasher, the RoundAttested verifier and a RoundChunk verifier for the EIP-712 path. */
export async function deployStack(ethers: any) {
  const [admin, aggregator, outsider] = await ethers.getSigners();
  const keys: CircuitKeys = await ensureCircuitKeys(BATCHED_INSTANCE);
  const ledger = await deployLedger(ethers, admin.address, [aggregator.address]);
  const hasher = await deployPoseidon2Hasher(ethers);
  const verifier = await ethers.deployContract(keys.instance.verifier);
  const chunkVerifier = await ethers.deployContract("RoundChunkVerifier_4_1");
  const chainId: bigint = (await ethers.provider.getNetwork()).chainId;
  const ledgerAddress: string = await ledger.getAddress();
  const committee = [0, 1, 2].map((i) => new Wallet(keccak256(toUtf8Bytes(`dsain batched test: aggregator ${i}`))));
  return {
    ethers,
    admin,
    aggregator,
    outsider,
    keys,
    ledger,
    hasher,
    hasherAddress: (await hasher.getAddress()) as string,
    verifier,
    verifierAddress: (await verifier.getAddress()) as string,
    chunkVerifierAddress: (await chunkVerifier.getAddress()) as string,
    /** The key RoundChunkVerifier_4_1 was generated from: the direct path's pin. */
    chunkKeyHash: (await chunkVerifier.VERIFYING_KEY_HASH()) as string,
    chainId,
    ledgerAddress,
    domain: attestationDomain(chainId, ledgerAddress),
    committee,
  };
}

/** A batched federation's DP parameters in the tests: each update debits 100,000 µε (docs/protocol.md §13). */
export const BATCHED_DP: DpParams = { epsilonMicros: 100_000n, deltaPicos: 10_000n, clipMicros: 1_000_000n, noiseMicros: 1_100_000n };

export interface FederationOptions {
  /** The DP parameters every attestation is made under; each entry's debit is epsilonDebit(dp) (default BATCHED_DP). */
  dp?: DpParams;
  k?: number;
  registryDepth?: number;
  samples?: number;
  chunkLevel?: number;
  modelLength?: number;
  epsilonBudgetMicros?: bigint;
  roundDeadline?: number;
  finalityDelay?: number;
  /** Genesis vector seed (the same seed gives the same genesis model in every federation). */
  genesisSeed?: number;
}

/** The FederationConfig and BatchedProofConfig of a batched federation of `stack`. */
export async function batchedConfigs(
  stack: Stack,
  o: FederationOptions = {},
): Promise<{ config: FederationConfig; batched: BatchedProofConfig; genesis: Int32Array }> {
  const k = o.k ?? 2;
  const modelLength = o.modelLength ?? MODEL_LENGTH;
  const genesis = seededVector(o.genesisSeed ?? 7, modelLength, 1 << 24);
  const config: FederationConfig = {
    modelId: "batched-test",
    modelLength,
    participantsPerRound: k,
    minUpdates: k,
    roundDeadline: o.roundDeadline ?? 3600,
    finalityDelay: o.finalityDelay ?? 0,
    aggregation: { rule: AggregationRule.FedAvg, tauMicros: 0n, reputationDecayMicros: 0n },
    dp: o.dp ?? BATCHED_DP,
    epsilonBudgetMicros: o.epsilonBudgetMicros ?? 1_000_000n,
    committee: stack.committee.map((w) => w.address),
    quorum: 2,
    verifier: stack.chunkVerifierAddress,
    verifyingKeyHash: stack.chunkKeyHash,
    genesisModelRoot: fieldToBytes32(await vectorRoot(genesis)),
    genesisCidCodec: 0x55,
    genesisCidDigest: keccak256(toUtf8Bytes("batched genesis checkpoint")),
    predecessor: NO_PREDECESSOR,
  };
  const batched: BatchedProofConfig = {
    verifier: stack.verifierAddress,
    verifyingKeyHash: stack.keys.vkeyHash,
    poseidon2: stack.hasherAddress,
    samples: o.samples ?? 2,
    chunkLevel: o.chunkLevel ?? 0,
    registryDepth: o.registryDepth ?? 2,
  };
  return { config, batched, genesis };
}

export function participantInfo(chainId: bigint, m: Member): ParticipantInfo {
  return {
    signer: m.wallet.address,
    did: pkhDid(chainId, m.wallet.address),
    babyJubJubKey: m.key === null ? [0n, 0n] : [m.key.publicKey[0], m.key.publicKey[1]],
  };
}

/** A batched federation as the tests drive it: the roster by slot and every model vector committed, by root. */
export interface Federation {
  id: bigint;
  stack: Stack;
  config: FederationConfig;
  batched: BatchedProofConfig;
  /** Roster in slot (= roster index) order; revoked members stay, as on-chain. */
  roster: Member[];
  revoked: Set<number>;
  models: Map<string, Int32Array>;
}

export async function createBatchedFederation(stack: Stack, roster: Member[], o: FederationOptions = {}): Promise<Federation> {
  const { config, batched, genesis } = await batchedConfigs(stack, o);
  const tx = await stack.ledger.createBatchedFederation(
    config,
    roster.map((m) => participantInfo(stack.chainId, m)),
    batched,
  );
  const receipt = await tx.wait();
  const created = receipt.logs.map((l: any) => stack.ledger.interface.parseLog(l)).find((e: any) => e?.name === "BatchedFederationCreated");
  return {
    id: created.args.federationId as bigint,
    stack,
    config,
    batched,
    roster: [...roster],
    revoked: new Set(),
    models: new Map([[config.genesisModelRoot, genesis]]),
  };
}

export async function enrolMember(f: Federation, m: Member): Promise<any> {
  const receipt = await (await f.stack.ledger.enrol(f.id, participantInfo(f.stack.chainId, m))).wait();
  f.roster.push(m);
  return receipt;
}

export async function revokeMember(f: Federation, slot: number): Promise<any> {
  const receipt = await (await f.stack.ledger.revoke(f.id, f.roster[slot].wallet.address)).wait();
  f.revoked.add(slot);
  return receipt;
}

/** The TypeScript key registry of the first `size` roster slots, with `revoked` slots emptied. */
export function registryOf(f: Federation, size = f.roster.length, revoked: ReadonlySet<number> = f.revoked): Promise<KeyRegistry> {
  return rosterRegistry(
    f.roster.slice(0, size).map((m) => (m.key === null ? null : m.key.publicKey)),
    f.batched.registryDepth,
    revoked,
  );
}

/** Roster slots in S_t of the open round, from the contract's seed, snapshot and revocations (§10). */
export async function selectedSlots(f: Federation): Promise<number[]> {
  const [, s] = await f.stack.ledger.federation(f.id);
  const size = Number(s.rosterSize);
  const roster = f.roster.map((m) => m.wallet.address);
  const revoked = await revokedIndices(f.stack.ledger, f.id, roster, size, s.lastRound + 1n);
  const bound = selectionBound(size, f.config.participantsPerRound, s.selectionSeed, revoked);
  expect(bound, "the ledger's selection bound").to.equal(Number(s.selectionBound));
  return Array.from({ length: size }, (_, i) => i).filter((i) => !revoked.has(i) && isSelected(i, size, bound, s.selectionSeed));
}

export interface RoundOptions {
  /** Roster slots of the entries, in the order posted (default: S_t ascending). */
  slots?: number[];
  round?: bigint;
  parentRound?: bigint;
  epsilonMicros?: bigint;
  /** Varies the updates (and so the new model) of a record with the same participants. */
  tag?: number;
  /** Keys the committed entries name, by position (default: each participant's own): a dishonest commitment. */
  committedKeys?: (BabyJubKeyPair | null)[];
  /** Committee members who sign (default: the first two). */
  committeeSigners?: Wallet[];
}

/** A batched round as the committee builds it: vectors, entries, the Poseidon commitment, the record and its signatures. */
export interface BatchedRound {
  federation: Federation;
  round: bigint;
  parentRound: bigint;
  slots: number[];
  prev: Int32Array;
  next: Int32Array;
  deltas: Int32Array[];
  weights: number[];
  metas: bigint[];
  entries: BatchedEntry[];
  attested: AttestedEntry[];
  updatesCommitment: bigint;
  record: BuiltBatchedRecord;
  quorumSignatures: string[];
}

export async function buildBatchedRound(f: Federation, o: RoundOptions = {}): Promise<BatchedRound> {
  const [, s] = await f.stack.ledger.federation(f.id);
  const round = o.round ?? (s.lastRound as bigint) + 1n;
  const parentRound = o.parentRound ?? (s.head as bigint);
  const slots = o.slots ?? (await selectedSlots(f));
  const parentRoot = (await f.stack.ledger.roundRecord(f.id, parentRound)).modelRoot as string;
  const prev = f.models.get(parentRoot);
  if (prev === undefined) throw new Error(`round ${parentRound}'s model root ${parentRoot} is not a vector this federation committed to`);
  const counts = slots.map((slot) => BigInt(300 + 97 * slot));
  const deltas = slots.map((slot) => seededVector(1000 * Number(round) + 10 * slot + (o.tag ?? 0) + 1, prev.length, 1 << 20));
  // The round library's steps: FedAvg on the exact path, then the entries and their Poseidon
  // commitment (the production builder) and the BatchedRoundRecord.
  const lines = slots.map((slot, i) => {
    const key = o.committedKeys?.[i] ?? f.roster[slot].key;
    if (key === null) throw new Error(`slot ${slot} has no BabyJubJub key`);
    return {
      slot,
      participant: f.roster[slot].wallet.address,
      publicKey: key.publicKey,
      delta: deltas[i],
      sampleCount: counts[i],
      epsilonMicros: o.epsilonMicros ?? epsilonDebit(f.config.dp),
    };
  });
  const { decision, next } = aggregateRound(fedAvgExact, { model: prev, reputations: new Map() }, lines);
  const weights = decision.weights;
  const modelRoot = fieldToBytes32(await vectorRoot(next));
  f.models.set(modelRoot, next);
  const { record, built } = await proposeBatchedRecord(
    f.id,
    { round, parentRound, reputations: new Map() },
    { modelRoot, cidCodec: 0x55, cidDigest: keccak256(toUtf8Bytes(`batched round ${f.id}/${round}/${o.tag ?? 0}`)) },
    lines,
    decision,
    f.config.dp,
  );
  const { metas, entries, attested } = built;
  const commitment = built.updatesCommitment;
  const quorumSignatures = await signBatchedRecord(o.committeeSigners ?? f.stack.committee.slice(0, 2), f.stack.domain, record.message);
  return {
    federation: f,
    round,
    parentRound,
    slots,
    prev,
    next,
    deltas,
    weights,
    metas,
    entries,
    attested,
    updatesCommitment: commitment,
    record,
    quorumSignatures,
  };
}

export async function postBatchedRound(r: BatchedRound): Promise<any> {
  const { ledger, aggregator } = r.federation.stack;
  return (
    await ledger
      .connect(aggregator)
      .postBatchedRound(r.federation.id, r.record.post, r.entries, r.record.updatesCommitment, r.quorumSignatures)
  ).wait();
}

/** Mines blocks until the round's challenge is readable (the block after its posting exists); returns it. */
export async function waitForChallenge(r: BatchedRound): Promise<{ seed: string; chunkIndices: number[] }> {
  const { ledger, ethers } = r.federation.stack;
  for (let tries = 0; ; tries++) {
    try {
      const [seed, indices] = await ledger.batchedChallenge(r.federation.id, r.round);
      return { seed, chunkIndices: (indices as bigint[]).map(Number) };
    } catch (e) {
      if (tries >= 3) throw e;
      await ethers.provider.send("hardhat_mine", ["0x1"]);
    }
  }
}

export interface ProofOptions {
  chunkIndices: readonly number[];
  /** The registry the proof opens keys against (default: the round's, the roster at its opening, nothing revoked since). */
  registry: KeyRegistry;
  /** Registry slots the proof uses, by position (default: the round's). */
  keySlots?: number[];
  /** Who signs each position's attestation (default: the slot's own key). */
  signers?: BabyJubKeyPair[];
  /** The scope signed and proven (default: the round's). */
  scope?: bigint;
}

export interface BatchedProof {
  proof: SolidityProof;
  publicSignals: bigint[];
  input: RoundAttestedInput;
}

/** The witness of a batched round's proof: each participant's EdDSA signature over its update, opened at the given chunks. */
export async function batchedProofInput(r: BatchedRound, o: ProofOptions): Promise<RoundAttestedInput> {
  const f = r.federation;
  const scope = o.scope ?? roundScope(f.stack.chainId, f.stack.ledgerAddress, f.id, r.round);
  const prevRoot = await vectorRoot(r.prev);
  const keySlots = o.keySlots ?? r.slots;
  const participants = await Promise.all(
    keySlots.map(async (keyIndex, i) => {
      const signer = o.signers?.[i] ?? f.roster[keyIndex].key!;
      return {
        keyIndex,
        meta: r.metas[i],
        signature: await signAttestation(signer.privateKey, { scope, prevRoot, updateRoot: r.attested[i].updateRoot, meta: r.metas[i] }),
      };
    }),
  );
  const build = await buildBatchedProofInput({
    prev: r.prev,
    next: r.next,
    deltas: r.deltas,
    weights: r.weights,
    chunkIndices: o.chunkIndices,
    chunkLevel: f.batched.chunkLevel,
    scope,
    registry: o.registry,
    participants,
    // Tests forge signatures on purpose: let the witness generator be the one to refuse them.
    checkSignatures: o.signers === undefined,
  });
  return build.input;
}

export async function proveBatched(r: BatchedRound, o: ProofOptions): Promise<BatchedProof> {
  const input = await batchedProofInput(r, o);
  const proved = await proveBatchedRoundInput(BATCHED_INSTANCE, input, { keepWorkers: true });
  return { proof: proved.proof, publicSignals: proved.publicSignals, input };
}
