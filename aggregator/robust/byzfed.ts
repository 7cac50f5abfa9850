// ByzFed, DSAIN's Byzantine-resilient aggregation (Algorithm 2): geometric median by Weiszfeld,
// distances to it, a robust scale, a distance filter, a reputation update, and the reputation-
// weighted mean of the updates that passed.
//
// DSAIN: "Sovereign Federated Learning with Byzantine-Resilient Aggregation: A Framework for
// Decentralized AI Infrastructure in Emerging Economies", Algorithm 2 (ByzFed).
// It reproduces the authors' own implementation, `ByzFed` in code/dsain.py of
// TerexSpace/dsain-framework @1ef69cb, case by case (../shared/vectors/dsain/byzfed-vectors.json):
// - Weiszfeld starts at the mean, floors distances at 1e-10, stops after 100 iterations or at the
//   first step shorter than 1e-6, and returns the iterate BEFORE that step;
// - robust scale s = max(1.4826 * median_i d_i, 1e-10) (median of an even count = mean of the
//   middle pair). The paper's text has no 1.4826 (scaleFactor = 1); the code's MAD consistency
//   constant is the default here;
// - client i is kept when d_i <= tau * s;
// - reputations (a new client starts at 1.0) become r <- alpha * r + (1 - alpha) * [kept] for every
//   client of the round BEFORE weighting; clients absent from the round keep theirs;
// - aggregate = sum_{i kept} r_i u_i / sum_{i kept} r_i; when nobody is kept, every update is used
//   with its (decayed) reputation.
// The pure functions below do one round each; the `ByzFed` class carries reputations between rounds.
import { DsainError, ErrorCode } from "../errors.js";
import {
  BLOCK,
  checkInteger,
  checkNonNegative,
  checkUpdates,
  weightedSum,
  type AggregationOutcome,
  type RobustAggregator,
  type RoundUpdates,
  type Vec,
} from "./common.js";
import { medianInPlace } from "./select.js";
import { weiszfeldPassSimd } from "./simd.js";

/** ByzFed's parameters; every default is the authors' (code/dsain.py). */
export interface ByzFedParams {
  /** tau: a client is kept when its distance to the median is <= tau * robust scale. Default 3.0 (real_experiments.py uses 5.0). */
  readonly tau: number;
  /** alpha: reputation decay, r <- alpha * r + (1 - alpha) * [kept]; in (0, 1]. Default 0.9. */
  readonly alpha: number;
  /** Multiplies the median distance in the robust scale: 1.4826 in the authors' code, 1 in the paper's text. */
  readonly scaleFactor: number;
  /** Weiszfeld iteration cap. Default 100. */
  readonly maxIter: number;
  /** Weiszfeld stops at the first step ||y_new - y|| below this. Default 1e-6. */
  readonly tol: number;
  /** Weiszfeld weights are 1 / max(distance, distanceFloor). Default 1e-10. */
  readonly distanceFloor: number;
  /** The robust scale is at least this. Default 1e-10. */
  readonly scaleFloor: number;
  /** Reputation of a client seen for the first time. Default 1.0. */
  readonly initialReputation: number;
}

export const BYZFED_DEFAULTS: Readonly<ByzFedParams> = Object.freeze({
  tau: 3.0,
  alpha: 0.9,
  scaleFactor: 1.4826,
  maxIter: 100,
  tol: 1e-6,
  distanceFloor: 1e-10,
  scaleFloor: 1e-10,
  initialReputation: 1.0,
});

/** Fills in defaults and refuses parameters outside their domain. */
export function byzFedParams(params: Partial<ByzFedParams> = {}): Readonly<ByzFedParams> {
  const p = { ...BYZFED_DEFAULTS, ...params };
  checkNonNegative("ByzFed", "tau", p.tau);
  if (!(p.alpha > 0 && p.alpha <= 1)) throw new DsainError(ErrorCode.BAD_ARGUMENT, `ByzFed: alpha must be in (0, 1], got ${p.alpha}`);
  checkNonNegative("ByzFed", "scaleFactor", p.scaleFactor, true);
  checkInteger("ByzFed", "maxIter", p.maxIter, 0);
  checkNonNegative("ByzFed", "tol", p.tol);
  checkNonNegative("ByzFed", "distanceFloor", p.distanceFloor, true);
  checkNonNegative("ByzFed", "scaleFloor", p.scaleFloor, true);
  checkNonNegative("ByzFed", "initialReputation", p.initialReputation, true);
  return Object.freeze(p);
}

