// Poseidon commitments of encoded vectors (docs/protocol.md §2, protocol version 2): seven int32
// coordinates packed per field element, sixteen elements (112 coordinates) per Poseidon16 leaf,
// a binary Poseidon2 tree. The functions over bigints below are the reference, written as the
// protocol reads; vectorTree and vectorRoot compute the same values with WasmVectorHasher, and
// vectorRoot on every core for large vectors (commitment-pool.ts).
import { DsainError, ErrorCode } from "../errors.js";
import { sharedCommitmentPool, threadHasher } from "./commitment-pool.js";
import { CHUNK_SIZE, FIELD_MODULUS, INT_MAX, INT_MIN, LEAF_ELEMENTS, PACK_COORDINATES, PACK_OFFSET } from "./constants.js";
import { type PoseidonHasher } from "./poseidon.js";
import { fromMontgomery } from "./poseidon-wasm.js";

/** The field element of a signed encoded integer: q mod p. */
export function toField(q: number | bigint): bigint {
  const v = BigInt(q);
  return v >= 0n ? v : FIELD_MODULUS + v;
}

/** The signed integer of a field element, for values the protocol keeps within int32. */
export function fromField(x: bigint): bigint {
  return x > FIELD_MODULUS / 2n ? x - FIELD_MODULUS : x;
}

export function chunkCount(length: number): number {
  if (!Number.isInteger(length) || length < 1) {
    throw new DsainError(ErrorCode.EMPTY_INPUT, `a model vector needs at least one parameter, got length ${length}`);
  }
  return Math.ceil(length / CHUNK_SIZE);
}

/** Tree depth for a vector of `length` coordinates: ceil(log2(chunks)), 0 for a single chunk. */
export function treeDepth(length: number): number {
  const n = chunkCount(length);
  let depth = 0;
  while (2 ** depth < n) depth++;
  return depth;
}

/**
 * The CHUNK_SIZE coordinates of chunk (leaf) `index` as field elements, zero past the end of the
 * vector: what a circuit receives to open that leaf (it packs them itself).
 */
export function chunkFields(values: Int32Array, index: number): bigint[] {
  const out: bigint[] = [];
  for (let k = 0; k < CHUNK_SIZE; k++) {
    const i = index * CHUNK_SIZE + k;
    out.push(i < values.length ? toField(values[i]) : 0n);
  }
  return out;
}

/**
 * One packed field element (docs/protocol.md §2): e = sum_k (q_k + 2^31) · 2^(32k) over up to
 * PACK_COORDINATES int32 coordinates, the first in the lowest bits; missing coordinates are 0.
 * Each limb lies in [0, 2^32), so e < 2^224 < p and the coordinates are e's base-2^32 digits.
 */
export function packElement(coords: ArrayLike<number | bigint>): bigint {
  if (coords.length > PACK_COORDINATES) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `a field element packs at most ${PACK_COORDINATES} coordinates, got ${coords.length}`);
  }
  let e = 0n;
  for (let k = PACK_COORDINATES - 1; k >= 0; k--) {
    const q = k < coords.length ? BigInt(coords[k]) : 0n;
    if (q < BigInt(INT_MIN) || q > BigInt(INT_MAX)) {
      throw new DsainError(ErrorCode.INPUT_INVALID, `coordinate ${q} is outside the int32 range a field element packs`);
    }
    e = (e << 32n) | (q + BigInt(PACK_OFFSET));
  }
  return e;
}

/** The coordinates of a packed element: its base-2^32 digits, each minus the 2^31 offset. */
export function unpackElement(e: bigint): bigint[] {
  if (e < 0n || e >> BigInt(32 * PACK_COORDINATES) !== 0n) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${e} is not a packed element (it must lie in [0, 2^${32 * PACK_COORDINATES}))`);
  }
  return Array.from({ length: PACK_COORDINATES }, (_, k) => ((e >> BigInt(32 * k)) & 0xffffffffn) - BigInt(PACK_OFFSET));
}

/** The LEAF_ELEMENTS packed field elements of leaf `index`: what its Poseidon16 hashes. */
export function leafElements(values: Int32Array, index: number): bigint[] {
  const out: bigint[] = [];
  for (let m = 0; m < LEAF_ELEMENTS; m++) {
    const from = index * CHUNK_SIZE + m * PACK_COORDINATES;
    const coords: number[] = [];
    for (let k = 0; k < PACK_COORDINATES; k++) coords.push(from + k < values.length ? values[from + k] : 0);
    out.push(packElement(coords));
  }
  return out;
}

/** Reference leaves: Poseidon16 over each leaf's packed elements, with any PoseidonHasher. */
export function chunkLeaves(values: Int32Array, hasher: PoseidonHasher): bigint[] {
  const n = chunkCount(values.length);
  const leaves: bigint[] = [];
  for (let j = 0; j < n; j++) leaves.push(hasher.hash(leafElements(values, j)));
  return leaves;
}

/** All levels of the tree, leaves first; missing leaves are 0. */
export function treeLevels(leaves: bigint[], depth: number, hasher: PoseidonHasher): bigint[][] {
  const levels: bigint[][] = [leaves.slice()];
  for (let d = 0; d < depth; d++) {
    const below = levels[d];
    const width = 2 ** (depth - d - 1);
    const level: bigint[] = [];
    for (let i = 0; i < width; i++) level.push(hasher.hash([below[2 * i] ?? 0n, below[2 * i + 1] ?? 0n]));
    levels.push(level);
  }
  return levels;
}

export interface VectorTree {
  root: bigint;
  depth: number;
  leaves: bigint[];
  levels: bigint[][];
}

/** Every level of the tree (what a prover opens paths in), computed on this thread. */
export async function vectorTree(values: Int32Array): Promise<VectorTree> {
  const n = chunkCount(values.length);
  const depth = treeDepth(values.length);
  const wasmLevels = (await threadHasher()).subtreeLevels(values, 2 ** depth);
  const levels = wasmLevels.map((level, d) => (d === 0 ? level.slice(0, n) : level).map(fromMontgomery));
  return { root: levels[depth][0], depth, leaves: levels[0], levels };
}

/**
 * The Poseidon root that commits to an encoded vector: modelRoot for w_t, updateRoot for a delta.
 * Large vectors are hashed on every core (the process's commitment pool).
 */
export async function vectorRoot(values: Int32Array): Promise<bigint> {
  return sharedCommitmentPool().root(values, chunkCount(values.length), treeDepth(values.length));
}

/** Sibling path of leaf `index`, bottom-up, as the circuit consumes it. */
export function merklePath(tree: VectorTree, index: number): bigint[] {
  const path: bigint[] = [];
  let i = index;
  for (let d = 0; d < tree.depth; d++) {
    path.push(tree.levels[d][i ^ 1] ?? 0n);
    i >>= 1;
  }
  return path;
}

/** 0x-prefixed 32-byte hex of a field element, the form roots take on-chain. */
export function fieldToBytes32(x: bigint): string {
  return "0x" + x.toString(16).padStart(64, "0");
}
