// Poseidon commitments of encoded vectors (docs/protocol.md §2): 16-coordinate leaves, binary tree.
import { DsainError, ErrorCode } from "../errors.js";
import { CHUNK_SIZE, FIELD_MODULUS } from "./constants.js";
import { getPoseidon, type PoseidonHasher } from "./poseidon.js";

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

/** The 16 field elements of chunk `index` (zero-padded past the end of the vector). */
export function chunkFields(values: Int32Array, index: number): bigint[] {
  const out: bigint[] = [];
  for (let k = 0; k < CHUNK_SIZE; k++) {
    const i = index * CHUNK_SIZE + k;
    out.push(i < values.length ? toField(values[i]) : 0n);
  }
  return out;
}

export function chunkLeaves(values: Int32Array, hasher: PoseidonHasher): bigint[] {
  const n = chunkCount(values.length);
  const leaves: bigint[] = [];
  for (let j = 0; j < n; j++) leaves.push(hasher.hash(chunkFields(values, j)));
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

export async function vectorTree(values: Int32Array): Promise<VectorTree> {
  const hasher = await getPoseidon();
  const depth = treeDepth(values.length);
  const leaves = chunkLeaves(values, hasher);
  const levels = treeLevels(leaves, depth, hasher);
  return { root: levels[depth][0], depth, leaves, levels };
}

/** The Poseidon root that commits to an encoded vector: modelRoot for w_t, updateRoot for a delta. */
export async function vectorRoot(values: Int32Array): Promise<bigint> {
  return (await vectorTree(values)).root;
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
