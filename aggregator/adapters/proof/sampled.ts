// Typed input builders for the sampled round proofs (circuits/round_sampled.circom RoundChunks and
// circuits/round_attested.circom RoundAttested), and witness / prove / verify for any instance of
// circuits/circuits.json. Tests, the benchmark and production build inputs only through these.
import { DsainError, ErrorCode, ensureError } from "../../errors.js";
import { checkWeights } from "../../protocol/aggregation.js";
import { CHUNK_SIZE, WEIGHT_TOTAL } from "../../protocol/constants.js";
import { chunkCount, chunkFields, vectorTree, type VectorTree } from "../../protocol/vector-root.js";
import {
  entryHash,
  registryPath,
  updatesCommitment,
  type AttestedEntry,
  type EdDSASignature,
  type KeyRegistry,
} from "../../protocol/eddsa.js";
import { challengeChunkCount } from "../../protocol/challenge.js";
import {
  ensureCircuitKeys,
  loadSnarkjs,
  releaseZkWorkers,
  type CircuitKeys,
  type CircuitSignals,
  type EnsureOptions,
  type Groth16Proof,
  type VerificationKey,
} from "./keys.js";
import { packParticipantSlots } from "../../protocol/batched.js";

const str = (xs: readonly bigint[]) => xs.map((x) => x.toString());

/** The vectors of one round and the challenged chunks to open. */
export interface SampledRoundArgs {
  /** Encoded model w_t. */
  prev: Int32Array;
  /** Encoded model w_{t+1} = aggregateExact(prev, deltas, weights). */
  next: Int32Array;
  /** Encoded updates, in the round's participant order. */
  deltas: readonly Int32Array[];
  /** Integer weights a_i summing to 65536, same order. */
  weights: readonly number[];
  /** Challenged chunk indices at `level` (challengeIndices of the round's seed). */
  chunkIndices: readonly number[];
  /** Chunk level C: a chunk is 2^C leaves, 112 * 2^C coordinates (default 0). */
  level?: number;
  /** Trees already computed by the caller (vectorTree of the same vectors), to skip rehashing. */
  trees?: { prev?: VectorTree; next?: VectorTree; deltas?: readonly VectorTree[] };
}

/** The private chunk witness shared by RoundChunks and RoundAttested, plus the roots it opens to. */
export interface SampledChunks {
  prevRoot: bigint;
  newRoot: bigint;
  updateRoots: bigint[];
  depth: number;
  level: number;
  witness: {
    prev: string[][];
    next: string[][];
    deltas: string[][][];
    remainders: string[][];
    prevPath: string[][];
    nextPath: string[][];
    deltaPaths: string[][][];
  };
}

/** Sibling path of the level-`level` node `index`, bottom-up to the root. */
export function levelPath(tree: VectorTree, level: number, index: number): bigint[] {
  const path: bigint[] = [];
  let i = index;
  for (let d = level; d < tree.depth; d++) {
    path.push(tree.levels[d][i ^ 1] ?? 0n);
    i >>= 1;
  }
  return path;
}

/** Coordinates [from, from + count) as field elements, zero past the end (whole leaves of chunkFields). */
function coordinates(values: Int32Array, level: number, index: number): bigint[] {
  const leaves = 2 ** level;
  const out: bigint[] = [];
  for (let l = 0; l < leaves; l++) out.push(...chunkFields(values, index * leaves + l));
  return out;
}

/**
 * Opens every vector at each challenged chunk and computes the remainders
 * r = prev * 65536 + sum a_i * delta_i - next * 65536. Throws if `next` is not the exact aggregate
 * on a challenged chunk (no proof could exist) or if a chunk index is out of range.
 */
