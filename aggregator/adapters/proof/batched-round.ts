// The batched path's production side (docs/protocol.md §14, docs/proof-of-training.md §4): what a
// participant signs with its BabyJubJub key, the entries and Poseidon commitment the committee
// posts with postBatchedRound, and the RoundAttested witness and Groth16 proof the aggregator
// submits with proveBatchedRound. The demo, the tests and the auditor build batched rounds only here.
import { getAddress } from "ethers";
import type { BatchedEntry, DpParams, SolidityProof } from "../../protocol/evidence.js";
import { DsainError, ErrorCode, ensureError } from "../../errors.js";
import { WEIGHT_TOTAL } from "../../protocol/constants.js";
import { fieldToBytes32, vectorRoot } from "../../protocol/vector-root.js";
import {
  attestationMessage,
  keyRegistry,
  signAttestation,
  updatesCommitment,
  verifyMessage,
  type AttestedEntry,
  type BabyJubKeyPair,
  type EdDSASignature,
  type KeyRegistry,
  type PublicKey,
} from "../../protocol/eddsa.js";
import { type EnsureOptions } from "./keys.js";
import { toSolidityProof } from "./prover.js";
import {
  buildRoundAttestedInput,
  proveInstance,
  type AttestedParticipant,
  type RoundAttestedBuild,
  type RoundAttestedInput,
} from "./sampled.js";
import { BATCHED_PUBLIC_INPUT_NAMES, batchedMeta, uint64 } from "../../protocol/batched.js";

/** What a participant of a batched round hands the aggregator besides its update. */
export interface BatchedAttestation {
  updateRoot: bigint;
  meta: bigint;
  /** EdDSA-Poseidon over Poseidon(scope, prevRoot, updateRoot, meta). */
  signature: EdDSASignature;
}

/**
 * The participant's side: commits to its encoded update and signs it for the round `scope`
 * (roundScope of chain, ledger, federation and round) on top of the parent model `prevRoot`.
 */
export async function signBatchedUpdate(
  key: BabyJubKeyPair,
  o: { scope: bigint; prevRoot: bigint; delta: Int32Array; sampleCount: bigint; dp: DpParams },
): Promise<BatchedAttestation> {
  if (!(o.delta instanceof Int32Array) || o.delta.length === 0) {
    throw new DsainError(ErrorCode.EMPTY_INPUT, "a batched attestation needs a non-empty encoded update (Int32Array)");
  }
  const updateRoot = await vectorRoot(o.delta);
  const meta = await batchedMeta(o.sampleCount, o.dp);
  const signature = await signAttestation(key.privateKey, { scope: o.scope, prevRoot: o.prevRoot, updateRoot, meta });
  return { updateRoot, meta, signature };
}

/** One participant's line of a batched round as the committee assembles it. */
export interface BatchedUpdate {
  /** Roster index = key-registry slot. */
  slot: number;
  participant: string;
  /** The participant's enrolled BabyJubJub key (its registry leaf). */
  publicKey: PublicKey;
  delta: Int32Array;
  sampleCount: bigint;
  weight: number;
  epsilonMicros: bigint;
  reputationMicros: number;
}

export interface BatchedEntries {
  /** postBatchedRound's entries, in ascending slot order. */
  entries: BatchedEntry[];
  /** What updatesCommitment commits to, same order. */
  attested: AttestedEntry[];
  metas: bigint[];
  updateRoots: bigint[];
  updatesCommitment: bigint;
}

/**
 * Entries of a batched record and their Poseidon commitment (docs/protocol.md §14). Refuses what the
 * ledger or the circuit would refuse later: slots not strictly ascending, missing keys, vectors of
 * different lengths, weights that are not integers summing to 65536, out-of-range fields.
 */
