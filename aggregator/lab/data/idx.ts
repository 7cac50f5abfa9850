// The IDX format of MNIST (gzip or not): a generic parser and the MNIST image/label pair loader.
//
// Format (Y. LeCun, C. Cortes, C. J. C. Burges, http://yann.lecun.com/exdb/mnist/): a 4-byte magic
// 0x00 0x00 <type> <rank>, then <rank> big-endian uint32 dimensions, then the values row-major,
// big-endian. MNIST images are magic 2051 (0x0803: unsigned bytes, rank 3), labels 2049 (0x0801).
import type { Dataset } from "../../maths/learning/data.js";
import { DsainError, ErrorCode } from "../../errors.js";
import { malformed, maybeGunzip, readDataFile } from "./files.js";
import { type Normalization, normalizePixels } from "./normalize.js";

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

/** The value types IDX defines, by their type byte. */
const IDX_TYPES = {
  0x08: { name: "uint8", bytes: 1 },
  0x09: { name: "int8", bytes: 1 },
  0x0b: { name: "int16", bytes: 2 },
  0x0c: { name: "int32", bytes: 4 },
  0x0d: { name: "float32", bytes: 4 },
  0x0e: { name: "float64", bytes: 8 },
} as const;

export type IdxType = (typeof IDX_TYPES)[keyof typeof IDX_TYPES]["name"];

export interface IdxArray {
  /** The 32-bit magic number, e.g. 2051 for MNIST images. */
  magic: number;
  type: IdxType;
  dims: number[];
  /** The values row-major, in host byte order. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/**
 * Parses an uncompressed IDX file. `file` only names the source in error messages. Refuses a
 * non-zero first half of the magic, an unknown type byte, rank 0, and a payload that is shorter
 * (truncated) or longer (trailing bytes) than the dimensions say.
 */
export function parseIdx(bytes: Uint8Array, file = "IDX data"): IdxArray {
  if (bytes.length < 4) throw malformed(file, `${bytes.length} bytes is too short for the 4-byte IDX magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw malformed(file, `magic number ${magic} (0x${magic.toString(16).padStart(8, "0")}) is not IDX: its first two bytes must be zero`);
  }
  const typeInfo = IDX_TYPES[bytes[2] as keyof typeof IDX_TYPES];
  if (typeInfo === undefined) {
    throw malformed(file, `magic number ${magic} has type byte 0x${bytes[2].toString(16).padStart(2, "0")}, which IDX does not define`);
  }
  const rank = bytes[3];
  if (rank === 0) throw malformed(file, `magic number ${magic} declares 0 dimensions`);
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) {
    throw malformed(file, `truncated header: ${rank} dimensions need ${headerLength} header bytes, the file has ${bytes.length}`);
  }
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = count * typeInfo.bytes;
  const payload = bytes.length - headerLength;
  if (!Number.isSafeInteger(expected) || payload !== expected) {
    const what = payload < expected ? "truncated" : "has trailing bytes";
    throw malformed(
      file,
      `${what}: dimensions ${dims.join("x")} of ${typeInfo.name} need ${expected} payload bytes, the file has ${payload}`,
    );
  }
  return { magic, type: typeInfo.name, dims, data: decodeValues(view, headerLength, count, typeInfo.name) };
}

function decodeValues(view: DataView, offset: number, count: number, type: IdxType): IdxArray["data"] {
  const start = view.byteOffset + offset;
  switch (type) {
    case "uint8":
      return new Uint8Array(view.buffer.slice(start, start + count));
    case "int8":
      return new Int8Array(view.buffer.slice(start, start + count));
    case "int16": {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case "int32": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case "float32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case "float64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** Reads and parses an IDX file, gzip-compressed or not. */
export function readIdx(file: string): IdxArray {
  return parseIdx(readDataFile(file), file);
}

/** A dataset of images, each flattened row-major with channels last (HWC). */
export interface ImageDataset extends Dataset {
  /** [height, width, channels] of one image; features = height * width * channels. */
  imageShape: [number, number, number];
}

export interface MnistOptions {
  /** How pixel bytes become inputs; default: divided by 255 into [0, 1]. */
  normalize?: Normalization;
  /** Label range [0, classes); default 10. Labels outside it are refused. */
  classes?: number;
}

/**
 * Pairs an images IDX (magic 2051, uint8 N x H x W) with a labels IDX (magic 2049, uint8 N) into an
 * image dataset of N samples of H*W features. Both inputs are raw or gzip bytes; the names are
 * used in error messages.
 */
export function mnistFromBytes(
  images: { bytes: Uint8Array; file: string },
  labels: { bytes: Uint8Array; file: string },
  options: MnistOptions = {},
): ImageDataset {
  const classes = options.classes ?? 10;
  if (!Number.isInteger(classes) || classes < 2 || classes > 256) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `classes is ${classes}; it must be an integer in [2, 256]`);
  }
  const img = parseIdx(maybeGunzip(images.bytes, images.file), images.file);
  if (img.magic !== IDX_IMAGES_MAGIC) {
    throw malformed(images.file, `magic number is ${img.magic}, not ${IDX_IMAGES_MAGIC} (unsigned-byte images of rank 3)`);
  }
  const lab = parseIdx(maybeGunzip(labels.bytes, labels.file), labels.file);
  if (lab.magic !== IDX_LABELS_MAGIC) {
    throw malformed(labels.file, `magic number is ${lab.magic}, not ${IDX_LABELS_MAGIC} (unsigned-byte labels of rank 1)`);
  }
  const [n, height, width] = img.dims;
  if (n === 0 || height === 0 || width === 0) throw malformed(images.file, `holds no images (dimensions ${img.dims.join("x")})`);
  if (lab.dims[0] !== n) {
    throw new DsainError(
      ErrorCode.DATA_MALFORMED,
      `${images.file} holds ${n} images but ${labels.file} holds ${lab.dims[0]} labels; they must pair one to one`,
    );
  }
  const y = lab.data as Uint8Array;
  for (let i = 0; i < n; i++) {
    if (y[i] >= classes) throw malformed(labels.file, `label ${i} is ${y[i]}, outside [0, ${classes})`);
  }
  const x = normalizePixels(img.data as Uint8Array, options.normalize);
  return { x, y, features: height * width, classes, imageShape: [height, width, 1] };
}

/** Loads an MNIST-format images/labels pair from disk (gzip or not); see mnistFromBytes. */
export function loadMnist(imagesFile: string, labelsFile: string, options: MnistOptions = {}): ImageDataset {
  return mnistFromBytes(
    { bytes: readDataFile(imagesFile), file: imagesFile },
    { bytes: readDataFile(labelsFile), file: labelsFile },
    options,
  );
}