export async function buildSampledChunks(args: SampledRoundArgs): Promise<SampledChunks> {
  const { prev, next, deltas, weights, chunkIndices } = args;
  const level = args.level ?? 0;
  checkWeights([...weights], deltas.length);
  for (const [name, v] of [["next", next], ...deltas.map((d, i) => [`update ${i}`, d] as const)] as const) {
    if (v.length !== prev.length) {
      throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `${name} has ${v.length} parameters, the model ${prev.length}`);
    }
  }
  const leaves = chunkCount(prev.length);
  if (level > 0 && leaves % 2 ** level !== 0) {
    // A level-C chunk holding padding leaves (which are 0, not Poseidon16 of zeros) cannot be
    // opened by ChunkOpening; instances with C >= 1 serve only models whose leaf count divides.
    throw new DsainError(
      ErrorCode.INPUT_INVALID,
      `chunk level ${level} needs the leaf count (${leaves}) to be a multiple of ${2 ** level}; use level 0 for this model`,
    );
  }
  const chunks = challengeChunkCount(prev.length, level);
  for (const u of chunkIndices) {
    if (!Number.isInteger(u) || u < 0 || u >= chunks) {
      throw new DsainError(ErrorCode.INPUT_INVALID, `chunk index ${u} is outside [0, ${chunks}) at level ${level}`);
    }
  }

  const prevTree = args.trees?.prev ?? (await vectorTree(prev));
  const nextTree = args.trees?.next ?? (await vectorTree(next));
  const deltaTrees = args.trees?.deltas ?? (await Promise.all(deltas.map((d) => vectorTree(d))));
  if (deltaTrees.length !== deltas.length) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${deltaTrees.length} update trees for ${deltas.length} updates`);
  }
  if (level > prevTree.depth)
    throw new DsainError(ErrorCode.INPUT_INVALID, `chunk level ${level} exceeds the tree depth ${prevTree.depth}`);

  const A = BigInt(WEIGHT_TOTAL);
  const span = CHUNK_SIZE * 2 ** level;
  const witness: SampledChunks["witness"] = {
    prev: [],
    next: [],
    deltas: [],
    remainders: [],
    prevPath: [],
    nextPath: [],
    deltaPaths: [],
  };
  for (const u of chunkIndices) {
    const remainders: bigint[] = [];
    for (let k = 0; k < span; k++) {
      const j = u * span + k;
      if (j >= prev.length) {
        remainders.push(0n); // padding coordinates: prev = next = delta = 0
        continue;
      }
      let s = 0n;
      for (let i = 0; i < deltas.length; i++) s += BigInt(weights[i]) * BigInt(deltas[i][j]);
      const r = BigInt(prev[j]) * A + s - BigInt(next[j]) * A;
      if (r < 0n || r >= A) {
        throw new DsainError(
          ErrorCode.INPUT_INVALID,
          `parameter ${j}: next = ${next[j]} is not prev + floor(sum a_i * delta_i / ${WEIGHT_TOTAL}) (remainder ${r}); no proof exists`,
        );
      }
      remainders.push(r);
    }
    witness.prev.push(str(coordinates(prev, level, u)));
    witness.next.push(str(coordinates(next, level, u)));
    witness.deltas.push(deltas.map((d) => str(coordinates(d, level, u))));
    witness.remainders.push(str(remainders));
    witness.prevPath.push(str(levelPath(prevTree, level, u)));
    witness.nextPath.push(str(levelPath(nextTree, level, u)));
    witness.deltaPaths.push(deltaTrees.map((t) => str(levelPath(t, level, u))));
  }
  return {
    prevRoot: prevTree.root,
    newRoot: nextTree.root,
    updateRoots: deltaTrees.map((t) => t.root),
    depth: prevTree.depth,
    level,
    witness,
  };
}

// --- RoundChunks (EIP-712 path) ----------------------------------------------------------------

export interface RoundChunksInput extends CircuitSignals {
  prevRoot: string;
  newRoot: string;
  chunkIndices: string[];
  updateRoots: string[];
  weights: string[];
  prev: string[][];
  next: string[][];
  deltas: string[][][];
  remainders: string[][];
  prevPath: string[][];
  nextPath: string[][];
  deltaPaths: string[][][];
}

export interface RoundChunksPublic {
  prevRoot: bigint;
  newRoot: bigint;
  chunkIndices: readonly number[];
  updateRoots: readonly bigint[];
  weights: readonly number[];
}

/** [prevRoot, newRoot, chunkIndex_1..S, updateRoot_1..K, weight_1..K]: the ledger's order for RoundChunks. */
export function roundChunksPublicSignals(pub: RoundChunksPublic): string[] {
  return [pub.prevRoot, pub.newRoot, ...pub.chunkIndices, ...pub.updateRoots, ...pub.weights].map((v) => BigInt(v).toString());
}

export interface RoundChunksBuild {
  input: RoundChunksInput;
  publicInputs: RoundChunksPublic;
  publicSignals: string[];
  depth: number;
}

export async function buildRoundChunksInput(args: SampledRoundArgs): Promise<RoundChunksBuild> {
  const chunks = await buildSampledChunks(args);
  // Weights are public here: the witness takes them in the order the participants are listed.
  const publicInputs: RoundChunksPublic = {
    prevRoot: chunks.prevRoot,
    newRoot: chunks.newRoot,
    chunkIndices: [...args.chunkIndices],
    updateRoots: chunks.updateRoots,
    weights: [...args.weights],
  };
  const input: RoundChunksInput = {
    prevRoot: chunks.prevRoot.toString(),
    newRoot: chunks.newRoot.toString(),
    chunkIndices: args.chunkIndices.map(String),
    updateRoots: str(chunks.updateRoots),
    weights: args.weights.map(String),
    ...chunks.witness,
  };
  return { input, publicInputs, publicSignals: roundChunksPublicSignals(publicInputs), depth: chunks.depth };
}

// --- RoundAttested (batched path) ----------------------------------------------------------------

/** One participant of a batched round, in the order of `deltas` (strictly ascending keyIndex). */
export interface AttestedParticipant {
  /** Slot of the participant's key in the federation's key registry. */
  keyIndex: number;
  /** attestationMeta of its sample count and DP parameters. */
  meta: bigint;
  /** signMessage(privateKey, attestationMessage(scope, prevRoot, updateRoot, meta)). */
  signature: EdDSASignature;
}

export interface RoundAttestedArgs extends SampledRoundArgs {
  /** roundScope(chainId, ledger, federationId, round). */
  scope: bigint;
  registry: KeyRegistry;
  participants: readonly AttestedParticipant[];
}

export interface RoundAttestedInput extends CircuitSignals {
  scope: string;
  prevRoot: string;
  newRoot: string;
  keyRegistryRoot: string;
  participantSlots: string;
  updatesCommitment: string;
  chunkIndices: string[];
  updateRoots: string[];
  weights: string[];
  metas: string[];
  pubKeys: string[][];
  sigR8: string[][];
  sigS: string[];
  keyIndices: string[];
  keyPaths: string[][];
  prev: string[][];
  next: string[][];
  deltas: string[][][];
  remainders: string[][];
  prevPath: string[][];
  nextPath: string[][];
  deltaPaths: string[][][];
}

export interface RoundAttestedPublic {
  scope: bigint;
  prevRoot: bigint;
  newRoot: bigint;
  keyRegistryRoot: bigint;
  /** packParticipantSlots of the participants' registry slots. */
  participantSlots: bigint;
  updatesCommitment: bigint;
  chunkIndices: readonly number[];
}

/**
 * [scope, prevRoot, newRoot, keyRegistryRoot, participantSlots, updatesCommitment, chunkIndex_1..S]:
 * the ledger's order for RoundAttested.
 */
export function roundAttestedPublicSignals(pub: RoundAttestedPublic): string[] {
  return [pub.scope, pub.prevRoot, pub.newRoot, pub.keyRegistryRoot, pub.participantSlots, pub.updatesCommitment, ...pub.chunkIndices].map(
    (v) => BigInt(v).toString(),
  );
}

export interface RoundAttestedBuild {
  input: RoundAttestedInput;
  publicInputs: RoundAttestedPublic;
  publicSignals: string[];
  /** The entries the commitment covers, what the aggregator posts beside it for auditors. */
  entries: AttestedEntry[];
  entryHashes: bigint[];
  depth: number;
}

export async function buildRoundAttestedInput(args: RoundAttestedArgs): Promise<RoundAttestedBuild> {
  const { participants, registry } = args;
  if (participants.length !== args.deltas.length) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${participants.length} attestations for ${args.deltas.length} updates`);
  }
  for (let i = 1; i < participants.length; i++) {
    if (participants[i].keyIndex <= participants[i - 1].keyIndex) {
      throw new DsainError(
        ErrorCode.BAD_PARTICIPANT_SET,
        `participants must be listed by strictly ascending key index (position ${i}: ${participants[i].keyIndex} after ${participants[i - 1].keyIndex})`,
      );
    }
  }
  const keyPaths = participants.map((p) => str(registryPath(registry, p.keyIndex))); // refuses empty slots
  const chunks = await buildSampledChunks(args);
  const entries: AttestedEntry[] = participants.map((p, i) => ({
    publicKey: registry.keys[p.keyIndex]!, // registryPath above refused empty slots
    updateRoot: chunks.updateRoots[i],
    weight: args.weights[i],
    meta: p.meta,
  }));
  const entryHashes = await Promise.all(entries.map((e) => entryHash(e)));
  const commitment = await updatesCommitment(entries);
  const participantSlots = packParticipantSlots(
    participants.map((p) => p.keyIndex),
    registry.depth,
  );
  const publicInputs: RoundAttestedPublic = {
    scope: args.scope,
    prevRoot: chunks.prevRoot,
    newRoot: chunks.newRoot,
    keyRegistryRoot: registry.root,
    participantSlots,
    updatesCommitment: commitment,
    chunkIndices: [...args.chunkIndices],
  };
  const input: RoundAttestedInput = {
    scope: args.scope.toString(),
    prevRoot: chunks.prevRoot.toString(),
    newRoot: chunks.newRoot.toString(),
    keyRegistryRoot: registry.root.toString(),
    participantSlots: participantSlots.toString(),
    updatesCommitment: commitment.toString(),
    chunkIndices: args.chunkIndices.map(String),
    updateRoots: str(chunks.updateRoots),
    weights: args.weights.map(String),
    metas: participants.map((p) => p.meta.toString()),
    pubKeys: entries.map((e) => str(e.publicKey)),
    sigR8: participants.map((p) => str(p.signature.R8)),
    sigS: participants.map((p) => p.signature.S.toString()),
    keyIndices: participants.map((p) => String(p.keyIndex)),
    keyPaths,
    ...chunks.witness,
  };
  return { input, publicInputs, publicSignals: roundAttestedPublicSignals(publicInputs), entries, entryHashes, depth: chunks.depth };
}

