// Geometric median by the smoothed Weiszfeld algorithm: z <- sum_i b_i u_i / sum_i b_i with
// b_i = (1/n) / max(nu, ||u_i - z||), T times from z = 0. The smoothing nu bounds the weight of an
// update that coincides with the iterate.
//
// E. Weiszfeld. Sur le point pour lequel la somme des distances de n points donnés est minimum.
// Tohoku Mathematical Journal 43:355-386, 1937.
// K. Pillutla, S. M. Kakade, Z. Harchaoui. Robust Aggregation for Federated Learning. IEEE
// Transactions on Signal Processing 70:1142-1154, 2022 (the smoothed variant, "RFA").
// Reference matched case by case: ByzFL `GeometricMedian(nu, T)` (defaults nu = 0.1, T = 3; updates
// with an infinite coordinate are left out, the 1/n factor still counts them).
// DSAIN's own Weiszfeld (from the mean, with a stopping tolerance) is in byzfed.ts.
import { DsainError, ErrorCode } from "../../errors.js";
import {
  checkInteger,
  checkNonNegative,
  checkUpdates,
  distance,
  weightedSum,
  type AggregationOutcome,
  type RobustAggregator,
  type RoundUpdates,
  type Vec,
} from "./common.js";

export interface SmoothedWeiszfeldOptions {
  /** Smoothing: distances below nu count as nu. Default 0.1 (ByzFL). */
  readonly nu?: number;
  /** Number of iterations. Default 3 (ByzFL). */
  readonly iterations?: number;
}

export const SMOOTHED_WEISZFELD_DEFAULTS = Object.freeze({ nu: 0.1, iterations: 3 });

/**
 * The smoothed Weiszfeld iterate and the convex weights b_i / sum b of its last step (null when
 * T = 0: the iterate is then the origin, not a mean of the updates).
 */
export function smoothedWeiszfeldWeighted(updates: readonly Vec[], options: SmoothedWeiszfeldOptions = {}): AggregationOutcome {
  const d = checkUpdates(updates, "geometric median");
  const nu = options.nu ?? SMOOTHED_WEISZFELD_DEFAULTS.nu;
  const T = options.iterations ?? SMOOTHED_WEISZFELD_DEFAULTS.iterations;
  checkNonNegative("geometric median", "nu", nu);
  checkInteger("geometric median", "iterations", T, 0);
  const rows: number[] = [];
  for (let i = 0; i < updates.length; i++) if (!updates[i].some((x) => x === Infinity || x === -Infinity)) rows.push(i);
  if (rows.length === 0) throw new DsainError(ErrorCode.EMPTY_INPUT, "geometric median: every update has an infinite coordinate");
  const alpha = 1 / updates.length;
  let z: Float64Array = new Float64Array(d);
  const betas = new Float64Array(updates.length);
  let total = 0;
  for (let t = 0; t < T; t++) {
    total = 0;
    for (const i of rows) {
      const dist = distance(updates[i], z);
      betas[i] = alpha / (dist < nu ? nu : dist);
      total += betas[i];
    }
    z = weightedSum(updates, betas, total, rows);
  }
  return { aggregate: z, weights: T === 0 ? null : betas.map((b) => b / total) };
}

export function smoothedWeiszfeld(updates: readonly Vec[], options: SmoothedWeiszfeldOptions = {}): Float64Array {
  return smoothedWeiszfeldWeighted(updates, options).aggregate;
}

export class GeometricMedian implements RobustAggregator {
  readonly name = "geometric-median";

  constructor(readonly options: SmoothedWeiszfeldOptions = {}) {}

  aggregate({ updates }: RoundUpdates): AggregationOutcome {
    return smoothedWeiszfeldWeighted(updates, this.options);
  }
}
