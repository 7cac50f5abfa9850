// Builds the witness input of circuits/round_chunk.circom from a round's encoded vectors, and
// proves and verifies one challenged chunk with snarkjs (Groth16) under the keys of keys.ts.
import { DsainError, ErrorCode } from "../../errors.js";
import { checkWeights } from "../../protocol/aggregation.js";
import { padSlots } from "../../protocol/commitment.js";
import { CHUNK_SIZE, WEIGHT_TOTAL } from "../../protocol/constants.js";
import { chunkCount, chunkFields, merklePath, vectorTree, type VectorTree } from "../../protocol/vector-root.js";
import { ensureCircuitKeys, type CircuitSignals, type EnsureOptions, type Groth16Proof, type VerificationKey } from "./keys.js";
import { calculateWitness, proveInstance, verifyInstance, type InstanceProof, type InstanceProveOptions } from "./sampled.js";

/** The circuit's input signals, as decimal strings of field elements (negative q becomes q + p). */
export interface RoundChunkInput extends CircuitSignals {
  prevRoot: string;
  newRoot: string;
  chunkIndex: string;
  updateRoots: string[];
  weights: string[];
  prev: string[];
  next: string[];
  deltas: string[][];
  remainders: string[];
  prevPath: string[];
  nextPath: string[];
  deltaPaths: string[][];
}

/** The public inputs a round chunk proof commits to, in the circuit's (and contract's) order. */
export interface RoundChunkPublic {
  prevRoot: bigint;
  newRoot: bigint;
  chunkIndex: number;
  updateRoots: bigint[];
  weights: number[];
}

export interface RoundChunkArgs {
  /** Encoded model w_t. */
  prev: Int32Array;
  /** Encoded model w_{t+1} = aggregateExact(prev, deltas, weights). */
  next: Int32Array;
  /** Encoded updates of the K participants, in the order of the round's updateRoots. */
  deltas: readonly Int32Array[];
  /** Integer weights a_i summing to 65536. */
  weights: readonly number[];
  /** The challenged chunk. */
  chunkIndex: number;
  /** Trees already computed by the caller (vectorTree of the same vectors), to skip rehashing. */
  trees?: { prev?: VectorTree; next?: VectorTree; deltas?: readonly VectorTree[] };
  /**
   * The circuit's K, when the round has fewer updates (a dropout round): slots n+1..K are filled
   * with the first update at weight 0, as the ledger's public inputs are (docs/protocol.md §8).
   */
  slots?: number;
}

export interface RoundChunkBuild {
  input: RoundChunkInput;
  publicInputs: RoundChunkPublic;
  /** The publicSignals a valid proof carries: [prevRoot, newRoot, chunkIndex, ...updateRoots, ...weights]. */
  publicSignals: string[];
  /** Tree depth of the vectors; the circuit instance's DEPTH must equal it. */
  depth: number;
}

export function publicSignalsOf(pub: RoundChunkPublic): string[] {
  return [pub.prevRoot, pub.newRoot, pub.chunkIndex, ...pub.updateRoots, ...pub.weights].map((v) => BigInt(v).toString());
}

/**
 * The full witness input for one chunk: the three kinds of chunk values, Merkle paths from
 * vector-root.ts, and the per-coordinate remainders r = prev*65536 + sum a_i*delta_i - next*65536.
 * Throws if `next` is not the exact aggregate on that chunk, since no proof could exist.
 */
