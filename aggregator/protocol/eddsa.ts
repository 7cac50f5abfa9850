// Batched-mode participant attestations (docs/proof-of-training.md §4): EdDSA-Poseidon signatures
// on BabyJubJub over each update commitment, the key registry they are checked against, and the
// one commitment to a round's entries that the ledger stores. circuits/round_attested.circom
// verifies exactly these; every function here is its TypeScript twin.
import { createHash } from "node:crypto";
import type { BabyJubPoint, Eddsa } from "circomlibjs";
import { AbiCoder, getAddress, keccak256, toUtf8Bytes } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";
import { FIELD_MODULUS } from "./constants.js";
import { getPoseidon } from "./poseidon.js";
import { treeLevels } from "./vector-root.js";

const abi = AbiCoder.defaultAbiCoder();

let eddsaInstance: Promise<Eddsa> | undefined;

function eddsa(): Promise<Eddsa> {
  eddsaInstance ??= import("circomlibjs").then((m) => m.buildEddsa());
  return eddsaInstance;
}

/** A BabyJubJub public key (Ax, Ay) as field elements. */
export type PublicKey = readonly [bigint, bigint];

export interface BabyJubKeyPair {
  /** 32 secret bytes; the scalar is derived from their BLAKE-512 hash (circomlibjs prv2pub). */
  privateKey: Uint8Array;
  publicKey: PublicKey;
}

export interface EdDSASignature {
  R8: readonly [bigint, bigint];
  S: bigint;
}

/** Tag of the round scope: keccak256("DSAIN.roundScope.v1"); the ledger holds the same constant. */
export const ROUND_SCOPE_TAG = keccak256(toUtf8Bytes("DSAIN.roundScope.v1"));

function checkField(name: string, x: bigint): bigint {
  if (typeof x !== "bigint" || x < 0n || x >= FIELD_MODULUS) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${name} = ${String(x)} is not a field element in [0, p)`);
  }
  return x;
}

function checkUint(name: string, x: bigint, bits: number): bigint {
  if (typeof x !== "bigint" || x < 0n || x >= 1n << BigInt(bits)) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${name} = ${String(x)} is not a uint${bits}`);
  }
  return x;
}

/**
 * The round scope every attestation of round `round` signs:
 * uint256(keccak256(abi.encode(bytes32 ROUND_SCOPE_TAG, uint256 chainId, address ledger,
 * uint256 federationId, uint64 round))) mod p. It voids a signature (and a proof, where it is a
 * public input) on any other chain, ledger, federation or round.
 */
export function roundScope(chainId: bigint, ledger: string, federationId: bigint, round: bigint): bigint {
  checkUint("chainId", chainId, 256);
  checkUint("federationId", federationId, 256);
  checkUint("round", round, 64);
  const digest = keccak256(
    abi.encode(["bytes32", "uint256", "address", "uint256", "uint64"], [ROUND_SCOPE_TAG, chainId, getAddress(ledger), federationId, round]),
  );
  return BigInt(digest) % FIELD_MODULUS;
}

/** What a participant declares besides its update: the EIP-712 attestation's other fields. */
export interface AttestationMetaFields {
  sampleCount: bigint;
  dpEpsilonMicros: bigint;
  dpDeltaPicos: bigint;
  dpClipMicros: bigint;
  dpNoiseMicros: bigint;
}

/** meta = Poseidon(sampleCount, dpEpsilonMicros, dpDeltaPicos, dpClipMicros, dpNoiseMicros), each a uint64. */
export async function attestationMeta(m: AttestationMetaFields): Promise<bigint> {
  const fields = [m.sampleCount, m.dpEpsilonMicros, m.dpDeltaPicos, m.dpClipMicros, m.dpNoiseMicros];
  const names = ["sampleCount", "dpEpsilonMicros", "dpDeltaPicos", "dpClipMicros", "dpNoiseMicros"];
  fields.forEach((x, i) => checkUint(names[i], x, 64));
  return (await getPoseidon()).hash(fields);
}

/** The signed message m = Poseidon(scope, prevRoot, updateRoot, meta); prevRoot is w_t's modelRoot. */
export async function attestationMessage(scope: bigint, prevRoot: bigint, updateRoot: bigint, meta: bigint): Promise<bigint> {
  const inputs = [
    checkField("scope", scope),
    checkField("prevRoot", prevRoot),
    checkField("updateRoot", updateRoot),
    checkField("meta", meta),
  ];
  return (await getPoseidon()).hash(inputs);
}

/**
 * A key pair from 32 secret bytes. The private key must be uniformly random in production;
 * `babyJubKeyFromSeed` exists for tests and demos only.
 */
export async function babyJubKeyPair(privateKey: Uint8Array): Promise<BabyJubKeyPair> {
  if (privateKey.length !== 32)
    throw new DsainError(ErrorCode.INPUT_INVALID, `a BabyJubJub private key is 32 bytes, got ${privateKey.length}`);
  const e = await eddsa();
  const A = e.prv2pub(privateKey);
  return { privateKey: Uint8Array.from(privateKey), publicKey: [e.F.toObject(A[0]), e.F.toObject(A[1])] };
}

/** A deterministic key pair: private key sha256("dsain test babyjub key: " + label). Tests and demos only. */
export function babyJubKeyFromSeed(label: string): Promise<BabyJubKeyPair> {
  return babyJubKeyPair(createHash("sha256").update(`dsain test babyjub key: ${label}`).digest());
}

