// Checkpoint and published-update files (docs/protocol.md §7): magic DSAINCK1, a JSON header,
// an int32 LE payload; a model checkpoint of version 2 lists the CIDs of the updates it aggregates.
import { getAddress } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";
import { cidToOnchain, toCid } from "./cid.js";
import { CHECKPOINT_MAGIC, CHECKPOINT_VERSION, CHECKPOINT_VERSION_WITH_UPDATES, FRAC_BITS, UPDATE_FILE_VERSION } from "./constants.js";

export interface TensorSpec {
  name: string;
  shape: number[];
}

/** One entry of a checkpoint's update list: who sent the update and the CID of its update file. */
export interface PublishedUpdate {
  /** EIP-55 checksummed signing address, as in S_t. */
  participant: string;
  /** CIDv1 in its canonical string form (base32), imported with the pinned UnixFS parameters. */
  cid: string;
}

export interface Checkpoint {
  round: number;
  modelId: string;
  tensors: TensorSpec[];
  values: Int32Array;
  /**
   * The round's published updates in S_t order (version 2). Undefined for a version-1 checkpoint
   * (genesis, or a round whose updates were not published).
   */
  updates?: PublishedUpdate[];
}

/** A participant's update Δ_i for one round, as published beside the round's checkpoint. */
export interface UpdateFile {
  round: number;
  /** EIP-55 checksummed signing address of the participant who attested this update. */
  participant: string;
  modelId: string;
  tensors: TensorSpec[];
  values: Int32Array;
}

const MAGIC = new TextEncoder().encode(CHECKPOINT_MAGIC);

function specLength(tensors: readonly TensorSpec[]): number {
  return tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
}

function malformed(what: string, message: string): DsainError {
  return new DsainError(ErrorCode.CHECKPOINT_MALFORMED, `${what} is malformed: ${message}`);
}

function checkedLength(tensors: readonly TensorSpec[], values: Int32Array): number {
  const length = specLength(tensors);
  if (length !== values.length) {
    throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `tensor shapes describe ${length} parameters but ${values.length} were given`);
  }
  return length;
}

/** Magic, header length, header, payload. The header object's key order is the file's. */
function encodeContainer(header: Record<string, unknown>, values: Int32Array): Uint8Array {
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + 4 + headerBytes.length + 4 * values.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  const base = 12 + headerBytes.length;
  for (let i = 0; i < values.length; i++) view.setInt32(base + 4 * i, values[i], true);
  return out;
}

interface Container {
  header: Record<string, unknown>;
  tensors: TensorSpec[];
  values: Int32Array;
}

/** Parses the container and the fields every file kind shares (format, fracBits, round, modelId, tensors, payload). */
function decodeContainer(bytes: Uint8Array, what: string, format: string): Container {
  if (bytes.length < 12) throw malformed(what, `${bytes.length} bytes is shorter than the 12-byte preamble`);
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC[i]) throw malformed(what, `magic is not ${CHECKPOINT_MAGIC}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw malformed(what, `header length ${headerLength} runs past the end of the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(12, 12 + headerLength))) as Record<string, unknown>;
  } catch (e) {
    throw new DsainError(ErrorCode.CHECKPOINT_MALFORMED, `${what} is malformed: header is not UTF-8 JSON`, { cause: e });
  }
  if (header.format !== format) throw malformed(what, `format is ${String(header.format)}, not ${format}`);
  if (header.fracBits !== FRAC_BITS) throw malformed(what, `fracBits ${String(header.fracBits)} is not ${FRAC_BITS}`);
  if (!Number.isInteger(header.round) || (header.round as number) < 0) throw malformed(what, "round is not a non-negative integer");
  if (typeof header.modelId !== "string") throw malformed(what, "modelId is not a string");
  if (!Array.isArray(header.tensors)) throw malformed(what, "tensors is not a list");
  const tensors: TensorSpec[] = (header.tensors as unknown[]).map((t, i) => {
    const spec = t as { name?: unknown; shape?: unknown };
    if (typeof spec.name !== "string" || !Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw malformed(what, `tensor ${i} needs a name and a shape of positive integers`);
    }
    return { name: spec.name, shape: spec.shape as number[] };
  });
  const length = specLength(tensors);
  if (header.length !== length) throw malformed(what, `length ${String(header.length)} differs from the tensors' ${length}`);
  const base = 12 + headerLength;
  if (bytes.length !== base + 4 * length) throw malformed(what, `payload has ${bytes.length - base} bytes, expected ${4 * length}`);
  const values = new Int32Array(length);
  for (let i = 0; i < length; i++) values[i] = view.getInt32(base + 4 * i, true);
  return { header, tensors, values };
}

