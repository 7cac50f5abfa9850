// One Weiszfeld pass over the updates, and the rounding bookkeeping that lets a pass use dot
// products instead of differences for the distances without losing accuracy.
//
// A pass reads the input once: per column block it forms the next iterate y' = sum w_i u_i / sum w
// and, while the block is in cache, one number per row. Squared distances to y' can be had two ways:
//   direct:  ||u_i - y'||^2 = sum_j (u_ij - y'_j)^2                          (sub, mul, add per value)
//   update:  ||u_i - y'||^2 = ||u_i - y||^2 - 2 (u_i . s - y . s) + ||s||^2,  s = y' - y  (mul, add)
// The update form reuses the previous pass's distance, needs one dot product per row with the step s
// (plus y . s and ||s||^2, once per column), and is exact in exact arithmetic. In floating point its
// error is about eps (||u_i|| + ||y||) ||s|| per pass instead of eps ||u_i - y'||^2: tiny while the
// steps are short next to the distances, which is the case after the first few iterations, and
// large when an update sits near the iterate (cancellation). So every row carries a bound of its
// error, each pass uses the update form only for rows whose bound is predicted to stay within
// KAPPA times the direct form's own bound, and rows whose bound turns out larger after the pass are
// recomputed directly (an extra read of those rows only). Distances are thus always as accurate as
// the direct form's, up to the factor KAPPA on the worst-case bound. The bounds are Higham's
// (Accuracy and Stability of Numerical Algorithms, 2002, section 4.2): a sum whose summation tree
// is h deep is within gamma_h = h eps / (1 - h eps) of sum |terms|.
import { DsainError, ErrorCode } from "../../errors.js";
import { BLOCK, accumulateRows, type Vec } from "./common.js";
import { SimdWeiszfeld } from "./simd.js";
import type { ExtraSum, PassSums, WeiszfeldEngine } from "./vec.js";

export type { ExtraSum, PassSums, WeiszfeldEngine };

/** The engine for a run over these updates: WebAssembly SIMD where it runs, else the plain loops. */
export function weiszfeldEngine(updates: readonly Vec[]): WeiszfeldEngine {
  return SimdWeiszfeld.open(updates) ?? new PlainWeiszfeld(updates);
}

/** The engine in plain loops, iterates in two Float64Arrays: the reference of the SIMD engine and its fallback. */
export class PlainWeiszfeld implements WeiszfeldEngine {
  private y: Float64Array;
  private next: Float64Array;
  private started = false;

  constructor(private readonly updates: readonly Vec[]) {
    this.y = new Float64Array(updates[0].length);
    this.next = new Float64Array(updates[0].length);
  }

  pass(w: Float64Array, total: number, direct: Uint8Array, out: Float64Array, extra?: ExtraSum): PassSums {
    const prev = this.started ? this.y : null;
    return weiszfeldPassPlain({ updates: this.updates, w, total, prev, direct, next: this.next, out, extra });
  }

  accept(): void {
    [this.y, this.next] = [this.next, this.y];
    this.started = true;
  }

  candidateDistances(rows: readonly number[], out: Float64Array): void {
    squaredDistancesPlain(this.updates, rows, this.next, out);
  }

  current(): Float64Array {
    return this.y;
  }
}

/** A plain pass's inputs and outputs: `WeiszfeldEngine.pass`'s, with the iterates given. */
export interface PassIO {
  readonly updates: readonly Vec[];
  readonly w: Float64Array;
  readonly total: number;
  readonly prev: Float64Array | null;
  readonly direct: Uint8Array;
  readonly next: Float64Array;
  readonly out: Float64Array;
  readonly extra?: ExtraSum;
}