export interface WeiszfeldOptions {
  readonly maxIter: number;
  readonly tol: number;
  readonly distanceFloor: number;
}

export interface WeiszfeldResult {
  /** The returned iterate. */
  readonly median: Float64Array;
  /** ||u_i - median|| (not floored), aligned with the updates. */
  readonly distances: Float64Array;
  /** Steps taken (iterates replaced); the step that fell under the tolerance is not taken. */
  readonly updatesApplied: number;
  /** True when a step fell under the tolerance before the cap. */
  readonly converged: boolean;
  /** Every step length computed, in order. */
  readonly stepNorms: number[];
}

/**
 * One pass over the input: next[j] = (sum_i w_i u_i[j]) * (1 / total), the sum in row order as
 * numpy's, the division a multiplication by the reciprocal (at most one ulp from the reference's
 * `/ weight_sum`; a division per coordinate costs a sixth of the pass). While that block is in
 * cache it also accumulates the squared distances of every update to `next` (into dist2) and the
 * squared step ||next - prev||^2 (returned; 0 without `prev`). Reading the input once per
 * Weiszfeld iteration, and doing little per value, is what keeps an iteration near the one-pass
 * floor: rows go eight, four, two at a time so each load of next[j] serves several of them.
 */
export function weiszfeldPass(
  updates: readonly Vec[],
  w: Float64Array,
  total: number,
  next: Float64Array,
  dist2: Float64Array,
  prev?: Float64Array,
): number {
  const n = updates.length;
  const d = next.length;
  const inv = 1 / total;
  dist2.fill(0);
  next.fill(0);
  let step2 = 0;
  for (let c0 = 0; c0 < d; c0 += BLOCK) {
    const c1 = Math.min(d, c0 + BLOCK);
    let i = 0;
    for (; i + 7 < n; i += 8) {
      const u0 = updates[i];
      const u1 = updates[i + 1];
      const u2 = updates[i + 2];
      const u3 = updates[i + 3];
      const u4 = updates[i + 4];
      const u5 = updates[i + 5];
      const u6 = updates[i + 6];
      const u7 = updates[i + 7];
      const w0 = w[i];
      const w1 = w[i + 1];
      const w2 = w[i + 2];
      const w3 = w[i + 3];
      const w4 = w[i + 4];
      const w5 = w[i + 5];
      const w6 = w[i + 6];
      const w7 = w[i + 7];
      for (let j = c0; j < c1; j++) {
        let a = next[j];
        a += w0 * u0[j];
        a += w1 * u1[j];
        a += w2 * u2[j];
        a += w3 * u3[j];
        a += w4 * u4[j];
        a += w5 * u5[j];
        a += w6 * u6[j];
        a += w7 * u7[j];
        next[j] = a;
      }
    }
    for (; i + 3 < n; i += 4) {
      const u0 = updates[i];
      const u1 = updates[i + 1];
      const u2 = updates[i + 2];
      const u3 = updates[i + 3];
      const w0 = w[i];
      const w1 = w[i + 1];
      const w2 = w[i + 2];
      const w3 = w[i + 3];
      for (let j = c0; j < c1; j++) {
        let a = next[j];
        a += w0 * u0[j];
        a += w1 * u1[j];
        a += w2 * u2[j];
        a += w3 * u3[j];
        next[j] = a;
      }
    }
    for (; i + 1 < n; i += 2) {
      const u0 = updates[i];
      const u1 = updates[i + 1];
      const w0 = w[i];
      const w1 = w[i + 1];
      for (let j = c0; j < c1; j++) {
        let a = next[j];
        a += w0 * u0[j];
        a += w1 * u1[j];
        next[j] = a;
      }
    }
    for (; i < n; i++) {
      const u0 = updates[i];
      const w0 = w[i];
      for (let j = c0; j < c1; j++) next[j] += w0 * u0[j];
    }
    let s = 0;
    if (prev) {
      for (let j = c0; j < c1; j++) {
        const y = next[j] * inv;
        next[j] = y;
        const e = y - prev[j];
        s += e * e;
      }
    } else {
      for (let j = c0; j < c1; j++) next[j] *= inv;
    }
    step2 += s;
    // Distances to the new iterate, four rows at a time (independent accumulators).
    i = 0;
    for (; i + 3 < n; i += 4) {
      const u0 = updates[i];
      const u1 = updates[i + 1];
      const u2 = updates[i + 2];
      const u3 = updates[i + 3];
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = c0; j < c1; j++) {
        const y = next[j];
        const e0 = u0[j] - y;
        const e1 = u1[j] - y;
        const e2 = u2[j] - y;
        const e3 = u3[j] - y;
        s0 += e0 * e0;
        s1 += e1 * e1;
        s2 += e2 * e2;
        s3 += e3 * e3;
      }
      dist2[i] += s0;
      dist2[i + 1] += s1;
      dist2[i + 2] += s2;
      dist2[i + 3] += s3;
    }
    for (; i + 1 < n; i += 2) {
      const u0 = updates[i];
      const u1 = updates[i + 1];
      let s0 = 0;
      let s1 = 0;
      for (let j = c0; j < c1; j++) {
        const y = next[j];
        const e0 = u0[j] - y;
        const e1 = u1[j] - y;
        s0 += e0 * e0;
        s1 += e1 * e1;
      }
      dist2[i] += s0;
      dist2[i + 1] += s1;
    }
    for (; i < n; i++) {
      const u0 = updates[i];
      let s0 = 0;
      for (let j = c0; j < c1; j++) {
        const e = u0[j] - next[j];
        s0 += e * e;
      }
      dist2[i] += s0;
    }
  }
  return step2;
}