/** EdDSA-Poseidon signature of a message field element (circomlibjs signPoseidon; deterministic). */
export async function signMessage(privateKey: Uint8Array, message: bigint): Promise<EdDSASignature> {
  const e = await eddsa();
  const sig = e.signPoseidon(privateKey, e.F.e(checkField("message", message)));
  return { R8: [e.F.toObject(sig.R8[0]), e.F.toObject(sig.R8[1])], S: sig.S };
}

function point(e: Eddsa, p: readonly [bigint, bigint]): BabyJubPoint {
  return [e.F.e(p[0]), e.F.e(p[1])];
}

/** circomlibjs verifyPoseidon: the off-chain check the circuit mirrors (also checks both points are on the curve). */
export async function verifyMessage(publicKey: PublicKey, message: bigint, signature: EdDSASignature): Promise<boolean> {
  const e = await eddsa();
  return e.verifyPoseidon(e.F.e(message), { R8: point(e, signature.R8), S: signature.S }, point(e, publicKey));
}

/** A participant's attestation of its update: signMessage over attestationMessage (what the circuit checks). */
export async function signAttestation(
  privateKey: Uint8Array,
  fields: { scope: bigint; prevRoot: bigint; updateRoot: bigint; meta: bigint },
): Promise<EdDSASignature> {
  return signMessage(privateKey, await attestationMessage(fields.scope, fields.prevRoot, fields.updateRoot, fields.meta));
}

/** One participant's line of a batched round. */
export interface AttestedEntry {
  publicKey: PublicKey;
  updateRoot: bigint;
  /** Integer aggregation weight a_i (docs/protocol.md §3). */
  weight: number;
  meta: bigint;
}

/** entry = Poseidon(Ax, Ay, updateRoot, weight, meta). */
export async function entryHash(entry: AttestedEntry): Promise<bigint> {
  return (await getPoseidon()).hash([
    checkField("Ax", entry.publicKey[0]),
    checkField("Ay", entry.publicKey[1]),
    checkField("updateRoot", entry.updateRoot),
    BigInt(entry.weight),
    checkField("meta", entry.meta),
  ]);
}

/** updatesCommitment = Poseidon(entry_1, ..., entry_K), entries in strictly ascending key-index order (1 <= K <= 16). */
export async function updatesCommitment(entries: readonly AttestedEntry[]): Promise<bigint> {
  if (entries.length < 1 || entries.length > 16) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `a batched round commits 1 to 16 entries, got ${entries.length}`);
  }
  const hashes = await Promise.all(entries.map((e) => entryHash(e)));
  return (await getPoseidon()).hash(hashes);
}

/**
 * The federation's key registry: a Poseidon(2) tree of depth `depth` whose slot i holds
 * Poseidon(Ax, Ay) of the participant at roster index i, or 0 for a participant without a
 * BabyJubJub key (and for unused slots). Same tree shape as a vector root (docs/protocol.md §2).
 */
export interface KeyRegistry {
  depth: number;
  keys: (PublicKey | null)[];
  root: bigint;
  levels: bigint[][];
}

/**
 * Z_0 .. Z_depth, the roots of empty registry subtrees: Z_0 = 0 (an unused slot), Z_{d+1} =
 * Poseidon(Z_d, Z_d). The ledger keeps Z_1 .. Z_32 as constants (BatchedRounds.zeroHash).
 */
export async function registryZeroHashes(depth: number): Promise<bigint[]> {
  if (!Number.isInteger(depth) || depth < 0 || depth > 32)
    throw new DsainError(ErrorCode.INPUT_INVALID, `registry depth ${depth} is not in [0, 32]`);
  const poseidon = await getPoseidon();
  const out = [0n];
  for (let d = 0; d < depth; d++) out.push(poseidon.hash([out[d], out[d]]));
  return out;
}

export async function keyRegistry(keys: readonly (PublicKey | null)[], depth: number): Promise<KeyRegistry> {
  if (!Number.isInteger(depth) || depth < 0 || depth > 32)
    throw new DsainError(ErrorCode.INPUT_INVALID, `registry depth ${depth} is not in [0, 32]`);
  if (keys.length > 2 ** depth) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${keys.length} slots do not fit a registry of depth ${depth} (${2 ** depth} slots)`);
  }
  const seen = new Set<string>();
  for (const k of keys) {
    if (k === null) continue;
    const id = `${k[0]},${k[1]}`;
    if (seen.has(id)) throw new DsainError(ErrorCode.INPUT_INVALID, `key (${k[0]}, ${k[1]}) is enrolled twice`);
    seen.add(id);
  }
  const poseidon = await getPoseidon();
  const leaves = keys.map((k) => (k === null ? 0n : poseidon.hash([checkField("Ax", k[0]), checkField("Ay", k[1])])));
  const levels = treeLevels(leaves, depth, poseidon);
  return { depth, keys: [...keys], root: levels[depth][0], levels };
}

/** Sibling path (bottom-up) of registry slot `index`. */
export function registryPath(registry: KeyRegistry, index: number): bigint[] {
  if (!Number.isInteger(index) || index < 0 || index >= registry.keys.length || registry.keys[index] === null) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `registry slot ${index} holds no key`);
  }
  const out: bigint[] = [];
  let i = index;
  for (let d = 0; d < registry.depth; d++) {
    out.push(registry.levels[d][i ^ 1] ?? 0n);
    i >>= 1;
  }
  return out;
}