export async function batchedEntries(updates: readonly BatchedUpdate[], dp: DpParams): Promise<BatchedEntries> {
  if (updates.length < 1 || updates.length > 16) {
    throw new DsainError(ErrorCode.BAD_PARTICIPANT_SET, `a batched round has 1 to 16 entries (the circuit's K), got ${updates.length}`);
  }
  const length = updates[0].delta?.length;
  let sum = 0;
  updates.forEach((u, i) => {
    const who = `entry ${i} (slot ${u.slot})`;
    if (!Number.isInteger(u.slot) || u.slot < 0)
      throw new DsainError(ErrorCode.BAD_PARTICIPANT_SET, `${who}: slot ${u.slot} is not a roster index`);
    if (i > 0 && u.slot <= updates[i - 1].slot) {
      throw new DsainError(
        ErrorCode.BAD_PARTICIPANT_SET,
        `${who}: batched entries must be in strictly ascending roster index (slot ${u.slot} after ${updates[i - 1].slot})`,
      );
    }
    try {
      getAddress(u.participant);
    } catch (e) {
      throw new DsainError(ErrorCode.BAD_PARTICIPANT_SET, `${who}: participant ${String(u.participant)} is not an address`, { cause: e });
    }
    if (u.publicKey === null || u.publicKey === undefined) {
      throw new DsainError(
        ErrorCode.BAD_PARTICIPANT_SET,
        `${who}: ${u.participant} has no BabyJubJub key, so it cannot take part in a batched round`,
      );
    }
    if (!(u.delta instanceof Int32Array) || u.delta.length !== length || length === 0) {
      throw new DsainError(
        ErrorCode.VECTOR_LENGTH_MISMATCH,
        `${who}: the update has ${u.delta?.length ?? "no"} coordinates, entry 0 has ${length}`,
      );
    }
    if (!Number.isInteger(u.weight) || u.weight < 0 || u.weight > WEIGHT_TOTAL) {
      throw new DsainError(ErrorCode.BAD_WEIGHTS, `${who}: weight ${u.weight} is not an integer in [0, ${WEIGHT_TOTAL}]`);
    }
    if (!Number.isInteger(u.reputationMicros) || u.reputationMicros < 0 || u.reputationMicros >= 2 ** 32) {
      throw new DsainError(ErrorCode.INPUT_INVALID, `${who}: reputation ${u.reputationMicros} µ is not a uint32`);
    }
    uint64(`${who}: epsilonMicros`, u.epsilonMicros);
    if (u.sampleCount <= 0n) throw new DsainError(ErrorCode.BAD_SAMPLE_COUNT, `${who}: sample count ${u.sampleCount} must be positive`);
    sum += u.weight;
  });
  if (sum !== WEIGHT_TOTAL) throw new DsainError(ErrorCode.BAD_WEIGHTS, `the weights sum to ${sum}, not ${WEIGHT_TOTAL}`);
  const metas = await Promise.all(updates.map((u) => batchedMeta(u.sampleCount, dp)));
  const updateRoots = await Promise.all(updates.map((u) => vectorRoot(u.delta)));
  const entries: BatchedEntry[] = updates.map((u, i) => ({
    participant: getAddress(u.participant),
    updateRoot: fieldToBytes32(updateRoots[i]),
    sampleCount: u.sampleCount,
    weight: u.weight,
    epsilonMicros: u.epsilonMicros,
    reputationMicros: u.reputationMicros,
  }));
  const attested: AttestedEntry[] = updates.map((u, i) => ({
    publicKey: u.publicKey,
    updateRoot: updateRoots[i],
    weight: u.weight,
    meta: metas[i],
  }));
  return { entries, attested, metas, updateRoots, updatesCommitment: await updatesCommitment(attested) };
}

/** The key registry of a roster in slot order: a member's key, or null when it has none or is revoked. */
export function rosterRegistry(
  keys: readonly (PublicKey | null)[],
  depth: number,
  revoked: ReadonlySet<number> = new Set(),
): Promise<KeyRegistry> {
  return keyRegistry(
    keys.map((k, i) => (k === null || revoked.has(i) ? null : k)),
    depth,
  );
}

export interface BatchedProofArgs {
  /** roundScope(chainId, ledger, federationId, round). */
  scope: bigint;
  /** The key registry as it was when the round opened (the root the ledger snapshotted). */
  registry: KeyRegistry;
  prev: Int32Array;
  next: Int32Array;
  /** Updates in entry order (ascending slot). */
  deltas: readonly Int32Array[];
  weights: readonly number[];
  /** Registry slot, meta and EdDSA signature of each entry, same order. */
  participants: readonly AttestedParticipant[];
  /** The challenged chunks, batchedChallenge(federationId, round).chunkIndices. */
  chunkIndices: readonly number[];
  /** C of the federation's BatchedProofConfig. */
  chunkLevel?: number;
  /**
   * Verify each signature against its slot's key before building the witness (default true), so a
   * bad one is named instead of failing inside the witness generator.
   */
  checkSignatures?: boolean;
}

