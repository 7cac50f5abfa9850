// Pixel bytes to the Float32 inputs a model takes: scaling to [0, 1], optionally per-channel standardisation.
import { DsainError, ErrorCode } from "../../errors.js";

export interface Normalization {
  /** Every byte is divided by this first; default 255, so pixels land in [0, 1]. */
  scale?: number;
  /**
   * Per-channel means subtracted after scaling, channels last (value i belongs to channel
   * i mod mean.length); one entry for grey images, three for RGB. Default: none.
   */
  mean?: readonly number[];
  /** Per-channel standard deviations divided by after the mean; same length as `mean`. */
  std?: readonly number[];
}

function invalidInput(message: string): DsainError {
  return new DsainError(ErrorCode.INPUT_INVALID, message);
}

/** Checks a Normalization and returns its channel count (1 when no mean/std is given). */
export function checkNormalization(n: Normalization): number {
  const scale = n.scale ?? 255;
  if (!Number.isFinite(scale) || scale <= 0) throw invalidInput(`normalisation scale is ${scale}; it must be a positive finite number`);
  if ((n.mean === undefined) !== (n.std === undefined)) throw invalidInput("normalisation needs both mean and std, or neither");
  if (n.mean === undefined || n.std === undefined) return 1;
  if (n.mean.length === 0 || n.mean.length !== n.std.length) {
    throw invalidInput(`normalisation mean has ${n.mean.length} channels and std ${n.std.length}; give one of each per channel`);
  }
  n.mean.forEach((m, c) => {
    if (!Number.isFinite(m)) throw invalidInput(`normalisation mean[${c}] is ${m}; it must be finite`);
  });
  n.std.forEach((s, c) => {
    if (!Number.isFinite(s) || s <= 0) throw invalidInput(`normalisation std[${c}] is ${s}; it must be a positive finite number`);
  });
  return n.mean.length;
}

/**
 * (byte / scale - mean[c]) / std[c] for every byte, c the channel of the value when the bytes are
 * laid out channels last. The arithmetic is done in float64 and rounded once to float32.
 */
export function normalizePixels(bytes: Uint8Array, options: Normalization = {}): Float32Array {
  const channels = checkNormalization(options);
  if (bytes.length % channels !== 0) {
    throw invalidInput(`${bytes.length} pixel values do not split into ${channels} channels`);
  }
  const scale = options.scale ?? 255;
  const out = new Float32Array(bytes.length);
  if (options.mean === undefined || options.std === undefined) {
    // A 256-entry table gives the same float32 as dividing each byte, at a fraction of the cost.
    const table = new Float32Array(256);
    for (let b = 0; b < 256; b++) table[b] = b / scale;
    for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]];
    return out;
  }
  const { mean, std } = options;
  for (let i = 0; i < bytes.length; i++) {
    const c = i % channels;
    out[i] = (bytes[i] / scale - mean[c]) / std[c];
  }
  return out;
}
