// Shared vocabulary of the robust aggregators: the update type, input checks and refusals, the
// column-blocked kernels the rules are built on, and the strategy interface (Flower's pattern:
// a thin class over exported pure functions).
import { DsainError, ErrorCode } from "../../errors.js";
import { weightedSumSimd } from "./simd.js";
import type { Vec } from "./vec.js";

export type { Vec };

/**
 * Columns per block in the blocked kernels: a block of K rows stays in L2 (K = 50 float64 rows of
 * 1024 columns is 400 KiB) while every row is visited, so the input is read from memory once.
 */
export const BLOCK = 1024;

/** Checks that there is at least one update and that all have the same length; returns it. */
export function checkUpdates(updates: readonly Vec[], method: string): number {
  if (updates.length === 0) throw new DsainError(ErrorCode.EMPTY_INPUT, `${method}: no updates to aggregate; a round needs at least one`);
  const d = updates[0].length;
  for (let i = 1; i < updates.length; i++) {
    if (updates[i].length !== d) {
      throw new DsainError(
        ErrorCode.VECTOR_LENGTH_MISMATCH,
        `${method}: update ${i} has ${updates[i].length} coordinates, update 0 has ${d}`,
      );
    }
  }
  return d;
}

/** f must be a non-negative integer (the number of Byzantine clients tolerated). */
export function checkF(method: string, f: number): void {
  if (!Number.isInteger(f) || f < 0) throw new DsainError(ErrorCode.INPUT_INVALID, `${method}: f must be a non-negative integer, got ${f}`);
}

/**
 * The honest-majority refusal of ByzFL's aggregators (TrMean, Krum, MultiKrum, MDA, MoNNA,
 * Meamed): they raise "Cannot tolerate 2f >= n".
 */
export function requireHonestMajority(method: string, n: number, f: number): void {
  checkF(method, f);
  if (2 * f >= n) {
    throw new DsainError(
      ErrorCode.TOO_FEW_UPDATES,
      `${method} cannot tolerate f=${f} Byzantine updates among n=${n}: it needs n > 2f, i.e. at least ${2 * f + 1} updates (or a smaller f)`,
    );
  }
}

/** A finite number >= 0 (or > 0 when `positive`), for parameters. */
export function checkNonNegative(method: string, name: string, value: number, positive = false): void {
  if (!Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${method}: ${name} must be a finite number ${positive ? "> 0" : ">= 0"}, got ${value}`);
  }
}

export function checkInteger(method: string, name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${method}: ${name} must be an integer >= ${min}, got ${value}`);
  }
}

/** Copies an update to float64 (pre-aggregators return new vectors, never alias their input). */
export function toFloat64(v: Vec): Float64Array {
  return Float64Array.from(v);
}

/**
 * sum_i w_i * u_i[j] / divisor for every j, over the rows listed in `rows` (all rows when
 * omitted). Each coordinate is accumulated in row order starting from 0 and divided once, the
 * order of `sum(w * u for ...) / total` in numpy; blocked so the accumulator stays in L1, with
 * rows taken eight, four, two at a time so each load and store of the accumulator serves several.
 */
export function weightedSum(updates: readonly Vec[], weights: ArrayLike<number>, divisor: number, rows?: readonly number[]): Float64Array {
  const idx = rows ?? updates.map((_, i) => i);
  return weightedSumSimd(updates, weights, divisor, idx) ?? weightedSumPlain(updates, weights, divisor, idx);
}

/** `weightedSum` in plain loops: the reference of the SIMD kernel and its fallback. */
export function weightedSumPlain(
  updates: readonly Vec[],
  weights: ArrayLike<number>,
  divisor: number,
  idx: readonly number[],
): Float64Array {
  const d = updates[0].length;
  const out = new Float64Array(d);
  for (let c0 = 0; c0 < d; c0 += BLOCK) {
    const c1 = Math.min(d, c0 + BLOCK);
    accumulateRows(updates, weights, idx, c0, c1, out);
    for (let j = c0; j < c1; j++) out[j] /= divisor;
  }
  return out;
}

/**
 * out[j] += weights[r] * updates[r][j] for r in idx (in that order) and c0 <= j < c1: the blocked
 * inner loop of `weightedSumPlain` and of a Weiszfeld pass. Rows go eight, four, two and one at a time
 * so that each load and store of out[j] serves several of them; per coordinate the additions are
 * still made one row after the other, in the order of idx.
 */