/** One pass in plain loops (`PlainWeiszfeld.pass`). */
export function weiszfeldPassPlain(io: PassIO): PassSums {
  const { updates, w, total, prev, direct, next, out, extra } = io;
  const n = updates.length;
  const d = next.length;
  const inv = 1 / total;
  const all = Array.from({ length: n }, (_, i) => i);
  const directRows = all.filter((i) => direct[i] === 1);
  const dotRows = all.filter((i) => direct[i] !== 1);
  if (dotRows.length > 0 && !prev)
    throw new DsainError(
      ErrorCode.INPUT_INVALID,
      "weiszfeldPassPlain: rows in the update form need the previous iterate; mark them direct on the first pass",
    );
  const step = new Float64Array(BLOCK);
  out.fill(0);
  next.fill(0, 0, d);
  if (extra) extra.into.fill(0);
  let step2 = 0;
  let prevDotStep = 0;
  for (let c0 = 0; c0 < d; c0 += BLOCK) {
    const c1 = Math.min(d, c0 + BLOCK);
    accumulateRows(updates, w, all, c0, c1, next);
    const [s0, s1] = finishBlock(next, prev, c0, c1, inv, step);
    step2 += s0;
    prevDotStep += s1;
    rowDistances(updates, directRows, c0, c1, next, out);
    rowDots(updates, dotRows, c0, c1, step, out);
    if (extra) {
      accumulateRows(updates, extra.weights, extra.rows, c0, c1, extra.into);
      divideRange(extra.into, c0, c1, extra.divisor);
    }
  }
  return { step2, prevDotStep };
}

/**
 * The end of a pass's block: y = next[j] * inv into next[j], the step y - prev[j] (prev 0 when
 * there is none) into step[j - c0]; returns the block's sums of squared steps and of prev * step.
 */
function finishBlock(
  next: Float64Array,
  prev: Float64Array | null,
  c0: number,
  c1: number,
  inv: number,
  step: Float64Array,
): [number, number] {
  let s0 = 0;
  let s1 = 0;
  if (prev) {
    for (let j = c0; j < c1; j++) {
      const y = next[j] * inv;
      next[j] = y;
      const p = prev[j];
      const e = y - p;
      step[j - c0] = e;
      s0 += e * e;
      s1 += p * e;
    }
  } else {
    for (let j = c0; j < c1; j++) {
      const y = next[j] * inv;
      next[j] = y;
      step[j - c0] = y;
      s0 += y * y;
    }
  }
  return [s0, s1];
}

/** v[j] /= divisor for c0 <= j < c1 (its own function: optimised on its own, not with the rarely taken branch that calls it). */
function divideRange(v: Float64Array, c0: number, c1: number, divisor: number): void {
  for (let j = c0; j < c1; j++) v[j] /= divisor;
}

/** out[r] = ||u_r - y||^2 for the listed rows, in plain loops. */
export function squaredDistancesPlain(updates: readonly Vec[], rows: readonly number[], y: Float64Array, out: Float64Array): void {
  for (const r of rows) out[r] = 0;
  for (let c0 = 0; c0 < y.length; c0 += BLOCK) rowDistances(updates, rows, c0, Math.min(y.length, c0 + BLOCK), y, out);
}

/**
 * out[r] += sum_{c0 <= j < c1} (u_r[j] - y[j])^2 for the listed rows, four at a time (independent
 * accumulators, each load of y serving four rows).
 */
function rowDistances(updates: readonly Vec[], rows: readonly number[], c0: number, c1: number, y: Float64Array, out: Float64Array): void {
  let i = 0;
  for (; i + 3 < rows.length; i += 4) {
    const u0 = updates[rows[i]];
    const u1 = updates[rows[i + 1]];
    const u2 = updates[rows[i + 2]];
    const u3 = updates[rows[i + 3]];
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = c0; j < c1; j++) {
      const v = y[j];
      const e0 = u0[j] - v;
      const e1 = u1[j] - v;
      const e2 = u2[j] - v;
      const e3 = u3[j] - v;
      s0 += e0 * e0;
      s1 += e1 * e1;
      s2 += e2 * e2;
      s3 += e3 * e3;
    }
    out[rows[i]] += s0;
    out[rows[i + 1]] += s1;
    out[rows[i + 2]] += s2;
    out[rows[i + 3]] += s3;
  }
  // The rest one at a time, alternate columns into two accumulators (a single one would wait on
  // the latency of each addition).
  for (; i < rows.length; i++) {
    const u = updates[rows[i]];
    let s0 = 0;
    let s1 = 0;
    let j = c0;
    for (; j + 1 < c1; j += 2) {
      const e0 = u[j] - y[j];
      const e1 = u[j + 1] - y[j + 1];
      s0 += e0 * e0;
      s1 += e1 * e1;
    }
    if (j < c1) {
      const e = u[j] - y[j];
      s0 += e * e;
    }
    out[rows[i]] += s0 + s1;
  }
}

