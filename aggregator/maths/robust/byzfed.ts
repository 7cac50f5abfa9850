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
import { DsainError, ErrorCode } from "../../errors.js";
import {
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
import { SquaredDistances, weiszfeldEngine } from "./weiszfeld-pass.js";

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
  if (!(p.alpha > 0 && p.alpha <= 1)) throw new DsainError(ErrorCode.INPUT_INVALID, `ByzFed: alpha must be in (0, 1], got ${p.alpha}`);
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
  /**
   * Reads of the input: one per pass (the mean's and one per step computed), plus the rows whose
   * distances were recomputed directly, as a fraction of all rows.
   */
  readonly passes: number;
}

/** Weights of a weighted mean of some rows: sum_{i in rows} weights_i u_i / divisor (rows ascending). */
interface RowWeights {
  readonly weights: ArrayLike<number>;
  readonly divisor: number;
  readonly rows: readonly number[];
}

/**
 * DSAIN's Weiszfeld (code/dsain.py `ByzFed.geometric_median`): y from the mean; each iteration
 * weights u_i by 1 / max(||u_i - y||, floor) and steps to the weighted mean; it stops at the
 * first step shorter than tol, returning the iterate before it, or after maxIter steps.
 * One pass over the input per iteration, plus one for the mean (weiszfeld-pass.ts: the SIMD
 * kernels where they run, with the distances by the update form where it is as accurate).
 */
export function dsainWeiszfeld(updates: readonly Vec[], options: WeiszfeldOptions = BYZFED_DEFAULTS): WeiszfeldResult {
  return weiszfeldRun(updates, options).result;
}

/**
 * `dsainWeiszfeld`, and optionally a weighted mean that depends on the final distances
 * (`finalWeights(distances)`, e.g. ByzFed's reputation-weighted mean of the kept updates). The
 * last pass (the one whose step falls under tol) does not change the returned iterate or
 * distances, which are known before it starts, so when the step sizes predict that a pass will be
 * the last one, it also accumulates that mean from the same read of the input: one pass fewer
 * for ByzFed. `final` is that mean and the weights it was made with, or null when no pass
 * predicted to be the last one was (the caller then makes its own pass).
 */
function weiszfeldRun(
  updates: readonly Vec[],
  options: WeiszfeldOptions,
  finalWeights?: (distances: Float64Array) => RowWeights | null,
): { result: WeiszfeldResult; final: { weights: RowWeights; aggregate: Float64Array } | null } {
  const d = checkUpdates(updates, "ByzFed Weiszfeld");
  const n = updates.length;
  const engine = weiszfeldEngine(updates);
  const w = new Float64Array(n).fill(1);
  const direct = new Uint8Array(n).fill(1);
  const out = new Float64Array(n);
  const dist = new SquaredDistances(n, d);
  // The mean and the distances to it, directly.
  dist.start(out, engine.pass(w, n, direct, out));
  engine.accept();
  let passes = 1;
  const stepNorms: number[] = [];
  let applied = 0;
  let converged = false;
  let final: { weights: RowWeights; aggregate: Float64Array } | null = null;
  let finalOut: Float64Array | null = null;
  for (let it = 0; it < options.maxIter; it++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const di = Math.sqrt(dist.d2[i]);
      // Python's max(dist, floor): a NaN distance stays NaN, as in the reference.
      w[i] = 1 / (di < options.distanceFloor ? options.distanceFloor : di);
      total += w[i];
    }
    // The step about to be taken is assumed no longer than the last one (Weiszfeld's steps shrink;
    // a longer one only sends more rows to the direct form after the pass).
    dist.plan(direct, stepNorms.length > 0 ? stepNorms[stepNorms.length - 1] : Infinity);
    let extra: (RowWeights & { into: Float64Array }) | undefined;
    if (finalWeights && stepNorms.length >= 2) {
      // Steps shrink about geometrically: the next one is predicted as last^2 / the one before.
      const [a, b] = stepNorms.slice(-2);
      const weights = (b * b) / a < 2 * options.tol ? finalWeights(Float64Array.from(dist.d2, Math.sqrt)) : null;
      if (weights) extra = { ...weights, into: (finalOut ??= new Float64Array(d)) };
    }
    const sums = engine.pass(w, total, direct, out, extra);
    passes++;
    const step = Math.sqrt(sums.step2);
    stepNorms.push(step);
    if (step < options.tol) {
      converged = true;
      if (extra) final = { weights: extra, aggregate: extra.into };
      break;
    }
    const redo = dist.advance(direct, out, sums);
    if (redo.length > 0) {
      engine.candidateDistances(redo, out);
      for (const i of redo) dist.setNextDirect(i, out[i]);
      passes += redo.length / n;
    }
    dist.commit();
    engine.accept();
    applied++;
  }
  const result = {
    median: engine.current(),
    distances: Float64Array.from(dist.d2, Math.sqrt),
    updatesApplied: applied,
    converged,
    stepNorms,
    passes,
  };
  return { result, final };
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
  /** Reads of the input in the round: Weiszfeld's, plus one for the aggregate unless its last pass made it. */
  readonly passes: number;
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

