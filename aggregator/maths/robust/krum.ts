// Krum and Multi-Krum: score every update by its squared distances to its nearest neighbours and
// keep the best-scored one (Krum) or the m best-scored ones, averaged (Multi-Krum).
//
// P. Blanchard, E. M. El Mhamdi, R. Guerraoui, J. Stainer. Machine Learning with Adversaries:
// Byzantine Tolerant Gradient Descent. NeurIPS 2017.
//
// The two references disagree on the neighbourhood, so both are offered, named after them:
// - "flower" (Flower `aggregate_krum`, the paper's definition): score = SUM of the squared
//   distances to the max(1, n - f - 2) nearest other updates; no refusal; Multi-Krum keeps the
//   `keep` best and takes their sample-weighted mean.
// - "byzfl" (ByzFL `Krum`/`MultiKrum`): score = MEAN of the squared distances to the n - f - 1
//   nearest other updates; refuses 2f >= n; Multi-Krum keeps the n - f best, plain mean.
// They pick different updates in some cases. Ties go to the lower index (numpy's argmin).
import { DsainError, ErrorCode } from "../../errors.js";
import {
  checkF,
  checkUpdates,
  requireHonestMajority,
  toFloat64,
  uniformOver,
  weightedSum,
  type AggregationOutcome,
  type RobustAggregator,
  type RoundUpdates,
  type Vec,
} from "./common.js";
import { pairwiseSquaredDistances } from "./distances.js";

export type KrumVariant = "flower" | "byzfl";

/**
 * Krum scores of the updates listed in `rows` (all when omitted), from the full row-major squared
 * distance matrix of n updates; only distances between listed updates count.
 */
export function krumScores(dist2: Float64Array, n: number, f: number, variant: KrumVariant, rows?: readonly number[]): Float64Array {
  const idx = rows ?? Array.from({ length: n }, (_, i) => i);
  const m = idx.length;
  const scores = new Float64Array(m);
  const row = new Float64Array(m);
  // Sorted position 0 is the update itself (distance 0), then its nearest neighbours.
  const [from, to] = variant === "flower" ? [1, Math.min(m, Math.max(1, m - f - 2) + 1)] : [1, Math.max(1, m - f)];
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) row[b] = dist2[idx[a] * n + idx[b]];
    row.sort();
    let s = 0;
    for (let t = from; t < to; t++) s += row[t];
    scores[a] = variant === "flower" || to === from ? s : s / (to - from);
  }
  return scores;
}

function checkVariant(variant: string): asserts variant is KrumVariant {
  if (variant !== "flower" && variant !== "byzfl") {
    throw new DsainError(ErrorCode.INPUT_INVALID, `Krum: variant must be "flower" or "byzfl", got "${variant}"`);
  }
}

/** Positions sorted by ascending score, ties by position (a stable order, unlike numpy's argsort). */
export function rankByScore(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((i, j) => scores[i] - scores[j] || i - j);
}

export interface KrumSelection {
  /** Position of the selected update. */
  readonly index: number;
  readonly scores: Float64Array;
}

/** The update Krum selects (the lowest score, lowest index among ties). */
export function krumSelect(updates: readonly Vec[], f: number, variant: KrumVariant = "flower"): KrumSelection {
  checkVariant(variant);
  checkUpdates(updates, "Krum");
  if (variant === "byzfl") requireHonestMajority("Krum", updates.length, f);
  else checkF("Krum", f);
  const scores = krumScores(pairwiseSquaredDistances(updates), updates.length, f, variant);
  let index = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] < scores[index]) index = i;
  return { index, scores };
}

/** Krum's aggregate: a float64 copy of the selected update. */
export function krum(updates: readonly Vec[], f: number, variant: KrumVariant = "flower"): Float64Array {
  return toFloat64(updates[krumSelect(updates, f, variant).index]);
}