/** out[r] += sum_{c0 <= j < c1} u_r[j] * s[j - c0] for the listed rows, four at a time. */
function rowDots(updates: readonly Vec[], rows: readonly number[], c0: number, c1: number, s: Float64Array, out: Float64Array): void {
  let i = 0;
  for (; i + 3 < rows.length; i += 4) {
    const u0 = updates[rows[i]];
    const u1 = updates[rows[i + 1]];
    const u2 = updates[rows[i + 2]];
    const u3 = updates[rows[i + 3]];
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = c0; j < c1; j++) {
      const v = s[j - c0];
      s0 += u0[j] * v;
      s1 += u1[j] * v;
      s2 += u2[j] * v;
      s3 += u3[j] * v;
    }
    out[rows[i]] += s0;
    out[rows[i + 1]] += s1;
    out[rows[i + 2]] += s2;
    out[rows[i + 3]] += s3;
  }
  for (; i < rows.length; i++) {
    const u = updates[rows[i]];
    let t0 = 0;
    let t1 = 0;
    let j = c0;
    for (; j + 1 < c1; j += 2) {
      t0 += u[j] * s[j - c0];
      t1 += u[j + 1] * s[j + 1 - c0];
    }
    if (j < c1) t0 += u[j] * s[j - c0];
    out[rows[i]] += t0 + t1;
  }
}

// --- Rounding bookkeeping ---------------------------------------------------------------------

const EPS = 2 ** -53;

/**
 * The update form is used for a row only while its error bound stays within KAPPA times the
 * direct form's bound gamma_{h+3} ||u_i - y||^2.
 */
export const KAPPA = 4;

/**
 * Depth of every summation tree of a pass over d columns, either backend, including the rounding
 * of the product: the SIMD kernels sum at most 8,192 values per lane per block (blocks at least
 * 256 wide), the plain loops at most 1,024 per block, and the blocks' partial sums are added in turn.
 */
export function passDepth(d: number): number {
  return Math.min(d, 8192) + Math.ceil(d / 256) + 4;
}

export const gamma = (h: number): number => (h * EPS) / (1 - h * EPS);

/**
 * Squared distances of the rows to the current iterate, with a bound of each one's absolute error,
 * and a bound of the iterate's squared norm, carried from pass to pass. `d2`/`err` hold the
 * accepted values (distances to the current iterate); `advance` computes the candidates for the
 * next iterate, which `commit` accepts.
 */
export class SquaredDistances {
  d2: Float64Array;
  err: Float64Array;
  private nextD2: Float64Array;
  private nextErr: Float64Array;
  /** Upper bounds of ||y||^2 for the current iterate and the candidate. */
  private yNorm2 = 0;
  private nextYNorm2 = 0;
  /** gamma of a dot product or sum of the pass. */
  private readonly g1: number;
  /** gamma of a directly computed squared distance. */
  private readonly g3: number;

  constructor(
    readonly n: number,
    d: number,
  ) {
    this.d2 = new Float64Array(n);
    this.err = new Float64Array(n);
    this.nextD2 = new Float64Array(n);
    this.nextErr = new Float64Array(n);
    const h = passDepth(d);
    this.g1 = gamma(h);
    this.g3 = gamma(h + 3);
  }

  /** An upper bound of the current iterate's squared norm. */
  get iterateNorm2(): number {
    return this.yNorm2;
  }

  /** Accepts the first pass (no previous iterate, every row direct): its squared distances, and ||y||^2 from its sums. */
  start(out: Float64Array, sums: PassSums): void {
    for (let i = 0; i < this.n; i++) {
      this.d2[i] = out[i];
      this.err[i] = this.g3 * Math.abs(out[i]);
    }
    this.yNorm2 = sums.step2 * (1 + 2 * this.g1);
  }