/**
 * DSAIN's Weiszfeld (code/dsain.py `ByzFed.geometric_median`): y from the mean; each iteration
 * weights u_i by 1 / max(||u_i - y||, floor) and steps to the weighted mean; it stops at the
 * first step shorter than tol, returning the iterate before it, or after maxIter steps.
 * One pass over the input per iteration, plus one for the mean; the WebAssembly SIMD kernels of
 * simd.ts run the pass where they can (same iterates to the bit), the plain loops elsewhere.
 */
export function dsainWeiszfeld(updates: readonly Vec[], options: WeiszfeldOptions = BYZFED_DEFAULTS): WeiszfeldResult {
  const d = checkUpdates(updates, "ByzFed Weiszfeld");
  const n = updates.length;
  let y = new Float64Array(d);
  let next = new Float64Array(d);
  let dist2 = new Float64Array(n);
  let nextDist2 = new Float64Array(n);
  const w = new Float64Array(n).fill(1);
  if (weiszfeldPassSimd(updates, w, n, y, dist2) === null) weiszfeldPass(updates, w, n, y, dist2);
  const stepNorms: number[] = [];
  let applied = 0;
  let converged = false;
  for (let it = 0; it < options.maxIter; it++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const dist = Math.sqrt(dist2[i]);
      // Python's max(dist, floor): a NaN distance stays NaN, as in the reference.
      w[i] = 1 / (dist < options.distanceFloor ? options.distanceFloor : dist);
      total += w[i];
    }
    const step = Math.sqrt(
      weiszfeldPassSimd(updates, w, total, next, nextDist2, y) ?? weiszfeldPass(updates, w, total, next, nextDist2, y),
    );
    stepNorms.push(step);
    if (step < options.tol) {
      converged = true;
      break;
    }
    [y, next] = [next, y];
    [dist2, nextDist2] = [nextDist2, dist2];
    applied++;
  }
  return { median: y, distances: dist2.map(Math.sqrt), updatesApplied: applied, converged, stepNorms };
}

/** median(d) (mean of the middle pair for an even count) and max(scaleFactor * median, floor). */
export function robustScale(distances: ArrayLike<number>, scaleFactor: number, floor: number): { medianDistance: number; scale: number } {
  const copy = Float64Array.from(distances);
  const medianDistance = medianInPlace(copy, 0, copy.length);
  const s = medianDistance * scaleFactor;
  return { medianDistance, scale: s < floor ? floor : s };
}

export interface ByzFedRoundResult {
  readonly weiszfeld: WeiszfeldResult;
  readonly geometricMedian: Float64Array;
  readonly distances: Float64Array;
  readonly medianDistance: number;
  readonly robustScale: number;
  /** tau * robustScale. */
  readonly threshold: number;
  /** Positions with distance <= threshold, ascending. */
  readonly kept: number[];
  /** True when nobody was kept and every update was used. */
  readonly fallback: boolean;
  /** Positions averaged: `kept`, or all of them on fallback. */
  readonly used: number[];
  /** Reputations of the round's clients before and after the update, aligned with the updates. */
  readonly reputationsBefore: Float64Array;
  readonly reputationsAfter: Float64Array;
  /** Every known client's reputation after the round (absent clients unchanged). */
  readonly reputationState: Map<string, number>;
  /** sum of the used clients' reputations (after the update). */
  readonly totalWeight: number;
  /** r_i / totalWeight for used positions, 0 for the others: convex weights over the updates. */
  readonly weights: Float64Array;
  readonly aggregate: Float64Array;
}

