// Centered clipping: starting from a center v (the previous round's aggregate), L times move v by
// the mean of the updates' differences to it, each clipped to norm tau:
// v <- v + (1/n) sum_i (u_i - v) * min(1, tau / ||u_i - v||).
//
// S. P. Karimireddy, L. He, M. Jaggi. Learning from History for Byzantine Robust Optimization.
// ICML 2021.
// Reference matched case by case: ByzFL `CenteredClipping(m=None, L=1, tau=100.0)`; like ByzFL's
// object, the strategy class keeps the last aggregate as the next round's center (zeros at first).
import { DsainError, ErrorCode } from "../../errors.js";
import {
  BLOCK,
  checkInteger,
  checkNonNegative,
  checkUpdates,
  distance,
  type AggregationOutcome,
  type RobustAggregator,
  type RoundUpdates,
  type Vec,
} from "./common.js";

export interface CenteredClippingOptions {
  /** Starting center; zeros when omitted. */
  readonly center?: ArrayLike<number>;
  /** Clipping iterations L. Default 1. */
  readonly iterations?: number;
  /** Clipping radius tau. Default 100. */
  readonly tau?: number;
}

export const CENTERED_CLIPPING_DEFAULTS = Object.freeze({ iterations: 1, tau: 100.0 });

export function centeredClipping(updates: readonly Vec[], options: CenteredClippingOptions = {}): Float64Array {
  const d = checkUpdates(updates, "centered clipping");
  const L = options.iterations ?? CENTERED_CLIPPING_DEFAULTS.iterations;
  const tau = options.tau ?? CENTERED_CLIPPING_DEFAULTS.tau;
  checkInteger("centered clipping", "iterations", L, 0);
  checkNonNegative("centered clipping", "tau", tau);
  if (options.center && options.center.length !== d) {
    throw new DsainError(
      ErrorCode.VECTOR_LENGTH_MISMATCH,
      `centered clipping: the center has ${options.center.length} coordinates, the updates ${d}`,
    );
  }
  const n = updates.length;
  const v = options.center ? Float64Array.from(options.center) : new Float64Array(d);
  const factor = new Float64Array(n);
  const acc = new Float64Array(BLOCK);
  for (let l = 0; l < L; l++) {
    for (let i = 0; i < n; i++) factor[i] = Math.min(1, tau / distance(updates[i], v));
    for (let c0 = 0; c0 < d; c0 += BLOCK) {
      const c1 = Math.min(d, c0 + BLOCK);
      acc.fill(0);
      for (let i = 0; i < n; i++) {
        const u = updates[i];
        const s = factor[i];
        for (let j = c0; j < c1; j++) acc[j - c0] += (u[j] - v[j]) * s;
      }
      for (let j = c0; j < c1; j++) v[j] += acc[j - c0] / n;
    }
  }
  return v;
}

/** Centered clipping with its center carried from one round to the next. */
export class CenteredClipping implements RobustAggregator {
  readonly name = "centered-clipping";
  private center: Float64Array | undefined;

  constructor(readonly options: { iterations?: number; tau?: number } = {}) {}

  aggregate({ updates }: RoundUpdates): AggregationOutcome {
    const aggregate = centeredClipping(updates, { ...this.options, center: this.center });
    this.center = aggregate.slice();
    return { aggregate, weights: null };
  }
}