  /**
   * Added error bound of one update-form pass: the dot products u_i . s and y . s (each within
   * gamma ||.|| ||s|| with ||u_i|| <= ||u_i - y|| + ||y||), ||s||^2, the three roundings that
   * combine them, and the rounding of s itself (the form measures to y + s, within eps ||s|| of the
   * stored iterate). The 1.001 covers the second-order terms.
   */
  private increment(d2: number, e: number, yNorm: number, step: number, t: number, dNew: number): number {
    const dHigh = Math.sqrt(Math.max(d2, 0) + e);
    const uNorm = dHigh + yNorm;
    return (
      1.001 *
      (2 * this.g1 * (uNorm + yNorm) * step +
        this.g1 * step * step +
        2 * EPS * (Math.abs(d2) + 2 * Math.abs(t) + step * step) +
        3 * EPS * step * dNew)
    );
  }

  /**
   * Marks in `direct` the rows to compute directly in the next pass (1) and those the update form
   * may serve (0), assuming a step no longer than `stepGuess`. A row is predicted safe when its
   * bound after such a step stays within KAPPA times the direct bound of the smallest distance
   * the step allows, with a margin of 10%.
   */
  plan(direct: Uint8Array, stepGuess: number): void {
    const yNorm = Math.sqrt(this.yNorm2);
    for (let i = 0; i < this.n; i++) {
      const d2 = this.d2[i];
      const e = this.err[i];
      let safe = false;
      if (Number.isFinite(d2) && Number.isFinite(e) && Number.isFinite(stepGuess)) {
        const dHigh = Math.sqrt(Math.max(d2, 0) + e);
        const dLow = Math.sqrt(Math.max(d2 - e, 0)) - stepGuess;
        if (dLow > 0) {
          const bound = e + this.increment(d2, e, yNorm, stepGuess, dHigh * stepGuess, dHigh + stepGuess);
          safe = bound <= 0.9 * KAPPA * this.g3 * dLow * dLow;
        }
      }
      direct[i] = safe ? 0 : 1;
    }
  }

  /**
   * The squared distances to the pass's new iterate: out[i] as is for direct rows, the update form
   * for the others; and the new iterate's squared norm, ||y||^2 + 2 y . s + ||s||^2 plus the
   * rounding of those sums. Returns the rows whose bound came out above KAPPA times the direct
   * bound: they must be recomputed directly (`setNextDirect`) before `commit`.
   */
  advance(direct: Uint8Array, out: Float64Array, sums: PassSums): number[] {
    const yNorm = Math.sqrt(this.yNorm2);
    const { step2, prevDotStep } = sums;
    const step = Math.sqrt(step2 * (1 + this.g1));
    const redo: number[] = [];
    for (let i = 0; i < this.n; i++) {
      if (direct[i] === 1) {
        this.nextD2[i] = out[i];
        this.nextErr[i] = this.g3 * Math.abs(out[i]);
        continue;
      }
      const d2 = this.d2[i];
      const t = out[i] - prevDotStep;
      const v = d2 - 2 * t + step2;
      const e = this.err[i] + this.increment(d2, this.err[i], yNorm, step, t, Math.sqrt(Math.max(v, 0)));
      this.nextD2[i] = v;
      this.nextErr[i] = e;
      if (!(Number.isFinite(v) && e <= KAPPA * this.g3 * v)) redo.push(i);
    }
    const slack = 2 * this.g1 * yNorm * step + this.g1 * step2 + 2 * EPS * (this.yNorm2 + 2 * Math.abs(prevDotStep) + step2);
    this.nextYNorm2 = Math.max(this.yNorm2 + 2 * prevDotStep + step2, 0) + 1.001 * slack;
    return redo;
  }

  /** Replaces a candidate by a directly computed squared distance. */
  setNextDirect(i: number, value: number): void {
    this.nextD2[i] = value;
    this.nextErr[i] = this.g3 * Math.abs(value);
  }

  /** Accepts the candidates: they become the distances to the (new) current iterate. */
  commit(): void {
    [this.d2, this.nextD2] = [this.nextD2, this.d2];
    [this.err, this.nextErr] = [this.nextErr, this.err];
    this.yNorm2 = this.nextYNorm2;
  }
}