export async function buildRoundChunkInput(args: RoundChunkArgs): Promise<RoundChunkBuild> {
  if (args.slots !== undefined) {
    const padded = padSlots(args.deltas, args.weights, args.slots);
    const trees = args.trees?.deltas === undefined ? undefined : padSlots(args.trees.deltas, args.weights, args.slots).items;
    args = { ...args, deltas: padded.items, weights: padded.weights, trees: { ...args.trees, deltas: trees }, slots: undefined };
  }
  const { prev, next, deltas, weights, chunkIndex } = args;
  checkWeights([...weights], deltas.length);
  const others: [string, Int32Array][] = [["next", next], ...deltas.map((d, i): [string, Int32Array] => [`update ${i}`, d])];
  for (const [name, v] of others) {
    if (v.length !== prev.length) {
      throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `${name} has ${v.length} parameters, the model ${prev.length}`);
    }
  }
  const chunks = chunkCount(prev.length);
  if (!Number.isInteger(chunkIndex) || chunkIndex < 0 || chunkIndex >= chunks) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `chunk index ${chunkIndex} is outside [0, ${chunks})`);
  }

  const prevTree = args.trees?.prev ?? (await vectorTree(prev));
  const nextTree = args.trees?.next ?? (await vectorTree(next));
  const deltaTrees = args.trees?.deltas ?? (await Promise.all(deltas.map((d) => vectorTree(d))));
  if (deltaTrees.length !== deltas.length)
    throw new DsainError(ErrorCode.INPUT_INVALID, `${deltaTrees.length} update trees for ${deltas.length} updates`);

  const A = BigInt(WEIGHT_TOTAL);
  const remainders: bigint[] = [];
  for (let k = 0; k < CHUNK_SIZE; k++) {
    const j = chunkIndex * CHUNK_SIZE + k;
    if (j >= prev.length) {
      remainders.push(0n); // padding: prev = next = delta = 0
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

  const str = (xs: readonly bigint[]) => xs.map((x) => x.toString());
  const publicInputs: RoundChunkPublic = {
    prevRoot: prevTree.root,
    newRoot: nextTree.root,
    chunkIndex,
    updateRoots: deltaTrees.map((t) => t.root),
    weights: [...weights],
  };
  const input: RoundChunkInput = {
    prevRoot: prevTree.root.toString(),
    newRoot: nextTree.root.toString(),
    chunkIndex: String(chunkIndex),
    updateRoots: str(publicInputs.updateRoots),
    weights: weights.map((a) => String(a)),
    prev: str(chunkFields(prev, chunkIndex)),
    next: str(chunkFields(next, chunkIndex)),
    deltas: deltas.map((d) => str(chunkFields(d, chunkIndex))),
    remainders: str(remainders),
    prevPath: str(merklePath(prevTree, chunkIndex)),
    nextPath: str(merklePath(nextTree, chunkIndex)),
    deltaPaths: deltaTrees.map((t) => str(merklePath(t, chunkIndex))),
  };
  return { input, publicInputs, publicSignals: publicSignalsOf(publicInputs), depth: prevTree.depth };
}

export type ProveOptions = InstanceProveOptions;

/** Checks that the input's shape matches the instance's (K, DEPTH) before circom sees it. */
async function keysFor(instanceName: string, input: RoundChunkInput, options: EnsureOptions) {
  const keys = await ensureCircuitKeys(instanceName, options);
  const [K, DEPTH] = keys.instance.params;
  if (keys.instance.template !== "RoundChunk") {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${instanceName} is a ${keys.instance.template} circuit, not RoundChunk`);
  }
  if (input.updateRoots.length !== K || input.deltas.length !== K || input.deltaPaths.length !== K || input.weights.length !== K) {
    throw new DsainError(
      ErrorCode.INPUT_INVALID,
      `${instanceName} proves rounds of exactly K=${K} updates; the input has ${input.deltas.length} (build a dropout round's input with slots: ${K})`,
    );
  }
  if (input.prevPath.length !== DEPTH) {
    throw new DsainError(
      ErrorCode.INPUT_INVALID,
      `${instanceName} opens trees of depth ${DEPTH}; the input's paths have depth ${input.prevPath.length}`,
    );
  }
  return keys;
}

/** Runs the circuit's witness generator only: throws DSAIN_ZK_WITNESS_FAILED if a constraint fails. */
export async function calculateRoundChunkWitness(
  instanceName: string,
  input: RoundChunkInput,
  options: EnsureOptions = {},
): Promise<Uint8Array> {
  await keysFor(instanceName, input, options);
  return calculateWitness(instanceName, input, options);
}

export type RoundChunkProof = InstanceProof;

/** Proves one chunk: witness generation then Groth16 proving, each timed (sampled.ts's proveInstance). */
export async function proveRoundChunk(instanceName: string, input: RoundChunkInput, options: ProveOptions = {}): Promise<RoundChunkProof> {
  await keysFor(instanceName, input, options);
  return proveInstance(instanceName, input, options);
}

/** Verifies a proof against public signals with the instance's verifying key (or a given one). */
export async function verifyRoundChunk(
  instanceOrVkey: string | VerificationKey,
  publicSignals: readonly (string | bigint | number)[],
  proof: Groth16Proof,
  options: ProveOptions = {},
): Promise<boolean> {
  return verifyInstance(instanceOrVkey, publicSignals, proof, options);
}

export interface SolidityProof {
  a: [bigint, bigint];
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
}

/**
 * The proof as verifyProof(uint[2] a, uint[2][2] b, uint[2] c, uint[N] pubSignals) takes it.
 * G2 coordinates are Fp2 elements x = x0 + x1*u; snarkjs stores [x0, x1] but the EVM pairing
 * precompile (EIP-197) expects [x1, x0], hence each pair of b is reversed (as in snarkjs'
 * exportSolidityCallData). The projective third coordinates ("1") are dropped.
 */
export function toSolidityProof(proof: Groth16Proof): SolidityProof {
  const n = (x: string) => BigInt(x);
  return {
    a: [n(proof.pi_a[0]), n(proof.pi_a[1])],
    b: [
      [n(proof.pi_b[0][1]), n(proof.pi_b[0][0])],
      [n(proof.pi_b[1][1]), n(proof.pi_b[1][0])],
    ],
    c: [n(proof.pi_c[0]), n(proof.pi_c[1])],
  };
}

/** Public signals as the uint256 array the verifier contract takes. */
export function toSolidityPublicSignals(publicSignals: readonly (string | bigint | number)[]): bigint[] {
  return publicSignals.map((s) => BigInt(s));
}

/** The inverse of toSolidityProof: a snarkjs proof object from the contract's (a, b, c). */
export function fromSolidityProof(proof: SolidityProof): Groth16Proof {
  const s = (x: bigint) => x.toString();
  return {
    pi_a: [s(proof.a[0]), s(proof.a[1]), "1"],
    pi_b: [
      [s(proof.b[0][1]), s(proof.b[0][0])],
      [s(proof.b[1][1]), s(proof.b[1][0])],
      ["1", "0"],
    ],
    pi_c: [s(proof.c[0]), s(proof.c[1]), "1"],
    protocol: "groth16",
    curve: "bn128",
  };
}