/** The RoundAttested witness of a batched round; refuses a bad signature naming its entry and slot. */
export async function buildBatchedProofInput(a: BatchedProofArgs): Promise<RoundAttestedBuild> {
  if (a.participants.length !== a.deltas.length || a.weights.length !== a.deltas.length) {
    throw new DsainError(
      ErrorCode.BAD_PARTICIPANT_SET,
      `${a.participants.length} attestations and ${a.weights.length} weights for ${a.deltas.length} updates`,
    );
  }
  if (a.chunkIndices.length === 0)
    throw new DsainError(ErrorCode.INPUT_INVALID, "no challenged chunk indices: read them with batchedChallenge first");
  if (a.checkSignatures !== false) {
    const prevRoot = await vectorRoot(a.prev);
    for (const [i, p] of a.participants.entries()) {
      const key = a.registry.keys[p.keyIndex];
      if (key === null || key === undefined) {
        throw new DsainError(
          ErrorCode.BAD_PARTICIPANT_SET,
          `entry ${i}: registry slot ${p.keyIndex} holds no key (no BabyJubJub key, revoked, or unused)`,
        );
      }
      const updateRoot = await vectorRoot(a.deltas[i]);
      const message = await attestationMessage(a.scope, prevRoot, updateRoot, p.meta);
      if (!(await verifyMessage(key, message, p.signature))) {
        throw new DsainError(
          ErrorCode.INPUT_INVALID,
          `entry ${i}: the EdDSA signature does not verify under the key of registry slot ${p.keyIndex} for this round's scope, parent model, update and meta`,
        );
      }
    }
  }
  return buildRoundAttestedInput({
    prev: a.prev,
    next: a.next,
    deltas: a.deltas,
    weights: a.weights,
    chunkIndices: a.chunkIndices,
    level: a.chunkLevel ?? 0,
    scope: a.scope,
    registry: a.registry,
    participants: a.participants,
  });
}

/**
 * Compares the witness's public signals with the ledger's batchedPublicInputs before proving;
 * throws naming the first input that differs (the proof would be refused on-chain).
 */
export function checkBatchedPublicInputs(round: bigint | number, built: readonly (string | bigint)[], ledger: readonly bigint[]): void {
  if (built.length !== ledger.length) {
    throw new DsainError(
      ErrorCode.ZK_PROOF_INVALID,
      `round ${round}: the witness has ${built.length} public inputs, the ledger's batchedPublicInputs ${ledger.length}`,
    );
  }
  for (let i = 0; i < built.length; i++) {
    if (BigInt(built[i]) !== ledger[i]) {
      const name = BATCHED_PUBLIC_INPUT_NAMES[i] ?? `chunkIndex_${i - BATCHED_PUBLIC_INPUT_NAMES.length + 1}`;
      throw new DsainError(
        ErrorCode.ZK_PROOF_INVALID,
        `round ${round}: public input ${name} is ${BigInt(built[i])} in the witness, ${ledger[i]} on the ledger`,
      );
    }
  }
}

export interface BatchedRoundProof {
  proof: SolidityProof;
  publicSignals: bigint[];
  witnessMs: number;
  proveMs: number;
}

/** Witness and Groth16 proof in this process (the demo's ProverQueue proves in a child process instead). */
export async function proveBatchedRoundInput(
  instance: string,
  input: RoundAttestedInput,
  options: EnsureOptions & { keepWorkers?: boolean } = {},
): Promise<BatchedRoundProof> {
  let proved;
  try {
    proved = await proveInstance(instance, input, options);
  } catch (e) {
    if (e instanceof DsainError) throw e;
    throw new DsainError(ErrorCode.ZK_PROOF_INVALID, `${instance}: proving failed: ${ensureError(e).message}`, { cause: e });
  }
  return {
    proof: toSolidityProof(proved.proof),
    publicSignals: proved.publicSignals.map(BigInt),
    witnessMs: proved.witnessMs,
    proveMs: proved.proveMs,
  };
}
