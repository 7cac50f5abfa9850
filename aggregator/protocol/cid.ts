// Checkpoint CIDs: how they are computed from checkpoint bytes and bound on-chain as (uint64 codec, bytes32 digest).
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import type { ImporterOptions } from "ipfs-unixfs-importer";
import { DsainError, ensureError, ErrorCode } from "../errors.js";
import { CODEC_DAG_PB, CODEC_RAW, MULTIHASH_SHA2_256, UNIXFS_CHUNK_BYTES, UNIXFS_MAX_CHILDREN } from "./constants.js";

/** A checkpoint CID as the contracts store it: the multicodec and the bare 32-byte sha2-256 digest. */
export interface OnchainCid {
  codec: number;
  /** 0x-prefixed, lowercase, 64 hex digits; the digest only, without the 0x1220 multihash prefix. */
  digest: `0x${string}`;
}

const SHA2_256_BYTES = 32;

function unsupported(message: string): DsainError {
  return new DsainError(
    ErrorCode.CID_UNSUPPORTED,
    `${message}; checkpoint CIDs are CIDv1 raw (0x55) or dag-pb (0x70) with a 32-byte sha2-256 multihash`,
  );
}

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

function checkCodec(codec: number | bigint, what: string): number {
  const code = Number(codec);
  if (code !== CODEC_RAW && code !== CODEC_DAG_PB) throw unsupported(`${what} has codec ${hex(codec)}`);
  return code;
}

/** A CID object (from any copy of multiformats) or its string form as a CID; CID_UNSUPPORTED otherwise. */
export function toCid(cid: CID | string): CID {
  let parsed: CID | null;
  try {
    parsed = typeof cid === "string" ? CID.parse(cid) : CID.asCID(cid);
  } catch (error) {
    throw new DsainError(ErrorCode.CID_UNSUPPORTED, `"${cid}" is not a CID: ${ensureError(error).message}`, { cause: error });
  }
  if (parsed === null) throw new DsainError(ErrorCode.CID_UNSUPPORTED, `${String(cid)} is not a CID`);
  return parsed;
}

/** Accepts a CID object or its string form; CIDv0 (Qm…) is converted to the equivalent CIDv1 dag-pb. */
export function cidToOnchain(cid: CID | string): OnchainCid {
  const parsed = toCid(cid);
  const v1 = parsed.version === 0 ? parsed.toV1() : parsed;
  const codec = checkCodec(v1.code, `CID ${v1}`);
  if (v1.multihash.code !== MULTIHASH_SHA2_256) {
    throw unsupported(`CID ${v1} uses multihash ${hex(v1.multihash.code)}, not sha2-256 (0x12)`);
  }
  if (v1.multihash.digest.length !== SHA2_256_BYTES) {
    throw unsupported(`CID ${v1} has a ${v1.multihash.digest.length}-byte digest, not 32 bytes`);
  }
  return { codec, digest: `0x${Buffer.from(v1.multihash.digest).toString("hex")}` };
}

/** Rebuilds the CIDv1 from the on-chain pair; `digest` is 0x + 64 hex digits or 32 bytes. */
export function cidFromOnchain(codec: number | bigint, digest: string | Uint8Array): CID {
  const code = checkCodec(codec, "on-chain CID");
  let bytes: Uint8Array;
  if (typeof digest === "string") {
    if (!/^0x[0-9a-fA-F]{64}$/.test(digest)) {
      throw unsupported(`on-chain digest ${digest} is not 0x followed by 64 hex digits`);
    }
    bytes = Uint8Array.from(Buffer.from(digest.slice(2), "hex"));
  } else {
    if (digest.length !== SHA2_256_BYTES) throw unsupported(`on-chain digest has ${digest.length} bytes, not 32`);
    bytes = Uint8Array.from(digest);
  }
  return CID.createV1(code, Digest.create(MULTIHASH_SHA2_256, bytes));
}

/** Every importer option that shapes the DAG of a single file; all of them are pinned. */
export type CheckpointImportOptions = Required<
  Pick<
    ImporterOptions,
    "cidVersion" | "rawLeaves" | "leafType" | "reduceSingleLeafToSelf" | "wrapWithDirectory" | "fieldOrder" | "chunker" | "layout"
  >
>;

/**
 * The protocol's UnixFS import parameters, every one spelled out so that neither a change of
 * library defaults nor a `profile` can move a checkpoint CID. With a 256 KiB chunk and 174 links
 * per node this is what `ipfs-unixfs-importer` 17 does with no options, and what Kubo's
 * `ipfs add --cid-version=1` (which implies raw leaves) is documented to do; @helia/unixfs
 * `addBytes` defaults differ (1 MiB chunks, 1024 links), hence nothing is left to defaults.
 *
 * A file of at most one chunk is a single raw leaf, and `reduceSingleLeafToSelf` makes that leaf
 * the root: its CID is raw (0x55), the plain sha2-256 of the bytes. Larger files get a dag-pb
 * (0x70) root. The importer always hashes with sha2-256 (hard-coded in its persist step).
 * Imported mtime/mode would change the root, so none are ever passed.
 */
export async function checkpointImportOptions(): Promise<CheckpointImportOptions> {
  // Loaded lazily: chain code that only converts CIDs should not pay for the importer.
  const [{ fixedSize }, { balanced }] = await Promise.all([import("ipfs-unixfs-importer/chunker"), import("ipfs-unixfs-importer/layout")]);
  return {
    cidVersion: 1,
    rawLeaves: true,
    leafType: "file", // only used without raw leaves; pinned for completeness
    reduceSingleLeafToSelf: true,
    wrapWithDirectory: false,
    fieldOrder: "links-first",
    chunker: fixedSize({ chunkSize: UNIXFS_CHUNK_BYTES }),
    layout: balanced({ maxChildrenPerNode: UNIXFS_MAX_CHILDREN }),
  };
}

/** The CID that importing `bytes` with the pinned parameters gives, computed without storing anything. */
export async function checkpointCid(bytes: Uint8Array): Promise<CID> {
  const { importFile } = await import("ipfs-unixfs-importer");
  // The importer only ever calls `put`; a store that keeps nothing turns it into a pure hash.
  const discard = { put: async (cid: CID) => cid };
  const { cid } = await importFile({ content: bytes }, discard, await checkpointImportOptions());
  return cid;
}