/** The address in its checksummed form, or undefined when `x` is not exactly that form. */
function checksummed(x: unknown): string | undefined {
  if (typeof x !== "string") return undefined;
  try {
    return getAddress(x) === x ? x : undefined;
  } catch {
    return undefined;
  }
}

/** A CIDv1 string a checkpoint may list: canonical form, raw or dag-pb, sha2-256 (§7). */
function canonicalCid(x: unknown): string | undefined {
  if (typeof x !== "string") return undefined;
  try {
    const cid = toCid(x);
    cidToOnchain(cid); // codec and hash as for checkpoints
    return cid.version === 1 && cid.toString() === x ? x : undefined;
  } catch {
    return undefined;
  }
}

function checkPublishedUpdates(updates: readonly PublishedUpdate[]): void {
  for (const [i, u] of updates.entries()) {
    if (checksummed(u.participant) === undefined) {
      throw new DsainError(ErrorCode.INPUT_INVALID, `update ${i}: participant ${u.participant} is not an EIP-55 checksummed address`);
    }
    if (canonicalCid(u.cid) === undefined) {
      throw new DsainError(ErrorCode.CID_UNSUPPORTED, `update ${i}: ${u.cid} is not a canonical CIDv1 (raw or dag-pb, sha2-256)`);
    }
  }
}

/** Version 1 without `updates`, version 2 with them; equal checkpoints give equal bytes (and CIDs). */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const length = checkedLength(c.tensors, c.values);
  if (c.updates !== undefined) checkPublishedUpdates(c.updates);
  // Key order is fixed by these literals.
  const header: Record<string, unknown> = {
    format: "dsain-checkpoint",
    version: c.updates === undefined ? CHECKPOINT_VERSION : CHECKPOINT_VERSION_WITH_UPDATES,
    round: c.round,
    modelId: c.modelId,
    fracBits: FRAC_BITS,
    length,
    tensors: c.tensors.map((t) => ({ name: t.name, shape: t.shape })),
  };
  if (c.updates !== undefined) header.updates = c.updates.map((u) => ({ participant: u.participant, cid: u.cid }));
  return encodeContainer(header, c.values);
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const what = "checkpoint";
  const { header, tensors, values } = decodeContainer(bytes, what, "dsain-checkpoint");
  if (header.version !== CHECKPOINT_VERSION && header.version !== CHECKPOINT_VERSION_WITH_UPDATES) {
    throw malformed(
      what,
      `version ${String(header.version)} is not supported (expected ${CHECKPOINT_VERSION} or ${CHECKPOINT_VERSION_WITH_UPDATES})`,
    );
  }
  const out: Checkpoint = { round: header.round as number, modelId: header.modelId as string, tensors, values };
  if (header.version === CHECKPOINT_VERSION) {
    if (header.updates !== undefined) throw malformed(what, `version ${CHECKPOINT_VERSION} has no updates list`);
    return out;
  }
  if (!Array.isArray(header.updates)) throw malformed(what, `version ${CHECKPOINT_VERSION_WITH_UPDATES} needs an updates list`);
  out.updates = (header.updates as unknown[]).map((entry, i) => {
    const e = (entry ?? {}) as { participant?: unknown; cid?: unknown };
    const participant = checksummed(e.participant);
    if (participant === undefined) throw malformed(what, `updates[${i}].participant is not an EIP-55 checksummed address`);
    const cid = canonicalCid(e.cid);
    if (cid === undefined) throw malformed(what, `updates[${i}].cid is not a canonical CIDv1 (raw or dag-pb, sha2-256)`);
    return { participant, cid };
  });
  return out;
}

export function encodeUpdateFile(u: UpdateFile): Uint8Array {
  const length = checkedLength(u.tensors, u.values);
  const participant = checksummed(u.participant);
  if (participant === undefined) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `participant ${u.participant} is not an EIP-55 checksummed address`);
  }
  return encodeContainer(
    {
      format: "dsain-update",
      version: UPDATE_FILE_VERSION,
      round: u.round,
      participant,
      modelId: u.modelId,
      fracBits: FRAC_BITS,
      length,
      tensors: u.tensors.map((t) => ({ name: t.name, shape: t.shape })),
    },
    u.values,
  );
}

export function decodeUpdateFile(bytes: Uint8Array): UpdateFile {
  const what = "update file";
  const { header, tensors, values } = decodeContainer(bytes, what, "dsain-update");
  if (header.version !== UPDATE_FILE_VERSION) {
    throw malformed(what, `version ${String(header.version)} is not supported (expected ${UPDATE_FILE_VERSION})`);
  }
  const participant = checksummed(header.participant);
  if (participant === undefined) throw malformed(what, "participant is not an EIP-55 checksummed address");
  return { round: header.round as number, participant, modelId: header.modelId as string, tensors, values };
}
