// The CIFAR-10 binary format: data_batch_1..5.bin and test_batch.bin, records of 1 label byte + 3072 pixel bytes.
//
// A. Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009
// (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version"): each record is the label
// (0-9) and a 32x32 colour image stored channel-major: 1024 red bytes, 1024 green, 1024 blue, each
// plane row-major. The loader re-lays the pixels channels last (HWC), the layout tfjs convolutions take.
import { DsainError, ErrorCode } from "../../errors.js";
import { malformed, readDataFile } from "./files.js";
import type { ImageDataset } from "./idx.js";
import { type Normalization, normalizePixels } from "./normalize.js";

export const CIFAR10_SIDE = 32;
export const CIFAR10_CHANNELS = 3;
export const CIFAR10_PIXELS = CIFAR10_SIDE * CIFAR10_SIDE * CIFAR10_CHANNELS;
export const CIFAR10_RECORD = 1 + CIFAR10_PIXELS;
export const CIFAR10_CLASSES = 10;

export interface CifarOptions {
  /** How pixel bytes become inputs; default: divided by 255 into [0, 1]. A mean/std has 3 channels. */
  normalize?: Normalization;
}

/**
 * Parses CIFAR-10 binary batches (already in memory) into one image dataset, batch after batch.
 * Refuses an empty batch, a length that is not a whole number of 3073-byte records, and labels
 * above 9.
 */
export function cifar10FromBytes(batches: readonly { bytes: Uint8Array; file: string }[], options: CifarOptions = {}): ImageDataset {
  if (batches.length === 0) throw new DsainError(ErrorCode.INPUT_INVALID, "no CIFAR-10 batch files given");
  let total = 0;
  for (const { bytes, file } of batches) {
    if (bytes.length === 0) throw malformed(file, "is empty; a CIFAR-10 batch holds records of 3073 bytes");
    if (bytes.length % CIFAR10_RECORD !== 0) {
      throw malformed(
        file,
        `${bytes.length} bytes is not a whole number of ${CIFAR10_RECORD}-byte records ` +
          `(${Math.floor(bytes.length / CIFAR10_RECORD)} records and ${bytes.length % CIFAR10_RECORD} bytes left over); ` +
          "the file is truncated or not CIFAR-10 binary (CIFAR-100 records have 2 label bytes)",
      );
    }
    total += bytes.length / CIFAR10_RECORD;
  }
  const y = new Uint8Array(total);
  const pixels = new Uint8Array(total * CIFAR10_PIXELS);
  const plane = CIFAR10_SIDE * CIFAR10_SIDE;
  let s = 0;
  for (const { bytes, file } of batches) {
    for (let r = 0; r < bytes.length / CIFAR10_RECORD; r++, s++) {
      const base = r * CIFAR10_RECORD;
      const label = bytes[base];
      if (label >= CIFAR10_CLASSES) throw malformed(file, `record ${r} has label ${label}, outside [0, ${CIFAR10_CLASSES})`);
      y[s] = label;
      const out = s * CIFAR10_PIXELS;
      for (let c = 0; c < CIFAR10_CHANNELS; c++) {
        const src = base + 1 + c * plane;
        for (let p = 0; p < plane; p++) pixels[out + p * CIFAR10_CHANNELS + c] = bytes[src + p];
      }
    }
  }
  return {
    x: normalizePixels(pixels, options.normalize),
    y,
    features: CIFAR10_PIXELS,
    classes: CIFAR10_CLASSES,
    imageShape: [CIFAR10_SIDE, CIFAR10_SIDE, CIFAR10_CHANNELS],
  };
}

/** Loads CIFAR-10 binary batch files (gzip or not) into one dataset, in the order given. */
export function loadCifar10(files: readonly string[], options: CifarOptions = {}): ImageDataset {
  return cifar10FromBytes(
    files.map((file) => ({ bytes: readDataFile(file), file })),
    options,
  );
}