function checkClientIds(clientIds: readonly string[], n: number): void {
  if (clientIds.length !== n)
    throw new DsainError(ErrorCode.BAD_PARTICIPANT_SET, `ByzFed: ${clientIds.length} client ids for ${n} updates`);
  const seen = new Set<string>();
  for (const id of clientIds) {
    if (seen.has(id)) throw new DsainError(ErrorCode.BAD_PARTICIPANT_SET, `ByzFed: client "${id}" sent two updates in one round`);
    seen.add(id);
  }
}

/**
 * One ByzFed round as a pure function: the reputation state in, the new state out (a new Map).
 * `clientIds[i]` names the sender of `updates[i]`.
 */
export function byzFedRound(
  updates: readonly Vec[],
  clientIds: readonly string[],
  reputations: ReadonlyMap<string, number>,
  params: Partial<ByzFedParams> = {},
): ByzFedRoundResult {
  const p = byzFedParams(params);
  checkUpdates(updates, "ByzFed");
  const n = updates.length;
  checkClientIds(clientIds, n);
  const reputationsBefore = Float64Array.from(clientIds, (id) => reputations.get(id) ?? p.initialReputation);
  const weiszfeld = dsainWeiszfeld(updates, p);
  const distances = weiszfeld.distances;
  const { medianDistance, scale } = robustScale(distances, p.scaleFactor, p.scaleFloor);
  const threshold = p.tau * scale;
  const kept: number[] = [];
  for (let i = 0; i < n; i++) if (distances[i] <= threshold) kept.push(i);
  const reputationsAfter = reputationsBefore.map((r, i) => p.alpha * r + (1 - p.alpha) * (distances[i] <= threshold ? 1 : 0));
  const reputationState = new Map(reputations);
  clientIds.forEach((id, i) => reputationState.set(id, reputationsAfter[i]));
  const fallback = kept.length === 0;
  const used = fallback ? Array.from({ length: n }, (_, i) => i) : kept;
  let totalWeight = 0;
  for (const i of used) totalWeight += reputationsAfter[i];
  if (!(totalWeight > 0 && Number.isFinite(totalWeight))) {
    throw new DsainError(
      ErrorCode.BAD_WEIGHTS,
      `ByzFed: the used clients' reputations sum to ${totalWeight}; there is nothing to weight by`,
    );
  }
  const weights = new Float64Array(n);
  for (const i of used) weights[i] = reputationsAfter[i] / totalWeight;
  const aggregate = weightedSum(updates, reputationsAfter, totalWeight, used);
  return {
    weiszfeld,
    geometricMedian: weiszfeld.median,
    distances,
    medianDistance,
    robustScale: scale,
    threshold,
    kept,
    fallback,
    used,
    reputationsBefore,
    reputationsAfter,
    reputationState,
    totalWeight,
    weights,
    aggregate,
  };
}

/**
 * ByzFed as a strategy: one instance per federation, carrying reputations from round to round.
 * Rounds without client ids use the positions ("0", "1", ...) as ids.
 */
export class ByzFed implements RobustAggregator {
  readonly name = "byzfed";
  readonly params: Readonly<ByzFedParams>;
  private state: Map<string, number>;

  constructor(params: Partial<ByzFedParams> = {}, initialReputations: Iterable<readonly [string, number]> = []) {
    this.params = byzFedParams(params);
    this.state = new Map(initialReputations);
  }

  /** A copy of every known client's reputation. */
  get reputations(): Map<string, number> {
    return new Map(this.state);
  }

  round(updates: readonly Vec[], clientIds: readonly string[]): ByzFedRoundResult {
    const result = byzFedRound(updates, clientIds, this.state, this.params);
    this.state = result.reputationState;
    return result;
  }

  aggregate({ updates, clientIds }: RoundUpdates): AggregationOutcome {
    const { aggregate, weights } = this.round(updates, clientIds ?? updates.map((_, i) => String(i)));
    return { aggregate, weights };
  }
}