export function accumulateRows(
  updates: readonly Vec[],
  weights: ArrayLike<number>,
  idx: readonly number[],
  c0: number,
  c1: number,
  out: Float64Array,
): void {
  const m = idx.length;
  let r = 0;
  for (; r + 7 < m; r += 8) {
    const u0 = updates[idx[r]];
    const u1 = updates[idx[r + 1]];
    const u2 = updates[idx[r + 2]];
    const u3 = updates[idx[r + 3]];
    const u4 = updates[idx[r + 4]];
    const u5 = updates[idx[r + 5]];
    const u6 = updates[idx[r + 6]];
    const u7 = updates[idx[r + 7]];
    const w0 = weights[idx[r]];
    const w1 = weights[idx[r + 1]];
    const w2 = weights[idx[r + 2]];
    const w3 = weights[idx[r + 3]];
    const w4 = weights[idx[r + 4]];
    const w5 = weights[idx[r + 5]];
    const w6 = weights[idx[r + 6]];
    const w7 = weights[idx[r + 7]];
    for (let j = c0; j < c1; j++) {
      let a = out[j];
      a += w0 * u0[j];
      a += w1 * u1[j];
      a += w2 * u2[j];
      a += w3 * u3[j];
      a += w4 * u4[j];
      a += w5 * u5[j];
      a += w6 * u6[j];
      a += w7 * u7[j];
      out[j] = a;
    }
  }
  for (; r + 3 < m; r += 4) {
    const u0 = updates[idx[r]];
    const u1 = updates[idx[r + 1]];
    const u2 = updates[idx[r + 2]];
    const u3 = updates[idx[r + 3]];
    const w0 = weights[idx[r]];
    const w1 = weights[idx[r + 1]];
    const w2 = weights[idx[r + 2]];
    const w3 = weights[idx[r + 3]];
    for (let j = c0; j < c1; j++) {
      let a = out[j];
      a += w0 * u0[j];
      a += w1 * u1[j];
      a += w2 * u2[j];
      a += w3 * u3[j];
      out[j] = a;
    }
  }
  for (; r + 1 < m; r += 2) {
    const u0 = updates[idx[r]];
    const u1 = updates[idx[r + 1]];
    const w0 = weights[idx[r]];
    const w1 = weights[idx[r + 1]];
    for (let j = c0; j < c1; j++) {
      let a = out[j];
      a += w0 * u0[j];
      a += w1 * u1[j];
      out[j] = a;
    }
  }
  for (; r < m; r++) {
    const u0 = updates[idx[r]];
    const w0 = weights[idx[r]];
    for (let j = c0; j < c1; j++) out[j] += w0 * u0[j];
  }
}

/** Plain mean of the listed rows (all when omitted), accumulated in row order, divided once. */
export function meanOfRows(updates: readonly Vec[], rows?: readonly number[]): Float64Array {
  const idx = rows ?? updates.map((_, i) => i);
  return weightedSum(updates, new Float64Array(updates.length).fill(1), idx.length, idx);
}

/** ||u - v||_2, accumulated exactly as written (no Gram-matrix shortcut). */
export function distance(u: ArrayLike<number>, v: ArrayLike<number>): number {
  let s0 = 0;
  let s1 = 0;
  const n = u.length;
  let j = 0;
  for (; j + 1 < n; j += 2) {
    const a = u[j] - v[j];
    const b = u[j + 1] - v[j + 1];
    s0 += a * a;
    s1 += b * b;
  }
  if (j < n) {
    const a = u[j] - v[j];
    s0 += a * a;
  }
  return Math.sqrt(s0 + s1);
}

/** ||u||_2. */
export function norm(u: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < u.length; j++) s += u[j] * u[j];
  return Math.sqrt(s);
}

/** What a strategy returns: the aggregate and, when it is a weighted mean of whole updates, the weights. */
export interface AggregationOutcome {
  readonly aggregate: Float64Array;
  /**
   * Convex weights over the inputs (summing to 1, aligned with them) when the aggregate is a
   * weighted mean of whole updates (FedAvg, ByzFed, Krum, Multi-Krum, MDA, MoNNA): these feed the
   * exact integer path (`toIntegerWeights`). Null for coordinate-wise rules (median, trimmed
   * mean, Bulyan, Meamed) and for rules whose output is not a mean of inputs.
   */
  readonly weights: Float64Array | null;
}

/** One round's input to a strategy. */
export interface RoundUpdates {
  readonly updates: readonly Vec[];
  /** Local sample counts, aligned with `updates` (FedAvg and Flower's weighted Multi-Krum use them). */
  readonly sampleCounts?: readonly number[];
  /** Stable client identifiers, aligned with `updates` (ByzFed keys reputations by them). */
  readonly clientIds?: readonly string[];
}

/** An aggregation strategy: a thin, possibly stateful, class over the pure functions. */
export interface RobustAggregator {
  readonly name: string;
  aggregate(round: RoundUpdates): AggregationOutcome;
}

/** Weights that put 1/|rows| on each listed row and 0 elsewhere. */
export function uniformOver(n: number, rows: readonly number[]): Float64Array {
  const w = new Float64Array(n);
  for (const i of rows) w[i] += 1 / rows.length;
  return w;
}
