// Fixed-point encoding of model vectors (docs/protocol.md §1): float -> int32 at 2^-16 resolution.
import { DsainError, ErrorCode } from "../errors.js";
import { INT_MAX, INT_MIN, SCALE } from "./constants.js";

/** Rounds to the nearest integer, ties to even (IEEE 754 default), for any finite double. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Encodes one parameter; `index` only serves the error message. */
export function encodeValue(value: number, index = 0): number {
  if (!Number.isFinite(value)) {
    throw new DsainError(ErrorCode.ENCODING_NOT_FINITE, `parameter ${index} is ${value}; only finite values can be encoded`);
  }
  // Multiplying by a power of two is exact in binary64, so rounding sees the true product.
  const q = roundHalfEven(value * SCALE);
  if (q < INT_MIN || q > INT_MAX) {
    throw new DsainError(
      ErrorCode.ENCODING_OUT_OF_RANGE,
      `parameter ${index} = ${value} encodes to ${q}, outside the int32 range [${INT_MIN}, ${INT_MAX}] (|w| must stay below 32768)`,
    );
  }
  return q;
}

export function encodeVector(values: ArrayLike<number>): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = encodeValue(values[i], i);
  return out;
}

/** The float view of an encoded vector, as loaded into a model (float32 may round |w| >= 256). */
export function decodeVector(encoded: Int32Array): Float32Array {
  const out = new Float32Array(encoded.length);
  for (let i = 0; i < encoded.length; i++) out[i] = encoded[i] / SCALE;
  return out;
}

/** delta = local - base, element-wise, checked to stay within int32. */
export function encodedDelta(local: Int32Array, base: Int32Array): Int32Array {
  if (local.length !== base.length) {
    throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `update has ${local.length} parameters, the base model ${base.length}`);
  }
  const out = new Int32Array(local.length);
  for (let i = 0; i < local.length; i++) {
    const d = local[i] - base[i];
    if (d < INT_MIN || d > INT_MAX) {
      throw new DsainError(ErrorCode.ENCODING_OUT_OF_RANGE, `delta of parameter ${i} is ${d}, outside int32`);
    }
    out[i] = d;
  }
  return out;
}