export interface MultiKrumOptions {
  /** Whose scoring rule, see the module doc. Default "flower". */
  readonly variant?: KrumVariant;
  /** How many best-scored updates to average: 1..n. Default n - f (ByzFL's only choice). */
  readonly keep?: number;
  /** Weights of the average (Flower weights by sample counts); uniform when omitted. */
  readonly sampleCounts?: readonly number[];
}

/** The positions Multi-Krum keeps, best score first. */
export function multiKrumSelect(updates: readonly Vec[], f: number, options: MultiKrumOptions = {}): number[] {
  const variant = options.variant ?? "flower";
  checkVariant(variant);
  checkUpdates(updates, "Multi-Krum");
  const n = updates.length;
  if (variant === "byzfl") requireHonestMajority("Multi-Krum", n, f);
  else checkF("Multi-Krum", f);
  const keep = options.keep ?? n - f;
  if (!Number.isInteger(keep) || keep < 1 || keep > n) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `Multi-Krum: keep must be an integer in [1, n=${n}], got ${keep}`);
  }
  const scores = krumScores(pairwiseSquaredDistances(updates), n, f, variant);
  return rankByScore(scores).slice(0, keep);
}

/** Multi-Krum's aggregate with the convex weights it put on each input. */
export function multiKrumWeighted(updates: readonly Vec[], f: number, options: MultiKrumOptions = {}): AggregationOutcome {
  const kept = multiKrumSelect(updates, f, options);
  const n = updates.length;
  if (!options.sampleCounts)
    return { aggregate: weightedSum(updates, new Float64Array(n).fill(1), kept.length, kept), weights: uniformOver(n, kept) };
  const counts = options.sampleCounts;
  if (counts.length !== n) throw new DsainError(ErrorCode.BAD_SAMPLE_COUNT, `Multi-Krum: ${counts.length} sample counts for ${n} updates`);
  let total = 0;
  for (const i of kept) {
    if (!Number.isFinite(counts[i]) || counts[i] < 0)
      throw new DsainError(ErrorCode.BAD_SAMPLE_COUNT, `Multi-Krum: sample count ${i} is ${counts[i]}`);
    total += counts[i];
  }
  if (!(total > 0)) throw new DsainError(ErrorCode.BAD_SAMPLE_COUNT, "Multi-Krum: the kept updates have no samples");
  const weights = new Float64Array(n);
  for (const i of kept) weights[i] = counts[i] / total;
  return { aggregate: weightedSum(updates, counts, total, kept), weights };
}

export function multiKrum(updates: readonly Vec[], f: number, options: MultiKrumOptions = {}): Float64Array {
  return multiKrumWeighted(updates, f, options).aggregate;
}

export class Krum implements RobustAggregator {
  readonly name = "krum";

  /** @param f Byzantine clients tolerated. @param variant scoring rule ("flower": the paper's). */
  constructor(
    readonly f: number,
    readonly variant: KrumVariant = "flower",
  ) {
    checkF("Krum", f);
    checkVariant(variant);
  }

  aggregate({ updates }: RoundUpdates): AggregationOutcome {
    const { index } = krumSelect(updates, this.f, this.variant);
    return { aggregate: toFloat64(updates[index]), weights: uniformOver(updates.length, [index]) };
  }
}

export class MultiKrum implements RobustAggregator {
  readonly name = "multi-krum";

  /**
   * @param f Byzantine clients tolerated.
   * @param options variant (default "flower"), keep (default n - f), and whether to weight by
   *   the round's sample counts (`weighted`, default false).
   */
  constructor(
    readonly f: number,
    readonly options: { variant?: KrumVariant; keep?: number; weighted?: boolean } = {},
  ) {
    checkF("Multi-Krum", f);
    checkVariant(options.variant ?? "flower");
  }

  aggregate({ updates, sampleCounts }: RoundUpdates): AggregationOutcome {
    const { variant, keep, weighted } = this.options;
    return multiKrumWeighted(updates, this.f, { variant, keep, sampleCounts: weighted ? sampleCounts : undefined });
  }
}