// --- witness, prove, verify for any instance -----------------------------------------------------

function expectLength(instance: string, what: string, actual: unknown, expected: number): void {
  const n = Array.isArray(actual) ? actual.length : -1;
  if (n !== expected) throw new DsainError(ErrorCode.INPUT_INVALID, `${instance} expects ${expected} ${what}, the input has ${n}`);
}

/**
 * Checks an input's array shapes against the instance's template parameters before circom sees
 * it, so a mismatch names the parameter instead of failing deep in the witness generator.
 */
export function checkInputShape(keys: CircuitKeys, input: CircuitSignals): void {
  const { template, params, name } = keys.instance;
  const sampled = (K: number, DEPTH: number, C: number, S: number) => {
    const N = CHUNK_SIZE * 2 ** C;
    expectLength(name, "chunk indices", input.chunkIndices, S);
    expectLength(name, "update roots", input.updateRoots, K);
    expectLength(name, "weights", input.weights, K);
    expectLength(name, "challenged chunks of prev", input.prev, S);
    for (const s of (input.prev as unknown[][]) ?? []) expectLength(name, "coordinates per chunk", s, N);
    for (const s of (input.deltas as unknown[][]) ?? []) expectLength(name, "updates per chunk", s, K);
    for (const s of (input.prevPath as unknown[][]) ?? []) expectLength(name, "siblings per path (DEPTH - C)", s, DEPTH - C);
  };
  if (template === "RoundChunks") {
    const [K, DEPTH, C, S] = params;
    sampled(K, DEPTH, C, S);
  } else if (template === "RoundAttested") {
    const [K, DEPTH, C, S, R] = params;
    sampled(K, DEPTH, C, S);
    expectLength(name, "public keys", input.pubKeys, K);
    for (const p of (input.keyPaths as unknown[][]) ?? []) expectLength(name, "registry siblings (R)", p, R);
  } else if (template === "RoundChunk") {
    const [K, DEPTH] = params;
    expectLength(name, "update roots", input.updateRoots, K);
    expectLength(name, "siblings per path", input.prevPath, DEPTH);
  } else {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${name}: no input shape known for template ${template}`);
  }
}

/** Runs the instance's witness generator only: throws DSAIN_ZK_WITNESS_FAILED if a constraint fails. */
export async function calculateWitness(instanceName: string, input: CircuitSignals, options: EnsureOptions = {}): Promise<Uint8Array> {
  const keys = await ensureCircuitKeys(instanceName, options);
  checkInputShape(keys, input);
  const snarkjs = await loadSnarkjs();
  const wtns: { type: "mem"; data?: Uint8Array } = { type: "mem" };
  try {
    await snarkjs.wtns.calculate(input, keys.wasmPath, wtns);
  } catch (e) {
    throw new DsainError(
      ErrorCode.ZK_WITNESS_FAILED,
      `the ${instanceName} witness does not satisfy the circuit: ${ensureError(e).message}`,
      {
        cause: e,
      },
    );
  }
  return wtns.data!;
}

export interface InstanceProof {
  proof: Groth16Proof;
  publicSignals: string[];
  witnessMs: number;
  proveMs: number;
}

export interface InstanceProveOptions extends EnsureOptions {
  /** Keep snarkjs' worker threads alive for further calls; then call releaseZkWorkers() at the end. */
  keepWorkers?: boolean;
}

/** Witness generation then Groth16 proving, each timed. */
export async function proveInstance(
  instanceName: string,
  input: CircuitSignals,
  options: InstanceProveOptions = {},
): Promise<InstanceProof> {
  const keys = await ensureCircuitKeys(instanceName, options);
  const snarkjs = await loadSnarkjs();
  try {
    const t0 = performance.now();
    const witness = await calculateWitness(instanceName, input, options);
    const t1 = performance.now();
    const { proof, publicSignals } = await snarkjs.groth16.prove(keys.zkeyPath, { type: "mem", data: witness });
    const t2 = performance.now();
    return { proof, publicSignals, witnessMs: t1 - t0, proveMs: t2 - t1 };
  } finally {
    if (!options.keepWorkers) await releaseZkWorkers();
  }
}

/** Verifies a proof with the instance's verifying key (or a given one). Public signals must be < p. */
export async function verifyInstance(
  instanceOrVkey: string | VerificationKey,
  publicSignals: readonly (string | bigint | number)[],
  proof: Groth16Proof,
  options: InstanceProveOptions = {},
): Promise<boolean> {
  const vkey = typeof instanceOrVkey === "string" ? (await ensureCircuitKeys(instanceOrVkey, options)).vkey : instanceOrVkey;
  const snarkjs = await loadSnarkjs();
  try {
    return await snarkjs.groth16.verify(
      vkey,
      publicSignals.map((s) => BigInt(s).toString()),
      proof,
    );
  } finally {
    if (!options.keepWorkers) await releaseZkWorkers();
  }
}
