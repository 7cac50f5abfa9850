// A Little Is Enough (ALIE): every Byzantine client sends mean - z * std of the honest updates, coordinate-wise.
//
// G. Baruch, M. Baruch, Y. Goldberg, "A Little Is Enough: Circumventing Defenses For Distributed
// Learning", NeurIPS 2019, Algorithm 3: with n clients of which f are Byzantine, the number of
// clients a majority needs beyond the Byzantine ones is s = floor(n/2 + 1) - f, and
// z_max = Phi^{-1}((n - s) / n), Phi the standard normal distribution function: the largest shift
// for which, under a normal model of the honest values, enough honest clients still lie farther
// from the mean than the Byzantine value does. The perturbation is small per coordinate (z is below
// 1 for most n and f), which is what lets it pass distance- and median-based defences.
// The default shift is downwards, mean - z * std, for inputs that are model updates: an update is
// -lr times a gradient, so this is the mean + z * std on gradients that ByzFL's `ALittleIsEnough`
// and the NDSS'21 release's `lie_attack` compute; `direction: 1` gives that form for gradient
// inputs. The standard deviation uses ddof = 1 by default, as torch.std and ByzFL do.
import { erfc } from "../privacy/special.js";
import { DsainError, ErrorCode } from "../../errors.js";
import { type Vec, invalidInput, checkVectors, mean, std } from "./common.js";

/** Phi^{-1}(p) for p in (0, 1): bisection on Phi(x) = erfc(-x / sqrt 2) / 2 down to adjacent doubles. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new DsainError(ErrorCode.INPUT_INVALID, `normal quantile: p is ${p}; it must lie strictly between 0 and 1`);
  let lo = -40;
  let hi = 40;
  for (;;) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) return Math.abs(0.5 * erfc(-lo / Math.SQRT2) - p) <= Math.abs(0.5 * erfc(-hi / Math.SQRT2) - p) ? lo : hi;
    if (0.5 * erfc(-mid / Math.SQRT2) < p) lo = mid;
    else hi = mid;
  }
}

/** z_max of Baruch et al. for n clients with f Byzantine: Phi^{-1}((n - s) / n), s = floor(n/2 + 1) - f. */
export function alieZ(n: number, f: number): number {
  if (!Number.isInteger(n) || n < 1) throw invalidInput("ALIE", `n is ${n}; it must be a positive integer`);
  if (!Number.isInteger(f) || f < 1 || f >= n) throw invalidInput("ALIE", `f is ${f}; it must be an integer in [1, n - 1] = [1, ${n - 1}]`);
  const s = Math.floor(n / 2 + 1) - f;
  const p = (n - s) / n;
  if (!(p > 0 && p < 1)) {
    throw invalidInput(
      "ALIE",
      `with n=${n} and f=${f}, s = floor(n/2 + 1) - f = ${s} gives (n - s)/n = ${p}, outside (0, 1): ` +
        (s <= 0 ? "the Byzantine clients already form a majority, so z is unbounded" : "there are too few clients"),
    );
  }
  return normalQuantile(p);
}

export interface AlieOptions {
  /** Total clients n and Byzantine clients f, for z = alieZ(n, f). */
  n?: number;
  f?: number;
  /** An explicit z >= 0 instead of n and f. */
  z?: number;
  /** Delta degrees of freedom of the standard deviation, 0 or 1; default 1. */
  ddof?: number;
  /** -1 (default): mean - z * std, against the mean update; +1: mean + z * std. */
  direction?: -1 | 1;
}

/**
 * The ALIE vector from the updates the Byzantine clients can see (the honest ones, or their own as
 * an estimate): mean + direction * z * std, coordinate-wise. All Byzantine clients send it.
 */
export function alie(updates: readonly Vec[], options: AlieOptions): Float64Array {
  const { ddof = 1, direction = -1 } = options;
  checkVectors(updates, "ALIE", ddof + 1);
  if (direction !== -1 && direction !== 1) throw invalidInput("ALIE", `direction is ${String(direction)}; it must be -1 or 1`);
  let z: number;
  if (options.z !== undefined) {
    if (options.n !== undefined || options.f !== undefined) throw invalidInput("ALIE", "give either z or n and f, not both");
    z = options.z;
    if (!Number.isFinite(z) || z < 0) throw invalidInput("ALIE", `z is ${z}; it must be a finite number >= 0`);
  } else {
    if (options.n === undefined || options.f === undefined) throw invalidInput("ALIE", "give n and f (or an explicit z)");
    z = alieZ(options.n, options.f);
  }
  const mu = mean(updates);
  const sigma = std(updates, ddof, mu);
  const out = new Float64Array(mu.length);
  for (let j = 0; j < mu.length; j++) out[j] = mu[j] + direction * z * sigma[j];
  return out;
}
