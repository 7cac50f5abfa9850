// Checkpoint file format DSAINCK1 (docs/protocol.md §7): magic, JSON header, int32 LE payload.
import { DsainError, ErrorCode } from "../errors.js";
import { CHECKPOINT_MAGIC, CHECKPOINT_VERSION, FRAC_BITS } from "./constants.js";

export interface TensorSpec {
  name: string;
  shape: number[];
}

export interface Checkpoint {
  round: number;
  modelId: string;
  tensors: TensorSpec[];
  values: Int32Array;
}

const MAGIC = new TextEncoder().encode(CHECKPOINT_MAGIC);

function specLength(tensors: readonly TensorSpec[]): number {
  return tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
}

function malformed(message: string): DsainError {
  return new DsainError(ErrorCode.CHECKPOINT_MALFORMED, `checkpoint is malformed: ${message}`);
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const length = specLength(c.tensors);
  if (length !== c.values.length) {
    throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `tensor shapes describe ${length} parameters but ${c.values.length} were given`);
  }
  // Key order is fixed by this literal, so equal checkpoints give equal bytes (and CIDs).
  const header = JSON.stringify({
    format: "dsain-checkpoint",
    version: CHECKPOINT_VERSION,
    round: c.round,
    modelId: c.modelId,
    fracBits: FRAC_BITS,
    length,
    tensors: c.tensors.map((t) => ({ name: t.name, shape: t.shape })),
  });
  const headerBytes = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + 4 + headerBytes.length + 4 * length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  const base = 12 + headerBytes.length;
  for (let i = 0; i < length; i++) view.setInt32(base + 4 * i, c.values[i], true);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  if (bytes.length < 12) throw malformed(`${bytes.length} bytes is shorter than the 12-byte preamble`);
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC[i]) throw malformed(`magic is not ${CHECKPOINT_MAGIC}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw malformed(`header length ${headerLength} runs past the end of the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(12, 12 + headerLength))) as Record<string, unknown>;
  } catch (e) {
    throw new DsainError(ErrorCode.CHECKPOINT_MALFORMED, "checkpoint is malformed: header is not UTF-8 JSON", { cause: e });
  }
  if (header.format !== "dsain-checkpoint") throw malformed(`format is ${String(header.format)}`);
  if (header.version !== CHECKPOINT_VERSION)
    throw malformed(`version ${String(header.version)} is not supported (expected ${CHECKPOINT_VERSION})`);
  if (header.fracBits !== FRAC_BITS) throw malformed(`fracBits ${String(header.fracBits)} is not ${FRAC_BITS}`);
  if (!Number.isInteger(header.round) || (header.round as number) < 0) throw malformed("round is not a non-negative integer");
  if (typeof header.modelId !== "string") throw malformed("modelId is not a string");
  if (!Array.isArray(header.tensors)) throw malformed("tensors is not a list");
  const tensors: TensorSpec[] = (header.tensors as unknown[]).map((t, i) => {
    const spec = t as { name?: unknown; shape?: unknown };
    if (typeof spec.name !== "string" || !Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw malformed(`tensor ${i} needs a name and a shape of positive integers`);
    }
    return { name: spec.name, shape: spec.shape as number[] };
  });
  const length = specLength(tensors);
  if (header.length !== length) throw malformed(`length ${String(header.length)} differs from the tensors' ${length}`);
  const base = 12 + headerLength;
  if (bytes.length !== base + 4 * length) throw malformed(`payload has ${bytes.length - base} bytes, expected ${4 * length}`);
  const values = new Int32Array(length);
  for (let i = 0; i < length; i++) values[i] = view.getInt32(base + 4 * i, true);
  return { round: header.round as number, modelId: header.modelId, tensors, values };
}