/** ByzFed's decision from the distances to the geometric median: scale, filter, reputations, used rows. */
function byzFedDecision(distances: Float64Array, reputationsBefore: Float64Array, p: Readonly<ByzFedParams>) {
  const n = distances.length;
  const { medianDistance, scale } = robustScale(distances, p.scaleFactor, p.scaleFloor);
  const threshold = p.tau * scale;
  const kept: number[] = [];
  for (let i = 0; i < n; i++) if (distances[i] <= threshold) kept.push(i);
  const reputationsAfter = reputationsBefore.map((r, i) => p.alpha * r + (1 - p.alpha) * (distances[i] <= threshold ? 1 : 0));
  const fallback = kept.length === 0;
  const used = fallback ? Array.from({ length: n }, (_, i) => i) : kept;
  let totalWeight = 0;
  for (const i of used) totalWeight += reputationsAfter[i];
  return { medianDistance, scale, threshold, kept, reputationsAfter, fallback, used, totalWeight };
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
  const decide = (distances: Float64Array) => byzFedDecision(distances, reputationsBefore, p);
  const { result: weiszfeld, final } = weiszfeldRun(updates, p, (distances) => {
    const { used, reputationsAfter, totalWeight } = decide(distances);
    return totalWeight > 0 && Number.isFinite(totalWeight) ? { weights: reputationsAfter, divisor: totalWeight, rows: used } : null;
  });
  const distances = weiszfeld.distances;
  const { medianDistance, scale, threshold, kept, reputationsAfter, fallback, used, totalWeight } = decide(distances);
  const reputationState = new Map(reputations);
  clientIds.forEach((id, i) => reputationState.set(id, reputationsAfter[i]));
  if (!(totalWeight > 0 && Number.isFinite(totalWeight))) {
    throw new DsainError(
      ErrorCode.BAD_WEIGHTS,
      `ByzFed: the used clients' reputations sum to ${totalWeight}; there is nothing to weight by`,
    );
  }
  const weights = new Float64Array(n);
  for (const i of used) weights[i] = reputationsAfter[i] / totalWeight;
  // The last Weiszfeld pass made the aggregate when it was predicted to be the last one; the
  // weights it used came from the same distances, so they are these (checked, not assumed).
  const sameWeights =
    final !== null &&
    final.weights.divisor === totalWeight &&
    final.weights.rows.length === used.length &&
    used.every((i, k) => final.weights.rows[k] === i && final.weights.weights[i] === reputationsAfter[i]);
  const aggregate = sameWeights ? final.aggregate : weightedSum(updates, reputationsAfter, totalWeight, used);
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
    passes: weiszfeld.passes + (sameWeights ? 0 : 1),
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
