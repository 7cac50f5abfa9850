// Shared vocabulary of the attacks: the update type, input checks, and the honest statistics they are built from.
import { DsainError, ErrorCode } from "../../errors.js";

/** One client's update. tfjs models are float32; the attacks compute and return float64. */
export type Vec = Float64Array | Float32Array;

/** Anything that draws standard normal numbers; `Prng` (../fl/data.ts) is a seeded one. */
export interface GaussianSource {
  nextGaussian(): number;
}

export function invalidInput(attack: string, message: string): DsainError {
  return new DsainError(ErrorCode.INPUT_INVALID, `${attack}: ${message}`);
}

/** At least `min` vectors, all of one length, all finite; returns the length. */
export function checkVectors(vectors: readonly Vec[], attack: string, min = 1): number {
  if (!Array.isArray(vectors) || vectors.length < min) {
    throw new DsainError(
      ErrorCode.EMPTY_INPUT,
      `${attack}: needs at least ${min} honest update${min === 1 ? "" : "s"}, got ${Array.isArray(vectors) ? vectors.length : "none"}`,
    );
  }
  const d = vectors[0].length;
  vectors.forEach((v, i) => {
    if (!(v instanceof Float64Array || v instanceof Float32Array))
      throw invalidInput(attack, `update ${i} must be a Float64Array or Float32Array`);
    if (v.length !== d) {
      throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `${attack}: update ${i} has ${v.length} coordinates, update 0 has ${d}`);
    }
    checkFinite(v, attack, `update ${i}`);
  });
  return d;
}

export function checkFinite(v: Vec, attack: string, what: string): void {
  for (let j = 0; j < v.length; j++) {
    if (!Number.isFinite(v[j])) throw invalidInput(attack, `${what} has coordinate ${j} = ${v[j]}; updates must be finite`);
  }
}

/** A finite number > 0 (or >= 0 when `allowZero`). */
export function checkPositive(attack: string, name: string, value: number, allowZero = false): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw invalidInput(attack, `${name} is ${value}; it must be a finite number ${allowZero ? ">= 0" : "> 0"}`);
  }
}

/** The coordinate-wise mean, accumulated in float64 in input order. */
export function mean(vectors: readonly Vec[]): Float64Array {
  const d = vectors[0].length;
  const out = new Float64Array(d);
  for (const v of vectors) for (let j = 0; j < d; j++) out[j] += v[j];
  for (let j = 0; j < d; j++) out[j] /= vectors.length;
  return out;
}

/**
 * The coordinate-wise standard deviation sqrt(sum (v - mean)^2 / (m - ddof)), two-pass in float64.
 * ddof = 1 (the default) is torch.std and ByzFL's choice; ddof = 0 is numpy's default.
 */
export function std(vectors: readonly Vec[], ddof = 1, mu: Float64Array = mean(vectors)): Float64Array {
  const m = vectors.length;
  if (ddof !== 0 && ddof !== 1) throw new DsainError(ErrorCode.INPUT_INVALID, `ddof is ${ddof}; it must be 0 or 1`);
  if (m - ddof < 1)
    throw new DsainError(ErrorCode.EMPTY_INPUT, `a standard deviation with ddof=${ddof} needs at least ${ddof + 1} updates`);
  const d = mu.length;
  const out = new Float64Array(d);
  for (const v of vectors) {
    for (let j = 0; j < d; j++) {
      const e = v[j] - mu[j];
      out[j] += e * e;
    }
  }
  for (let j = 0; j < d; j++) out[j] = Math.sqrt(out[j] / (m - ddof));
  return out;
}

/** ||a - b||^2 in float64, summed directly (no Gram-matrix shortcut, which cancels badly). */
export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) {
    const e = a[j] - b[j];
    s += e * e;
  }
  return s;
}
